import type { Translate } from '../i18n';
import { formatMoment } from '../i18n/format';
import { errorText } from '../errors';
import { justificationMaxLength, type Approval, type ExceptionRecord, type MailboxSmtpState, type RequestRecord, type UnmanagedMailbox } from '../model/requests';
import type { Finding, SmtpAuthEvaluation } from '../tenant';
import { verbs, type Verb } from './verbs';
import { fixStepsFor } from '../diagnosis/diagnose';
import { stepKindById } from '../steps/registry';
import type { PlanStep, StepIntent } from '../steps/types';
import { groupOf } from '../domain/group-change';
import type { AdaptiveCard } from './card';
import { groupLines, nameList, partlyDone, retryableSteps, uncheckedSteps } from './group';

export type { AdaptiveCard } from './card';

/** Teams renders Adaptive Cards up to 1.5; Action.Execute needs 1.4. */
function card(body: Record<string, unknown>[], actions: Record<string, unknown>[] = []): AdaptiveCard {
  return {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: '1.4',
    body,
    ...(actions.length ? { actions } : {}),
  };
}

const heading = (text: string) => ({ type: 'TextBlock', text, weight: 'Bolder', size: 'Medium', wrap: true });
const paragraph = (text: string, extra: Record<string, unknown> = {}) => ({ type: 'TextBlock', text, wrap: true, ...extra });
const reference = (t: Translate, code: string) => paragraph(t('card.ref', { code }), { size: 'Small', isSubtle: true, spacing: 'Medium' });
const facts = (pairs: [string, string][]) => ({ type: 'FactSet', facts: pairs.map(([title, value]) => ({ title, value })) });

/** A card action carries a verb and a request id only: the server loads the truth (DESIGN.md). */
function execute(title: string, verb: Verb, data: Record<string, string>, style?: 'positive' | 'destructive') {
  return { type: 'Action.Execute', title, verb, data: { verb, ...data }, ...(style ? { style } : {}) };
}

export interface UserView {
  displayName: string;
  userPrincipalName: string;
}

/** The settings, then the verdict: every layer's when the state was evaluated (older rows: the setting's alone). */
function stateFacts(t: Translate, state: MailboxSmtpState): [string, string][] {
  const mailbox = state.mailboxSmtpClientAuthenticationDisabled;
  const effective = state.evaluation ? state.evaluation.effectiveEnabled : state.effectiveEnabled;
  return [
    [t('state.mailbox'), t(mailbox === null ? 'state.mailboxInherits' : mailbox ? 'state.disabled' : 'state.enabled', { value: String(mailbox) })],
    [t('state.org'), t(state.orgSmtpClientAuthenticationDisabled ? 'state.disabled' : 'state.enabled', { value: String(state.orgSmtpClientAuthenticationDisabled) })],
    [t('state.effective'), t(effective ? 'state.effectiveOn' : 'state.effectiveOff')],
  ];
}

/** The values each finding's sentence needs: which policy, which MFA state, how many failures and when. */
export function findingParams(t: Translate, finding: Finding): Record<string, string | number> {
  const detail = finding.detail ?? {};
  switch (finding.code) {
    case 'CA_BLOCKS_LEGACY_AUTH':
      return { policy: detail.policyName ?? '' };
    case 'AUTH_POLICY_BLOCKS_BASIC_SMTP':
      return { policy: detail.policyName ?? '', scope: t(detail.assignedBy === 'user' ? 'finding.authPolicyScope.user' : 'finding.authPolicyScope.organization') };
    case 'PER_USER_MFA_ON':
      return { state: t(detail.perUserMfaState === 'enforced' ? 'finding.perUserMfa.enforced' : 'finding.perUserMfa.enabled') };
    case 'RECENT_SMTP_FAILURES': {
      const lastAt = Date.parse(detail.lastAt ?? '');
      return { count: Number(detail.count ?? 0), days: Number(detail.windowDays ?? 7), at: Number.isNaN(lastAt) ? detail.lastAt ?? '' : formatMoment(t, new Date(lastAt)), error: detail.lastErrorCode ?? '' };
    }
    default:
      return {};
  }
}

/** A finding as a bullet, with its code in small text so a user can quote it to IT (findings.md). */
function findingLines(t: Translate, finding: Finding): Record<string, unknown>[] {
  return [
    paragraph(`• ${t(`finding.${finding.code}`, findingParams(t, finding))}`, { spacing: 'Small' }),
    paragraph(t('card.ref', { code: finding.code }), { size: 'Small', isSubtle: true, spacing: 'None' }),
  ];
}

