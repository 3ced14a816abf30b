import { randomUUID } from 'node:crypto';
import { exceptionReminderCard, messageCard, requestCard, requesterNoticeCard, type CardAudience } from '../cards/builders';
import { commandById } from '../commands/registry';
import type { ChangeCommand } from '../commands/types';
import type { Config } from '../config';
import type { ConversationMember, Notifier } from '../core/turn';
import { AppError, toAppError } from '../errors';
import { translator, type Language } from '../i18n';
import { formatMoment } from '../i18n/format';
import type { Logger } from '../log';
import type { JobKind, RequestPatch, Store } from '../store/store';
import { blockersBeyondMailboxSetting, evaluateSmtpAuth, snapshotOf, type DirectoryUser, type Finding, type Tenant } from '../tenant';
import { readSmtpState } from '../tenant/smtp-state';
import { mailboxSmtpAuth } from '../steps/mailbox-smtp-auth';
import { pendingStep, readPlan } from '../steps/plan';
import { stepKindById } from '../steps/registry';
import type { Json, PlanStep, StepIntent } from '../steps/types';
import { allowedTransitions, type ConversationRef, type ExceptionRecord, type MailboxSmtpState, type RequestRecord, type RequestState } from './model';

/** Settings key of the conversation approval cards go to (`approvals here`). */
export const approvalsConversationKey = 'approvals-conversation';

export interface LifecycleDeps {
  config: Config;
  store: Store;
  tenant: Tenant;
  notifier: Notifier;
  logger: Logger;
  now: () => Date;
  newId?: () => string;
}

/** Write errors after which the write may still have reached Exchange. */
const ambiguousWriteErrors: ReadonlySet<string> = new Set(['TENANT_TIMEOUT', 'TENANT_UNAVAILABLE']);

/** When a failed request's timed-out write is looked at again: long after anything in flight has landed. */
export const lateWriteRecheckMs = 5 * 60_000;

/** How long before expiry approvers are reminded (half the lifetime for short-lived requests). */
const reminderLeadMs = 4 * 3_600_000;

type RequesterEvent = 'approved' | 'rejected' | 'succeeded' | 'failed' | 'expired' | 'reverted' | 'verified' | 'late-checked';

/** The request state machine: every move a compare-and-set, every move audited. */
export class RequestLifecycle {
  private readonly newId: () => string;

  constructor(private readonly deps: LifecycleDeps) {
    this.newId = deps.newId ?? randomUUID;
  }

  /** Moves a request along one edge; undefined when another click or instance moved it first. */
  async move(request: RequestRecord, to: RequestState, actorId: string | null, patch: RequestPatch = {}): Promise<RequestRecord | undefined> {
    if (!allowedTransitions[request.state].includes(to)) {
      throw new AppError('ILLEGAL_TRANSITION', { from: request.state, to });
    }
    const moved = await this.deps.store.transition(request.id, request.state, to, this.deps.now(), patch);
    if (!moved) return undefined;
    await this.audit(moved.id, actorId, 'request.transition', { from: request.state, to, ...patch });
    await this.scheduleFor(moved);
    if (moved.state === 'succeeded') {
      await this.recordException(moved);
      if (typeof moved.params.undoes === 'string') await this.markUndone(moved.params.undoes, moved);
    }
    return moved;
  }

  /** An undo that succeeded: the request it undid says so on every card, and offers Undo no more. */
  private async markUndone(originalId: string, undo: RequestRecord): Promise<void> {
    await this.deps.store.annotate(originalId, { undoneBy: undo.id }, this.deps.now());
    await this.audit(originalId, null, 'request.undone', { by: undo.id });
    await this.refreshCards(originalId);
  }

  /** The jobs each state implies: open requests expire (with a reminder), time-boxed ones revert. */
  private async scheduleFor(request: RequestRecord): Promise<void> {
    const schedule = (kind: JobKind, runAt: Date) => this.deps.store.scheduleJob({ id: this.newId(), kind, requestId: request.id, runAt });
    switch (request.state) {
      case 'draft':
        await schedule('request.expire', request.expiresAt);
        break;
      case 'pending': {
        await schedule('request.expire', request.expiresAt);
        const lifetime = request.expiresAt.getTime() - this.deps.now().getTime();
        await schedule('request.remind', new Date(request.expiresAt.getTime() - Math.min(reminderLeadMs, lifetime / 2)));
        break;
      }
      case 'approved': case 'rejected': case 'cancelled':
        await this.deps.store.cancelJobs(request.id, ['request.expire', 'request.remind']);
        break;
      case 'succeeded': {
        const durationMs = Number(request.params.durationMs ?? 0);
        if (durationMs > 0) await schedule('request.revert', new Date(this.deps.now().getTime() + durationMs));
        break;
      }
      default:
        break;
    }
  }

  /** A new request row, audited and scheduled like any other move. */
  async create(request: RequestRecord, detail: Record<string, unknown>): Promise<void> {
    await this.deps.store.insertRequest(request);
    await this.audit(request.id, request.requesterId, 'request.created', detail);
    await this.scheduleFor(request);
  }

