import { randomUUID } from 'node:crypto';
import type { Config } from '../config';
import type { Notifier } from '../ports/notifier';
import { AppError } from '../errors';
import { ExceptionsRegister } from '../exceptions/register';
import { revertAt } from '../exceptions/decisions';
import type { Logger } from '../log';
import type { JobKind, RequestPatch, Store } from '../store/store';
import type { Tenant } from '../tenant';
import { allowedTransitions, type RequestRecord, type RequestState } from '../model/requests';
import type { ParallelStepOptions } from './parallel-steps';

export interface LifecycleDeps {
  config: Config;
  store: Store;
  tenant: Tenant;
  notifier: Notifier;
  logger: Logger;
  now: () => Date;
  newId?: () => string;
  /** How plans of independent mailbox steps (a group change) run: concurrency, pauses, card refresh rate. */
  bulk?: ParallelStepOptions;
}

/** How long before expiry approvers are reminded (half the lifetime for short-lived requests). */
const reminderLeadMs = 4 * 3_600_000;

/**
 * The request state machine: every move a compare-and-set, every move audited, and what each state
 * implies (its jobs; on success, the exceptions register and the undone mark). It never writes to
 * the tenant (src/requests/execution.ts) and never posts a card (src/requests/notification.ts).
 */
export class RequestLifecycle {
  readonly newId: () => string;
  readonly exceptions: ExceptionsRegister;

  constructor(private readonly deps: LifecycleDeps, exceptions?: ExceptionsRegister) {
    this.newId = deps.newId ?? randomUUID;
    this.exceptions = exceptions ?? new ExceptionsRegister({ ...deps, newId: this.newId });
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
      await this.exceptions.record(moved);
      if (typeof moved.params.undoes === 'string') await this.markUndone(moved.params.undoes, moved);
    }
    return moved;
  }

  /**
   * An undo that succeeded: the request it undid says so, and offers Undo no more. Whoever moved
   * the undo to succeeded updates the original's cards (src/requests/execution.ts).
   */
  private async markUndone(originalId: string, undo: RequestRecord): Promise<void> {
    await this.deps.store.annotate(originalId, { undoneBy: undo.id }, this.deps.now());
    await this.audit(originalId, null, 'request.undone', { by: undo.id });
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
        // A time-boxed change (an exception) reverts when it ends.
        const at = revertAt(request, this.deps.now());
        if (at) await schedule('request.revert', at);
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
}

/** The lock a request's writes serialize on: its target mailbox, its group, or its first step's target. */
export function lockKeyOf(request: RequestRecord): string {
  const group = request.params.group as { id?: unknown } | undefined;
  return request.targetUserId ?? (typeof group?.id === 'string' ? group.id : undefined) ?? request.plan[0]?.target.id ?? request.id;
}

/** What may be logged of an error: its name, code and message, never a request with headers. */
export function errorSummary(error: unknown): string {
  if (error instanceof AppError) return error.code;
  if (error instanceof Error) {
    // Bot Connector errors carry Teams' status (403: the app is not installed for that user).
    const status = (error as { statusCode?: unknown }).statusCode;
    return `${error.name}${typeof status === 'number' ? ` ${status}` : ''}: ${error.message}`.slice(0, 300);
  }
  return String(error).slice(0, 300);
}