/** Blockers named in one sentence: "Conditional Access policy “Block legacy authentication”; per-user MFA (enforced)". */
export function blockerList(t: Translate, blockers: readonly Finding[]): string {
  return blockers.map((blocker) => t(`blocker.${blocker.code}`, findingParams(t, blocker))).join(t('blocker.separator'));
}

const blockerCodes = (t: Translate, blockers: readonly Finding[]) => reference(t, blockers.map((blocker) => blocker.code).join(', '));

export type SmtpStatusView = Pick<SmtpAuthEvaluation, 'state' | 'effectiveEnabled' | 'blockers' | 'findings' | 'orgSettingsAsOf'>;

/** `smtp status`: the settings, whether SMTP AUTH works, every layer that blocks it, then what is worth knowing. */
export function smtpStatusCard(t: Translate, user: UserView, evaluation: SmtpStatusView, fixUserId?: string, exception?: ExceptionRecord): AdaptiveCard {
  const { state, blockers } = evaluation;
  const verdict: [string, string] = [t('state.effective'), t(evaluation.effectiveEnabled ? 'state.effectiveOn' : 'state.effectiveOff')];
  const body: Record<string, unknown>[] = [
    heading(t('status.title', { name: user.displayName })),
    paragraph(user.userPrincipalName, { isSubtle: true, spacing: 'None' }),
    facts(state === 'no-mailbox' ? [verdict] : stateFacts(t, { ...state, evaluation: { effectiveEnabled: evaluation.effectiveEnabled, blockers } })),
  ];
  // The mailbox's active exception: who asked, why, until when (the exceptions register).
  if (exception) body.push(paragraph(t('steps.statusException'), { weight: 'Bolder', spacing: 'Medium' }), facts(exceptionFacts(t, exception)));
  if (evaluation.effectiveEnabled) {
    body.push(paragraph(t('status.works', { name: user.displayName }), { color: 'Good', weight: 'Bolder', spacing: 'Medium' }), reference(t, 'SMTP_AUTH_ENABLED'));
  } else {
    body.push(paragraph(t('status.blockedBy'), { color: 'Attention', weight: 'Bolder', spacing: 'Medium' }), ...blockers.flatMap((blocker) => findingLines(t, blocker)));
  }
  const notes = evaluation.findings.filter((finding) => finding.code === 'RECENT_SMTP_FAILURES');
  if (notes.length) body.push(paragraph(t('status.alsoWorthKnowing'), { weight: 'Bolder', spacing: 'Medium' }), ...notes.flatMap((note) => findingLines(t, note)));
  if (evaluation.findings.some((finding) => finding.code === 'BASIC_AUTH_RETIREMENT')) {
    body.push(paragraph(t('finding.BASIC_AUTH_RETIREMENT'), { size: 'Small', isSubtle: true, spacing: 'Medium' }), paragraph(t('card.ref', { code: 'BASIC_AUTH_RETIREMENT' }), { size: 'Small', isSubtle: true, spacing: 'None' }));
  }
  // The organization-wide layers came from a copy read moments ago (tenant/org-settings.ts): say when.
  if (evaluation.orgSettingsAsOf) {
    body.push(paragraph(t('perf.orgSettingsAsOf', { time: `${evaluation.orgSettingsAsOf.toISOString().slice(11, 19)} UTC` }), { size: 'Small', isSubtle: true, spacing: 'Small' }));
  }
  return card(body, fixActions(t, blockers, fixUserId));
}

/** Fix (issue #9), where a blocker is one the bot itself can change: it drafts that plan for the user. */
function fixActions(t: Translate, blockers: readonly Finding[], userId: string | null | undefined): Record<string, unknown>[] {
  return userId && fixStepsFor(blockers).length ? [execute(t('diagnosis.action.fix'), verbs.fix, { userId }, 'positive')] : [];
}

export type CardAudience = 'requester' | 'approvers';

export interface RequestView {
  request: RequestRecord;
  approvals: Approval[];
  /**
   * Before the change: the blockers this change will leave in place (the card warns), [] when none
   * will (it says SMTP AUTH will work), null when they could not be read, undefined when there is
   * nothing to say (older rows, or a change that switches SMTP AUTH off).
   */
  blockersLeft?: Finding[] | null;
  /** Before the change: the mailbox's active exception this change will end (it turns SMTP AUTH off). */
  endsException?: ExceptionRecord;
}

