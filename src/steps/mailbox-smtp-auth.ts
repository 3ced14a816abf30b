import type { MailboxSmtpState } from '../domain/smtp-auth';
import { readSmtpState } from '../tenant/smtp-state';
import type { StepKind } from './types';

/**
 * One mailbox's SMTP AUTH: `Set-CASMailbox -SmtpClientAuthenticationDisabled $false|$true|$null`.
 * `$null` inherits the organization (`Get-TransportConfig`), so a read observes both, and says what
 * is effective. Turning it on (`$false`) grants an exception; needs the "Mail Recipients" role.
 */
export const mailboxSmtpAuth: StepKind<boolean | null, MailboxSmtpState> = {
  id: 'mailbox-smtp-auth',
  targetType: 'mailbox',
  risk: (desired) => (desired === false ? 'medium' : 'low'),
  permission: 'Exchange role "Mail Recipients" (Set-CASMailbox)',
  async read(tenant, target) {
    const state = await readSmtpState(tenant.exchange, target.identity);
    return state === 'no-mailbox' ? undefined : state;
  },
  holds: (state, desired) => state.mailboxSmtpClientAuthenticationDisabled === desired,
  valueOf: (state) => state.mailboxSmtpClientAuthenticationDisabled,
  write: (tenant, target, value) => tenant.exchange.setCasMailboxSmtpClientAuthenticationDisabled(target.identity, value),
  operation: (target, value) => ({ operation: 'Set-CASMailbox', cmdlet: 'Set-CASMailbox', identity: target.identity, parameters: { SmtpClientAuthenticationDisabled: value } }),
  describe: (t, value) => t(value === null ? 'steps.mailbox-smtp-auth.inherit' : value ? 'steps.mailbox-smtp-auth.off' : 'steps.mailbox-smtp-auth.on'),
};