  audit(requestId: string | null, actorId: string | null, action: string, detail: Record<string, unknown>): Promise<void> {
    return this.deps.store.appendAudit({ at: this.deps.now(), requestId, actorId, action, detail });
  }

  /**
   * The card for one audience. The approvers' copy shows status to every viewer; Teams refreshes it
   * automatically for the users in `refresh.userIds`, and `live` is that answer for an approver.
   */
  async cardFor(request: RequestRecord, audience: CardAudience, language: Language, notice?: { text: string; code: string }, live = false, conversation?: ConversationRef) {
    const approvals = await this.deps.store.approvals(request.id);
    const refreshUserIds = audience === 'approvers' && request.state === 'pending' && !live
      ? await this.approverIdsFor(request, conversation ?? (await this.approvalsConversation(request)))
      : undefined;
    // A draft or pending change that will turn the mailbox's SMTP AUTH off says its exception ends.
    const active = request.targetUserId && (request.state === 'draft' || request.state === 'pending') && !grantsException(request)
      ? await this.deps.store.activeExceptionFor(request.targetUserId) : undefined;
    const endsException = active && turnsMailboxOff(request, active.targetUserId) ? active : undefined;
    return requestCard(translator(language), { request, approvals, blockersLeft: blockersLeftByChange(request), endsException }, audience, notice, { live, refreshUserIds });
  }

  private approverCache?: { at: number; ids: Set<string> };
  private readonly rosterCache = new Map<string, { at: number; members: ConversationMember[] }>();

  /**
   * Who gets live Approve/Reject buttons: the members of the card's conversation who are in the
   * approver group (enabled) and are not the requester, by the Teams id `refresh.userIds` takes.
   * Teams honours at most 60; beyond that, or when the roster or the group cannot be read (null),
   * every viewer gets the buttons and the server still refuses anyone who is not an approver.
   */
  private async approverIdsFor(request: RequestRecord, conversation: ConversationRef): Promise<string[] | null> {
    if (this.deps.config.APPROVAL_CARD_VIEW === 'shared') return null;
    const now = this.deps.now().getTime();
    try {
      if (!this.approverCache || now - this.approverCache.at > 60_000) {
        const approvers = await this.deps.tenant.directory.groupUsers(this.deps.config.APPROVER_GROUP_ID);
        this.approverCache = { at: now, ids: new Set(approvers.filter((u) => u.accountEnabled).map((u) => u.id)) };
      }
      const key = JSON.stringify(conversation.conversation ?? conversation);
      let roster = this.rosterCache.get(key);
      if (!roster || now - roster.at > 60_000) {
        roster = { at: now, members: await this.deps.notifier.members(conversation) };
        this.rosterCache.set(key, roster);
      }
      const approverIds = this.approverCache.ids;
      const ids = roster.members.filter((m) => m.aadObjectId && m.aadObjectId !== request.requesterId && approverIds.has(m.aadObjectId)).map((m) => m.id);
      return ids.length <= 60 ? ids : null;
    } catch (error) {
      this.deps.logger.warn({ err: errorSummary(error), requestId: request.id }, 'could not tell the approvers in the conversation apart; the approval card shows its buttons to every viewer');
      return null;
    }
  }

  /** Updates every posted copy of the request's card, each in the language it was posted in. */
  async refreshCards(requestId: string): Promise<void> {
    const request = await this.deps.store.getRequest(requestId);
    if (!request) return;
    for (const post of await this.deps.store.cardPosts(requestId)) {
      try {
        await this.deps.notifier.update(post.conversation, post.activityId, await this.cardFor(request, post.audience, post.language, undefined, false, post.conversation));
      } catch (error) {
        this.deps.logger.warn({ err: errorSummary(error), requestId, activityId: post.activityId }, 'could not update a posted card');
      }
    }
  }

  private async approvalsConversation(request: RequestRecord): Promise<ConversationRef> {
    return (await this.deps.store.getSetting<ConversationRef>(approvalsConversationKey)) ?? request.conversation;
  }

  /** Posts the approvers' copy of the card to the approvals conversation, or the requester's when none is set. */
  async postApprovalCard(request: RequestRecord): Promise<void> {
    const conversation = await this.approvalsConversation(request);
    const card = await this.cardFor(request, 'approvers', request.language, undefined, false, conversation);
    const activityId = await this.deps.notifier.send(conversation, card);
    if (activityId) {
      await this.deps.store.addCardPost({ requestId: request.id, activityId, conversation, audience: 'approvers', language: request.language });
    }
  }

  /**
   * Tells the requester, in their own chat, what happened. Teams answers 403 when the app is no
   * longer installed for them: that is logged, never a crash.
   */
  async notifyRequester(request: RequestRecord, event: RequesterEvent): Promise<void> {
    const t = translator(request.language);
    const key = event === 'succeeded' && request.verified === false ? 'notify.succeededUnverified' : event === 'late-checked' ? 'notify.lateChecked' : `notify.${event}`;
    const text = t(key, { name: request.targetDisplayName ?? t('steps.theOrganization'), code: request.errorCode ?? '' });
    try {
      const rejections = event === 'rejected' ? (await this.deps.store.approvals(request.id)).filter((a) => a.decision === 'reject') : [];
      await this.deps.notifier.send(request.conversation, requesterNoticeCard(t, text, request, rejections));
    } catch (error) {
      this.deps.logger.warn({ err: errorSummary(error), requestId: request.id, event }, 'could not notify the requester');
      await this.audit(request.id, null, 'notify.failed', { event, reason: errorSummary(error) });
    }
  }