/**
 * One builder for every copy of a request's card, so each copy tells the same story as the
 * request moves: the requester's copy confirms or cancels, the approvers' copy approves or rejects.
 */
export interface ApprovalView {
  /** This copy answers an approver's refresh: Approve/Reject for them alone. */
  live?: boolean;
  /** Approvers Teams refreshes the card for; null when there are too many to list (buttons for all). */
  refreshUserIds?: string[] | null;
}

/** One step as a person reads it: the setting on its target, and the value (["SMTP AUTH of Bob Smith's mailbox", "off for this mailbox"]). */
function stepFact(t: Translate, step: StepIntent, value: string = stepKindById(step.kind).describe(t, step.desired)): [string, string] {
  return [t(`steps.${step.kind}.label`, { name: step.target.displayName }), value];
}

const stepStatusIcon: Record<PlanStep['status'], string> = { pending: '◻️', writing: '⏳', applied: '✅', failed: '⛔' };

/** The plan, one line a step with where it is; shown when a request has more than one step, or failed part-way. */
function planLines(t: Translate, request: RequestRecord): Record<string, unknown>[] {
  const plan = request.plan ?? [];
  const partial = request.state === 'failed' && plan.some((step) => step.status === 'applied');
  // One step on the request's own mailbox is the card's state facts already; any other plan is listed.
  if (plan.length < 2 && !partial && request.before) return [];
  return [
    paragraph(t(partial ? 'steps.appliedBeforeFailure' : 'steps.heading', { applied: plan.filter((step) => step.status === 'applied').length, total: plan.length }), { weight: 'Bolder', spacing: 'Medium' }),
    facts(plan.map((step, index) => {
      const [setting, value] = stepFact(t, step);
      return [`${stepStatusIcon[step.status]} ${index + 1}. ${setting}`, `${value} (${t(`steps.status.${step.status}`)})`];
    })),
  ];
}

/** Before a decision: each step that has more to say than its value (what else it changes, what Microsoft recommends), with the value it sets. */
function stepNotes(t: Translate, request: RequestRecord): Record<string, unknown>[] {
  return (request.plan ?? []).flatMap((step) => {
    const notes = stepKindById(step.kind).notes?.(t, step) ?? [];
    if (notes.length === 0) return [];
    return [facts([stepFact(t, step)]), ...notes.map((note) => paragraph(note, { spacing: 'Small' }))];
  });
}

/** What the command said about the change when it was drafted (how many mailboxes it reaches…). */
function noteLines(t: Translate, request: RequestRecord): Record<string, unknown>[] {
  const notes = Array.isArray(request.params.notes) ? (request.params.notes as { key: string; params?: Record<string, string | number>; tone?: string; list?: string[] }[]) : [];
  return notes.flatMap((note) => [
    paragraph(t(note.key, note.params ?? {}), note.tone === 'warning' ? { color: 'Warning', weight: 'Bolder', spacing: 'Medium' } : { spacing: 'Medium' }),
    ...(note.list ?? []).slice(0, exceptionsCardLimit).map((item) => paragraph(`• ${item}`, { spacing: 'None' })),
    ...((note.list?.length ?? 0) > exceptionsCardLimit ? [paragraph(t('exceptions.more', { count: note.list!.length - exceptionsCardLimit }), { isSubtle: true })] : []),
  ]);
}

/** A command whose plan came out empty: every target already holds what was asked. No request, no write. */
export function alreadySoCard(t: Translate, read: { intent: StepIntent; state: unknown }[]): AdaptiveCard {
  return card([
    heading(t('steps.alreadySo')),
    facts(read.map(({ intent, state }) => {
      const kind = stepKindById(intent.kind);
      return stepFact(t, intent, state === undefined ? t('steps.unknown') : kind.describe(t, kind.valueOf(state)));
    })),
    paragraph(t('steps.nothingWritten'), { isSubtle: true, spacing: 'Medium' }),
  ]);
}

/**
 * A request's title: its command's, except a fix of several steps ("Fix SMTP AUTH for…", even though
 * it is filed as the enable its mailbox step is) and an enable that only registers a mailbox already on.
 */
