import { AppError, toAppError } from '../errors';
import { changeCommandOf, extendedGroupOf, grantsException, isExceptionMailboxStep, perMailbox } from '../exceptions/decisions';
import { runBounded } from '../tenant/bulk';
import { independentMailboxSteps, runStepsInParallel, writeOutcome } from './parallel-steps';
import type { ExceptionsRegister } from '../exceptions/register';
import type { RequestPatch } from '../store/store';
import { evaluateSmtpAuth, snapshotOf, type DirectoryUser } from '../tenant';
import { observeWriteAttempts } from '../tenant/http';
import { readMailboxStates, readSmtpState } from '../tenant/smtp-state';
import { mailboxSmtpAuth } from '../steps/mailbox-smtp-auth';
import { pendingStep, readPlan } from '../steps/plan';
import { stepKindById } from '../steps/registry';
import type { Json, PlanStep, StepIntent } from '../steps/types';
import { errorSummary, lockKeyOf, type LifecycleDeps, type RequestLifecycle } from './lifecycle';
import { ambiguousWriteErrors, awaitsLateCheck, type MailboxSmtpState, type RequestRecord, type RequestState } from '../model/requests';
import type { RequestNotification } from './notification';


/** When a failed request's timed-out write is looked at again: long after anything in flight has landed. */
export const lateWriteRecheckMs = 5 * 60_000;

/**
 * Everything that writes to the tenant for a request: the approved plan run once (claimed, written,
 * read back, audited per step), the settling of requests a crash left behind, the late checks of a
 * write that timed out or a read-back that failed, and the revert of a time-boxed change.
 */
export class RequestExecution {
  private readonly exceptions: ExceptionsRegister;

  constructor(private readonly deps: LifecycleDeps, private readonly lifecycle: RequestLifecycle, private readonly notification: RequestNotification) {
    this.exceptions = lifecycle.exceptions;
  }

