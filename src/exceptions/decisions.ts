import { commandById } from '../commands/registry';
import type { ChangeCommand } from '../commands/types';
import type { ExceptionRecord, MailboxSmtpState, RequestRecord } from '../model/requests';
import { mailboxSmtpAuth } from '../steps/mailbox-smtp-auth';
import type { PlanStep } from '../steps/types';

/**
 * What the exceptions register decides from a request alone: whether it grants an exception,
 * whether it ends one, when it lapses and when approvers are reminded. No I/O here.
 */

export function changeCommandOf(request: Pick<RequestRecord, 'commandId'>): ChangeCommand | undefined {
  const command = commandById(request.commandId);
  return command?.kind === 'change' ? command : undefined;
}

/** Does this request turn SMTP AUTH on for its user's mailbox as an accountable exception? */
export function grantsException(request: Pick<RequestRecord, 'commandId'>): boolean {
  return changeCommandOf(request)?.grantsException === true;
}

/** Did (or will) this request leave the mailbox with SMTP AUTH off, by one of its own steps? */
export function turnsMailboxOff(request: Pick<RequestRecord, 'plan'>, userId: string): boolean {
  return request.plan.some((step) => {
    if (step.kind !== mailboxSmtpAuth.id || step.target.id !== userId) return false;
    if (step.status === 'applied' && step.after) return (step.after as MailboxSmtpState).effectiveEnabled === false;
    const desired = step.desired as boolean | null;
    const org = (step.before as MailboxSmtpState | null)?.orgSmtpClientAuthenticationDisabled ?? true;
    return step.status !== 'failed' && (desired ?? org) === true;
  });
}

/** When a succeeded request's revert job runs: its time box, counted from now; none when permanent or not time-boxed. */
export function revertAt(request: Pick<RequestRecord, 'params'>, now: Date): Date | undefined {
  const durationMs = Number(request.params.durationMs ?? 0);
  return durationMs > 0 ? new Date(now.getTime() + durationMs) : undefined;
}

/**
 * When approvers are reminded of an exception ending: the reminder lead before its end. An
 * exception shorter than the lead gets none: its end was chosen when it was asked for.
 */
export function reminderAt(expiresAt: Date | null, durationMs: number, reminderDays: number): Date | undefined {
  const leadMs = reminderDays * 24 * 3_600_000;
  if (!expiresAt || leadMs <= 0 || durationMs <= leadMs) return undefined;
  return new Date(expiresAt.getTime() - leadMs);
}

/**
 * What a lapsing exception puts back: the value that kept SMTP AUTH off before it was granted; a
 * mailbox that was already on (adopted) goes explicitly off.
 */
export function restoreValueOf(before: MailboxSmtpState | null): boolean | null {
  return before && !before.effectiveEnabled ? before.mailboxSmtpClientAuthenticationDisabled : true;
}

/**
 * Ending an exception early writes what its lapse would: the mailbox value it restores to — unless
 * that is "follow the organization" and the organization now allows SMTP AUTH, when only an
 * explicit $true turns the mailbox off (and so ends the exception).
 */
export function endingValue(exception: Pick<ExceptionRecord, 'restoreValue'>, orgSmtpClientAuthenticationDisabled: boolean): boolean | null {
  return exception.restoreValue === null && !orgSmtpClientAuthenticationDisabled ? true : exception.restoreValue ?? true;
}

/** Is this step the exception's own mailbox setting (the one a revert sets to the restore value)? */
export function isExceptionMailboxStep(exception: ExceptionRecord | undefined, step: Pick<PlanStep, 'kind' | 'target'>): exception is ExceptionRecord {
  return exception !== undefined && step.kind === mailboxSmtpAuth.id && step.target.id === exception.targetUserId;
}

/** The register in numbers for `org-status`: active, permanent, ending within a week, and mailboxes on without one. */
export function registerNumbers(managed: ExceptionRecord[], explicitlyOnUserIds: string[], now: Date) {
  const soon = now.getTime() + 7 * 86_400_000;
  const managedIds = new Set(managed.map((e) => e.targetUserId.toLowerCase()));
  return {
    active: managed.length,
    permanent: managed.filter((e) => e.expiresAt === null).length,
    endingSoon: managed.filter((e) => e.expiresAt !== null && e.expiresAt.getTime() <= soon).length,
    unmanaged: explicitlyOnUserIds.filter((id) => !managedIds.has(id.toLowerCase())).length,
  };
}

/**
 * A change of several mailboxes with no one target (a group change, its undo): the register follows
 * each mailbox on its own — an exception each, ended, extended and lapsed each on its own.
 */
export function perMailbox(request: Pick<RequestRecord, 'targetUserId' | 'plan'>): boolean {
  return !request.targetUserId && request.plan.length > 0 && request.plan.every((step) => step.kind === mailboxSmtpAuth.id);
}

/** The group change whose exceptions this request extends (Extend on a group's reminder), if it is one. */
export function extendedGroupOf(request: Pick<RequestRecord, 'params'>): string | undefined {
  return typeof request.params.extendsGroupOf === 'string' ? request.params.extendsGroupOf : undefined;
}
