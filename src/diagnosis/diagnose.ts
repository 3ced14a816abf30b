import type { Finding, FindingCode, SmtpAuthEvaluation } from '../tenant/evaluate';
import type { BounceCode, BounceFinding } from './bounce';

/**
 * A diagnosis: what the bounce says, joined with what the one evaluation (tenant/evaluate.ts) found
 * for the mailbox, as findings with a severity and what can be done about each. Pure: the tenant
 * is read elsewhere, once.
 */

export type DiagnosisCode = BounceCode | FindingCode;
export type Severity = 'blocker' | 'warning' | 'info';

/**
 * Who can act on a finding: the bot, as a step of a `fix` plan; an admin by hand, somewhere the bot
 * does not write (Conditional Access, licences, the account, Send As); the person with the device
 * (password, From address, client settings); or nobody, because it is information.
 */
export type Remedy = 'step' | 'admin' | 'user' | 'info';

/** The changes `fix` may plan, each one setting on one target (DESIGN.md "Changes are plans of steps"). */
export type FixStepKind = 'mailbox-smtp-enable' | 'per-user-mfa-disable' | 'auth-policy-allow-smtp' | 'security-defaults-disable';

export interface DiagnosisFinding {
  code: DiagnosisCode;
  source: 'bounce' | 'state';
  severity: Severity;
  remedy: Remedy;
  detail?: Record<string, string>;
}

export interface DiagnosedUser {
  id: string;
  displayName: string;
  userPrincipalName: string;
}

export interface Diagnosis {
  user: DiagnosedUser;
  /** The reply found in the pasted text; undefined when nothing was pasted or no reply was found. */
  bounce?: BounceFinding;
  /** True when text was pasted, so the card can say no SMTP reply was found in it. */
  pasted: boolean;
  effectiveEnabled: boolean;
  /** The bounce's finding first, then the state's blockers, then what is informative, the retirement advice last. */
  findings: DiagnosisFinding[];
  /** What `fix` would change, in a safe order: the mailbox before anything tenant-wide. */
  fixSteps: FixStepKind[];
}

const bounceSeverity: Record<BounceCode, Severity> = {
  CLIENT_NOT_AUTHENTICATED: 'blocker',
  SMTP_AUTH_DISABLED_TENANT: 'blocker',
  SMTP_AUTH_DISABLED_MAILBOX: 'blocker',
  SECURITY_DEFAULTS_BLOCK: 'blocker',
  MFA_OR_CA_BLOCK: 'blocker',
  BASIC_AUTH_DISABLED: 'blocker',
  BAD_CREDENTIALS: 'blocker',
  ACCOUNT_LOCKED: 'blocker',
  BASIC_AUTH_NOT_SUPPORTED_SUBMISSION: 'blocker',
  SEND_AS_DENIED: 'blocker',
  IP_BLOCKED: 'warning',
  AUTH_UNSUCCESSFUL: 'blocker',
  NOT_SMTP_AUTH: 'info',
};

/** Who acts on what the bounce says, when the tenant's state does not already say it. */
const bounceRemedy: Record<BounceCode, Remedy> = {
  CLIENT_NOT_AUTHENTICATED: 'user',
  SMTP_AUTH_DISABLED_TENANT: 'step',
  SMTP_AUTH_DISABLED_MAILBOX: 'step',
  SECURITY_DEFAULTS_BLOCK: 'step',
  MFA_OR_CA_BLOCK: 'admin',
  BASIC_AUTH_DISABLED: 'admin',
  BAD_CREDENTIALS: 'user',
  ACCOUNT_LOCKED: 'user',
  BASIC_AUTH_NOT_SUPPORTED_SUBMISSION: 'admin',
  SEND_AS_DENIED: 'admin',
  IP_BLOCKED: 'admin',
  AUTH_UNSUCCESSFUL: 'info',
  NOT_SMTP_AUTH: 'info',
};

const stateRemedy: Record<FindingCode, Remedy> = {
  SMTP_AUTH_ENABLED: 'info',
  SMTP_AUTH_DISABLED_TENANT: 'step',
  SMTP_AUTH_DISABLED_MAILBOX: 'step',
  SECURITY_DEFAULTS_ON: 'step',
  PER_USER_MFA_ON: 'step',
  CA_BLOCKS_LEGACY_AUTH: 'admin',
  AUTH_POLICY_BLOCKS_BASIC_SMTP: 'step',
  NO_MAILBOX: 'admin',
  ACCOUNT_DISABLED: 'admin',
  RECENT_SMTP_FAILURES: 'info',
  BASIC_AUTH_RETIREMENT: 'info',
};

