import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExceptionRecord, RequestRecord } from '../../src/model/requests';
import { openDb, type Db } from '../../src/store/db';
import { auditHash, genesisHash, Store } from '../../src/store/store';
import { pgliteDatabase, describeWithPostgres, postgresDatabase, storeSuite, type TestDatabase } from '../support/databases';

const at = new Date('2026-11-23T10:00:00Z');

function draft(overrides: Partial<RequestRecord> = {}): RequestRecord {
  return {
    id: randomUUID(), tenantId: 't', commandId: 'smtp-enable', state: 'draft', risk: 'medium', requiredApprovals: 1,
    requesterId: 'alex', requesterName: 'Alex', targetUserId: 'bob', targetUpn: 'bob@contoso.com', targetDisplayName: 'Bob',
    params: { query: 'bob' }, language: 'en', conversation: { conversation: { id: 'c1' } },
    before: { mailboxSmtpClientAuthenticationDisabled: null, orgSmtpClientAuthenticationDisabled: true, effectiveEnabled: false },
    after: null, verified: null, errorCode: null, createdAt: at, updatedAt: at, expiresAt: new Date(at.getTime() + 86_400_000), plan: [],
    ...overrides,
  };
}

/**
 * The same repository contract on both drivers. `database` resolves undefined only when
 * PostgreSQL is absent outside CI, in which case describeWithPostgres registered the suite skipped.
 */
