import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { openDb, type Db } from '../../src/store/db';
import { Store } from '../../src/store/store';

export const postgresUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Is a PostgreSQL server reachable? In CI its absence is a failure, locally a loud skip. */
export async function postgresAvailable(): Promise<boolean> {
  const client = new Client({ connectionString: postgresUrl, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch (error) {
    if (process.env.CI === 'true') throw new Error(`PostgreSQL is required in CI but ${postgresUrl} is unreachable: ${(error as Error).message}`);
    process.stderr.write(`\n*** SKIPPING the PostgreSQL half of the store tests: ${postgresUrl} is unreachable (${(error as Error).message}). ***\n\n`);
    return false;
  }
}

/**
 * The same question, answered while the test file loads, so a suite that needs PostgreSQL is
 * registered as skipped, with its reason, rather than passing empty: `describe.skip` is chosen here.
 * In CI an unreachable server is a failure, as above. Asked once per test file.
 */
let reachable: { ok: true } | { ok: false; reason: string } | undefined;
export function postgresReachableSync(): { ok: true } | { ok: false; reason: string } {
  if (reachable) return reachable;
  const probe = spawnSync(process.execPath, ['-e', `
    const { Client } = require('pg');
    const client = new Client({ connectionString: process.argv[1], connectionTimeoutMillis: 2000 });
    client.connect().then(() => client.end()).then(() => process.stdout.write('ok'), (e) => { process.stdout.write(String(e && e.message)); });
  `, postgresUrl], { cwd: __dirname, encoding: 'utf8', timeout: 10_000 });
  const answer = (probe.stdout ?? '').trim();
  reachable = answer === 'ok' ? { ok: true } : { ok: false, reason: answer || probe.error?.message || `probe exited ${probe.status}` };
  if (!reachable.ok && process.env.CI === 'true') throw new Error(`PostgreSQL is required in CI but ${postgresUrl} is unreachable: ${reachable.reason}`);
  return reachable;
}

/** `describe` when PostgreSQL is reachable; otherwise `describe.skip`, the reason in the suite's name. */
export function describeWithPostgres(name: string, fn: () => void): void {
  const probe = postgresReachableSync();
  if (probe.ok) describe(name, fn);
  else describe.skip(`${name} [skipped: PostgreSQL at ${postgresUrl} is unreachable: ${probe.reason}]`, fn);
}

export interface TestDatabase {
  name: string;
  open(): Promise<Db>;
  /** Drops what open() created. */
  cleanup(): Promise<void>;
}

export function pgliteDatabase(): TestDatabase {
  return { name: 'PGlite', open: () => openDb({}), cleanup: async () => {} };
}

/** A schema of its own on the shared server, dropped afterwards. */
export function postgresDatabase(): TestDatabase {
  const schema = `smtp_gate_test_${randomBytes(6).toString('hex')}`;
  return {
    name: 'PostgreSQL',
    open: () => openDb({ databaseUrl: postgresUrl, schema }),
    async cleanup() {
      const client = new Client({ connectionString: postgresUrl });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    },
  };
}

/**
 * One contract run on one database: beforeAll opens a Store on it, afterAll closes it and drops what
 * it created. The returned `test` runs only when `database` gave one — it resolves undefined only when
 * PostgreSQL is absent outside CI, which postgresAvailable has already said, loudly.
 */
export function storeSuite(database: () => Promise<TestDatabase | undefined>): (name: string, fn: (store: Store) => Promise<void>, timeoutMs?: number) => void {
  let store: Store | undefined;
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    db = await database();
    if (db) store = new Store(await db.open());
  });
  afterAll(async () => {
    await store?.close();
    await db?.cleanup();
  });
  return (name, fn, timeoutMs) => test(name, async () => {
    // A suite without its database is skipped when the file loads (describeWithPostgres); here it would pass empty.
    if (!store) throw new Error(`no ${db?.name ?? 'database'} to run "${name}" on`);
    await fn(store);
  }, timeoutMs);
}