export function requestTitle(t: Translate, request: Pick<RequestRecord, 'commandId' | 'params' | 'plan' | 'targetDisplayName' | 'targetUpn'>): string {
  const name = request.targetDisplayName ?? request.targetUpn ?? t('steps.theOrganization');
  const fix = Array.isArray(request.params.fixSteps) && request.params.fixSteps.length > 1;
  const adopt = request.params.adopt === true || (request.commandId === 'smtp-enable' && (request.plan ?? []).length === 0 && !request.params.extendsException);
  // A group's reminder drafts these two: what they do to the group's exceptions, not a bare enable or disable.
  const groupFollowUp = typeof request.params.extendsGroupOf === 'string' ? 'group-extend' : typeof request.params.endsGroupOf === 'string' ? 'group-end' : undefined;
  return t(`request.title.${fix ? 'plan-fix' : adopt ? 'smtp-adopt' : groupFollowUp ?? request.commandId}`, { name });
}

export function requestCard(t: Translate, { request, approvals, blockersLeft, endsException }: RequestView, audience: CardAudience, notice?: { text: string; code: string }, view: ApprovalView = {}): AdaptiveCard {
  const user: UserView = { displayName: request.targetDisplayName ?? t('steps.theOrganization'), userPrincipalName: request.targetUpn ?? '' };
  const body: Record<string, unknown>[] = [
    ...(notice ? [paragraph(notice.text, { color: 'Attention', weight: 'Bolder' }), reference(t, notice.code)] : []),
    heading(requestTitle(t, request)),
    ...(user.userPrincipalName ? [paragraph(user.userPrincipalName, { isSubtle: true, spacing: 'None' })] : []),
  ];
  const approvedBy = approvals.filter((a) => a.decision === 'approve').map((a) => a.approverName);
  const rejectedBy = approvals.filter((a) => a.decision === 'reject').map((a) => a.approverName);
  const details: [string, string][] = [[t('request.requestedBy'), request.requesterName]];
  if (approvedBy.length) details.push([t('request.approvedBy'), approvedBy.join(', ')]);
  if (rejectedBy.length) details.push([t('request.rejectedBy'), rejectedBy.join(', ')]);
  const rejectComments = approvals.filter((a) => a.decision === 'reject' && a.comment).map((a) => `${a.approverName}: ${a.comment}`);
  if (rejectComments.length) details.push([t('request.rejectComment'), rejectComments.join('\n')]);
  details.push([t('request.status'), t(`request.state.${request.state}`)]);
  const justification = typeof request.params.justification === 'string' ? request.params.justification : '';
  if (justification) details.push([t('exceptions.justification'), justification]);
  // Self-service and fix (issue #9): what the diagnosis found (and the line an end user pasted), for the approvers.
  if (request.params.selfService === true || Array.isArray(request.params.fixSteps)) {
    const codes = Array.isArray(request.params.diagnosis) ? request.params.diagnosis.filter((c): c is string => typeof c === 'string').join(', ') : '';
    if (codes) details.push([t('diagnosis.selfService.diagnosisLabel'), codes]);
    if (typeof request.params.pastedLine === 'string' && request.params.pastedLine) details.push([t('diagnosis.selfService.pastedLabel'), request.params.pastedLine]);
  }
  if (request.params.permanent === true) details.push([t('exceptions.until'), t('exceptions.permanent')]);

  const durationMs = Number(request.params.durationMs ?? 0);
  const undone = typeof request.params.undoneBy === 'string';
  if (request.state === 'succeeded' && undone) {
    // Undone by a later request: it says so, not "Done", and offers nothing.
    body.push(paragraph(t('steps.undoneNote'), { weight: 'Bolder' }));
    body.push(facts(details.map(([title, value]) => (title === t('request.status') ? [title, t('steps.undone')] : [title, value]))));
  } else if (request.state === 'succeeded') {
    // Not read back (Exchange did not answer the read): it says so, never "verified".
    body.push(partlyDone(request) ? paragraph(t('group.partlyDone'), { color: 'Warning', weight: 'Bolder' })
      : paragraph(t(request.verified ? 'request.doneVerified' : 'request.doneNotVerified'), { color: request.verified ? 'Good' : 'Warning', weight: 'Bolder' }));
    if (durationMs > 0) body.push(paragraph(t('request.revertsOn', { date: formatMoment(t, new Date(request.updatedAt.getTime() + durationMs)) })));
    if (request.after) body.push(...changeOutcome(t, request.after, user));
    body.push(facts([...(request.after ? stateFacts(t, request.after) : []), ...details]));
  } else if (request.state === 'reverted') {
    body.push(paragraph(t('request.revertedNote'), { weight: 'Bolder' }));
    body.push(facts([...(request.after ? stateFacts(t, request.after) : []), ...details]));
  } else if (request.state === 'failed') {
    body.push(paragraph(t('request.failed', { code: request.errorCode ?? 'INTERNAL' }), { color: 'Attention', weight: 'Bolder' }));
    if (request.errorCode) body.push(paragraph(errorText(t, request.errorCode, storedErrorParams(request)), { isSubtle: true }));
    if (request.params.lateWrite === 'undone') body.push(paragraph(t('request.lateWriteUndone'), { weight: 'Bolder' }));
    // A write that timed out may still land: until the late check has looked, the outcome is unknown.
    const ambiguous = (request.plan ?? []).some((step) => step.status === 'failed' && (step.writeErrorCode === 'TENANT_TIMEOUT' || step.writeErrorCode === 'TENANT_UNAVAILABLE'));
    if (ambiguous && !request.params.lateWrite) body.push(paragraph(t('steps.outcomeUnknown'), { color: 'Warning', weight: 'Bolder' }));
    if (request.params.lateWrite === 'not-applied') body.push(paragraph(t('steps.lateNotApplied'), { weight: 'Bolder' }));
    if (request.params.lateWrite === 'changed-since') body.push(paragraph(t('steps.lateChangedSince'), { weight: 'Bolder' }));
    // A group change names each mailbox the check could not read in its group lines.
    if (request.params.lateWrite === 'gave-up' && !groupOf(request)) body.push(paragraph(t('steps.lateGaveUp', { name: user.displayName }), { color: 'Warning', weight: 'Bolder' }));
    body.push(facts([...(request.after ? stateFacts(t, request.after) : request.before ? stateFacts(t, request.before) : []), ...details]));
  } else {
    if (blockersLeft === null) body.push(paragraph(t('request.blockersUnknown'), { isSubtle: true, spacing: 'Medium' }));
    else if (blockersLeft?.length) body.push(paragraph(t('request.stillBlockedAfterChange', { blockers: blockerList(t, blockersLeft) }), { color: 'Warning', weight: 'Bolder', spacing: 'Medium' }), blockerCodes(t, blockersLeft));
    else if (blockersLeft) body.push(paragraph(t('request.nothingElseBlocks', { name: user.displayName }), { color: 'Good', spacing: 'Medium' }));
    if (request.before) body.push(paragraph(t('request.currentState'), { weight: 'Bolder', spacing: 'Medium' }), facts(stateFacts(t, request.before)));
    body.push(facts(details));
    // Only a request that may still be applied reverts later: a rejected, cancelled or expired one never will.
    if (durationMs > 0 && ['draft', 'confirmed', 'pending', 'approved', 'executing'].includes(request.state)) body.push(paragraph(t('request.timeBoxed', { duration: formatDuration(t, durationMs) })));
    body.push(...stepNotes(t, request));
    body.push(...noteLines(t, request));
    if (endsException) body.push(paragraph(t('steps.endsException', { name: user.displayName, requester: endsException.requesterName, date: exceptionEnd(t, endsException.expiresAt) }), { color: 'Warning', weight: 'Bolder' }));
    if (request.state === 'draft') body.push(paragraph(t('request.confirmPrompt', { count: request.requiredApprovals })));
    if (request.state === 'pending') body.push(paragraph(t('request.waiting', { count: request.requiredApprovals - approvedBy.length })));
  }
  if (request.state === 'draft' && request.params.permanent === true) body.push(paragraph(t('exceptions.permanentNote', { count: request.requiredApprovals }), { color: 'Warning' }));
  if (request.state === 'draft' && audience === 'requester' && (request.commandId === 'smtp-enable' || request.commandId === 'smtp-enable-group') && !justification) {
    // Action.Execute sends the input's value with Confirm; the server refuses an empty one.
    body.push({ type: 'Input.Text', id: 'justification', label: t('exceptions.justificationLabel'), placeholder: t('exceptions.justificationPlaceholder'), maxLength: justificationMaxLength, isMultiline: false });
  }
  // A group change lists its members and results instead of 200 steps (cards/group.ts).
  body.push(...(groupOf(request) ? groupLines(t, request) : planLines(t, request)));
  body.push(reference(t, request.id));

  const data = { requestId: request.id };
  const actions: Record<string, unknown>[] = [];
  if (request.state === 'draft' && audience === 'requester') {
    actions.push(execute(t('action.confirm'), verbs.confirm, data, 'positive'), execute(t('action.cancel'), verbs.cancel, data));
  }
  let refresh: Record<string, unknown> | undefined;
  if (request.state === 'pending' && audience === 'approvers') {
    if (view.live || view.refreshUserIds === null) {
      // Action.Execute sends every input's value with the verb: the comment travels with Reject.
      body.push({ type: 'Input.Text', id: 'comment', label: t('request.rejectCommentLabel'), placeholder: t('request.rejectCommentPlaceholder'), maxLength: 500, isMultiline: false });
      actions.push(execute(t('action.approve'), verbs.approve, data, 'positive'), execute(t('action.reject'), verbs.reject, data, 'destructive'));
    } else {
      body.push(paragraph(t('request.approversOnly'), { isSubtle: true }));
      refresh = { action: execute(t('action.refresh'), verbs.refresh, data), userIds: view.refreshUserIds ?? [] };
    }
  }
  if (request.state === 'pending' && audience === 'requester') {
    actions.push(execute(t('action.cancelRequest'), verbs.cancel, data));
  }
  // Undo only where the request changed something (an adopted mailbox was already on), and only once.
  const changed = (request.plan ?? []).some((step) => step.status === 'applied' && step.before !== null && !stepKindById(step.kind).holds(step.before, step.desired));
  // A group change done in part: Retry writes the failed mailboxes again (cards/group.ts).
  if (retryableSteps(request) > 0) actions.push(execute(t('group.retryAction'), verbs.retry, data, 'positive'));
  if (uncheckedSteps(request) > 0) actions.push(execute(t('group.checkAgainAction'), verbs.checkAgain, data, 'positive'));
  if (request.state === 'succeeded' && changed && typeof request.params.undoneBy !== 'string') {
    actions.push(execute(t('action.undo'), verbs.undo, data));
  }
  // Done, and a layer the bot can change still blocks: Fix drafts what is left.
  if (request.state === 'succeeded' && audience === 'requester' && request.after?.evaluation) actions.push(...fixActions(t, request.after.evaluation.blockers, request.targetUserId));
  return refresh ? { ...card(body, actions), refresh } : card(body, actions);
}

