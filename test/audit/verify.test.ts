import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { verifyAuditChain } from '../../src/audit/verify';
import { openDb, type Db } from '../../src/store/db';
import { auditHash, Store } from '../../src/store/store';
import { describeWithPostgres, postgresDatabase, storeSuite, type TestDatabase } from '../support/databases';

const at = new Date('2026-11-23T10:00:00Z');
const repoRoot = resolve(__dirname, '../..');
// On disk rather than in memory, and left open after the PGlite contract (creating one costs seconds),
// so the CLI test below can use it and then hand it to the child process.
const pgliteDir = mkdtempSync(join(tmpdir(), 'smtp-gate-audit-'));
let pgliteDb: Promise<Db> | undefined;
const sharedPglite = () => (pgliteDb ??= openDb({ dataDir: pgliteDir }));
afterAll(async () => {
  await (await pgliteDb)?.close();
  rmSync(pgliteDir, { recursive: true, force: true });
});

/** Starts every test from a fresh chain of `count` events whose actions are audit.1 … audit.N. */
async function freshChain(store: Store, count: number): Promise<void> {
  // Test set-up only: the application never removes audit rows, and the database refuses to. These
  // tests play an owner who switches that off to tamper, which is what audit:verify is there to catch.
  await store.db.query('ALTER TABLE audit_events DISABLE TRIGGER USER');
  await store.db.query('TRUNCATE audit_events RESTART IDENTITY');
  for (let i = 1; i <= count; i += 1) {
    await store.appendAudit({ at: new Date(at.getTime() + i * 1000), requestId: `r${i}`, actorId: 'alex', action: `audit.${i}`, detail: { i, before: { b: 1, a: [true, null] } } });
  }
}

function auditContract(database: () => Promise<TestDatabase | undefined>) {
  const test = storeSuite(database);

  test('an empty audit trail is intact', async (store) => {
    await freshChain(store, 0);
    expect(await verifyAuditChain(store)).toEqual({ ok: true, count: 0 });
  });

  test('an intact chain verifies with its event count, across pages', async (store) => {
    await freshChain(store, 5);
    expect(await verifyAuditChain(store)).toEqual({ ok: true, count: 5 });
    expect(await verifyAuditChain(store, { pageSize: 2 })).toEqual({ ok: true, count: 5 });
  });

  test("a row whose detail was edited is named at its seq as 'edited'", async (store) => {
    await freshChain(store, 5);
    await store.db.query(`UPDATE audit_events SET detail = '{"i": 3, "before": {"b": 0, "a": [true, null]}}' WHERE seq = 3`);
    expect(await verifyAuditChain(store)).toEqual({ ok: false, seq: 3, reason: 'edited', action: 'audit.3' });
  });

  test("a row edited and re-hashed breaks the next row's link", async (store) => {
    await freshChain(store, 5);
    const [row] = (await store.auditEvents('r3'));
    const forged = { ...row!, actorId: 'mallory' };
    await store.db.query('UPDATE audit_events SET actor_id = $2, hash = $3 WHERE seq = $1', [3, 'mallory', auditHash(forged.prevHash, forged)]);
    expect(await verifyAuditChain(store)).toEqual({ ok: false, seq: 4, reason: 'broken-link', action: 'audit.4' });
  });

  test("a deleted middle row is a 'broken-link' at the row after it", async (store) => {
    await freshChain(store, 5);
    await store.db.query('DELETE FROM audit_events WHERE seq = 3');
    expect(await verifyAuditChain(store, { pageSize: 2 })).toEqual({ ok: false, seq: 4, reason: 'broken-link', action: 'audit.4' });
  });

  test("a deleted first row is a 'broken-link' at the new first row", async (store) => {
    await freshChain(store, 3);
    await store.db.query('DELETE FROM audit_events WHERE seq = 1');
    expect(await verifyAuditChain(store)).toEqual({ ok: false, seq: 2, reason: 'broken-link', action: 'audit.2' });
  });

  test("two rows swapped in order are a 'broken-link' at the first of them", async (store) => {
    await freshChain(store, 4);
    for (const [from, to] of [[2, -2], [3, 2], [-2, 3]]) await store.db.query('UPDATE audit_events SET seq = $2 WHERE seq = $1', [from, to]);
    expect(await verifyAuditChain(store)).toEqual({ ok: false, seq: 2, reason: 'broken-link', action: 'audit.3' });
  });

  test('the database itself refuses to edit, delete or truncate audit rows; appending still works', async (store) => {
    await freshChain(store, 3);
    await store.db.query('ALTER TABLE audit_events ENABLE TRIGGER USER');
    try {
      await expect(store.db.query(`UPDATE audit_events SET actor_id = 'mallory' WHERE seq = 2`)).rejects.toThrow(/append-only: UPDATE refused/);
      await expect(store.db.query('DELETE FROM audit_events WHERE seq = 2')).rejects.toThrow(/append-only: DELETE refused/);
      await expect(store.db.query('TRUNCATE audit_events')).rejects.toThrow(/append-only: TRUNCATE refused/);
      await store.appendAudit({ at, requestId: 'r4', actorId: 'alex', action: 'audit.4', detail: {} });
      expect(await verifyAuditChain(store)).toEqual({ ok: true, count: 4 });
    } finally {
      await store.db.query('ALTER TABLE audit_events DISABLE TRIGGER USER');
    }
  });

  test('the last row moved to a seq below the first is still walked and found out of place', async (store) => {
    await freshChain(store, 3);
    await store.db.query('UPDATE audit_events SET seq = -1 WHERE seq = 3');
    expect(await verifyAuditChain(store)).toEqual({ ok: false, seq: -1, reason: 'broken-link', action: 'audit.3' });
  });
}