  /**
   * Runs an approved request exactly once: whoever wins approved → executing does the write, under
   * the request's execution lock so a restarting instance can tell a live execution from a crash.
   */
  async execute(requestId: string): Promise<void> {
    const found = await this.deps.store.getRequest(requestId);
    if (found?.state !== 'approved') return;
    await this.deps.store.withExecutionLock(requestId, async () => {
      const approved = await this.deps.store.getRequest(requestId);
      if (approved?.state !== 'approved') return;
      const request = await this.move(approved, 'executing', null, await this.replanned(approved));
      if (request) await this.runPlan(request, 'execute');
    }, lockKeyOf(found));
  }

  /**
   * A request that had nothing to write when drafted (an extension while the exception was active,
   * an adoption) may find the mailbox changed by the time it runs (the exception lapsed meanwhile):
   * its command's steps are read again, and those no longer so are written. Unreadable: all of them.
   */
  private async replanned(request: RequestRecord): Promise<RequestPatch> {
    const command = changeCommandOf(request);
    if (request.plan.length > 0 || !command?.grantsException || !request.targetUserId || !request.targetUpn) return {};
    const intents = command.plan({ tenantId: request.tenantId, user: targetOf(request, request.targetUserId, request.targetUpn) });
    try {
      return { plan: (await readPlan(this.deps.tenant, intents)).steps };
    } catch (error) {
      this.deps.logger.warn({ err: errorSummary(error), requestId: request.id }, 'could not read the target again before running; writing every step');
      return { plan: intents.map((intent) => pendingStep(intent, null)) };
    }
  }

  /**
   * Start-up: a request left `executing` by a crash is settled by reading the tenant's actual value —
   * done if it already matches, written once more if it does not, never blindly re-run. One left
   * `approved` is executed. The job runner calls it too, for requests stale for a while: one whose
   * execution lock is free has no live executor anywhere (a held lock is skipped).
   */
  async reconcile(options: { staleForMs?: number } = {}): Promise<number> {
    let settled = 0;
    const cutoff = this.deps.now().getTime() - (options.staleForMs ?? 0);
    const stale = async (state: RequestState) => (await this.deps.store.requestsIn(state)).filter((r) => r.updatedAt.getTime() <= cutoff);
    for (const stuck of await stale('executing')) {
      await this.deps.store.withExecutionLock(stuck.id, async () => {
        let request = await this.deps.store.getRequest(stuck.id);
        if (request?.state !== 'executing') return;
        // Each step not yet applied (left mid-write, or never reached) is settled from the tenant's
        // actual value: marked applied when it already holds, written once when it does not.
        for (let index = 0; index < request.plan.length; index++) {
          const step = request.plan[index]!;
          if (step.status !== 'writing' && step.status !== 'pending') continue;
          const kind = stepKindById(step.kind);
          let current: unknown;
          try {
            current = await kind.read(this.deps.tenant, step.target);
          } catch (error) {
            this.deps.logger.warn({ err: errorSummary(error), requestId: request.id }, 'reconcile: tenant unreadable, will retry at next start');
            return;
          }
          if (current !== undefined && kind.holds(current, step.desired)) {
            await this.audit(request.id, null, 'request.reconciled', { outcome: 'already-applied', step: index, stepKind: step.kind, after: current as Json });
            request = (await this.deps.store.updateStep(request.id, index, ['writing', 'pending'], { status: 'applied', after: current as Json, verified: true }, this.deps.now())) ?? request;
          } else {
            await this.audit(request.id, null, 'request.reconciled', { outcome: 'retrying-once', step: index, stepKind: step.kind, current: (current ?? null) as Json });
          }
        }
        settled++;
        await this.runPlan(request, 'reconcile');
      }, lockKeyOf(stuck));
    }
    // Pending although its decisions settle it (a reject, or a met quorum): moved now, then told and run.
    for (const decided of await this.deps.store.settleDecidedPending(this.deps.now())) {
      settled++;
      await this.refreshCards(decided.id);
      await this.notifyRequester(decided, decided.state === 'rejected' ? 'rejected' : 'approved');
      if (decided.state === 'approved') await this.execute(decided.id);
    }
    // Approved but never started (the process stopped between the approval and the execution):
    // run it now; the approved → executing compare-and-set keeps it to one execution across instances.
    // Confirmed but never routed (the process stopped between the two moves): route it now.
    for (const confirmed of await stale('confirmed')) {
      const next = await this.move(confirmed, confirmed.requiredApprovals === 0 ? 'approved' : 'pending', null);
      if (!next) continue;
      await this.audit(confirmed.id, null, 'request.reconciled', { outcome: `routed-${next.state}` });
      if (next.state === 'pending') await this.postApprovalCard(next);
      settled++;
    }
    for (const approved of await stale('approved')) {
      await this.audit(approved.id, null, 'request.reconciled', { outcome: 'executing-approved' });
      await this.execute(approved.id);
      settled++;
    }
    return settled;
  }