/**
 * After a change, what the evaluation run again says (findings.md "After a change"): SMTP AUTH now
 * works, or the setting allows it and another layer still blocks it, or it is now off. Nothing when
 * that evaluation could not be read: the change itself still succeeded.
 */
function changeOutcome(t: Translate, after: MailboxSmtpState, user: UserView): Record<string, unknown>[] {
  const result = after.evaluation;
  if (!result) return [];
  if (result.effectiveEnabled) return [paragraph(t('request.nowWorks', { name: user.displayName }), { color: 'Good', weight: 'Bolder' })];
  if (after.effectiveEnabled) return [paragraph(t('request.stillBlocked', { blockers: blockerList(t, result.blockers) }), { color: 'Warning', weight: 'Bolder' }), blockerCodes(t, result.blockers)];
  return [paragraph(t('request.nowBlocked', { name: user.displayName }))];
}

/** The failure's message params kept with a failed request (older rows have none). */
function storedErrorParams(request: RequestRecord): Record<string, string | number> {
  const stored = request.params.errorParams;
  if (!stored || typeof stored !== 'object') return {};
  return Object.fromEntries(Object.entries(stored).filter((entry): entry is [string, string | number] => typeof entry[1] === 'string' || typeof entry[1] === 'number'));
}

export function messageCard(t: Translate, text: string, code?: string): AdaptiveCard {
  return card([paragraph(text), ...(code ? [reference(t, code)] : [])]);
}

