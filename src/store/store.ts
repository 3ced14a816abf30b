import { createHash } from 'node:crypto';
import type { Db } from './db';
import type { Approval, ConversationRef, ExceptionRecord, RequestRecord, RequestState, UnmanagedMailbox } from '../model/requests';
import type { Language } from '../i18n';
import type { PlanStep } from '../steps/types';

export interface CardPost {
  requestId: string;
  activityId: string;
  conversation: ConversationRef;
  /** Whose copy of the request's card; `group-reminder` is a copy of a group's exception reminder, not of the request's card. */
  audience: 'requester' | 'approvers' | 'group-reminder';
  language: Language;
}

interface RequestRow {
  id: string; tenant_id: string; command_id: string; state: string; risk: string; required_approvals: number;
  requester_id: string; requester_name: string; target_user_id: string | null; target_upn: string | null;
  target_display_name: string | null; params: Record<string, unknown>; language: string; conversation: ConversationRef;
  before_state: RequestRecord['before']; after_state: RequestRecord['after']; verified: boolean | null;
  error_code: string | null; created_at: Date | string; updated_at: Date | string; expires_at: Date | string;
  plan: PlanStep[] | null;
}

function toRequest(row: RequestRow): RequestRecord {
  return {
    id: row.id, tenantId: row.tenant_id, commandId: row.command_id, state: row.state as RequestState,
    risk: row.risk as RequestRecord['risk'], requiredApprovals: row.required_approvals,
    requesterId: row.requester_id, requesterName: row.requester_name, targetUserId: row.target_user_id,
    targetUpn: row.target_upn, targetDisplayName: row.target_display_name, params: row.params,
    language: row.language as RequestRecord['language'], conversation: row.conversation,
    before: row.before_state, after: row.after_state, verified: row.verified, errorCode: row.error_code,
    createdAt: new Date(row.created_at), updatedAt: new Date(row.updated_at), expiresAt: new Date(row.expires_at),
    plan: row.plan ?? [],
  };
}

interface ApprovalRow { request_id: string; approver_id: string; approver_name: string; decision: 'approve' | 'reject'; comment: string | null; at: Date | string }

function toApproval(r: ApprovalRow): Approval {
  return { requestId: r.request_id, approverId: r.approver_id, approverName: r.approver_name, decision: r.decision, comment: r.comment, at: new Date(r.at) };
}

export type RequestPatch = Partial<Pick<RequestRecord, 'after' | 'verified' | 'errorCode' | 'before' | 'targetUserId' | 'targetUpn' | 'targetDisplayName' | 'params' | 'plan'>>;

export interface AuditEvent {
  seq: number;
  at: Date;
  requestId: string | null;
  actorId: string | null;
  action: string;
  detail: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export type JobKind = 'request.expire' | 'request.remind' | 'request.revert' | 'exception.remind' | 'request.recheck' | 'request.verify';

interface ExceptionRow {
  id: string; tenant_id: string; target_user_id: string; target_upn: string; target_display_name: string;
  request_id: string; origin_request_id: string; requester_id: string; requester_name: string; approver_names: string[];
  justification: string; expires_at: Date | string | null; restore_value: boolean | null; adopted: boolean;
  state: ExceptionRecord['state']; created_at: Date | string; updated_at: Date | string;
}

function toException(r: ExceptionRow): ExceptionRecord {
  return {
    id: r.id, tenantId: r.tenant_id, targetUserId: r.target_user_id, targetUpn: r.target_upn, targetDisplayName: r.target_display_name,
    requestId: r.request_id, originRequestId: r.origin_request_id, requesterId: r.requester_id, requesterName: r.requester_name,
    approverNames: r.approver_names, justification: r.justification, expiresAt: r.expires_at === null ? null : new Date(r.expires_at),
    restoreValue: r.restore_value, adopted: r.adopted, state: r.state, createdAt: new Date(r.created_at), updatedAt: new Date(r.updated_at),
  };
}

export interface Job {
  id: string;
  kind: JobKind;
  requestId: string;
  runAt: Date;
  state: 'scheduled' | 'running' | 'done' | 'cancelled';
  attempts: number;
}

interface JobRow { id: string; kind: JobKind; request_id: string; run_at: Date | string; state: Job['state']; attempts: number }

function toJob(r: JobRow): Job {
  return { id: r.id, kind: r.kind, requestId: r.request_id, runAt: new Date(r.run_at), state: r.state, attempts: r.attempts };
}

/** What the audit tab filters by; every field optional. Dates are instants: `from` inclusive, `to` exclusive. */
export interface AuditFilter {
  state?: RequestState;
  user?: string;
  from?: Date;
  to?: Date;
}

/** A request (alias r) whose state is $s and whose requester or target matches the text $u. */
function requestMatches(s: number, u: number): string {
  return `($${s}::text IS NULL OR r.state = $${s})
    AND ($${u}::text IS NULL OR position(lower($${u}) in lower(r.requester_name || ' ' || coalesce(r.target_display_name, '') || ' ' || coalesce(r.target_upn, ''))) > 0)`;
}

export const genesisHash = '0'.repeat(64);

export function auditHash(prevHash: string, e: Pick<AuditEvent, 'at' | 'requestId' | 'actorId' | 'action' | 'detail'>): string {
  return createHash('sha256')
    .update(canonicalJson([prevHash, e.at.toISOString(), e.requestId, e.actorId, e.action, e.detail]))
    .digest('hex');
}

/**
 * Rows of a table as this process last read or wrote them, for a database no other process writes
 * (PGlite): every turn asks whether a "Who is it for?" is waiting (settings), and every status and
 * draft asks for the mailbox's active exception (exceptions); this answers without a statement.
 * Values are kept as JSON text, so a caller never holds the kept copy. Bounded: past the limit it
 * starts over, and a key not kept is read from the table. PGlite runs statements in the order they
 * are sent, so a read sent after a write has started sees it.
 */
class KeptRows {
  static readonly limit = 10_000;
  private readonly values = new Map<string, string | undefined>();
  /** Bumped when a write starts: a read that overlapped one is not kept. */
  private writes = 0;

