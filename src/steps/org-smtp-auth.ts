import type { StepKind } from './types';

/**
 * The organization's SMTP AUTH: `Set-TransportConfig -SmtpClientAuthenticationDisabled $true|$false`.
 * Every mailbox whose own setting is `$null` follows it, so turning it on is high risk. Needs the
 * "Organization Transport Settings" role.
 */
export const orgSmtpAuth: StepKind<boolean, { smtpClientAuthenticationDisabled: boolean }> = {
  id: 'org-smtp-auth',
  targetType: 'organization',
  risk: (desired) => (desired ? 'low' : 'high'),
  permission: 'Exchange role "Organization Transport Settings" (Set-TransportConfig)',
  read: async (tenant) => ({ smtpClientAuthenticationDisabled: (await tenant.exchange.getTransportConfig()).smtpClientAuthenticationDisabled }),
  holds: (state, desired) => state.smtpClientAuthenticationDisabled === desired,
  valueOf: (state) => state.smtpClientAuthenticationDisabled,
  write: async (tenant, _target, value) => { await tenant.exchange.setTransportConfigSmtpClientAuthenticationDisabled(value); },
  operation: (target, value) => ({ operation: 'Set-TransportConfig', cmdlet: 'Set-TransportConfig', identity: target.identity, parameters: { SmtpClientAuthenticationDisabled: value } }),
  describe: (t, value) => t(value ? 'steps.org-smtp-auth.off' : 'steps.org-smtp-auth.on'),
};
