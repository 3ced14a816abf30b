import { smtpState, type MailboxSmtpState } from '../domain/smtp-auth';
import type { ExchangeAdmin } from './exchange';

/**
 * The one evaluation of SMTP AUTH for a mailbox, shared by status, confirmation and the
 * post-change check. The mailbox value wins; `null` inherits the organization's setting.
 */
export async function readSmtpState(exchange: ExchangeAdmin, identity: string): Promise<MailboxSmtpState | 'no-mailbox'> {
  const [mailbox, org] = await Promise.all([exchange.getCasMailbox(identity), exchange.getTransportConfig()]);
  if (!mailbox) return 'no-mailbox';
  return smtpState(mailbox.smtpClientAuthenticationDisabled, org.smtpClientAuthenticationDisabled);
}

export { smtpState } from '../domain/smtp-auth';