function storeContract(database: () => Promise<TestDatabase | undefined>) {
  const test = storeSuite(database);

  test('a request round-trips with its JSON fields intact', async (store) => {
    const r = draft();
    await store.insertRequest(r);
    expect(await store.getRequest(r.id)).toEqual(r);
  });

  test('of 20 concurrent compare-and-sets from the same state exactly one wins', async (store) => {
    const r = draft({ state: 'approved' });
    await store.insertRequest(r);
    const results = await Promise.all(Array.from({ length: 20 }, () => store.transition(r.id, 'approved', 'executing', at)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await store.getRequest(r.id))?.state).toBe('executing');
  });

  test('a transition records after-state, verification and error code only when given', async (store) => {
    const r = draft({ state: 'executing' });
    await store.insertRequest(r);
    const after = { mailboxSmtpClientAuthenticationDisabled: false, orgSmtpClientAuthenticationDisabled: true, effectiveEnabled: true };
    const moved = await store.transition(r.id, 'executing', 'succeeded', at, { after, verified: true });
    expect(moved).toMatchObject({ state: 'succeeded', after, verified: true, errorCode: null, before: r.before });
  });

  test('an approver decides once per request', async (store) => {
    const r = draft({ state: 'pending' });
    await store.insertRequest(r);
    const approval = { requestId: r.id, approverId: 'megan', approverName: 'Megan', decision: 'approve' as const, comment: null, at };
    const results = await Promise.all([store.addApproval(approval), store.addApproval(approval), store.addApproval({ ...approval, decision: 'reject' })]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await store.approvals(r.id)).toHaveLength(1);
  });

  test('the approvals of several requests come back each under its own request, in decision order, none as an empty list', async (store) => {
    const [first, second, undecided] = [draft({ state: 'pending' }), draft({ state: 'pending', requiredApprovals: 2 }), draft({ state: 'pending' })];
    for (const r of [first, second, undecided]) await store.insertRequest(r);
    const decision = (requestId: string, approverId: string, minutes: number, verdict: 'approve' | 'reject' = 'approve') =>
      ({ requestId, approverId, approverName: approverId.toUpperCase(), decision: verdict, comment: verdict === 'reject' ? 'not now' : null, at: new Date(at.getTime() + minutes * 60_000) });
    await store.addApproval(decision(second.id, 'megan', 5));
    await store.addApproval(decision(first.id, 'adele', 3, 'reject'));
    await store.addApproval(decision(second.id, 'adele', 1));

    const byRequest = await store.approvalsOf([first.id, second.id, undecided.id, first.id]);
    expect([...byRequest.keys()].sort()).toEqual([first.id, second.id, undecided.id].sort());
    expect(byRequest.get(first.id)).toEqual([decision(first.id, 'adele', 3, 'reject')]);
    expect(byRequest.get(second.id)).toEqual([decision(second.id, 'adele', 1), decision(second.id, 'megan', 5)]);
    expect(byRequest.get(second.id)).toEqual(await store.approvals(second.id));
    expect(byRequest.get(undecided.id)).toEqual([]);
    expect((await store.approvalsOf([])).size).toBe(0);
  });

  test('a reject and an approve racing on a one-approval request: exactly one decision counts, whichever came first', async (store) => {
    for (let round = 0; round < 5; round++) {
      const r = draft({ state: 'pending' });
      await store.insertRequest(r);
      const decision = (approverId: string, d: 'approve' | 'reject') => ({ requestId: r.id, approverId, approverName: approverId, decision: d, comment: null, at });
      const [reject, approve] = await Promise.all([store.decide(decision('yusuf', 'reject')), store.decide(decision('megan', 'approve'))]);
      expect([reject, approve].sort()).toEqual(['closed', 'recorded']);
      expect(await store.approvals(r.id)).toHaveLength(1);
    }
  });

  test('a decision, its audit event and its move are one transaction: one that cannot be stored leaves nothing behind', async (store) => {
    const r = draft({ state: 'pending' });
    await store.insertRequest(r);
    // jsonb refuses a lone surrogate: the audit event fails, and with it the approval row and the move.
    await expect(store.recordDecision({ requestId: r.id, approverId: 'megan', approverName: 'Megan', decision: 'approve', comment: 'ok \ud800', at })).rejects.toThrow();
    expect(await store.approvals(r.id)).toEqual([]);
    expect(await store.auditEvents(r.id)).toEqual([]);
    expect((await store.getRequest(r.id))?.state).toBe('pending');
  });

  test('the approve that completes the quorum approves the request, with both events on the record, and ends its expiry job', async (store) => {
    const r = draft({ state: 'pending', requiredApprovals: 2 });
    await store.insertRequest(r);
    await store.scheduleJob({ id: randomUUID(), kind: 'request.expire', requestId: r.id, runAt: r.expiresAt });
    const decide = (approverId: string) => store.recordDecision({ requestId: r.id, approverId, approverName: approverId, decision: 'approve', comment: null, at });
    const first = await decide('megan');
    expect(first).toMatchObject({ outcome: 'recorded', request: { state: 'pending' } });
    expect(first.moved).toBeUndefined();
    // The mailbox's owner does not count towards the quorum.
    expect(await decide('bob')).toMatchObject({ outcome: 'recorded', request: { state: 'pending' } });
    const second = await decide('yusuf');
    expect(second).toMatchObject({ outcome: 'recorded', moved: { state: 'approved' } });
    expect((await store.auditEvents(r.id)).map((e) => e.action)).toEqual(['request.approve', 'request.approve', 'request.approve', 'request.transition']);
    expect((await store.jobs(r.id)).map((j) => j.state)).toEqual(['cancelled']);
    expect(await decide('lee')).toMatchObject({ outcome: 'closed', request: { state: 'approved' } });
  });

  test('a pending request whose decisions already settle it is moved by settleDecidedPending, once', async (store) => {
    const met = draft({ state: 'pending' });
    const short = draft({ state: 'pending', requiredApprovals: 2 });
    const rejected = draft({ state: 'pending', requiredApprovals: 2 });
    for (const r of [met, short, rejected]) await store.insertRequest(r);
    // Rows as a failure between the approval and the move used to leave them.
    const raw = (requestId: string, approverId: string, decision: string) => store.db.query(
      'INSERT INTO approvals (request_id, approver_id, approver_name, decision, comment, at) VALUES ($1,$2,$2,$3,NULL,$4)', [requestId, approverId, decision, at]);
    await raw(met.id, 'megan', 'approve');
    await raw(short.id, 'megan', 'approve');
    await raw(rejected.id, 'yusuf', 'reject');
    const moved = await store.settleDecidedPending(at);
    expect(Object.fromEntries(moved.map((m) => [m.id, m.state]))).toEqual({ [met.id]: 'approved', [rejected.id]: 'rejected' });
    expect((await store.getRequest(short.id))?.state).toBe('pending');
    expect(await store.settleDecidedPending(at)).toEqual([]);
  });

  test('an activity id is new only the first time', async (store) => {
    const id = randomUUID();
    expect(await store.firstDelivery(id, at)).toBe(true);
    expect(await store.firstDelivery(id, at)).toBe(false);
    // An activity without an id cannot be recognised again, so it is never taken for a redelivery.
    expect(await store.firstDelivery('', at)).toBe(true);
    expect(await store.firstDelivery('', at)).toBe(true);
  });

  test('concurrent audit appends form one unbroken hash chain', async (store) => {
    await Promise.all(Array.from({ length: 10 }, (_, i) => store.appendAudit({ at, requestId: null, actorId: `u${i}`, action: 'test.event', detail: { i, nested: { b: 1, a: [1, 2] } } })));
    const events = await store.auditEvents();
    let prev = genesisHash;
    for (const e of events) {
      expect(e.prevHash).toBe(prev);
      expect(auditHash(e.prevHash, e)).toBe(e.hash);
      prev = e.hash;
    }
    expect(events.filter((e) => e.action === 'test.event')).toHaveLength(10);
  });

  test('writes to one mailbox take turns; writes to different mailboxes do not wait for each other', async (store) => {
    const log: string[] = [];
    const write = (mailbox: string, name: string) => store.withMailboxLock(mailbox, async () => {
      log.push(`${name}:start`);
      await new Promise((r) => setTimeout(r, 30));
      log.push(`${name}:end`);
    });
    await Promise.all([write('bob', 'a'), write('bob', 'b'), write('bob', 'c')]);
    expect(log).toEqual(['a:start', 'a:end', 'b:start', 'b:end', 'c:start', 'c:end']);
    // bob's writer holds its lock until adele's writer has started: were adele queued behind bob, it would never start.
    let adeleStarted!: () => void;
    const adeleStart = new Promise<void>((resolve) => { adeleStarted = resolve; });
    const waitedTooLong = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('adele waited for bob')), 10_000).unref());
    await Promise.all([
      store.withMailboxLock('bob', () => Promise.race([adeleStart, waitedTooLong])),
      store.withMailboxLock('adele', async () => adeleStarted()),
    ]);
    // A failing write releases the mailbox for the next one.
    await expect(store.withMailboxLock('bob', async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(await store.withMailboxLock('bob', async () => 'next')).toBe('next');
  });

  test('more concurrent executions than the pool has connections all finish: lock-holding sessions never starve the queries', async (store) => {
    const runs = Array.from({ length: 16 }, (_, i) => store.withExecutionLock(`request-${i}`, async () => {
      for (let q = 0; q < 3; q++) await store.getSetting('approvals-conversation');
      return i;
    }, `mailbox-${i}`));
    const finished = await Promise.race([Promise.all(runs), new Promise<'stuck'>((resolve) => setTimeout(() => resolve('stuck'), 4_000).unref())]);
    expect(finished).toEqual(Array.from({ length: 16 }, (_, i) => i));
  });

  test('settings are stored and replaced', async (store) => {
    await store.setSetting('approvals-conversation', { id: 'one' }, at);
    await store.setSetting('approvals-conversation', { id: 'two' }, at);
    expect(await store.getSetting('approvals-conversation')).toEqual({ id: 'two' });
  });

  test('pruning settings drops only old ones under the prefix, taking _ and % in it literally', async (store) => {
    const old = new Date(at.getTime() - 31 * 86_400_000);
    await store.setSetting('diagnosis:old', { n: 1 }, old);
    await store.setSetting('diagnosis:new', { n: 2 }, at);
    await store.setSetting('diagnosisXold', { n: 3 }, old);
    await store.setSetting('approvals-conversation', { id: 'kept' }, old);
    await store.setSetting('a_b:old', { n: 4 }, old);
    await store.setSetting('axb:old', { n: 5 }, old);
    expect(await store.pruneSettings('diagnosis:', new Date(at.getTime() - 30 * 86_400_000))).toBe(1);
    expect(await store.pruneSettings('a_b:', at)).toBe(1);
    expect(await store.getSetting('diagnosis:old')).toBeUndefined();
    expect(await store.getSetting('a_b:old')).toBeUndefined();
    for (const key of ['diagnosis:new', 'diagnosisXold', 'approvals-conversation', 'axb:old']) expect(await store.getSetting(key)).toBeDefined();
  });
}