/**
 * The steps, in the order they are safe to take: the mailbox's own setting first (never the
 * organization's: a per-mailbox `$false` wins over the org and touches nobody else), then what
 * concerns this one account (per-user MFA, its authentication policy), and security defaults,
 * which are tenant-wide, last and only when they are what blocks.
 */
const stepFor: Partial<Record<FindingCode, FixStepKind>> = {
  SMTP_AUTH_DISABLED_MAILBOX: 'mailbox-smtp-enable',
  SMTP_AUTH_DISABLED_TENANT: 'mailbox-smtp-enable',
  PER_USER_MFA_ON: 'per-user-mfa-disable',
  AUTH_POLICY_BLOCKS_BASIC_SMTP: 'auth-policy-allow-smtp',
  SECURITY_DEFAULTS_ON: 'security-defaults-disable',
};
export const safeStepOrder: readonly FixStepKind[] = ['mailbox-smtp-enable', 'per-user-mfa-disable', 'auth-policy-allow-smtp', 'security-defaults-disable'];

/** The bounce's codes that the tenant's state restates: shown once, from the state, which is current. */
const restatedByState: Partial<Record<BounceCode, FindingCode>> = {
  SMTP_AUTH_DISABLED_MAILBOX: 'SMTP_AUTH_DISABLED_MAILBOX',
  SMTP_AUTH_DISABLED_TENANT: 'SMTP_AUTH_DISABLED_TENANT',
};

/** The steps the bot could take against these blockers, in their safe order ([] when none would help). */
export function fixStepsFor(blockers: readonly Pick<Finding, 'code'>[]): FixStepKind[] {
  if (blockers.some((b) => b.code === 'NO_MAILBOX')) return [];
  const wanted = new Set(blockers.map((b) => stepFor[b.code]).filter((s): s is FixStepKind => s !== undefined));
  return safeStepOrder.filter((step) => wanted.has(step));
}

export function diagnose(user: DiagnosedUser, evaluation: SmtpAuthEvaluation, bounce: BounceFinding | undefined, pasted: boolean): Diagnosis {
  const findings: DiagnosisFinding[] = [];
  const stateCodes = new Set(evaluation.findings.map((f) => f.code));
  if (bounce) {
    const restated = restatedByState[bounce.code];
    const detail: Record<string, string> = { line: bounce.line, ...(bounce.enhancedStatus ? { status: bounce.enhancedStatus } : {}) };
    // An unclassified 5.7.139 is narrowed by the state: the layers that block now are its likely causes.
    if (bounce.code === 'AUTH_UNSUCCESSFUL') detail.causes = evaluation.blockers.map((b) => b.code).join(',');
    // The bounce said the setting was off but the setting allows it now: tell, so nobody changes it again.
    if (restated && !stateCodes.has(restated) && evaluation.state !== 'no-mailbox') detail.since = 'changed';
    // The state below says the same and says what to do: the bounce's line only confirms it.
    if (restated && stateCodes.has(restated)) detail.confirmedByState = 'true';
    findings.push({ code: bounce.code, source: 'bounce', severity: detail.since ? 'info' : bounceSeverity[bounce.code], remedy: detail.since ? 'info' : bounceRemedy[bounce.code], detail });
  }
  for (const finding of evaluation.findings) findings.push(stateFinding(finding, evaluation));
  return {
    user: { id: user.id, displayName: user.displayName, userPrincipalName: user.userPrincipalName },
    ...(bounce ? { bounce } : {}),
    pasted,
    effectiveEnabled: evaluation.effectiveEnabled,
    findings,
    fixSteps: evaluation.state === 'no-mailbox' ? [] : fixStepsFor(evaluation.blockers),
  };
}

function stateFinding(finding: Finding, evaluation: SmtpAuthEvaluation): DiagnosisFinding {
  const blocker = evaluation.blockers.includes(finding);
  const severity: Severity = blocker ? 'blocker' : finding.code === 'RECENT_SMTP_FAILURES' ? 'warning' : 'info';
  return { code: finding.code, source: 'state', severity, remedy: blocker ? stateRemedy[finding.code] : 'info', ...(finding.detail ? { detail: finding.detail } : {}) };
}

/** A fix is worth offering when the bot itself can change something that blocks. */
export function hasFixableBlocker(diagnosis: Pick<Diagnosis, 'fixSteps'>): boolean {
  return diagnosis.fixSteps.length > 0;
}

/** Where a diagnosis an end user may still turn into "ask IT" is kept (the store's settings, by id). */
export const savedDiagnosisPrefix = 'diagnosis:';
/** How long that stays possible: past it the diagnosis is dropped and the user is asked to paste the bounce again. */
export const savedDiagnosisRetentionMs = 30 * 24 * 3_600_000;