/** What the requester hears in their own chat; a done change also says whether SMTP AUTH now works. */
export function requesterNoticeCard(t: Translate, text: string, request: RequestRecord, rejections: Pick<Approval, 'approverName' | 'comment'>[] = []): AdaptiveCard {
  const user: UserView = { displayName: request.targetDisplayName ?? '', userPrincipalName: request.targetUpn ?? '' };
  const outcome = request.state === 'succeeded' && request.after ? changeOutcome(t, request.after, user) : [];
  // A rejection tells the requester why, in the approver's own words.
  const reasons = rejections.filter((r) => r.comment).map((r) => paragraph(t('diagnosis.selfService.rejectedReason', { approver: r.approverName, reason: r.comment ?? '' })));
  return card([paragraph(text), ...reasons, ...outcome, reference(t, request.id)]);
}

export function pickUserCard(t: Translate, requestId: string, query: string, candidates: (UserView & { id: string })[]): AdaptiveCard {
  return card(
    [heading(t('pick.title', { query })), paragraph(t('pick.prompt'))],
    candidates.map((c) => execute(`${c.displayName} (${c.userPrincipalName})`, verbs.pickUser, { requestId, userId: c.id })),
  );
}

export function helpCard(t: Translate, examples: string[], lead?: string): AdaptiveCard {
  return card([...(lead ? [paragraph(lead, { weight: 'Bolder' })] : []), heading(t('help.title')), paragraph(t('help.intro')), ...examples.map((e) => paragraph(`• ${e}`, { spacing: 'Small' }))]);
}