  /**
   * Runs the plan's steps in order, each claimed, written once, read back and audited on its own;
   * the first that fails stops the plan (the steps before it stay applied, and the card says so).
   * Then the request settles, every card is updated and the requester is told.
   */
  private async runPlan(request: RequestRecord, reason: 'execute' | 'reconcile'): Promise<void> {
    let current = request;
    let failure: AppError | undefined;
    let ambiguous = false;
    let lastRun: { index: number; ownMailbox: boolean; after: unknown } | undefined;
    for (let index = 0; index < current.plan.length && !failure; index++) {
      const step = current.plan[index]!;
      if (step.status === 'applied') continue;
      const outcome = await this.runStep(current, index, reason);
      current = outcome.request;
      failure = outcome.failure;
      ambiguous = outcome.ambiguous;
      lastRun = { index, ownMailbox: isOwnMailboxStep(current, step), after: outcome.after };
    }
    // The request's own before/after stays the target mailbox's state, with every layer evaluated
    // after a successful change so the card can say whether SMTP AUTH now works; when the last
    // step run was that mailbox's, its read-back already is that state.
    const upn = current.targetUpn;
    const after = !upn ? undefined
      : lastRun?.ownMailbox ? (lastRun.after as MailboxSmtpState | undefined)
        : failure ? await this.readBack(upn, current.id) : await this.readBackEvaluated(current, upn);
    const verified = current.plan.every((step) => step.status === 'applied' && step.verified === true);
    let settled: RequestRecord | undefined;
    if (failure) {
      this.deps.logger.error({ err: errorSummary(failure.cause ?? failure), requestId: current.id, code: failure.code }, 'request failed');
      // The error's params (which permission was missing…) let the failed card say what to fix.
      settled = await this.move(current, 'failed', null, { after: after ?? null, verified: false, errorCode: failure.code, params: { ...current.params, errorParams: failure.params } });
      // Timed out or cut off, the write may still reach the tenant after we gave up: look again later.
      if (settled && ambiguous) {
        await this.deps.store.scheduleJob({ id: this.newId(), kind: 'request.recheck', requestId: current.id, runAt: new Date(this.deps.now().getTime() + lateWriteRecheckMs) });
      }
    } else {
      settled = await this.move(current, 'succeeded', null, { after: after ?? null, verified: current.plan.length === 0 ? after !== undefined : verified });
      // Applied, but the read-back failed (Exchange answered 503 to Get-CASMailbox, say): the card and
      // the requester say it is not verified yet, and it is read back again later.
      if (settled && !settled.verified && settled.plan.length > 0) {
        await this.deps.store.scheduleJob({ id: this.newId(), kind: 'request.verify', requestId: settled.id, runAt: new Date(this.deps.now().getTime() + lateWriteRecheckMs) });
      }
    }
    await this.refreshCards(current.id);
    if (settled) await this.notifyRequester(settled, settled.state === 'failed' ? 'failed' : 'succeeded');
  }

  /** One step: claim it (pending → writing), write, read back, audit, record applied or failed. */
  private async runStep(request: RequestRecord, index: number, reason: 'execute' | 'reconcile'): Promise<{ request: RequestRecord; failure?: AppError; ambiguous: boolean; after?: unknown }> {
    const step = request.plan[index]!;
    const kind = stepKindById(step.kind);
    const now = () => this.deps.now();
    let claimed: RequestRecord | undefined = request;
    if (step.status === 'pending') claimed = await this.deps.store.updateStep(request.id, index, ['pending'], { status: 'writing' }, now());
    // Under the execution lock nobody else claims it; a step found otherwise is not ours to write.
    if (!claimed) return { request, failure: new AppError('INTERNAL'), ambiguous: false };
    let writeError: AppError | undefined;
    try {
      await kind.write(this.deps.tenant, step.target, step.desired);
    } catch (error) {
      writeError = toAppError(error);
    }
    let after: unknown;
    if (isOwnMailboxStep(request, step)) {
      // The request's own mailbox: read back with every layer evaluated (the result card says
      // whether SMTP AUTH now works), or the setting alone after a write that errored.
      after = writeError ? await this.readBack(request.targetUpn!, request.id) : await this.readBackEvaluated(request, request.targetUpn!);
    } else {
      try {
        after = await kind.read(this.deps.tenant, step.target);
      } catch (error) {
        this.deps.logger.warn({ err: errorSummary(error), requestId: request.id, step: index }, 'read-back after the write failed');
      }
    }
    // A write that errored (a timeout, say) may still have reached the tenant: the read-back is the
    // truth. Calling it failed would leave SMTP AUTH on with no exception and no revert behind it.
    let failure = writeError;
    if (failure && failure.code !== 'INTERNAL' && after !== undefined && kind.holds(after, step.desired)) failure = undefined;
    const verified = !failure && after !== undefined && kind.holds(after, step.desired);
    if (!failure && after !== undefined && !verified) failure = new AppError('VERIFY_MISMATCH');
    const operation = kind.operation(step.target, step.desired);
    await this.audit(request.id, null, 'tenant.write', {
      reason, step: index, stepKind: step.kind,
      operation: operation.operation, ...(operation.cmdlet ? { cmdlet: operation.cmdlet } : {}),
      identity: operation.identity, parameters: operation.parameters,
      before: step.before, after: (after ?? null) as Json, readBackMatched: verified, errorCode: failure?.code ?? null,
      ...(writeError && !failure ? { writeErrorCode: writeError.code } : {}),
    });
    const patch: Partial<PlanStep> = failure
      ? { status: 'failed', after: (after ?? null) as Json, verified: false, errorCode: failure.code, ...(writeError ? { writeErrorCode: writeError.code } : {}) }
      : { status: 'applied', after: (after ?? null) as Json, verified: after !== undefined };
    const recorded = (await this.deps.store.updateStep(request.id, index, ['writing'], patch, now())) ?? claimed;
    return { request: recorded, failure, ambiguous: !!failure && !!writeError && ambiguousWriteErrors.has(writeError.code), after };
  }

