import { AppError, toAppError } from '../errors';
import type { Logger } from '../log';
import { mailboxSmtpAuth } from '../steps/mailbox-smtp-auth';
import { stepKindById } from '../steps/registry';
import type { Json, PlanStep, StepStatus } from '../steps/types';
import type { Store } from '../store/store';
import type { Tenant } from '../tenant';
import { runBounded } from '../tenant/bulk';
import { TenantHttpError } from '../tenant/http';
import type { RequestRecord } from '../model/requests';

/**
 * How a plan of independent steps (every mailbox of a group) runs: in bounded parallel, each step on
 * its own exactly as a sequential plan runs it — claimed (pending → writing) before its write,
 * written once, read back, audited, recorded applied or failed — so a crash is settled per step by
 * the reconcile from the tenant's value. What Exchange answers "later" to (429 after the HTTP
 * layer's own retries, a 502/503/504 it did not carry out) goes back on the queue and the workers
 * shrink (tenant/bulk.ts), so the run slows down instead of failing mailboxes; a failed mailbox
 * does not stop the others.
 */
export interface ParallelStepOptions {
  /** Writes in flight at most (default 16; Exchange Online throttles a tenant's concurrent admin calls). */
  concurrency?: number;
  /** Pause after a throttled attempt before that step is tried again (default 1 s). */
  throttlePauseMs?: number;
  /** Rounds one step may come back "later" before it counts as failed (default 20). */
  maxRounds?: number;
  /** The request's cards are updated at most this often while it runs (default 2 s): "n of m", never once per mailbox. */
  progressIntervalMs?: number;
}

export interface ParallelStepDeps {
  store: Store;
  tenant: Tenant;
  logger: Logger;
  now: () => Date;
  audit(requestId: string | null, actorId: string | null, action: string, detail: Record<string, unknown>): Promise<void>;
  refreshCards(requestId: string): Promise<void>;
  /** Writes one step's value, every attempt of the HTTP layer audited; resolves with the write's error. */
  writeStep(index: number, step: PlanStep): Promise<{ error?: AppError; attempts: number }>;
}

/**
 * What one step's write came to, from its read-back: applied (verified when read back), or failed
 * with why. A write that errored (a timeout, say) may still have reached the tenant, so a read-back
 * holding the desired value is the truth; calling it failed would leave SMTP AUTH on with no
 * exception and no revert behind it. Also the `tenant.write` audit detail and the step's patch.
 */
export function writeOutcome(step: PlanStep, index: number, reason: string, after: unknown, writeError: AppError | undefined, attempts: number): { failure?: AppError; verified: boolean; audit: Record<string, unknown>; patch: Partial<PlanStep> } {
  const kind = stepKindById(step.kind);
  let failure = writeError;
  if (failure && failure.code !== 'INTERNAL' && after !== undefined && kind.holds(after, step.desired)) failure = undefined;
  const verified = !failure && after !== undefined && kind.holds(after, step.desired);
  if (!failure && after !== undefined && !verified) failure = new AppError('VERIFY_MISMATCH');
  const operation = kind.operation(step.target, step.desired);
  const audit = {
    reason, step: index, stepKind: step.kind,
    operation: operation.operation, ...(operation.cmdlet ? { cmdlet: operation.cmdlet } : {}),
    identity: operation.identity, parameters: operation.parameters,
    before: step.before, after: (after ?? null) as Json, readBackMatched: verified, errorCode: failure?.code ?? null, attempts,
    ...(writeError && !failure ? { writeErrorCode: writeError.code } : {}),
  };
  const patch: Partial<PlanStep> = failure
    ? { status: 'failed', after: (after ?? null) as Json, verified: false, errorCode: failure.code, ...(writeError ? { writeErrorCode: writeError.code } : {}) }
    : { status: 'applied', after: (after ?? null) as Json, verified: after !== undefined, errorCode: null };
  return { ...(failure ? { failure } : {}), verified, audit, patch };
}

