import type { Tenant } from './tenant';
import type { DirectoryUser } from './directory';
import { TenantHttpError } from './http';

export type BulkOutcome = 'changed' | 'unchanged' | 'no-mailbox' | 'failed';

export interface BulkItemResult {
  user: Pick<DirectoryUser, 'id' | 'userPrincipalName' | 'displayName'>;
  outcome: BulkOutcome;
  /** The catalog code of a failure (TENANT_PERMISSION_DENIED…), for the result card. */
  errorCode?: string;
}

export interface BulkProgress {
  total: number;
  done: number;
  changed: number;
  unchanged: number;
  noMailbox: number;
  failed: number;
  /** Workers running now: lowered while Exchange throttles, raised again as calls succeed. */
  concurrency: number;
}

export interface BulkOptions {
  /**
   * Parallel Set-CASMailbox calls at most (default 16); Exchange Online throttles a tenant's concurrent
   * admin calls, and the workers halve on each 429 that outlasts the HTTP layer's retries. At 8, a
   * 200-mailbox run at 300 ms per call was 8× a sequential loop; at 16 it clears the 10× goal (bench/).
   */
  concurrency?: number;
  onProgress?: (progress: BulkProgress) => void;
  /** Pause after a throttled mailbox before it is tried again (the HTTP layer has already honoured Retry-After). */
  throttlePauseMs?: number;
  /** How many times one mailbox may come back throttled before it counts as failed. */
  maxThrottledRounds?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** What a worker of {@link runBounded} says about one item: finished, or to be tried again later. */
export type BoundedAttempt<R> = { done: R } | { again: 'throttled' | 'unavailable'; error: unknown };

export interface BoundedOptions<R> {
  concurrency?: number;
  throttlePauseMs?: number;
  /** Rounds one item may come back before `giveUp` settles it. */
  maxRounds?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Called once per item as it settles, in the order they settle. */
  onSettled?: (result: R, index: number, concurrency: number) => void;
}

/**
 * Runs `attempt` once per item, at most `concurrency` at a time, each item handed to one worker at
 * a time. An attempt answered "again" (Exchange still throttling after the HTTP layer's own
 * retries, or briefly unavailable) puts the item back at the end of the queue and halves the
 * workers (throttled only), which grow back by one after each success (AIMD): the run slows down
 * instead of dropping items. After `maxRounds` an item is settled by `giveUp`.
 */
export async function runBounded<T, R>(items: readonly T[], attempt: (item: T, index: number, round: number) => Promise<BoundedAttempt<R>>, giveUp: (item: T, index: number, error: unknown) => R, options: BoundedOptions<R> = {}): Promise<R[]> {
  const maxConcurrency = Math.max(1, options.concurrency ?? 16);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const throttlePauseMs = options.throttlePauseMs ?? 1000;
  const maxRounds = options.maxRounds ?? 20;
  const queue = items.map((item, index) => ({ item, index, rounds: 0 }));
  const results: R[] = new Array(items.length);
  let active = 0;
  let allowed = maxConcurrency;

  const settle = (index: number, result: R): void => {
    results[index] = result;
    options.onSettled?.(result, index, allowed);
  };

  const work = async (): Promise<void> => {
    for (;;) {
      if (active >= allowed) {
        // Another worker holds the slot; wait for the window to reopen.
        await sleep(Math.max(10, throttlePauseMs / 10));
        if (queue.length === 0) return;
        continue;
      }
      const entry = queue.shift();
      if (!entry) return;
      active += 1;
      let outcome: BoundedAttempt<R>;
      try {
        outcome = await attempt(entry.item, entry.index, entry.rounds);
      } catch (error) {
        active -= 1;
        throw error;
      }
      if ('done' in outcome) {
        allowed = Math.min(maxConcurrency, allowed + 1);
        settle(entry.index, outcome.done);
        active -= 1;
        continue;
      }
      entry.rounds += 1;
      if (entry.rounds > maxRounds) {
        settle(entry.index, giveUp(entry.item, entry.index, outcome.error));
        active -= 1;
        continue;
      }
      if (outcome.again === 'throttled') allowed = Math.max(1, Math.floor(allowed / 2));
      queue.push(entry);
      active -= 1;
      await sleep(throttlePauseMs);
    }
  };

  await Promise.all(Array.from({ length: Math.min(maxConcurrency, Math.max(1, items.length)) }, () => work()));
  return results;
}

/** Exchange still answering 429 after the HTTP layer's retries. */
export function isThrottled(error: unknown): boolean {
  return error instanceof TenantHttpError && error.status === 429;
}

/**
 * Sets SmtpClientAuthenticationDisabled on every mailbox of `users`, each exactly once, through
 * {@link runBounded}: a mailbox Exchange keeps throttling goes back on the queue and the workers
 * shrink, so the run slows down instead of dropping mailboxes.
 */
export async function setSmtpForUsers(tenant: Tenant, users: DirectoryUser[], value: boolean | null, options: BulkOptions = {}): Promise<BulkItemResult[]> {
  const unique = [...new Map(users.map((user) => [user.id.toLowerCase(), user])).values()];
  const progress: BulkProgress = { total: unique.length, done: 0, changed: 0, unchanged: 0, noMailbox: 0, failed: 0, concurrency: Math.max(1, options.concurrency ?? 16) };
  const summary = (user: DirectoryUser) => ({ id: user.id, userPrincipalName: user.userPrincipalName, displayName: user.displayName });
  const failed = (user: DirectoryUser, error: unknown): BulkItemResult => ({ user: summary(user), outcome: 'failed', errorCode: error instanceof TenantHttpError ? error.toAppError().code : 'INTERNAL' });
  return runBounded<DirectoryUser, BulkItemResult>(unique, async (user) => {
    try {
      const changed = await tenant.exchange.setCasMailboxSmtpClientAuthenticationDisabledReportingChange(user.userPrincipalName, value);
      return { done: { user: summary(user), outcome: changed ? 'changed' : 'unchanged' } };
    } catch (error) {
      if (isThrottled(error)) return { again: 'throttled', error };
      if (error instanceof TenantHttpError && error.status === 404) return { done: { user: summary(user), outcome: 'no-mailbox' } };
      return { done: failed(user, error) };
    }
  }, failed, {
    concurrency: options.concurrency, throttlePauseMs: options.throttlePauseMs, maxRounds: options.maxThrottledRounds, sleep: options.sleep,
    onSettled: (result, _index, concurrency) => {
      progress.done += 1;
      if (result.outcome === 'changed') progress.changed += 1;
      else if (result.outcome === 'unchanged') progress.unchanged += 1;
      else if (result.outcome === 'no-mailbox') progress.noMailbox += 1;
      else progress.failed += 1;
      options.onProgress?.({ ...progress, concurrency });
    },
  });
}

/** "Every mailbox in group X": the group's users (nested groups flattened, every page), then {@link setSmtpForUsers}. */
export async function setSmtpForGroup(tenant: Tenant, groupId: string, value: boolean | null, options: BulkOptions = {}): Promise<BulkItemResult[]> {
  const users = await tenant.directory.groupUsers(groupId);
  return setSmtpForUsers(tenant, users, value, options);
}