  /**
   * The read-back after a successful write, taken from the one evaluation of every layer so the
   * result card can say whether SMTP AUTH now works. The evaluation only adds to the card: when it
   * fails, the mailbox setting is read back alone and the card leaves that line out.
   */
  private async readBackEvaluated(request: RequestRecord, upn: string): Promise<MailboxSmtpState | undefined> {
    if (request.targetUserId) {
      try {
        const evaluation = await evaluateSmtpAuth(this.deps.tenant, targetOf(request, request.targetUserId, upn), { now: this.deps.now });
        if (evaluation.state !== 'no-mailbox') return { ...evaluation.state, evaluation: snapshotOf(evaluation) };
      } catch (error) {
        this.deps.logger.warn({ err: errorSummary(error), requestId: request.id }, 'evaluation after the write failed; reading the mailbox setting back alone');
      }
    }
    return this.readBack(upn, request.id);
  }

  private async readBack(upn: string, requestId: string): Promise<MailboxSmtpState | undefined> {
    try {
      const state = await readSmtpState(this.deps.tenant.exchange, upn);
      return state === 'no-mailbox' ? undefined : state;
    } catch (error) {
      this.deps.logger.warn({ err: errorSummary(error), requestId }, 'read-back after the write failed');
      return undefined;
    }
  }

  /**
   * A failed request whose write timed out is looked at again once any write still in flight has
   * landed. If it did land (the mailbox holds the value we asked for) and nobody has changed the
   * mailbox since, the previous value is put back, so a failed request never leaves a half-applied
   * change behind.
   */
  async recheckLateWrite(requestId: string): Promise<void> {
    const found = await this.deps.store.getRequest(requestId);
    if (found?.state !== 'failed') return;
    await this.deps.store.withMailboxLock(lockKeyOf(found), async () => {
      const request = await this.deps.store.getRequest(requestId);
      if (request?.state !== 'failed' || request.params.lateWrite) return;
      const index = request.plan.findIndex((step) => step.status === 'failed' && typeof step.writeErrorCode === 'string' && ambiguousWriteErrors.has(step.writeErrorCode));
      const step = request.plan[index];
      if (!step || step.before === null) return;
      // Whatever the check finds, the card stops saying "being checked" and the requester hears of it.
      const settle = async (outcome: 'not-applied' | 'undone' | 'changed-since') => {
        const settled = await this.deps.store.annotate(request.id, { lateWrite: outcome }, this.deps.now());
        await this.audit(request.id, null, 'request.late-write-checked', { outcome });
        await this.refreshCards(request.id);
        if (settled) await this.notifyRequester(settled, 'late-checked');
      };
      if (request.targetUserId && (await this.deps.store.mailboxChangedSince(request.targetUserId, request.updatedAt, request.id))) return settle('changed-since');
      const kind = stepKindById(step.kind);
      // Unreadable now: the job fails and is tried again after its lease.
      const current = await kind.read(this.deps.tenant, step.target);
      if (current === undefined || !kind.holds(current, step.desired)) return settle('not-applied');
      await this.restoreStep(request, index, step, kind.valueOf(step.before), 'undo-late-write', current);
      await settle('undone');
    });
  }

  /**
   * Verify job of a done request whose read-back failed: every step is read again. Unreadable
   * still, it throws and the job is tried again after its lease; once every step holds, the request
   * is verified, its cards say so and the requester is told. A step found otherwise is audited.
   */
  async verifyLater(requestId: string): Promise<void> {
    const request = await this.deps.store.getRequest(requestId);
    if (request?.state !== 'succeeded' || request.verified) return;
    for (const step of request.plan) {
      if (step.status !== 'applied') continue;
      const current = await stepKindById(step.kind).read(this.deps.tenant, step.target);
      if (current === undefined || !stepKindById(step.kind).holds(current, step.desired)) {
        await this.audit(request.id, null, 'request.verify-mismatch', { stepKind: step.kind, target: step.target.identity, current: (current ?? null) as Json });
        return;
      }
    }
    const after = request.targetUpn ? await this.readBackEvaluated(request, request.targetUpn) : undefined;
    const verified = await this.deps.store.markVerified(request.id, after ?? null, this.deps.now());
    if (!verified) return;
    await this.audit(request.id, null, 'request.verified', { after: (after ?? null) as Json });
    await this.refreshCards(request.id);
    await this.notifyRequester(verified, 'verified');
  }