describe('audit chain verification on PGlite', () => {
  auditContract(async () => ({ name: 'PGlite', open: async () => ({ ...(await sharedPglite()), close: async () => {} }), cleanup: async () => {} }));
});

describeWithPostgres('audit chain verification on PostgreSQL', () => {
  auditContract(async () => postgresDatabase());
});

function runVerifyCli(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    // DATABASE_URL set empty so neither the test environment nor a developer's .env points it elsewhere.
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/audit/verify.ts'], {
      cwd: repoRoot, env: { ...process.env, NODE_OPTIONS: '', DATABASE_URL: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

describe('npm run audit:verify', () => {
  test('prints the event count and exits 0 on an intact chain, names the edited row and exits 1 after tampering', async () => {
    const intactDir = mkdtempSync(join(tmpdir(), 'smtp-gate-audit-intact-'));
    try {
      const store = new Store(await sharedPglite());
      await freshChain(store, 4);
      await store.close();
      pgliteDb = undefined;
      // A closed PGlite directory can be copied, so the intact and the tampered run can go side by side.
      cpSync(pgliteDir, intactDir, { recursive: true });

      const [intact, broken] = await Promise.all([
        runVerifyCli({ DATA_DIR: intactDir }),
        (async () => {
          const tampered = new Store(await openDb({ dataDir: pgliteDir }));
          await tampered.db.query(`UPDATE audit_events SET detail = '{"i": 2, "tampered": true}' WHERE seq = 2`);
          await tampered.close();
          return runVerifyCli({ DATA_DIR: pgliteDir });
        })(),
      ]);

      expect(intact).toMatchObject({ code: 0, stdout: 'audit chain intact: 4 events\n' });
      expect(broken).toMatchObject({
        code: 1,
        stdout: "audit chain broken at seq 2 (audit.2): the row's hash no longer matches its content (the row was edited)\n",
      });
    } finally {
      rmSync(intactDir, { recursive: true, force: true });
    }
  });

  test('refuses a DATA_DIR that holds no database instead of creating one (exit 2)', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'smtp-gate-audit-empty-'));
    try {
      const result = await runVerifyCli({ DATA_DIR: empty });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`no database in DATA_DIR ${empty}`);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
