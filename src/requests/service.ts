import { randomUUID } from 'node:crypto';
import { exceptionReminderCard, messageCard, requestCard, requesterNoticeCard, type CardAudience } from '../cards/builders';
import { changeCommandSetting, commandById } from '../commands/registry';
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

type RequesterEvent = 'approved' | 'rejected' | 'succeeded' | 'failed' | 'expired' | 'reverted';

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
    if (moved.state === 'succeeded') await this.recordException(moved);
    return moved;
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
    return requestCard(translator(language), { request, approvals, blockersLeft: blockersLeftByChange(request) }, audience, notice, { live, refreshUserIds });
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
    const text = t(`notify.${event}`, { name: request.targetDisplayName ?? '', code: request.errorCode ?? '' });
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
      const request = await this.move(approved, 'executing', null);
      if (request) await this.applyChange(request, 'execute');
    }, found.targetUserId ?? found.id);
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
        const request = await this.deps.store.getRequest(stuck.id);
        if (request?.state !== 'executing') return;
        const command = changeCommandOf(request);
        let current: MailboxSmtpState | 'no-mailbox' | undefined;
        try {
          current = request.targetUpn ? await readSmtpState(this.deps.tenant.exchange, request.targetUpn) : undefined;
        } catch (error) {
          this.deps.logger.warn({ err: errorSummary(error), requestId: request.id }, 'reconcile: tenant unreadable, will retry at next start');
          return;
        }
        settled++;
        if (command && current && current !== 'no-mailbox' && command.verify(current)) {
          await this.audit(request.id, null, 'request.reconciled', { outcome: 'already-applied', after: current });
          // Every layer, as after any write, so the card can say whether SMTP AUTH now works.
          const after = (request.targetUpn && (await this.readBackEvaluated(request, request.targetUpn))) || current;
          const done = await this.move(request, 'succeeded', null, { after, verified: true });
          await this.refreshCards(request.id);
          if (done) await this.notifyRequester(done, 'succeeded');
          return;
        }
        await this.audit(request.id, null, 'request.reconciled', { outcome: 'retrying-once', current: current ?? null });
        await this.applyChange(request, 'reconcile');
      }, stuck.targetUserId ?? stuck.id);
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

  /** Write, read back, record before/after/match, settle the request, update every card. */
  private async applyChange(request: RequestRecord, reason: 'execute' | 'reconcile'): Promise<void> {
    const command = changeCommandOf(request);
    const upn = request.targetUpn;
    let failure: AppError | undefined;
    if (!command || !upn) {
      failure = new AppError('INTERNAL');
    } else {
      try {
        await command.execute(this.deps.tenant, { userPrincipalName: upn });
      } catch (error) {
        failure = toAppError(error);
      }
    }
    const after = !upn ? undefined : failure ? await this.readBack(upn, request.id) : await this.readBackEvaluated(request, upn);
    // A write that errored (a timeout, say) may still have reached Exchange: the read-back is the
    // truth. Calling it failed would leave SMTP AUTH on with no exception and no revert behind it.
    const writeError = failure;
    if (failure && failure.code !== 'INTERNAL' && after !== undefined && command?.verify(after)) failure = undefined;
    const verified = !failure && after !== undefined && command !== undefined && command.verify(after);
    if (!failure && after && !verified) failure = new AppError('VERIFY_MISMATCH');
    await this.audit(request.id, null, 'tenant.write', {
      reason,
      cmdlet: 'Set-CASMailbox',
      identity: upn,
      parameters: { SmtpClientAuthenticationDisabled: command ? command.desiredMailboxValue : null },
      before: request.before,
      after: after ?? null,
      readBackMatched: verified,
      errorCode: failure?.code ?? null,
      ...(writeError && !failure ? { writeErrorCode: writeError.code } : {}),
    });
    let settled: RequestRecord | undefined;
    if (failure) {
      this.deps.logger.error({ err: errorSummary(failure.cause ?? failure), requestId: request.id, code: failure.code }, 'request failed');
      // The error's params (which permission was missing…) let the failed card say what to fix.
      settled = await this.move(request, 'failed', null, { after: after ?? null, verified: false, errorCode: failure.code, params: { ...request.params, errorParams: failure.params } });
      // Timed out or cut off, the write may still reach Exchange after we gave up: look again later.
      if (settled && writeError && ambiguousWriteErrors.has(writeError.code)) {
        await this.deps.store.scheduleJob({ id: this.newId(), kind: 'request.recheck', requestId: request.id, runAt: new Date(this.deps.now().getTime() + lateWriteRecheckMs) });
      }
    } else {
      settled = await this.move(request, 'succeeded', null, { after: after ?? null, verified: after !== undefined });
    }
    await this.refreshCards(request.id);
    if (settled) await this.notifyRequester(settled, settled.state === 'failed' ? 'failed' : 'succeeded');
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
    if (found?.state !== 'failed' || !found.targetUpn || !found.targetUserId || !found.before) return;
    await this.deps.store.withMailboxLock(found.targetUserId, async () => {
      const request = await this.deps.store.getRequest(requestId);
      const command = request && changeCommandOf(request);
      if (!request?.targetUpn || !request.targetUserId || !request.before || !command || request.params.lateWrite) return;
      if (await this.deps.store.mailboxChangedSince(request.targetUserId, request.updatedAt, request.id)) return;
      // Unreadable now: the job fails and is tried again after its lease.
      const current = await readSmtpState(this.deps.tenant.exchange, request.targetUpn);
      if (current === 'no-mailbox' || !command.verify(current)) {
        await this.deps.store.annotate(request.id, { lateWrite: 'not-applied' }, this.deps.now());
        return;
      }
      await this.restoreMailbox(request, request.targetUpn, request.before.mailboxSmtpClientAuthenticationDisabled, 'undo-late-write', current);
      await this.deps.store.annotate(request.id, { lateWrite: 'undone' }, this.deps.now());
      await this.refreshCards(request.id);
    });
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
    const text = t('notify.reminder', { name: request.targetDisplayName ?? '', requester: request.requesterName, expires: formatMoment(t, request.expiresAt) });
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
    if (request.commandId !== 'smtp-enable') {
      if (active && (await store.closeException(active.id, active.requestId, 'ended', now))) {
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
    if (request.commandId !== 'smtp-enable' || !request.targetUserId) return undefined;
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
    }, found?.targetUserId ?? requestId);
    // Left claimed, the job is looked at again after its lease, by when the holder has settled it.
    if (!ran) throw new Error(`request ${requestId} is being reverted by another instance`);
  }

  /**
   * Puts a mailbox value back (a revert, an undone late write): write, read back, audit. Throws unless
   * the read-back shows the value, so the job that asked stays due; resolves with the read-back.
   */
  private async restoreMailbox(request: RequestRecord, upn: string, value: boolean | null, reason: 'revert' | 'undo-late-write', before: MailboxSmtpState | null): Promise<MailboxSmtpState | undefined> {
    const restore = changeCommandSetting(value);
    let failure: AppError | undefined;
    try {
      await restore.execute(this.deps.tenant, { userPrincipalName: upn });
    } catch (error) {
      failure = toAppError(error);
    }
    const after = await this.readBack(upn, request.id);
    const restored = !failure && after !== undefined && restore.verify(after);
    await this.audit(request.id, null, 'tenant.write', {
      reason, cmdlet: 'Set-CASMailbox', identity: upn,
      parameters: { SmtpClientAuthenticationDisabled: restore.desiredMailboxValue },
      before, after: after ?? null, readBackMatched: restored, errorCode: failure?.code ?? null,
    });
    if (!restored) throw failure ?? new AppError('VERIFY_MISMATCH');
    return after;
  }

  private async revertOnce(requestId: string): Promise<void> {
    const request = await this.deps.store.getRequest(requestId);
    if (request?.state !== 'succeeded' || !request.before || !request.targetUpn) return;
    const exception = await this.governedException(request);
    // Extended by a later request, or already turned off another way: nothing lapses here.
    if (exception === 'superseded') return;
    const restoreValue = exception ? exception.restoreValue : request.before.mailboxSmtpClientAuthenticationDisabled;
    // A failed revert throws and stays due: the job runner tries again after its lease.
    const after = await this.restoreMailbox(request, request.targetUpn, restoreValue, 'revert', request.after);
    const reverted = await this.move(request, 'reverted', null, { after });
    if (exception && (await this.deps.store.closeException(exception.id, exception.requestId, 'lapsed', this.deps.now()))) {
      await this.audit(request.id, null, 'exception.lapsed', { exceptionId: exception.id, target: exception.targetUpn, expiresAt: exception.expiresAt?.toISOString() ?? null, restoredTo: restoreValue });
    }
    await this.refreshCards(request.id);
    if (reverted) await this.notifyRequester(reverted, 'reverted');
  }
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
  const command = changeCommandOf(request);
  const evaluation = request.before?.evaluation;
  if (!command || !request.before || evaluation === undefined) return undefined;
  // Only a change after which the mailbox setting allows SMTP AUTH can be defeated by another layer.
  if (command.desiredMailboxValue ?? request.before.orgSmtpClientAuthenticationDisabled) return undefined;
  return evaluation === null ? null : blockersBeyondMailboxSetting(evaluation.blockers);
}

function changeCommandOf(request: RequestRecord): ChangeCommand | undefined {
  const command = commandById(request.commandId);
  return command?.kind === 'change' ? command : undefined;
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