  get(key: string): { value: unknown } | undefined {
    if (!this.values.has(key)) return undefined;
    const json = this.values.get(key);
    return { value: json === undefined ? undefined : JSON.parse(json) };
  }

  /** Before a read of the table: hand the ticket back to {@link keep}. */
  ticket(): number {
    return this.writes;
  }

  keep(ticket: number, key: string, json: string | undefined): void {
    if (ticket !== this.writes) return;
    if (this.values.size >= KeptRows.limit) this.values.clear();
    this.values.set(key, json);
  }

  /** A write of `key` starts (or, key undefined, of any number of keys): nothing kept for it holds. */
  writing(key?: string): number {
    this.writes += 1;
    if (key === undefined) this.values.clear();
    else this.values.delete(key);
    return this.writes;
  }
}

/** One mirror per database, shared by every Store on it. */
const mirrors = new WeakMap<Db, { settings: KeptRows; activeExceptions: KeptRows }>();

/** All SQL of the application lives here (STYLE.md habit 4). */
export class Store {
  private readonly settings: KeptRows | undefined;
  /** The active exception of each target user (JSON of its row, or nothing), by target user id. */
  private readonly keptExceptions: KeptRows | undefined;

  constructor(readonly db: Db) {
    if (db.exclusive) {
      let mirror = mirrors.get(db);
      if (!mirror) mirrors.set(db, (mirror = { settings: new KeptRows(), activeExceptions: new KeptRows() }));
      this.settings = mirror.settings;
      this.keptExceptions = mirror.activeExceptions;
    }
  }