  /** Expiry job: an unanswered request closes; its cards say so; the requester hears of it. */
  async expire(requestId: string): Promise<void> {
    const request = await this.deps.store.getRequest(requestId);
    if (!request || (request.state !== 'draft' && request.state !== 'pending')) return;
    const expired = await this.move(request, 'expired', null);
    if (!expired) return;
    await this.refreshCards(requestId);
    if (request.state === 'pending') await this.notifyRequester(expired, 'expired');
  }

  /** Reminder job: approvers are told a pending request is about to expire. */
  async remind(requestId: string): Promise<void> {
    const request = await this.deps.store.getRequest(requestId);
    if (request?.state !== 'pending') return;
    const t = translator(request.language);
    const text = t('notify.reminder', { name: request.targetDisplayName ?? t('steps.theOrganization'), requester: request.requesterName, expires: formatMoment(t, request.expiresAt) });
    await this.deps.notifier.send(await this.approvalsConversation(request), messageCard(t, text, request.id));
    await this.audit(request.id, null, 'request.reminded', { expiresAt: request.expiresAt.toISOString() });
  }

  /** Revert job of a time-boxed change: the mailbox goes back to its value before the request. */
  /**
   * The exceptions register follows every successful change: an enable records an exception (or
   * extends the mailbox's active one, or adopts a mailbox that was already on); a disable or reset
   * ends it. The register's expiry is the request's revert job; its reminder is scheduled here.
   */
  private async recordException(request: RequestRecord): Promise<void> {
    if (!request.targetUserId || !request.targetUpn) return;
    const store = this.deps.store;
    const now = this.deps.now();
    const active = await store.activeExceptionFor(request.targetUserId);
    if (!grantsException(request)) {
      // Only a change that turned this mailbox's SMTP AUTH off ends its exception (an MFA or policy
      // change, or a reset that still inherits "on", leaves it in place).
      if (active && turnsMailboxOff(request, active.targetUserId) && (await store.closeException(active.id, active.requestId, 'ended', now))) {
        await store.cancelJobs(active.requestId, ['request.revert', 'exception.remind']);
        await this.audit(request.id, null, 'exception.ended', { exceptionId: active.id, target: active.targetUpn, by: request.commandId });
      }
      return;
    }
    if (active?.requestId === request.id) return;
    const durationMs = Number(request.params.durationMs ?? 0);
    const expiresAt = durationMs > 0 ? new Date(now.getTime() + durationMs) : null;
    const approverNames = (await store.approvals(request.id)).filter((a) => a.decision === 'approve').map((a) => a.approverName);
    const justification = typeof request.params.justification === 'string' ? request.params.justification : '';
    if (active) {
      const extended = await store.extendException(active.id, active.requestId, { requestId: request.id, requesterId: request.requesterId, requesterName: request.requesterName, approverNames, justification: justification || active.justification, expiresAt }, now);
      if (!extended) return;
      await store.cancelJobs(active.requestId, ['request.revert', 'exception.remind']);
      await this.audit(request.id, null, 'exception.extended', {
        exceptionId: active.id, target: active.targetUpn, from: active.expiresAt?.toISOString() ?? null, to: expiresAt?.toISOString() ?? null, approvers: approverNames,
      });
    } else {
      const before = request.before;
      // An extension approved after its exception lapsed renews it: what it restores to, and whether
      // it was adopted, come from the lapsed row, not from the mailbox it found on while pending.
      const renewed = typeof request.params.extendsException === 'string' ? await store.getException(request.params.extendsException) : undefined;
      const adopted = renewed ? renewed.adopted : request.params.adopt === true || before?.mailboxSmtpClientAuthenticationDisabled === false;
      const exception: ExceptionRecord = {
        id: this.newId(), tenantId: request.tenantId, targetUserId: request.targetUserId, targetUpn: request.targetUpn,
        targetDisplayName: request.targetDisplayName ?? request.targetUpn, requestId: request.id, originRequestId: renewed?.originRequestId ?? request.id,
        requesterId: request.requesterId, requesterName: request.requesterName, approverNames, justification, expiresAt,
        // Lapsing puts back what kept SMTP AUTH off before; a mailbox that was already on goes explicitly off.
        restoreValue: renewed ? renewed.restoreValue : before && !before.effectiveEnabled ? before.mailboxSmtpClientAuthenticationDisabled : true,
        adopted, state: 'active', createdAt: now, updatedAt: now,
      };
      if (!(await store.insertException(exception))) return;
      await this.audit(request.id, null, renewed ? 'exception.renewed' : adopted ? 'exception.adopted' : 'exception.created', {
        ...(renewed ? { renews: renewed.id } : {}),
        exceptionId: exception.id, target: exception.targetUpn, justification, expiresAt: expiresAt?.toISOString() ?? null, approvers: approverNames, permanent: expiresAt === null,
      });
    }
    // An exception shorter than the reminder lead gets none: its end was chosen when it was asked for.
    const leadMs = this.deps.config.EXCEPTION_REMINDER_DAYS * 24 * 3_600_000;
    if (expiresAt && leadMs > 0 && durationMs > leadMs) {
      await store.scheduleJob({ id: this.newId(), kind: 'exception.remind', requestId: request.id, runAt: new Date(expiresAt.getTime() - leadMs) });
    }
  }

