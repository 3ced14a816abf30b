/**
 * SMTP AUTH as the domain knows it: the mailbox and organization settings, the findings of every
 * layer that can block Basic SMTP AUTH, and what an evaluation of them says. Both the request model
 * and the tenant adapters use these; this module imports nothing of ours, so neither depends on the
 * other through it.
 */

/** Finding codes read from the tenant's state; a code never changes meaning (cards, audit and tests name them). */
export type FindingCode =
  | 'SMTP_AUTH_ENABLED'
  | 'SMTP_AUTH_DISABLED_TENANT'
  | 'SMTP_AUTH_DISABLED_MAILBOX'
  | 'SECURITY_DEFAULTS_ON'
  | 'PER_USER_MFA_ON'
  | 'CA_BLOCKS_LEGACY_AUTH'
  | 'AUTH_POLICY_BLOCKS_BASIC_SMTP'
  | 'NO_MAILBOX'
  | 'ACCOUNT_DISABLED'
  | 'RECENT_SMTP_FAILURES'
  | 'BASIC_AUTH_RETIREMENT';

export type FindingLayer =
  | 'mailbox'
  | 'org'
  | 'security-defaults'
  | 'per-user-mfa'
  | 'conditional-access'
  | 'authentication-policy'
  | 'account'
  | 'sign-ins'
  | 'advice';

export interface Finding {
  code: FindingCode;
  layer: FindingLayer;
  /** Names and values for the message (policy name, count of failures…); never secrets. */
  detail?: Record<string, string>;
}

export interface MailboxSmtpState {
  /** `Get-CASMailbox … SmtpClientAuthenticationDisabled`: null inherits the organization. */
  mailboxSmtpClientAuthenticationDisabled: boolean | null;
  /** `Get-TransportConfig … SmtpClientAuthenticationDisabled`. */
  orgSmtpClientAuthenticationDisabled: boolean;
  /** The mailbox value wins over the organization's. */
  effectiveEnabled: boolean;
  /**
   * Every other layer too, as the one evaluation (tenant/evaluate.ts) found it when this state was
   * read; kept in the request's before/after jsonb. Absent on rows written before it existed and
   * after a read that could not evaluate; null when a draft's evaluation failed (the card says so).
   */
  evaluation?: SmtpAuthSnapshot | null;
}

/** What blocked SMTP AUTH at one moment: the part of an evaluation a request keeps. */
export interface SmtpAuthSnapshot {
  /** True only when no layer blocks Basic SMTP AUTH. */
  effectiveEnabled: boolean;
  blockers: Finding[];
}

export interface SmtpAuthEvaluation {
  state: MailboxSmtpState | 'no-mailbox';
  /** True only when no layer blocks Basic SMTP AUTH for this mailbox. */
  effectiveEnabled: boolean;
  /** The findings that each stop SMTP AUTH on their own, in the order an admin would fix them. */
  blockers: Finding[];
  /** Every finding: the blockers, then what is informative (enabled, recent failures) and the retirement advice. */
  findings: Finding[];
  /** Set when the organization-wide layers were reused from an earlier read (at this time) rather than read now. */
  orgSettingsAsOf?: Date;
}

/** The mailbox value wins; `null` inherits the organization's setting. */
export function smtpState(mailbox: boolean | null, org: boolean): MailboxSmtpState {
  return {
    mailboxSmtpClientAuthenticationDisabled: mailbox,
    orgSmtpClientAuthenticationDisabled: org,
    effectiveEnabled: !(mailbox ?? org),
  };
}

/** The part of an evaluation a request keeps in its before/after state. */
export function snapshotOf(evaluation: SmtpAuthEvaluation): SmtpAuthSnapshot {
  return { effectiveEnabled: evaluation.effectiveEnabled, blockers: evaluation.blockers };
}

/** The layers the mailbox setting decides: its own, and the organization's that `$null` inherits. */
const mailboxSettingLayers: ReadonlySet<FindingLayer> = new Set(['mailbox', 'org']);

/** The blockers a change of the mailbox setting cannot remove: every layer other than that setting. */
export function blockersBeyondMailboxSetting(blockers: readonly Finding[]): Finding[] {
  return blockers.filter((blocker) => !mailboxSettingLayers.has(blocker.layer));
}