/** "7 days", "2 weeks", "36 hours": the largest unit that divides the duration (a single week reads as 7 days). */
export function formatDuration(t: Translate, ms: number): string {
  const hours = Math.round(ms / 3_600_000);
  if (hours % 168 === 0 && hours >= 336) return t('duration.weeks', { count: hours / 168 });
  if (hours % 24 === 0) return t('duration.days', { count: hours / 24 });
  return t('duration.hours', { count: hours });
}

/** What the `exceptions` card lists; unmanaged buttons point into the saved review by item number. */
export interface ExceptionsView {
  managed: ExceptionRecord[];
  unmanaged: UnmanagedMailbox[];
  /** Id of the saved review the unmanaged buttons refer to; null when nothing is unmanaged. */
  reviewId: string | null;
  /** Get-TransportConfig: when the organization allows SMTP AUTH, every mailbox without its own setting has it. */
  orgSmtpEnabled: boolean;
  /** Exceptions being ended early (a request on its way), by exception id: who asked. */
  ending?: Record<string, string>;
  /** The reader may end an exception early (IT staff): each active one gets End now, in this language. */
  endIn?: string;
}

/** How many entries of each list one card shows (Teams cards stay well under 28 KB). */
export const exceptionsCardLimit = 15;

/** `exceptions`: every mailbox with SMTP AUTH on, managed ones with who/why/until, unmanaged ones flagged with two buttons. */
export function exceptionsCard(t: Translate, view: ExceptionsView): AdaptiveCard {
  const body: Record<string, unknown>[] = [heading(t('exceptions.title')), paragraph(t('exceptions.intro'), { isSubtle: true, spacing: 'None' })];
  if (view.orgSmtpEnabled) body.push(paragraph(t('exceptions.orgOn'), { color: 'Warning', weight: 'Bolder' }));
  body.push(paragraph(t('exceptions.managedHeading', { count: view.managed.length }), { weight: 'Bolder', spacing: 'Large' }));
  if (view.managed.length === 0) body.push(paragraph(t('exceptions.noneManaged'), { isSubtle: true }));
  for (const exception of view.managed.slice(0, exceptionsCardLimit)) {
    body.push({
      type: 'Container', separator: true, items: [
        paragraph(`${exception.targetDisplayName} (${exception.targetUpn})${exception.adopted ? ` — ${t('exceptions.adoptedTag')}` : ''}`, { weight: 'Bolder' }),
        facts(exceptionFacts(t, exception)),
        ...endLines(t, view, exception),
      ],
    });
  }
  if (view.managed.length > exceptionsCardLimit) body.push(paragraph(t('exceptions.more', { count: view.managed.length - exceptionsCardLimit }), { isSubtle: true }));

  body.push(paragraph(t('exceptions.unmanagedHeading', { count: view.unmanaged.length }), { weight: 'Bolder', spacing: 'Large' }));
  if (view.unmanaged.length === 0 || !view.reviewId) {
    body.push(paragraph(t('exceptions.noneUnmanaged'), { isSubtle: true }));
  } else {
    body.push(paragraph(t('exceptions.unmanagedNote'), { isSubtle: true }));
    view.unmanaged.slice(0, exceptionsCardLimit).forEach((mailbox, item) => {
      const data = { reviewId: view.reviewId!, item: String(item) };
      body.push({
        type: 'Container', separator: true, items: [
          paragraph(`${t('exceptions.unmanagedFlag')}: ${mailbox.displayName} (${mailbox.userPrincipalName})`, { weight: 'Bolder', color: 'Warning' }),
          { type: 'ActionSet', actions: [execute(t('action.adopt'), verbs.exceptionAdopt, data, 'positive'), execute(t('action.disableSmtp'), verbs.exceptionDisable, data, 'destructive')] },
        ],
      });
    });
    if (view.unmanaged.length > exceptionsCardLimit) body.push(paragraph(t('exceptions.more', { count: view.unmanaged.length - exceptionsCardLimit }), { isSubtle: true }));
  }
  return card(body);
}