  async ping(): Promise<boolean> {
    try {
      await this.db.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  async insertRequest(r: RequestRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO requests (id, tenant_id, command_id, state, risk, required_approvals, requester_id, requester_name,
         target_user_id, target_upn, target_display_name, params, language, conversation, before_state, after_state,
         verified, error_code, created_at, updated_at, expires_at, plan)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22)`,
      [r.id, r.tenantId, r.commandId, r.state, r.risk, r.requiredApprovals, r.requesterId, r.requesterName,
        r.targetUserId, r.targetUpn, r.targetDisplayName, JSON.stringify(r.params), r.language, JSON.stringify(r.conversation),
        json(r.before), json(r.after), r.verified, r.errorCode, r.createdAt, r.updatedAt, r.expiresAt, JSON.stringify(r.plan ?? [])],
    );
  }

  async getRequest(id: string): Promise<RequestRecord | undefined> {
    const rows = await this.db.query<RequestRow>('SELECT * FROM requests WHERE id = $1', [id]);
    return rows[0] && toRequest(rows[0]);
  }

  /**
   * Compare-and-set: moves the request from `from` to `to` only if it is still in `from`.
   * Returns the updated request, or undefined when another click or instance got there first.
   */
  async transition(id: string, from: RequestState, to: RequestState, at: Date, patch: RequestPatch = {}): Promise<RequestRecord | undefined> {
    const rows = await this.db.query<RequestRow>(
      `UPDATE requests SET state = $3, updated_at = $4,
         after_state = CASE WHEN $5::boolean THEN $6::jsonb ELSE after_state END,
         verified = CASE WHEN $7::boolean THEN $8::boolean ELSE verified END,
         error_code = CASE WHEN $9::boolean THEN $10::text ELSE error_code END,
         before_state = CASE WHEN $11::boolean THEN $12::jsonb ELSE before_state END,
         target_user_id = COALESCE($13, target_user_id), target_upn = COALESCE($14, target_upn),
         target_display_name = COALESCE($15, target_display_name),
         params = COALESCE($16::jsonb, params),
         plan = COALESCE($17::jsonb, plan)
       WHERE id = $1 AND state = $2 RETURNING *`,
      [id, from, to, at,
        'after' in patch, json(patch.after), 'verified' in patch, patch.verified ?? null,
        'errorCode' in patch, patch.errorCode ?? null, 'before' in patch, json(patch.before),
        patch.targetUserId ?? null, patch.targetUpn ?? null, patch.targetDisplayName ?? null,
        patch.params ? JSON.stringify(patch.params) : null, patch.plan ? JSON.stringify(patch.plan) : null],
    );
    return rows[0] && toRequest(rows[0]);
  }

  /**
   * Compare-and-set on one step of a request's plan: merges `patch` into step `index` only while
   * that step's status is one of `from`. Undefined when another executor moved it first.
   */
  async updateStep(id: string, index: number, from: PlanStep['status'][], patch: Partial<PlanStep>, at: Date): Promise<RequestRecord | undefined> {
    const rows = await this.db.query<RequestRow>(
      `UPDATE requests SET plan = jsonb_set(plan, ARRAY[$2::text], (plan -> $2::int) || $4::jsonb), updated_at = $5
       WHERE id = $1 AND plan -> $2::int ->> 'status' = ANY($3::text[]) RETURNING *`,
      [id, index, from, JSON.stringify(patch), at]);
    return rows[0] && toRequest(rows[0]);
  }

  /** Records a decision; false when this approver already decided, or it can no longer count (see decide). */
  async addApproval(a: Approval): Promise<boolean> {
    return (await this.decide(a)) === 'recorded';
  }

  /**
   * Records a decision only while it can still count: the request is pending and its quorum not yet
   * reached. The request row is locked first, so concurrent clicks, on any instance, are decided one
   * after the other, and no approval lands after the one that completed the quorum.
   */
  async decide(a: Approval): Promise<'recorded' | 'duplicate' | 'closed'> {
    return (await this.recordDecision(a)).outcome;
  }

  /**
   * A decision, its audit event and the move it makes (a reject ends the request; the approve that
   * completes the quorum approves it), in one transaction: all of it is recorded, or none of it.
   * The request row is locked first, so concurrent clicks, on any instance, are decided one after the
   * other, and `request` is the state each clicker's decision really left (issue #13, holes 2 and 7).
   */
  async recordDecision(a: Approval): Promise<DecisionRecord> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query<RequestRow>('SELECT * FROM requests WHERE id = $1 FOR UPDATE', [a.requestId]);
      if (!row) return { outcome: 'closed' };
      const request = toRequest(row);
      const decided = await tx.query<{ approver_id: string; decision: string }>('SELECT approver_id, decision FROM approvals WHERE request_id = $1', [a.requestId]);
      if (decided.some((d) => d.approver_id === a.approverId)) return { outcome: 'duplicate', request };
      // One reject ends the request, and a reached quorum ends it too: whichever decision holds the
      // row lock first wins, so a late approve cannot override a reject (or the other way round).
      const approvals = decided.filter((d) => d.decision === 'approve' && countsForQuorum(request, d.approver_id)).length;
      if (request.state !== 'pending' || decided.some((d) => d.decision === 'reject') || approvals >= request.requiredApprovals) return { outcome: 'closed', request };
      await tx.query('INSERT INTO approvals (request_id, approver_id, approver_name, decision, comment, at) VALUES ($1,$2,$3,$4,$5,$6)',
        [a.requestId, a.approverId, a.approverName, a.decision, a.comment, a.at]);
      await appendAuditIn(tx, { at: a.at, requestId: a.requestId, actorId: a.approverId, action: `request.${a.decision}`, detail: { approverName: a.approverName, comment: a.comment } });
      const to = a.decision === 'reject' ? 'rejected' : approvals + (countsForQuorum(request, a.approverId) ? 1 : 0) >= request.requiredApprovals ? 'approved' : undefined;
      if (!to) return { outcome: 'recorded', request };
      const moved = await settleIn(tx, request, to, a.approverId, a.at);
      return { outcome: 'recorded', request: moved, moved };
    });
  }

  /**
   * Pending requests whose decisions already settle them (a reject, or a met quorum) but that were
   * left pending: by a failure between the decision and the move before decisions were recorded in
   * one transaction, or by a crash. Each is moved, audited, under its row lock; returns those moved.
   */
  async settleDecidedPending(at: Date): Promise<RequestRecord[]> {
    const candidates = await this.db.query<{ id: string }>(
      `SELECT r.id FROM requests r WHERE r.state = 'pending' AND EXISTS (SELECT 1 FROM approvals a WHERE a.request_id = r.id) ORDER BY r.created_at`);
    const moved: RequestRecord[] = [];
    for (const { id } of candidates) {
      const settled = await this.db.transaction(async (tx) => {
        const [row] = await tx.query<RequestRow>("SELECT * FROM requests WHERE id = $1 AND state = 'pending' FOR UPDATE", [id]);
        if (!row) return undefined;
        const request = toRequest(row);
        const decided = await tx.query<{ approver_id: string; decision: string }>('SELECT approver_id, decision FROM approvals WHERE request_id = $1', [id]);
        const rejected = decided.some((d) => d.decision === 'reject');
        const approvals = decided.filter((d) => d.decision === 'approve' && countsForQuorum(request, d.approver_id)).length;
        if (!rejected && approvals < request.requiredApprovals) return undefined;
        const to = rejected ? 'rejected' : 'approved';
        const result = await settleIn(tx, request, to, null, at);
        await appendAuditIn(tx, { at, requestId: id, actorId: null, action: 'request.reconciled', detail: { outcome: `decided-${to}`, approvals, required: request.requiredApprovals } });
        return result;
      });
      if (settled) moved.push(settled);
    }
    return moved;
  }

  async approvals(requestId: string): Promise<Approval[]> {
    return (await this.db.query<ApprovalRow>('SELECT * FROM approvals WHERE request_id = $1 ORDER BY at, approver_id', [requestId])).map(toApproval);
  }

  /** The approvals of several requests in one statement (the `requests` list), each request's in the order {@link approvals} gives; none, an empty list. */
  async approvalsOf(requestIds: readonly string[]): Promise<Map<string, Approval[]>> {
    const byRequest = new Map<string, Approval[]>(requestIds.map((id) => [id, []]));
    if (requestIds.length === 0) return byRequest;
    const rows = await this.db.query<ApprovalRow>('SELECT * FROM approvals WHERE request_id = ANY($1::text[]) ORDER BY at, approver_id', [[...new Set(requestIds)]]);
    for (const row of rows) byRequest.get(row.request_id)?.push(toApproval(row));
    return byRequest;
  }

  async addCardPost(post: CardPost): Promise<void> {
    await this.db.query('INSERT INTO card_posts (request_id, activity_id, conversation, audience, language) VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING',
      [post.requestId, post.activityId, JSON.stringify(post.conversation), post.audience, post.language]);
  }

  async cardPosts(requestId: string): Promise<CardPost[]> {
    const rows = await this.db.query<{ request_id: string; activity_id: string; conversation: ConversationRef; audience: CardPost['audience']; language: CardPost['language'] }>(
      'SELECT * FROM card_posts WHERE request_id = $1 ORDER BY activity_id', [requestId]);
    return rows.map((r) => ({ requestId: r.request_id, activityId: r.activity_id, conversation: r.conversation, audience: r.audience, language: r.language }));
  }

  /** Fills in the target of a draft that waited for the requester to pick among several users. */
  async setDraftTarget(id: string, target: { userId: string; upn: string; displayName: string }, before: RequestRecord['before'], plan: PlanStep[], patch: { risk: RequestRecord['risk']; requiredApprovals: number }, at: Date): Promise<RequestRecord | undefined> {
    const rows = await this.db.query<RequestRow>(
      `UPDATE requests SET target_user_id = $2, target_upn = $3, target_display_name = $4, before_state = $5, updated_at = $6, plan = $7, risk = $8, required_approvals = $9
       WHERE id = $1 AND state = 'draft' AND target_user_id IS NULL RETURNING *`,
      [id, target.userId, target.upn, target.displayName, json(before), at, JSON.stringify(plan), patch.risk, patch.requiredApprovals]);
    return rows[0] && toRequest(rows[0]);
  }

  /** True the first time an activity id is seen; Teams redelivers activities. */
  async firstDelivery(activityId: string, at: Date): Promise<boolean> {
    // Without an id there is nothing to recognise a redelivery by: every such activity is new.
    if (!activityId) return true;
    const rows = await this.db.query('INSERT INTO processed_activities (activity_id, at) VALUES ($1,$2) ON CONFLICT DO NOTHING RETURNING activity_id', [activityId, at]);
    return rows.length === 1;
  }

  async appendAudit(e: { at: Date; requestId: string | null; actorId: string | null; action: string; detail: Record<string, unknown> }): Promise<void> {
    await this.db.transaction((tx) => appendAuditIn(tx, e));
  }

  async auditEvents(requestId?: string): Promise<AuditEvent[]> {
    const rows = await this.db.query<{ seq: string | number; at: Date | string; request_id: string | null; actor_id: string | null; action: string; detail: Record<string, unknown>; prev_hash: string; hash: string }>(
      requestId ? 'SELECT * FROM audit_events WHERE request_id = $1 ORDER BY seq' : 'SELECT * FROM audit_events ORDER BY seq',
      requestId ? [requestId] : []);
    return rows.map((r) => ({ seq: Number(r.seq), at: new Date(r.at), requestId: r.request_id, actorId: r.actor_id, action: r.action, detail: r.detail, prevHash: r.prev_hash, hash: r.hash }));
  }

  /** Schedules a job once per (kind, request); scheduling it again keeps the first. */
  async scheduleJob(job: { id: string; kind: JobKind; requestId: string; runAt: Date }): Promise<void> {
    await this.db.query('INSERT INTO jobs (id, kind, request_id, run_at) VALUES ($1,$2,$3,$4) ON CONFLICT (kind, request_id) DO NOTHING',
      [job.id, job.kind, job.requestId, job.runAt]);
  }

  /** Drops a request's jobs that have not started (the request was decided or closed). */
  async cancelJobs(requestId: string, kinds: JobKind[]): Promise<void> {
    await this.db.query("UPDATE jobs SET state = 'cancelled' WHERE request_id = $1 AND kind = ANY($2::text[]) AND state = 'scheduled'", [requestId, kinds]);
  }

  /**
   * Claims up to `limit` due jobs for this instance. A job whose claimer died (lease expired) is
   * due again. SKIP LOCKED lets concurrent instances claim disjoint sets.
   */
  async claimDueJobs(now: Date, leaseMs: number, limit = 10): Promise<Job[]> {
    const rows = await this.db.query<JobRow>(
      `UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_until = $2
       WHERE id IN (
         SELECT id FROM jobs
         WHERE run_at <= $1 AND (state = 'scheduled' OR (state = 'running' AND locked_until < $1))
         ORDER BY run_at LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [now, new Date(now.getTime() + leaseMs), limit]);
    return rows.map(toJob);
  }

  async finishJob(id: string, error?: string): Promise<void> {
    await this.db.query("UPDATE jobs SET state = 'done', locked_until = NULL, last_error = $2 WHERE id = $1", [id, error ?? null]);
  }

  async jobs(requestId: string): Promise<Job[]> {
    return (await this.db.query<JobRow>('SELECT * FROM jobs WHERE request_id = $1 ORDER BY run_at, kind', [requestId])).map(toJob);
  }

  /** Requests a crash left mid-write: reconciled against the tenant at start-up. */
  async requestsIn(state: RequestState): Promise<RequestRecord[]> {
    return (await this.db.query<RequestRow>('SELECT * FROM requests WHERE state = $1 ORDER BY created_at', [state])).map(toRequest);
  }

  /** A person's latest requests in a state, newest first (a typed `undo` looks for the changes to take back). */
  async recentRequestsBy(tenantId: string, requesterId: string, state: RequestState, since: Date, limit: number): Promise<RequestRecord[]> {
    return (await this.db.query<RequestRow>(
      'SELECT * FROM requests WHERE tenant_id = $1 AND requester_id = $2 AND state = $3 AND updated_at >= $4 ORDER BY updated_at DESC LIMIT $5',
      [tenantId, requesterId, state, since, limit],
    )).map(toRequest);
  }

  /** A tenant's requests in these states, newest first; only one requester's when one is named (`requests`). */
  async requestsInStates(tenantId: string, states: readonly RequestState[], limit: number, requesterId?: string): Promise<RequestRecord[]> {
    return (await this.db.query<RequestRow>(
      `SELECT * FROM requests WHERE tenant_id = $1 AND state = ANY($2::text[])${requesterId ? ' AND requester_id = $4' : ''} ORDER BY created_at DESC LIMIT $3`,
      requesterId ? [tenantId, [...states], limit, requesterId] : [tenantId, [...states], limit],
    )).map(toRequest);
  }

  /** Lets a redelivery of this activity be processed again (its first processing ended in an error). */
  async forgetDelivery(activityId: string): Promise<void> {
    if (activityId) await this.db.query('DELETE FROM processed_activities WHERE activity_id = $1', [activityId]);
  }

  /** Drops the activity ids seen before `before`: Teams redelivers within seconds, not days. */
  async pruneProcessedActivities(before: Date): Promise<number> {
    return (await this.db.query('DELETE FROM processed_activities WHERE at < $1 RETURNING activity_id', [before])).length;
  }

  /**
   * Runs `work` while holding the request's execution lock, a session-level advisory lock: it is
   * released when the holder finishes or its connection dies with its process. Undefined when another
   * live instance holds it (that one is executing the request right now). Given the mailbox the
   * request writes to, the mailbox lock is taken too, on the same connection (see withMailboxLock).
   */
  private readonly executingHere = new Set<string>();

  async withExecutionLock<T>(requestId: string, work: () => Promise<T>, mailboxId?: string): Promise<T | undefined> {
    // PGlite is one session, where advisory locks are re-entrant: this process's own holders are
    // told apart here; other instances (PostgreSQL) by the session lock.
    if (this.executingHere.has(requestId)) return undefined;
    this.executingHere.add(requestId);
    try {
      const locked = () => this.inSession(async (session) => {
        const [row] = await session.query<{ locked: boolean }>("SELECT pg_try_advisory_lock(hashtext('smtp-gate-exec:' || $1)) AS locked", [requestId]);
        if (!row?.locked) return undefined;
        try {
          return mailboxId === undefined ? await work() : await this.holdingMailbox(session, mailboxId, work);
        } finally {
          await session.query("SELECT pg_advisory_unlock(hashtext('smtp-gate-exec:' || $1))", [requestId]);
        }
      });
      return mailboxId === undefined ? await locked() : await this.inMailboxQueue(mailboxId, locked);
    } finally {
      this.executingHere.delete(requestId);
    }
  }

  /**
   * Serializes every write to one mailbox, whichever request makes it (an execution, a revert, a
   * reconcile, a late-write check): in this process with a queue, across instances with a blocking
   * session advisory lock. Without it, a lapsing exception's revert and its extension could interleave.
   */
  withMailboxLock<T>(mailboxId: string, work: () => Promise<T>): Promise<T> {
    return this.inMailboxQueue(mailboxId, () => this.inSession((session) => this.holdingMailbox(session, mailboxId, work)));
  }

  private async holdingMailbox<T>(session: Db, mailboxId: string, work: () => Promise<T>): Promise<T> {
    await session.query("SELECT pg_advisory_lock(hashtext('smtp-gate-mailbox:' || $1))", [mailboxId]);
    try {
      return await work();
    } finally {
      await session.query("SELECT pg_advisory_unlock(hashtext('smtp-gate-mailbox:' || $1))", [mailboxId]);
    }
  }

  private readonly mailboxQueues = new Map<string, Promise<void>>();

  private async inMailboxQueue<T>(mailboxId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.mailboxQueues.get(mailboxId) ?? Promise.resolve();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    const mine = previous.then(() => gate);
    this.mailboxQueues.set(mailboxId, mine);
    await previous;
    try {
      return await work();
    } finally {
      release();
      if (this.mailboxQueues.get(mailboxId) === mine) this.mailboxQueues.delete(mailboxId);
    }
  }

  /**
   * Lock-holding sessions keep a pooled connection while their work runs its queries on others; at
   * most `maxSessions` at once (the PostgreSQL pool has 10), so those queries always find one free.
   */
  private static readonly maxSessions = 6;
  private sessionsOpen = 0;
  private readonly sessionWaiters: (() => void)[] = [];

  private async inSession<T>(work: (session: Db) => Promise<T>): Promise<T> {
    while (this.sessionsOpen >= Store.maxSessions) await new Promise<void>((resolve) => this.sessionWaiters.push(resolve));
    this.sessionsOpen++;
    try {
      return await this.db.session(work);
    } finally {
      this.sessionsOpen--;
      this.sessionWaiters.shift()?.();
    }
  }

  async setSetting(key: string, value: unknown, at: Date): Promise<void> {
    const json = JSON.stringify(value) ?? 'null';
    const ticket = this.settings?.writing(key);
    await this.db.query('INSERT INTO settings (key, value, updated_at) VALUES ($1,$2,$3) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at',
      [key, json, at]);
    if (ticket !== undefined) this.settings!.keep(ticket, key, json);
  }

  /** Drops the settings under `prefix` last written before `before` (saved diagnoses past their retention). */
  async pruneSettings(prefix: string, before: Date): Promise<number> {
    const pattern = prefix.replace(/[\\%_]/g, (c) => '\\' + c) + '%';
    this.settings?.writing();
    return (await this.db.query('DELETE FROM settings WHERE key LIKE $1 AND updated_at < $2 RETURNING key', [pattern, before])).length;
  }

  async getSetting<T>(key: string): Promise<T | undefined> {
    const kept = this.settings?.get(key);
    if (kept) return kept.value as T | undefined;
    const ticket = this.settings?.ticket();
    const rows = await this.db.query<{ value: T }>('SELECT value FROM settings WHERE key = $1', [key]);
    if (ticket !== undefined) this.settings!.keep(ticket, key, rows[0] ? JSON.stringify(rows[0].value) : undefined);
    return rows[0]?.value;
  }

  close(): Promise<void> {
    return this.db.close();
  }

  /** Records a new exception; false when the mailbox already has an active one (another instance won). */
  async insertException(e: ExceptionRecord): Promise<boolean> {
    this.keptExceptions?.writing();
    const rows = await this.db.query(
      `INSERT INTO exceptions (id, tenant_id, target_user_id, target_upn, target_display_name, request_id, origin_request_id,
         requester_id, requester_name, approver_names, justification, expires_at, restore_value, adopted, state, created_at, updated_at)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17)
       ON CONFLICT (target_user_id) WHERE state = 'active' DO NOTHING RETURNING id`,
      [e.id, e.tenantId, e.targetUserId, e.targetUpn, e.targetDisplayName, e.requestId, e.originRequestId, e.requesterId, e.requesterName,
        JSON.stringify(e.approverNames), e.justification, e.expiresAt, JSON.stringify(e.restoreValue), e.adopted, e.state, e.createdAt, e.updatedAt]);
    return rows.length === 1;
  }

  async activeExceptionFor(targetUserId: string): Promise<ExceptionRecord | undefined> {
    const kept = this.keptExceptions?.get(targetUserId);
    if (kept) return kept.value === undefined ? undefined : toException(kept.value as ExceptionRow);
    const ticket = this.keptExceptions?.ticket();
    const rows = await this.db.query<ExceptionRow>("SELECT * FROM exceptions WHERE target_user_id = $1 AND state = 'active'", [targetUserId]);
    if (ticket !== undefined) this.keptExceptions!.keep(ticket, targetUserId, rows[0] ? JSON.stringify(rows[0]) : undefined);
    return rows[0] && toException(rows[0]);
  }

  async activeExceptions(tenantId: string): Promise<ExceptionRecord[]> {
    return (await this.db.query<ExceptionRow>(
      "SELECT * FROM exceptions WHERE tenant_id = $1 AND state = 'active' ORDER BY expires_at NULLS LAST, target_display_name", [tenantId])).map(toException);
  }

  /**
   * Hands an active exception to the request that extends it (compare-and-set on the governing
   * request, so two extensions cannot both win).
   */
  async extendException(id: string, fromRequestId: string, grant: { requestId: string; requesterId: string; requesterName: string; approverNames: string[]; justification: string; expiresAt: Date | null }, at: Date): Promise<ExceptionRecord | undefined> {
    this.keptExceptions?.writing();
    const rows = await this.db.query<ExceptionRow>(
      `UPDATE exceptions SET request_id = $3, approver_names = $4, justification = $5, expires_at = $6, updated_at = $7,
         requester_id = $8, requester_name = $9
       WHERE id = $1 AND request_id = $2 AND state = 'active' RETURNING *`,
      [id, fromRequestId, grant.requestId, JSON.stringify(grant.approverNames), grant.justification, grant.expiresAt, at, grant.requesterId, grant.requesterName]);
    return rows[0] && toException(rows[0]);
  }

  /**
   * Closes an active exception — it lapsed on time, or SMTP AUTH was turned off another way — only
   * while the request that read it still governs it (an extension in between hands it over).
   */
  async closeException(id: string, governingRequestId: string, state: 'lapsed' | 'ended', at: Date): Promise<ExceptionRecord | undefined> {
    this.keptExceptions?.writing();
    const rows = await this.db.query<ExceptionRow>(
      "UPDATE exceptions SET state = $2, updated_at = $3 WHERE id = $1 AND request_id = $4 AND state = 'active' RETURNING *", [id, state, at, governingRequestId]);
    return rows[0] && toException(rows[0]);
  }

  /** Has another request changed this mailbox (or started to) since the given moment? */
  async mailboxChangedSince(targetUserId: string, since: Date, exceptRequestId: string): Promise<boolean> {
    const rows = await this.db.query(
      "SELECT 1 FROM requests WHERE target_user_id = $1 AND id <> $3 AND updated_at > $2 AND state IN ('approved', 'executing', 'succeeded', 'reverted') LIMIT 1",
      [targetUserId, since, exceptRequestId]);
    return rows.length > 0;
  }

  /**
   * Which of these mailboxes another request changed after `since` (or is changing): one naming the
   * mailbox as its target, or writing it as a step of its plan (a group change). Ids as given.
   */
  async mailboxesChangedSince(targetUserIds: string[], since: Date, exceptRequestId: string): Promise<Set<string>> {
    if (targetUserIds.length === 0) return new Set();
    const rows = await this.db.query<{ id: string }>(
      `SELECT x.id FROM unnest($1::text[]) AS x(id) WHERE EXISTS (
         SELECT 1 FROM requests r WHERE r.id <> $3 AND r.updated_at > $2 AND r.state IN ('approved', 'executing', 'succeeded', 'reverted')
           AND (r.target_user_id = x.id OR r.plan @> jsonb_build_array(jsonb_build_object('target', jsonb_build_object('id', x.id)))))`,
      [targetUserIds, since, exceptRequestId]);
    return new Set(rows.map((row) => row.id));
  }

  /** Records a note on a settled request without moving it (a failed request stays failed). */
  async annotate(id: string, params: Record<string, unknown>, at: Date): Promise<RequestRecord | undefined> {
    const rows = await this.db.query<RequestRow>('UPDATE requests SET params = params || $2::jsonb, updated_at = $3 WHERE id = $1 RETURNING *', [id, JSON.stringify(params), at]);
    return rows[0] && toRequest(rows[0]);
  }

  /** A done request whose read-back failed at the time is verified later: it says so from then on. */
  async markVerified(id: string, after: RequestRecord['after'], at: Date): Promise<RequestRecord | undefined> {
    const rows = await this.db.query<RequestRow>(
      "UPDATE requests SET verified = true, after_state = COALESCE($2::jsonb, after_state), updated_at = $3 WHERE id = $1 AND state = 'succeeded' AND verified IS NOT TRUE RETURNING *",
      [id, json(after), at]);
    return rows[0] && toRequest(rows[0]);
  }

  /** An undo of this request already confirmed and not settled (waiting for approval, running). */
  async openUndoOf(requestId: string): Promise<RequestRecord | undefined> {
    const rows = await this.db.query<RequestRow>(
      "SELECT * FROM requests WHERE params->>'undoes' = $1 AND state IN ('confirmed', 'pending', 'approved', 'executing') ORDER BY created_at LIMIT 1",
      [requestId]);
    return rows[0] && toRequest(rows[0]);
  }

  /** An extension of this exception that is still open (drafted, waiting for approval, running). */
  async openExtensionOf(exceptionId: string): Promise<RequestRecord | undefined> {
    const rows = await this.db.query<RequestRow>(
      "SELECT * FROM requests WHERE params->>'extendsException' = $1 AND state IN ('draft', 'confirmed', 'pending', 'approved', 'executing') ORDER BY created_at LIMIT 1",
      [exceptionId]);
    return rows[0] && toRequest(rows[0]);
  }

  /** The requests on their way that end an exception early (`exception.end`, or End now for a group's), oldest first. */
  async openEndingsOf(tenantId: string): Promise<RequestRecord[]> {
    return (await this.db.query<RequestRow>(
      "SELECT * FROM requests WHERE tenant_id = $1 AND (params->>'endsException' IS NOT NULL OR params->>'endsGroupOf' IS NOT NULL) AND state IN ('draft', 'confirmed', 'pending', 'approved', 'executing') ORDER BY created_at",
      [tenantId])).map(toRequest);
  }

  /**
   * The request still on its way (drafted, waiting for approval, running) that extends (`extendsGroupOf`)
   * or ends early (`endsGroupOf`) the exceptions a group change governs, oldest first.
   */
  async openGroupFollowUp(key: 'extendsGroupOf' | 'endsGroupOf', requestId: string): Promise<RequestRecord | undefined> {
    const rows = await this.db.query<RequestRow>(
      `SELECT * FROM requests WHERE params->>'${key}' = $1 AND state IN ('draft', 'confirmed', 'pending', 'approved', 'executing') ORDER BY created_at LIMIT 1`,
      [requestId]);
    return rows[0] && toRequest(rows[0]);
  }

  async getException(id: string): Promise<ExceptionRecord | undefined> {
    const rows = await this.db.query<ExceptionRow>('SELECT * FROM exceptions WHERE id = $1', [id]);
    return rows[0] && toException(rows[0]);
  }

  /** Did any exception, in any state, ever come from or get governed by this request? */
  async exceptionNamesRequest(requestId: string): Promise<boolean> {
    const rows = await this.db.query('SELECT 1 FROM exceptions WHERE request_id = $1 OR origin_request_id = $1 LIMIT 1', [requestId]);
    return rows.length > 0;
  }

  async saveExceptionReview(review: { id: string; tenantId: string; createdBy: string; createdAt: Date; items: UnmanagedMailbox[] }): Promise<void> {
    await this.db.query('INSERT INTO exception_reviews (id, tenant_id, created_by, created_at, items) VALUES ($1,$2,$3,$4,$5)',
      [review.id, review.tenantId, review.createdBy, review.createdAt, JSON.stringify(review.items)]);
  }

  async exceptionReview(id: string): Promise<{ id: string; tenantId: string; items: UnmanagedMailbox[] } | undefined> {
    const rows = await this.db.query<{ id: string; tenant_id: string; items: UnmanagedMailbox[] }>('SELECT id, tenant_id, items FROM exception_reviews WHERE id = $1', [id]);
    return rows[0] && { id: rows[0].id, tenantId: rows[0].tenant_id, items: rows[0].items };
  }

  /** One page of the audit chain in seq order, for walking it without loading it whole. */
  async auditEventsAfter(afterSeq: number, limit: number): Promise<AuditEvent[]> {
    const rows = await this.db.query<{ seq: string | number; at: Date | string; request_id: string | null; actor_id: string | null; action: string; detail: Record<string, unknown>; prev_hash: string; hash: string }>(
      'SELECT * FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2', [afterSeq, limit]);
    return rows.map((r) => ({ seq: Number(r.seq), at: new Date(r.at), requestId: r.request_id, actorId: r.actor_id, action: r.action, detail: r.detail, prevHash: r.prev_hash, hash: r.hash }));
  }

  /**
   * Requests for the audit tab, newest first. `user` matches the requester's name or the target's
   * name or UPN (case-insensitive substring); `involving` keeps only requests a user made or is the
   * target of (an end user's own); dates bound `created_at`.
   */
  async auditRequests(filter: AuditFilter & { tenantId: string; involving?: string; limit: number }): Promise<RequestRecord[]> {
    const rows = await this.db.query<RequestRow>(
      `SELECT r.* FROM requests r WHERE r.tenant_id = $1 AND ${requestMatches(2, 3)}
         AND ($4::timestamptz IS NULL OR r.created_at >= $4) AND ($5::timestamptz IS NULL OR r.created_at < $5)
         AND ($6::text IS NULL OR r.requester_id = $6 OR r.target_user_id = $6)
       ORDER BY r.created_at DESC, r.id LIMIT $7`,
      [filter.tenantId, filter.state ?? null, filter.user ?? null, filter.from ?? null, filter.to ?? null, filter.involving ?? null, filter.limit]);
    return rows.map(toRequest);
  }

  /** The exceptions register in every state, for the audit tab; `user` and dates as for requests. */
  async auditExceptions(filter: AuditFilter & { tenantId: string; limit: number }): Promise<ExceptionRecord[]> {
    return (await this.db.query<ExceptionRow>(
      `SELECT * FROM exceptions e WHERE e.tenant_id = $1
         AND ($2::text IS NULL OR position(lower($2) in lower(e.requester_name || ' ' || e.target_display_name || ' ' || e.target_upn)) > 0)
         AND ($3::timestamptz IS NULL OR e.created_at >= $3) AND ($4::timestamptz IS NULL OR e.created_at < $4)
       ORDER BY e.created_at DESC, e.id LIMIT $5`,
      [filter.tenantId, filter.user ?? null, filter.from ?? null, filter.to ?? null, filter.limit])).map(toException);
  }

  /**
   * Audit events, state and user filtering on the event's request (an event without one passes only
   * when neither is given), dates on the event; in seq order after `afterSeq` (the CSV export pages
   * through them this way) or newest first.
   */
  async auditEventsFiltered(filter: AuditFilter & { afterSeq?: number; limit: number; newestFirst?: boolean }): Promise<AuditEvent[]> {
    const rows = await this.db.query<{ seq: string | number; at: Date | string; request_id: string | null; actor_id: string | null; action: string; detail: Record<string, unknown>; prev_hash: string; hash: string }>(
      `SELECT e.* FROM audit_events e LEFT JOIN requests r ON r.id = e.request_id
       WHERE e.seq > $1 AND (($2::text IS NULL AND $3::text IS NULL) OR (r.id IS NOT NULL AND ${requestMatches(2, 3)}))
         AND ($4::timestamptz IS NULL OR e.at >= $4) AND ($5::timestamptz IS NULL OR e.at < $5)
       ORDER BY e.seq ${filter.newestFirst ? 'DESC' : 'ASC'} LIMIT $6`,
      [filter.afterSeq ?? 0, filter.state ?? null, filter.user ?? null, filter.from ?? null, filter.to ?? null, filter.limit]);
    return rows.map((r) => ({ seq: Number(r.seq), at: new Date(r.at), requestId: r.request_id, actorId: r.actor_id, action: r.action, detail: r.detail, prevHash: r.prev_hash, hash: r.hash }));
  }
}

export interface DecisionRecord {
  outcome: 'recorded' | 'duplicate' | 'closed';
  /** The request as it stands after this decision, read under its row lock; absent when there is no such request. */
  request?: RequestRecord;
  /** Set when this decision moved the request: to rejected, or to approved on completing the quorum. */
  moved?: RequestRecord;
}

/** Neither the requester nor the mailbox's owner can approve a change (a change to one's own mailbox). */
function countsForQuorum(request: RequestRecord, approverId: string): boolean {
  return approverId !== request.requesterId && approverId !== request.targetUserId;
}

/** Appends one event to the hash chain inside the caller's transaction. */
async function appendAuditIn(tx: Db, e: { at: Date; requestId: string | null; actorId: string | null; action: string; detail: Record<string, unknown> }): Promise<void> {
  // Serializes writers (across instances too) so the chain stays linear.
  await tx.query("SELECT pg_advisory_xact_lock(hashtext('smtp-gate-audit'))");
  const last = await tx.query<{ hash: string }>('SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1');
  const prevHash = last[0]?.hash ?? genesisHash;
  await tx.query('INSERT INTO audit_events (at, request_id, actor_id, action, detail, prev_hash, hash) VALUES ($1,$2,$3,$4,$5,$6,$7)',
    [e.at, e.requestId, e.actorId, e.action, JSON.stringify(e.detail), prevHash, auditHash(prevHash, e)]);
}

/** pending → approved/rejected inside the caller's transaction: the move, its audit event, and the end of its expiry and reminder jobs. */
async function settleIn(tx: Db, request: RequestRecord, to: 'approved' | 'rejected', actorId: string | null, at: Date): Promise<RequestRecord> {
  const [row] = await tx.query<RequestRow>("UPDATE requests SET state = $2, updated_at = $3 WHERE id = $1 AND state = 'pending' RETURNING *", [request.id, to, at]);
  if (!row) throw new Error(`request ${request.id} left pending under its row lock`);
  await appendAuditIn(tx, { at, requestId: request.id, actorId, action: 'request.transition', detail: { from: 'pending', to } });
  await tx.query("UPDATE jobs SET state = 'cancelled' WHERE request_id = $1 AND kind = ANY($2::text[]) AND state = 'scheduled'", [request.id, ['request.expire', 'request.remind']]);
  return toRequest(row);
}

function json(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}

/** JSON with object keys sorted, so a hash survives jsonb's reordering of keys. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}