  /**
   * The active exception an enable request governs; 'superseded' when another request governs the
   * mailbox's exception now, or this request's exception was extended, ended or has lapsed; undefined
   * when no exception ever named this request (an enable from before the register, or one whose
   * exception row was never written), so its revert falls back to the value before the change.
   */
  private async governedException(request: RequestRecord): Promise<ExceptionRecord | 'superseded' | undefined> {
    if (!grantsException(request) || !request.targetUserId) return undefined;
    const active = await this.deps.store.activeExceptionFor(request.targetUserId);
    if (active) return active.requestId === request.id ? active : 'superseded';
    return (await this.deps.store.exceptionNamesRequest(request.id)) ? 'superseded' : undefined;
  }

  /** Reminder job of an exception: approvers are asked to extend it or let it lapse. */
  async remindException(requestId: string): Promise<void> {
    const request = await this.deps.store.getRequest(requestId);
    if (request?.state !== 'succeeded') return;
    const exception = await this.governedException(request);
    if (!exception || exception === 'superseded' || !exception.expiresAt) return;
    const t = translator(request.language);
    await this.deps.notifier.send(await this.approvalsConversation(request), exceptionReminderCard(t, exception));
    await this.audit(request.id, null, 'exception.reminded', { exceptionId: exception.id, target: exception.targetUpn, expiresAt: exception.expiresAt.toISOString() });
  }

  async revert(requestId: string): Promise<void> {
    // A job whose lease ran out while its first claimer is still writing is claimed again: under the
    // execution lock, with the state re-read inside, the second claimer cannot write a second time.
    const found = await this.deps.store.getRequest(requestId);
    // The governing exception is read inside the mailbox lock, so an extension cannot slip between.
    const ran = await this.deps.store.withExecutionLock(requestId, async () => {
      await this.revertOnce(requestId);
      return true;
    }, found ? lockKeyOf(found) : requestId);
    // Left claimed, the job is looked at again after its lease, by when the holder has settled it.
    if (!ran) throw new Error(`request ${requestId} is being reverted by another instance`);
  }

  /**
   * Puts a step's value back (a revert, an undone late write): write, read back, audit. Throws unless
   * the read-back shows the value, so the job that asked stays due; resolves with the read-back.
   */
  private async restoreStep(request: RequestRecord, index: number | null, step: StepIntent, value: Json, reason: 'revert' | 'undo-late-write', before: unknown): Promise<unknown> {
    const kind = stepKindById(step.kind);
    let failure: AppError | undefined;
    try {
      await kind.write(this.deps.tenant, step.target, value);
    } catch (error) {
      failure = toAppError(error);
    }
    let after: unknown;
    try {
      after = await kind.read(this.deps.tenant, step.target);
    } catch (error) {
      this.deps.logger.warn({ err: errorSummary(error), requestId: request.id, step: index }, 'read-back after the write failed');
    }
    const restored = !failure && after !== undefined && kind.holds(after, value);
    const operation = kind.operation(step.target, value);
    await this.audit(request.id, null, 'tenant.write', {
      reason, ...(index === null ? {} : { step: index }), stepKind: step.kind,
      operation: operation.operation, ...(operation.cmdlet ? { cmdlet: operation.cmdlet } : {}),
      identity: operation.identity, parameters: operation.parameters,
      before: (before ?? null) as Json, after: (after ?? null) as Json, readBackMatched: restored, errorCode: failure?.code ?? null,
    });
    if (!restored) throw failure ?? new AppError('VERIFY_MISMATCH');
    return after;
  }