/** Is this a plan whose steps are independent of each other: several mailboxes' SMTP AUTH, each mailbox once? */
export function independentMailboxSteps(plan: readonly Pick<PlanStep, 'kind' | 'target'>[]): boolean {
  return plan.length > 1 && plan.every((step) => step.kind === mailboxSmtpAuth.id) && new Set(plan.map((step) => step.target.id.toLowerCase())).size === plan.length;
}

/** Is an error one the service answered "not now" to, without carrying the call out? */
function later(thrown: unknown): 'throttled' | 'unavailable' | undefined {
  const error = thrown instanceof AppError ? thrown.cause : thrown;
  if (!(error instanceof TenantHttpError) || error.kind !== 'status' || error.status === undefined) return undefined;
  if (error.status === 429) return 'throttled';
  return [502, 503, 504].includes(error.status) ? 'unavailable' : undefined;
}

/**
 * Runs every step of `request` whose status is in `from` ('pending' and, after a crash, 'writing';
 * 'failed' for a retry), and resolves with the request as the store has it afterwards. The caller
 * holds the request's execution lock. `from: ['failed']` claims failed → writing, so two retries
 * of one request never write a step twice.
 */
export async function runStepsInParallel(deps: ParallelStepDeps, request: RequestRecord, reason: 'execute' | 'reconcile' | 'retry', from: readonly StepStatus[], options: ParallelStepOptions = {}, eligible: (step: PlanStep) => boolean = () => true): Promise<RequestRecord> {
  const maxRounds = options.maxRounds ?? 20;
  const interval = options.progressIntervalMs ?? 2_000;
  const indexes = request.plan.map((step, index) => ({ step, index })).filter(({ step }) => from.includes(step.status) && eligible(step));
  let lastRefresh = Date.now();
  let refreshing: Promise<void> | undefined;
  const progress = () => {
    if (refreshing || Date.now() - lastRefresh < interval) return;
    lastRefresh = Date.now();
    refreshing = deps.refreshCards(request.id).catch(() => {}).finally(() => { refreshing = undefined; });
  };

  // Per step: its write landed (a later round only reads it back), and what the write threw.
  const written = new Set<number>();
  const attempts = new Map<number, number>();
  const settle = async (index: number, step: PlanStep, after: unknown, writeError: AppError | undefined) => {
    const { audit, patch } = writeOutcome(step, index, reason, after, writeError, attempts.get(index) ?? 0);
    await deps.audit(request.id, null, 'tenant.write', audit);
    await deps.store.updateStep(request.id, index, ['writing'], patch, deps.now());
  };

  await runBounded(indexes, async ({ step, index }, _position, round) => {
    const kind = stepKindById(step.kind);
    let writeError: AppError | undefined;
    if (!written.has(index)) {
      if (round === 0 && step.status !== 'writing') {
        // Claimed before its write: a crash from here on is settled from the tenant, never re-run blindly.
        const claimed = await deps.store.updateStep(request.id, index, [step.status], { status: 'writing' }, deps.now());
        if (!claimed) return { done: undefined };
      }
      const { error, attempts: sent } = await deps.writeStep(index, step);
      attempts.set(index, (attempts.get(index) ?? 0) + sent);
      if (!error) written.add(index);
      else {
        const again = later(error);
        if (again && round < maxRounds) return { again, error };
        writeError = error;
      }
    }
    let after: unknown;
    try {
      after = await kind.read(deps.tenant, step.target);
    } catch (error) {
      // Written, but the read-back was refused for now: only the read is tried again.
      if (later(error) && round < maxRounds) return { again: later(error)!, error };
      deps.logger.warn({ err: toAppError(error).code, requestId: request.id, step: index }, 'read-back after the write failed');
    }
    await settle(index, step, after, writeError);
    progress();
    return { done: undefined };
  }, () => undefined, { concurrency: options.concurrency ?? 16, throttlePauseMs: options.throttlePauseMs ?? 1_000, maxRounds: maxRounds + 1 });
  await refreshing;
  const current = await deps.store.getRequest(request.id);
  if (!current) throw new AppError('INTERNAL');
  return current;
}