/** An active exception's way to end early: being ended already (who asked), or End now for IT staff. */
function endLines(t: Translate, view: ExceptionsView, exception: ExceptionRecord): Record<string, unknown>[] {
  const by = view.ending?.[exception.id];
  if (by) return [paragraph(t('exceptions.end.ending', { by }), { color: 'Warning', spacing: 'Small' })];
  if (!view.endIn) return [];
  // A group change governs many exceptions: the button names which one it ends.
  const data = { requestId: exception.requestId, exceptionId: exception.id, view: 'exceptions', language: view.endIn };
  return [{ type: 'ActionSet', actions: [execute(t('exceptions.end.action'), verbs.exceptionEnd, data, 'destructive')] }];
}

function exceptionFacts(t: Translate, exception: ExceptionRecord): [string, string][] {
  return [
    [t('request.requestedBy'), exception.requesterName],
    [t('request.approvedBy'), exception.approverNames.length ? exception.approverNames.join(', ') : t('exceptions.noApprover')],
    [t('exceptions.justification'), exception.justification || t('exceptions.noJustification')],
    [t('exceptions.until'), exception.expiresAt ? formatMoment(t, exception.expiresAt) : t('exceptions.permanent')],
  ];
}

/** To the approvers, some days before an exception ends: extend it (a new request) or let it lapse. */
export function exceptionReminderCard(t: Translate, exception: ExceptionRecord): AdaptiveCard {
  const data = { requestId: exception.requestId };
  return card([
    heading(t('exceptions.reminderTitle', { name: exception.targetDisplayName })),
    paragraph(exception.targetUpn, { isSubtle: true, spacing: 'None' }),
    paragraph(t('exceptions.reminderText', { date: exception.expiresAt ? formatMoment(t, exception.expiresAt) : '' })),
    facts(exceptionFacts(t, exception)),
    reference(t, exception.requestId),
  ], [execute(t('action.extend'), verbs.exceptionExtend, data, 'positive'), execute(t('action.lapse'), verbs.exceptionLapse, data)]);
}

/**
 * To the approvers and the requester, some days before a group change's exceptions end: one card for
 * the group, however many mailboxes — how many lapse and when, which — with Extend (one new request
 * for all of them), Let them lapse, and End now. Once someone has pressed one, every copy says what
 * they decided (`decided`) in place of the buttons.
 */
export function groupExceptionReminderCard(t: Translate, view: { request: RequestRecord; exceptions: ExceptionRecord[]; expiresAt: Date }, decided?: string): AdaptiveCard {
  const { request, exceptions, expiresAt } = view;
  const data = { requestId: request.id };
  const name = groupOf(request)?.displayName ?? request.targetDisplayName ?? '';
  const first = exceptions[0]!;
  return card([
    heading(t('exceptions.group.reminderTitle', { name })),
    paragraph(t('exceptions.group.reminderText', { count: exceptions.length, date: formatMoment(t, expiresAt) })),
    facts([
      [t('request.requestedBy'), first.requesterName],
      [t('request.approvedBy'), first.approverNames.length ? first.approverNames.join(', ') : t('exceptions.noApprover')],
      [t('exceptions.justification'), first.justification || t('exceptions.noJustification')],
      [t('exceptions.until'), formatMoment(t, expiresAt)],
    ]),
    ...nameList(t, exceptions.map((e) => ({ id: e.targetUserId, displayName: e.targetDisplayName, userPrincipalName: e.targetUpn }))),
    ...(decided
      ? [paragraph(decided, { weight: 'Bolder', color: 'Accent', spacing: 'Medium' })]
      : [paragraph(t('exceptions.group.reminderNote'), { isSubtle: true })]),
    reference(t, request.id),
  ], decided ? [] : [
    execute(t('exceptions.group.extendAction'), verbs.groupExceptionsExtend, data, 'positive'),
    execute(t('exceptions.group.lapseAction'), verbs.groupExceptionsLapse, data),
    execute(t('exceptions.group.endAction'), verbs.groupExceptionsEnd, data, 'destructive'),
  ]);
}

/** Formats an exception's end for messages: a UTC date, or "permanent". */
export function exceptionEnd(t: Translate, expiresAt: Date | null): string {
  return expiresAt ? formatMoment(t, expiresAt) : t('exceptions.permanent');
}