  private async revertOnce(requestId: string): Promise<void> {
    const request = await this.deps.store.getRequest(requestId);
    if (request?.state !== 'succeeded') return;
    const exception = await this.governedException(request);
    // Extended by a later request, or already turned off another way: nothing lapses here.
    if (exception === 'superseded') return;
    // Every applied step that changed something goes back, last first; the exception's mailbox goes
    // to the value that turns SMTP AUTH off again (its restore value).
    const indexes = request.plan.map((_, i) => i).reverse().filter((i) => {
      const step = request.plan[i]!;
      return step.status === 'applied' && step.before !== null && !stepKindById(step.kind).holds(step.before, step.desired);
    });
    let after: unknown;
    const restore = async (index: number | null, step: StepIntent, value: Json, before: unknown) => {
      // A failed revert throws and stays due: the job runner tries again after its lease.
      const read = await this.restoreStep(request, index, step, value, 'revert', before);
      if (step.target.id === request.targetUserId && step.kind === mailboxSmtpAuth.id) after = read;
    };
    let exceptionRestored = false;
    for (const index of indexes) {
      const step = request.plan[index]!;
      const isExceptionMailbox = exception !== undefined && step.kind === mailboxSmtpAuth.id && step.target.id === exception.targetUserId;
      exceptionRestored ||= isExceptionMailbox;
      await restore(index, step, isExceptionMailbox ? exception.restoreValue : stepKindById(step.kind).valueOf(step.before), step.after);
    }
    // An exception this request governs without having written it (an extension, an adoption) lapses too.
    if (exception && !exceptionRestored) {
      const target = { type: 'mailbox' as const, id: exception.targetUserId, identity: exception.targetUpn, displayName: exception.targetDisplayName };
      await restore(null, { kind: mailboxSmtpAuth.id, target, desired: exception.restoreValue }, exception.restoreValue, request.after);
    }
    const reverted = await this.move(request, 'reverted', null, after === undefined ? {} : { after: after as MailboxSmtpState });
    if (exception && (await this.deps.store.closeException(exception.id, exception.requestId, 'lapsed', this.deps.now()))) {
      await this.audit(request.id, null, 'exception.lapsed', { exceptionId: exception.id, target: exception.targetUpn, expiresAt: exception.expiresAt?.toISOString() ?? null, restoredTo: exception.restoreValue });
    }
    await this.refreshCards(request.id);
    if (reverted) await this.notifyRequester(reverted, 'reverted');
  }
}

/** The step that sets the SMTP AUTH of the request's own target mailbox. */
function isOwnMailboxStep(request: RequestRecord, step: StepIntent): boolean {
  return step.kind === mailboxSmtpAuth.id && step.target.id === request.targetUserId && !!request.targetUpn;
}

/** The lock a request's writes serialize on: its target mailbox, or its first step's target. */
export function lockKeyOf(request: RequestRecord): string {
  return request.targetUserId ?? request.plan[0]?.target.id ?? request.id;
}

/** The request's target as the evaluation needs it; the evaluation reads `accountEnabled` itself. */
function targetOf(request: RequestRecord, id: string, upn: string): DirectoryUser {
  return { id, userPrincipalName: upn, displayName: request.targetDisplayName ?? upn, mail: null, givenName: null, surname: null, preferredLanguage: null, accountEnabled: true };
}

/**
 * What the draft's evaluation said about the layers this change does not touch: undefined when
 * there is nothing to say (a row from before the evaluation, or a change that leaves SMTP AUTH off
 * anyway), null when those layers could not be read, otherwise the blockers that will remain.
 */
function blockersLeftByChange(request: RequestRecord): Finding[] | null | undefined {
  const evaluation = request.before?.evaluation;
  const mailboxStep = request.plan.find((step) => step.kind === mailboxSmtpAuth.id && step.target.id === request.targetUserId);
  if (!request.before || evaluation === undefined) return undefined;
  // Only a change after which the mailbox setting allows SMTP AUTH can be defeated by another layer.
  const desired = mailboxStep ? (mailboxStep.desired as boolean | null) : request.before.mailboxSmtpClientAuthenticationDisabled;
  if (!grantsException(request) && !mailboxStep) return undefined;
  if (desired ?? request.before.orgSmtpClientAuthenticationDisabled) return undefined;
  return evaluation === null ? null : blockersBeyondMailboxSetting(evaluation.blockers);
}

function changeCommandOf(request: RequestRecord): ChangeCommand | undefined {
  const command = commandById(request.commandId);
  return command?.kind === 'change' ? command : undefined;
}

/** Does this request turn SMTP AUTH on for its user's mailbox as an accountable exception? */
export function grantsException(request: RequestRecord): boolean {
  return changeCommandOf(request)?.grantsException === true;
}

/** Did (or will) this request leave the mailbox with SMTP AUTH off, by one of its own steps? */
export function turnsMailboxOff(request: RequestRecord, userId: string): boolean {
  return request.plan.some((step) => {
    if (step.kind !== mailboxSmtpAuth.id || step.target.id !== userId) return false;
    if (step.status === 'applied' && step.after) return (step.after as MailboxSmtpState).effectiveEnabled === false;
    const desired = step.desired as boolean | null;
    const org = (step.before as MailboxSmtpState | null)?.orgSmtpClientAuthenticationDisabled ?? true;
    return step.status !== 'failed' && (desired ?? org) === true;
  });
}


/** What may be logged of an error: its name, code and message, never a request with headers. */
function errorSummary(error: unknown): string {
  if (error instanceof AppError) return error.code;
  if (error instanceof Error) {
    // Bot Connector errors carry Teams' status (403: the app is not installed for that user).
    const status = (error as { statusCode?: unknown }).statusCode;
    return `${error.name}${typeof status === 'number' ? ` ${status}` : ''}: ${error.message}`.slice(0, 300);
  }
  return String(error).slice(0, 300);
}