describe('store on PGlite', () => {
  storeContract(async () => pgliteDatabase());
});

describeWithPostgres('store on PostgreSQL', () => {
  storeContract(async () => postgresDatabase());
});

/** A real PGlite database, with every statement it is sent written down. */
async function counted(): Promise<{ db: Db; statements: string[] }> {
  const db = await openDb({});
  const statements: string[] = [];
  return { db: { ...db, query: (sql, params) => { statements.push(sql); return db.query(sql, params); } }, statements };
}

describe('settings on PGlite, which only this process writes', () => {

  test('a setting asked for again is answered without a statement, and reads as the table has it after every write and prune', async () => {
    const { db, statements } = await counted();
    const store = new Store(db);
    try {
      expect(await store.getSetting('awaiting:a')).toBeUndefined();
      const before = statements.length;
      for (let i = 0; i < 5; i++) expect(await store.getSetting('awaiting:a')).toBeUndefined();
      expect(statements.length).toBe(before);
      await store.setSetting('awaiting:a', { commandId: 'smtp-status' }, at);
      expect(await store.getSetting('awaiting:a')).toEqual({ commandId: 'smtp-status' });
      // The caller gets a copy: changing it changes nothing kept.
      (await store.getSetting<{ commandId: string }>('awaiting:a'))!.commandId = 'changed';
      expect(await store.getSetting('awaiting:a')).toEqual({ commandId: 'smtp-status' });
      await store.setSetting('awaiting:a', null, at);
      expect(await store.getSetting('awaiting:a')).toBeNull();
      await store.setSetting('diagnosis:x', { n: 1 }, new Date(at.getTime() - 86_400_000));
      expect(await store.getSetting('diagnosis:x')).toEqual({ n: 1 });
      expect(await store.pruneSettings('diagnosis:', at)).toBe(1);
      expect(await store.getSetting('diagnosis:x')).toBeUndefined();
      // What the table holds, read past the store: the same.
      expect(await db.query('SELECT key, value FROM settings ORDER BY key')).toEqual([{ key: 'awaiting:a', value: null }]);
    } finally {
      await store.close();
    }
  });

  test('a read that was under way while the setting was written does not bring the old value back', async () => {
    const { db } = await counted();
    const store = new Store(db);
    try {
      await store.setSetting('approvals-conversation', { id: 'one' }, at);
      await store.pruneSettings('nothing-under-this-prefix:', at); // forgets what was kept: the next read asks the table
      const other = new Store(db); // a second store on the same database shares what is kept
      const [read] = await Promise.all([other.getSetting('approvals-conversation'), store.setSetting('approvals-conversation', { id: 'two' }, at)]);
      expect(read).toEqual({ id: 'one' });
      expect(await store.getSetting('approvals-conversation')).toEqual({ id: 'two' });
      expect(await other.getSetting('approvals-conversation')).toEqual({ id: 'two' });
    } finally {
      await store.close();
    }
  });
});

