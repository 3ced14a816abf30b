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

/**
 * Every mailbox's SMTP AUTH state in four calls instead of two per member: Get-CASMailbox filtered
 * on each value ($true, $false, $null: together every mailbox) and Get-TransportConfig, keyed by the
 * mailbox's Entra object id. A user absent from all three has no mailbox.
 */
export async function readMailboxStates(exchange: ExchangeAdmin): Promise<Map<string, MailboxSmtpState>> {
  const [off, on, inherit, org] = await Promise.all([
    exchange.listCasMailboxes(true), exchange.listCasMailboxes(false), exchange.listCasMailboxes(null), exchange.getTransportConfig(),
  ]);
  const states = new Map<string, MailboxSmtpState>();
  for (const mailbox of [...off, ...on, ...inherit]) {
    if (!mailbox.externalDirectoryObjectId) continue;
    states.set(mailbox.externalDirectoryObjectId.toLowerCase(), smtpState(mailbox.smtpClientAuthenticationDisabled, org.smtpClientAuthenticationDisabled));
  }
  return states;
}

export { smtpState } from '../domain/smtp-auth';