  private move(...args: Parameters<RequestLifecycle['move']>) { return this.lifecycle.move(...args); }
  private audit(...args: Parameters<RequestLifecycle['audit']>) { return this.lifecycle.audit(...args); }
  private newId(): string { return this.lifecycle.newId(); }

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
    if (extendedGroupOf(request)) return this.replannedGroupExtension(request);
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
   * An extension of a group's exceptions, read again as it starts (it may have waited days for its
   * approvals): a mailbox whose exception the group change still governs and that is still on is
   * applied without a write; one whose exception lapsed meanwhile is written on again (and renewed);
   * one ended early, or extended or granted by another request since, is dropped, never turned back on.
   */
  private async replannedGroupExtension(request: RequestRecord): Promise<RequestPatch> {
    const extending = extendedGroupOf(request)!;
    const listed = (request.params.extendsExceptions ?? {}) as Record<string, string>;
    let states: Map<string, MailboxSmtpState> | undefined;
    try {
      states = await readMailboxStates(this.deps.tenant.exchange);
    } catch (error) {
      this.deps.logger.warn({ err: errorSummary(error), requestId: request.id }, 'could not read the mailboxes again before extending; writing every one still governed');
    }
    const plan: PlanStep[] = [];
    for (const step of request.plan) {
      const active = await this.deps.store.activeExceptionFor(step.target.id);
      if (active && active.requestId !== extending) continue;
      if (!active && (!listed[step.target.id] || (await this.deps.store.getException(listed[step.target.id]!))?.state !== 'lapsed')) continue;
      const state = states?.get(step.target.id.toLowerCase());
      if (states && !state) continue;
      plan.push(state && active && mailboxSmtpAuth.holds(state, step.desired as boolean | null)
        ? { ...step, status: 'applied', before: state as unknown as Json, after: state as unknown as Json, verified: true }
        : { ...step, status: 'pending', before: (state ?? step.before) as Json });
    }
    return { plan };
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
      await this.notification.refreshCards(decided.id);
      await this.notification.notifyRequester(decided, decided.state === 'rejected' ? 'rejected' : 'approved');
      if (decided.state === 'approved') await this.execute(decided.id);
    }
    // Approved but never started (the process stopped between the approval and the execution):
    // run it now; the approved → executing compare-and-set keeps it to one execution across instances.
    // Confirmed but never routed (the process stopped between the two moves): route it now.
    for (const confirmed of await stale('confirmed')) {
      const next = await this.move(confirmed, confirmed.requiredApprovals === 0 ? 'approved' : 'pending', null);
      if (!next) continue;
      await this.audit(confirmed.id, null, 'request.reconciled', { outcome: `routed-${next.state}` });
      if (next.state === 'pending') await this.notification.postApprovalCard(next);
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
    if (independentMailboxSteps(request.plan)) return this.runParallel(request, reason, ['pending', 'writing']);
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
      // An undo that succeeded: every card of the request it undid says so, and offers Undo no more.
      if (settled && typeof settled.params.undoes === 'string') await this.notification.refreshCards(settled.params.undoes);
      // Applied, but the read-back failed (Exchange answered 503 to Get-CASMailbox, say): the card and
      // the requester say it is not verified yet, and it is read back again later.
      if (settled && !settled.verified && settled.plan.length > 0) {
        await this.deps.store.scheduleJob({ id: this.newId(), kind: 'request.verify', requestId: settled.id, runAt: new Date(this.deps.now().getTime() + lateWriteRecheckMs) });
      }
    }
    await this.notification.refreshCards(current.id);
    if (settled) await this.notification.notifyRequester(settled, settled.state === 'failed' ? 'failed' : 'succeeded');
  }

  /**
   * Writes one step's value and audits every attempt the HTTP layer made, as each ended (answered
   * with its status, timed out, cut off): a write retried after a timeout may have been applied by
   * the attempt that timed out too, and the audit shows how many reached the tenant. Resolves with
   * the write's error, if any, and how many attempts it took; throws only when the audit does.
   */
  private async writeStep(request: RequestRecord, index: number | null, step: StepIntent, value: Json, reason: string): Promise<{ error?: AppError; attempts: number }> {
    const kind = stepKindById(step.kind);
    let attempts = 0;
    let audited = Promise.resolve();
    let error: AppError | undefined;
    try {
      await observeWriteAttempts((attempt) => {
        attempts++;
        audited = audited.then(() => this.audit(request.id, null, 'tenant.write-attempt', {
          reason, ...(index === null ? {} : { step: index }), stepKind: step.kind, service: attempt.service, operation: attempt.operation,
          attempt: attempt.attempt, outcome: attempt.outcome, status: attempt.status ?? null, durationMs: attempt.durationMs,
        }));
      }, () => kind.write(this.deps.tenant, step.target, value));
    } catch (thrown) {
      error = toAppError(thrown);
    }
    await audited;
    return { error, attempts };
  }

  /**
   * A plan of independent mailbox steps (every mailbox of a group) runs in bounded parallel
   * (parallel-steps.ts): each step claimed, written once, read back and audited on its own, a failed
   * mailbox never stopping the others, the cards updated with "n of m" at a bounded rate. The
   * request succeeds when any mailbox was applied (the card lists the failed ones, with Retry) and
   * fails only when none was. A retry runs the failed steps again on the request that is already done.
   */
  private async runParallel(request: RequestRecord, reason: 'execute' | 'reconcile' | 'retry', from: PlanStep['status'][], unresolved: ReadonlySet<string> = new Set()): Promise<void> {
    // A retry leaves a mailbox whose timed-out write may still land to the late check, and one it could not read back first.
    const retrying = (step: PlanStep) => reason !== 'retry' || (!awaitsLateCheck(request, step) && !unresolved.has(step.target.id));
    const current = await runStepsInParallel({
      store: this.deps.store, tenant: this.deps.tenant, logger: this.deps.logger, now: this.deps.now,
      audit: (...args) => this.audit(...args), refreshCards: (id) => this.notification.refreshCards(id),
      writeStep: (index, step) => this.writeStep(request, index, step, step.desired, reason),
    }, request, reason, from, this.deps.bulk, retrying);
    const applied = current.plan.filter((step) => step.status === 'applied');
    const failed = current.plan.filter((step) => step.status === 'failed');
    const verified = applied.every((step) => step.verified === true);
    let settled: RequestRecord | undefined;
    if (reason === 'retry') {
      await this.exceptions.record(current);
      await this.audit(current.id, null, 'request.retried', { retried: request.plan.filter((step) => from.includes(step.status) && retrying(step)).length, applied: applied.length, failed: failed.length });
      settled = current;
    } else if (applied.length === 0 && failed.length > 0) {
      const code = failed[0]!.errorCode ?? 'INTERNAL';
      this.deps.logger.error({ requestId: current.id, code, failed: failed.length }, 'request failed: no mailbox of the plan was applied');
      settled = await this.move(current, 'failed', null, { verified: false, errorCode: code });
    } else {
      settled = await this.move(current, 'succeeded', null, { verified });
      if (settled && typeof settled.params.undoes === 'string') await this.notification.refreshCards(settled.params.undoes);
    }
    // Writes that timed out may still land after we gave up: each such mailbox is read again later.
    if (settled && reason !== 'retry' && failed.some((step) => awaitsLateCheck(current, step))) {
      await this.deps.store.scheduleJob({ id: this.newId(), kind: 'request.recheck', requestId: settled.id, runAt: new Date(this.deps.now().getTime() + lateWriteRecheckMs) });
    }
    // Applied, but some read-backs failed: read back again later.
    if (settled?.state === 'succeeded' && !verified) {
      await this.deps.store.scheduleJob({ id: this.newId(), kind: 'request.verify', requestId: settled.id, runAt: new Date(this.deps.now().getTime() + lateWriteRecheckMs) });
    }
    await this.notification.refreshCards(current.id);
    if (settled) await this.notification.notifyRequester(settled, settled.state === 'failed' ? 'failed' : 'succeeded');
  }

  /**
   * Retry on a done group change: only its failed mailboxes, each claimed (failed → writing) before
   * it is written again, under the request's own approval, so a second press writes nothing.
   * NOTHING_TO_RETRY when no mailbox is failed any more.
   */
  async retryFailed(requestId: string): Promise<void> {
    const found = await this.deps.store.getRequest(requestId);
    if (found?.state !== 'succeeded') return;
    await this.deps.store.withExecutionLock(requestId, async () => {
      const request = await this.deps.store.getRequest(requestId);
      if (request?.state !== 'succeeded' || !request.plan.some((step) => step.status === 'failed' && !awaitsLateCheck(request, step))) return;
      const unresolved = await this.readBackBeforeRetry(request);
      const current = (await this.deps.store.getRequest(requestId)) ?? request;
      await this.runParallel(current, 'retry', ['failed'], unresolved);
    }, lockKeyOf(found));
  }

  /**
   * Before a Retry writes a mailbox whose last write timed out or was cut off (its late check gave
   * up, or a retry's own write timed out), that mailbox is read back: one where the write landed
   * counts as applied and is not written again; one still unreadable is left for a later Retry.
   * Resolves with the mailboxes that must not be written now.
   */
  private async readBackBeforeRetry(request: RequestRecord): Promise<Set<string>> {
    const unresolved = new Set<string>();
    const indexes = request.plan.map((_, i) => i).filter((i) => {
      const step = request.plan[i]!;
      return step.status === 'failed' && !awaitsLateCheck(request, step) && typeof step.writeErrorCode === 'string' && ambiguousWriteErrors.has(step.writeErrorCode);
    });
    await runBounded(indexes, async (index) => {
      const step = request.plan[index]!;
      const kind = stepKindById(step.kind);
      try {
        const current = await kind.read(this.deps.tenant, step.target);
        const landed = current !== undefined && kind.holds(current, step.desired);
        const patch: Partial<PlanStep> = landed ? { lateWrite: 'landed', status: 'applied', after: current as Json, verified: true, errorCode: null } : { lateWrite: 'not-applied' };
        await this.deps.store.updateStep(request.id, index, ['failed'], patch, this.deps.now());
        await this.audit(request.id, null, 'request.retry-read-back', { target: step.target.identity, landed });
      } catch (error) {
        this.deps.logger.warn({ err: errorSummary(error), requestId: request.id, step: index }, 'could not read a mailbox back before retrying it; it is not written');
        unresolved.add(step.target.id);
      }
      return { done: undefined };
    }, () => undefined, { concurrency: this.deps.bulk?.concurrency, throttlePauseMs: this.deps.bulk?.throttlePauseMs });
    return unresolved;
  }

  /**
   * The late check of a request gave up: its job failed on every attempt (Exchange could not be read).
   * A group change's mailboxes it never read are marked unknown, so its card names them and a Retry
   * (which reads each back first) is offered again; one mailbox's card says the check could not be
   * done. The requester is told.
   */
  async lateCheckGaveUp(requestId: string, reason: string): Promise<void> {
    const found = await this.deps.store.getRequest(requestId);
    if (found?.state !== 'failed' && found?.state !== 'succeeded') return;
    await this.deps.store.withMailboxLock(lockKeyOf(found), async () => {
      const request = await this.deps.store.getRequest(requestId);
      if ((request?.state !== 'failed' && request?.state !== 'succeeded') || request.params.lateWrite) return;
      const indexes = request.plan.map((_, i) => i).filter((i) => awaitsLateCheck(request, request.plan[i]!));
      if (perMailbox(request) && indexes.length === 0) return;
      for (const index of indexes) await this.deps.store.updateStep(request.id, index, ['failed'], { lateWrite: 'unknown' }, this.deps.now());
      const settled = await this.deps.store.annotate(request.id, { lateWrite: 'gave-up' }, this.deps.now());
      await this.audit(request.id, null, 'request.late-write-unchecked', { unknown: indexes.length, reason: reason.slice(0, 200) });
      await this.notification.refreshCards(request.id);
      if (settled) await this.notification.notifyRequester(settled, 'late-unchecked');
    });
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
    const { error: writeError, attempts } = await this.writeStep(request, index, step, step.desired, reason);
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
    const { failure, audit, patch } = writeOutcome(step, index, reason, after, writeError, attempts);
    await this.audit(request.id, null, 'tenant.write', audit);
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
    if ((found?.state === 'failed' || found?.state === 'succeeded') && perMailbox(found)) return this.recheckLateWrites(found);
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
        await this.notification.refreshCards(request.id);
        if (settled) await this.notification.notifyRequester(settled, 'late-checked');
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
   * The late check of a group change (several mailboxes, in parallel): every mailbox whose write
   * timed out is read again, not only the first. On a request done in part, a write that landed late
   * counts as applied and its mailbox gets its exception like the others (so no Retry writes it a
   * second time); on a failed (or since undone) request it is put back, as for one mailbox, so
   * nothing is left on behind it. A mailbox another request changed since is left alone; one never
   * reached stays failed. Each mailbox's verdict is kept on its step, so a check that stops half-way
   * (Exchange unreadable) goes on where it stopped.
   */
  private async recheckLateWrites(found: RequestRecord): Promise<void> {
    await this.deps.store.withMailboxLock(lockKeyOf(found), async () => {
      const request = await this.deps.store.getRequest(found.id);
      if ((request?.state !== 'failed' && request?.state !== 'succeeded') || request.params.lateWrite) return;
      const keeps = request.state === 'succeeded' && typeof request.params.undoneBy !== 'string';
      const indexes = request.plan.map((_, i) => i).filter((i) => awaitsLateCheck(request, request.plan[i]!) && request.plan[i]!.before !== null);
      const changed = await this.deps.store.mailboxesChangedSince(indexes.map((i) => request.plan[i]!.target.id), request.updatedAt, request.id);
      const failures = await this.checkStepsAgain(request, indexes, changed, keeps);
      // Unreadable or not put back: the job fails and is tried again after its lease, for the mailboxes left.
      if (failures.length) throw failures[0];
      const checked = (await this.deps.store.getRequest(request.id)) ?? request;
      // Landed on a request done in part: those mailboxes are in the register like the others.
      if (keeps) await this.exceptions.record(checked);
      const outcomes = { undone: 0, landed: 0, notApplied: 0, changedSince: 0 };
      for (const step of checked.plan) {
        if (step.lateWrite === 'undone') outcomes.undone++;
        else if (step.lateWrite === 'landed') outcomes.landed++;
        else if (step.lateWrite === 'not-applied') outcomes.notApplied++;
        else if (step.lateWrite === 'changed-since') outcomes.changedSince++;
      }
      const settled = await this.deps.store.annotate(request.id, { lateWrite: 'checked', lateWrites: outcomes }, this.deps.now());
      await this.audit(request.id, null, 'request.late-write-checked', { outcome: 'checked', ...outcomes });
      await this.notification.refreshCards(request.id);
      if (settled) await this.notification.notifyRequester(settled, 'late-checked');
    });
  }

  /**
   * Reads again each of `indexes` (failed steps whose write may have landed): never reached → not
   * applied; landed → applied on a request that keeps it, else put back; changed by another request
   * since → left alone. Resolves with the errors of those that could not be read or put back.
   */
  private async checkStepsAgain(request: RequestRecord, indexes: number[], changed: ReadonlySet<string>, keeps: boolean): Promise<unknown[]> {
    const failures: unknown[] = [];
    await runBounded(indexes, async (index, _position, round) => {
      const step = request.plan[index]!;
      const kind = stepKindById(step.kind);
      try {
        let patch: Partial<PlanStep> = { lateWrite: 'changed-since' };
        if (!changed.has(step.target.id)) {
          const current = await kind.read(this.deps.tenant, step.target);
          if (current === undefined || !kind.holds(current, step.desired)) patch = { lateWrite: 'not-applied' };
          else if (keeps) patch = { lateWrite: 'landed', status: 'applied', after: current as Json, verified: true, errorCode: null };
          else {
            await this.restoreStep(request, index, step, kind.valueOf(step.before), 'undo-late-write', current);
            patch = { lateWrite: 'undone' };
          }
        }
        await this.deps.store.updateStep(request.id, index, ['failed'], patch, this.deps.now());
      } catch (error) {
        const code = toAppError(error).code;
        if ((code === 'TENANT_THROTTLED' || code === 'TENANT_UNAVAILABLE') && round < 20) return { again: code === 'TENANT_THROTTLED' ? 'throttled' : 'unavailable', error };
        failures.push(error);
      }
      return { done: undefined };
    }, () => undefined, { concurrency: this.deps.bulk?.concurrency, throttlePauseMs: this.deps.bulk?.throttlePauseMs });
    return failures;
  }

  /**
   * Check again, pressed on a failed group change whose late check gave up: each mailbox still
   * unknown is read now; a write that landed after all is put back. One still unreadable stays
   * unknown, with the button, for another try.
   */
  async checkUnknownAgain(requestId: string): Promise<void> {
    const found = await this.deps.store.getRequest(requestId);
    if (found?.state !== 'failed' || !perMailbox(found)) return;
    await this.deps.store.withMailboxLock(lockKeyOf(found), async () => {
      const request = await this.deps.store.getRequest(requestId);
      if (request?.state !== 'failed') return;
      const indexes = request.plan.map((_, i) => i).filter((i) => request.plan[i]!.status === 'failed' && request.plan[i]!.lateWrite === 'unknown' && request.plan[i]!.before !== null);
      const changed = await this.deps.store.mailboxesChangedSince(indexes.map((i) => request.plan[i]!.target.id), request.updatedAt, request.id);
      const failures = await this.checkStepsAgain(request, indexes, changed, false);
      const checked = (await this.deps.store.getRequest(requestId)) ?? request;
      await this.audit(request.id, null, 'request.late-write-checked', {
        outcome: 'checked-again', unknown: checked.plan.filter((step) => step.lateWrite === 'unknown').length, failures: failures.length,
        undone: checked.plan.filter((step) => step.lateWrite === 'undone').length,
      });
      await this.notification.refreshCards(request.id);
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
    await this.notification.refreshCards(request.id);
    await this.notification.notifyRequester(verified, 'verified');
  }

  /** Revert job of a time-boxed change: every step goes back to its value before the request. */
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
    const { error: failure, attempts } = await this.writeStep(request, index, step, value, reason);
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
      before: (before ?? null) as Json, after: (after ?? null) as Json, readBackMatched: restored, errorCode: failure?.code ?? null, attempts,
    });
    if (!restored) throw failure ?? new AppError('VERIFY_MISMATCH');
    return after;
  }

  /**
   * The end of a time-boxed group change, mailbox by mailbox, in bounded parallel: each mailbox
   * whose exception this request still governs goes back to that exception's restore value and the
   * exception lapses; one extended by a later request, or already ended, is left as it is. A mailbox
   * that cannot be written now keeps the job due; the ones already put back are not written again.
   */
  private async revertPerMailbox(request: RequestRecord): Promise<void> {
    const grants = grantsException(request);
    // Every exception the request still governs lapses, also one it took over without writing (an extension).
    const indexes = request.plan.map((_, i) => i).filter((i) => {
      const step = request.plan[i]!;
      return step.status === 'applied' && (grants || (step.before !== null && !stepKindById(step.kind).holds(step.before, step.desired)));
    });
    const failures: unknown[] = [];
    await runBounded(indexes, async (index, _position, round) => {
      const step = request.plan[index]!;
      const exception = await this.deps.store.activeExceptionFor(step.target.id);
      if (grants && exception?.requestId !== request.id) return { done: undefined };
      const value = exception ? exception.restoreValue : stepKindById(step.kind).valueOf(step.before);
      try {
        await this.restoreStep(request, index, step, value, 'revert', step.after);
      } catch (error) {
        const code = toAppError(error).code;
        if ((code === 'TENANT_THROTTLED' || code === 'TENANT_UNAVAILABLE') && round < 20) return { again: code === 'TENANT_THROTTLED' ? 'throttled' : 'unavailable', error };
        failures.push(error);
        return { done: undefined };
      }
      if (exception) await this.exceptions.lapse(request, exception);
      return { done: undefined };
    }, () => undefined, { concurrency: this.deps.bulk?.concurrency, throttlePauseMs: this.deps.bulk?.throttlePauseMs });
    if (failures.length) throw failures[0];
    const reverted = await this.move(request, 'reverted', null);
    await this.notification.refreshCards(request.id);
    if (reverted) await this.notification.notifyRequester(reverted, 'reverted');
  }

  private async revertOnce(requestId: string): Promise<void> {
    const request = await this.deps.store.getRequest(requestId);
    if (request?.state !== 'succeeded') return;
    if (perMailbox(request)) return this.revertPerMailbox(request);
    const exception = await this.exceptions.governedBy(request);
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
      const isExceptionMailbox = isExceptionMailboxStep(exception, step);
      exceptionRestored ||= isExceptionMailbox;
      await restore(index, step, isExceptionMailbox ? exception.restoreValue : stepKindById(step.kind).valueOf(step.before), step.after);
    }
    // An exception this request governs without having written it (an extension, an adoption) lapses too.
    if (exception && !exceptionRestored) {
      const target = { type: 'mailbox' as const, id: exception.targetUserId, identity: exception.targetUpn, displayName: exception.targetDisplayName };
      await restore(null, { kind: mailboxSmtpAuth.id, target, desired: exception.restoreValue }, exception.restoreValue, request.after);
    }
    const reverted = await this.move(request, 'reverted', null, after === undefined ? {} : { after: after as MailboxSmtpState });
    if (exception) await this.exceptions.lapse(request, exception);
    await this.notification.refreshCards(request.id);
    if (reverted) await this.notification.notifyRequester(reverted, 'reverted');
  }
}

/** The step that sets the SMTP AUTH of the request's own target mailbox. */
function isOwnMailboxStep(request: RequestRecord, step: StepIntent): boolean {
  return step.kind === mailboxSmtpAuth.id && step.target.id === request.targetUserId && !!request.targetUpn;
}

/** The request's target as the evaluation needs it; the evaluation reads `accountEnabled` itself. */
function targetOf(request: RequestRecord, id: string, upn: string): DirectoryUser {
  return { id, userPrincipalName: upn, displayName: request.targetDisplayName ?? upn, mail: null, givenName: null, surname: null, preferredLanguage: null, accountEnabled: true };
}