describe('active exceptions on PGlite, which only this process writes', () => {
  const exceptionFor = (requestId: string, targetUserId: string): ExceptionRecord => ({
    id: randomUUID(), tenantId: 't1', targetUserId, targetUpn: 'bob@contoso.com', targetDisplayName: 'Bob Smith', requestId, originRequestId: requestId,
    requesterId: 'alex', requesterName: 'Alex', approverNames: ['Megan'], justification: 'the scanner', expiresAt: new Date('2027-02-21T10:00:00Z'),
    restoreValue: true, adopted: false, state: 'active', createdAt: at, updatedAt: at,
  });

  test('the mailbox\'s active exception asked for again is answered without a statement, and reads as the table has it after a grant, an extension and its end', async () => {
    const { db, statements } = await counted();
    const store = new Store(db);
    try {
      const grant = draft({ id: randomUUID() });
      const extension = draft({ id: randomUUID() });
      await store.insertRequest(grant);
      await store.insertRequest(extension);
      expect(await store.activeExceptionFor('bob')).toBeUndefined();
      const before = statements.length;
      for (let i = 0; i < 5; i++) expect(await store.activeExceptionFor('bob')).toBeUndefined();
      expect(statements.length).toBe(before);

      const granted = exceptionFor(grant.id, 'bob');
      expect(await store.insertException(granted)).toBe(true);
      expect((await store.activeExceptionFor('bob'))?.id).toBe(granted.id);
      const reads = statements.length;
      expect((await store.activeExceptionFor('bob'))?.expiresAt).toEqual(granted.expiresAt);
      expect(statements.length).toBe(reads);

      const until = new Date('2027-05-22T10:00:00Z');
      await store.extendException(granted.id, grant.id, { requestId: extension.id, requesterId: 'alex', requesterName: 'Alex', approverNames: ['Adele'], justification: 'still needed', expiresAt: until }, at);
      expect(await store.activeExceptionFor('bob')).toMatchObject({ requestId: extension.id, expiresAt: until, approverNames: ['Adele'] });

      await store.closeException(granted.id, extension.id, 'ended', at);
      expect(await store.activeExceptionFor('bob')).toBeUndefined();
      // What the table holds, read past the store: the same.
      expect(await db.query("SELECT state FROM exceptions WHERE target_user_id = 'bob'")).toEqual([{ state: 'ended' }]);
    } finally {
      await store.close();
    }
  });

  test('a read that was under way while the exception ended does not bring it back', async () => {
    const { db } = await counted();
    const store = new Store(db);
    try {
      const grant = draft({ id: randomUUID() });
      await store.insertRequest(grant);
      const granted = exceptionFor(grant.id, 'bob');
      await store.insertException(granted);
      const other = new Store(db); // a second store on the same database shares what is kept
      const [read] = await Promise.all([other.activeExceptionFor('bob'), store.closeException(granted.id, grant.id, 'lapsed', at)]);
      expect(read?.id).toBe(granted.id);
      expect(await store.activeExceptionFor('bob')).toBeUndefined();
      expect(await other.activeExceptionFor('bob')).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  test('every statement that writes the exceptions table drops what is kept first', () => {
    // A write that did not would leave a status showing an exception that ended, or none that was granted.
    const source = readFileSync(join(__dirname, '..', '..', 'src', 'store', 'store.ts'), 'utf8');
    const methods = source.split(/\n  (?=(?:async |private |static )*[A-Za-z]+\()/);
    const writers = methods.filter((m) => /\b(?:INSERT INTO|UPDATE|DELETE FROM|TRUNCATE)\s+exceptions\b/i.test(m));
    expect(writers.length).toBeGreaterThanOrEqual(3);
    for (const method of writers) expect([method.slice(0, 60), method.includes('this.keptExceptions?.writing()')]).toEqual([method.slice(0, 60), true]);
    const elsewhere = readdirSync(join(__dirname, '..', '..', 'src'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && !f.startsWith(join('store', 'store.ts')) && !f.includes('migrations'))
      .filter((f) => /\b(?:INSERT INTO|UPDATE|DELETE FROM)\s+exceptions\b/i.test(readFileSync(join(__dirname, '..', '..', 'src', f), 'utf8')));
    expect(elsewhere).toEqual([]);
  });
});

describeWithPostgres('two instances on one PostgreSQL', () => {
  test('a setting one instance writes is what the other reads next, however often it read it before', async () => {
    const database = postgresDatabase();
    const [one, two] = [new Store(await database.open()), new Store(await database.open())];
    try {
      await one.setSetting('approvals-conversation', { id: 'one' }, at);
      for (let i = 0; i < 3; i++) expect(await two.getSetting('approvals-conversation')).toEqual({ id: 'one' });
      await one.setSetting('approvals-conversation', { id: 'two' }, at);
      expect(await two.getSetting('approvals-conversation')).toEqual({ id: 'two' });
    } finally {
      await one.close();
      await two.close();
      await database.cleanup();
    }
  });

  test('writes to one mailbox from two instances take turns', async () => {
    const database = postgresDatabase();
    const [one, two] = [new Store(await database.open()), new Store(await database.open())];
    try {
      const log: string[] = [];
      const write = (store: Store, name: string) => store.withMailboxLock('bob', async () => {
        log.push(`${name}:start`);
        await new Promise((r) => setTimeout(r, 50));
        log.push(`${name}:end`);
      });
      await Promise.all([write(one, 'a'), write(two, 'b'), write(one, 'c'), write(two, 'd')]);
      for (let i = 0; i < log.length; i += 2) expect(log[i + 1]).toBe(log[i]!.replace('start', 'end'));
      expect(log).toHaveLength(8);
    } finally {
      await one.close();
      await two.close();
      await database.cleanup();
    }
  });
});
