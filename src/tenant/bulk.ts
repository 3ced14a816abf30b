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

/**
 * Sets SmtpClientAuthenticationDisabled on every mailbox of `users`, each exactly once: a queue
 * that hands each mailbox to one worker, at most `concurrency` at a time. When Exchange still
 * answers 429 after the HTTP layer's own retries, the mailbox goes back on the queue and the
 * workers shrink to half, growing back by one after each success (AIMD), so the run slows
 * down instead of dropping mailboxes.
 */
export async function setSmtpForUsers(tenant: Tenant, users: DirectoryUser[], value: boolean | null, options: BulkOptions = {}): Promise<BulkItemResult[]> {
  const maxConcurrency = Math.max(1, options.concurrency ?? 16);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const throttlePauseMs = options.throttlePauseMs ?? 1000;
  const maxThrottledRounds = options.maxThrottledRounds ?? 20;

  const unique = [...new Map(users.map((user) => [user.id.toLowerCase(), user])).values()];
  const queue = unique.map((user) => ({ user, throttled: 0 }));
  const results = new Map<string, BulkItemResult>();
  const progress: BulkProgress = { total: unique.length, done: 0, changed: 0, unchanged: 0, noMailbox: 0, failed: 0, concurrency: maxConcurrency };
  let active = 0;
  let allowed = maxConcurrency;

  const finish = (result: BulkItemResult): void => {
    results.set(result.user.id.toLowerCase(), result);
    progress.done += 1;
    if (result.outcome === 'changed') progress.changed += 1;
    else if (result.outcome === 'unchanged') progress.unchanged += 1;
    else if (result.outcome === 'no-mailbox') progress.noMailbox += 1;
    else progress.failed += 1;
    options.onProgress?.({ ...progress, concurrency: allowed });
  };

  const work = async (): Promise<void> => {
    for (;;) {
      if (active >= allowed) {
        // Another worker holds the slot; wait for the window to reopen.
        await sleep(Math.max(10, throttlePauseMs / 10));
        if (queue.length === 0) return;
        continue;
      }
      const item = queue.shift();
      if (!item) return;
      active += 1;
      const summary = { id: item.user.id, userPrincipalName: item.user.userPrincipalName, displayName: item.user.displayName };
      try {
        const changed = await tenant.exchange.setCasMailboxSmtpClientAuthenticationDisabledReportingChange(item.user.userPrincipalName, value);
        allowed = Math.min(maxConcurrency, allowed + 1);
        finish({ user: summary, outcome: changed ? 'changed' : 'unchanged' });
      } catch (error) {
        if (error instanceof TenantHttpError && error.status === 429 && item.throttled < maxThrottledRounds) {
          item.throttled += 1;
          allowed = Math.max(1, Math.floor(allowed / 2));
          queue.push(item);
          active -= 1;
          await sleep(throttlePauseMs);
          continue;
        }
        if (error instanceof TenantHttpError && error.status === 404) finish({ user: summary, outcome: 'no-mailbox' });
        else finish({ user: summary, outcome: 'failed', errorCode: error instanceof TenantHttpError ? error.toAppError().code : 'INTERNAL' });
      }
      active -= 1;
    }
  };

  await Promise.all(Array.from({ length: Math.min(maxConcurrency, Math.max(1, unique.length)) }, () => work()));
  return unique.map((user) => results.get(user.id.toLowerCase()) as BulkItemResult);
}

/** "Every mailbox in group X": the group's users (nested groups flattened, every page), then {@link setSmtpForUsers}. */
export async function setSmtpForGroup(tenant: Tenant, groupId: string, value: boolean | null, options: BulkOptions = {}): Promise<BulkItemResult[]> {
  const users = await tenant.directory.groupUsers(groupId);
  return setSmtpForUsers(tenant, users, value, options);
}
