import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Pool, type PoolClient } from 'pg';

/** The one SQL surface the repositories use; PGlite and pg both sit behind it. */
export interface Db {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  transaction<T>(work: (tx: Db) => Promise<T>): Promise<T>;
  /** Runs `work` on one connection held throughout (session-level locks live as long as it). */
  session<T>(work: (session: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /**
   * True when no other process can write this database (PGlite: one process owns its directory),
   * so what this process last wrote is what a read would return. Never true for a PostgreSQL server.
   */
  readonly exclusive?: boolean;
}

export interface DbOptions {
  /** postgres:// URL; when absent, embedded PGlite in dataDir. */
  databaseUrl?: string;
  dataDir?: string;
  /** PostgreSQL schema to use (created if missing); tests use one each. */
  schema?: string;
}

const migrationsDir = join(__dirname, 'migrations');

export async function openDb(options: DbOptions): Promise<Db> {
  const db = options.databaseUrl ? await openPg(options.databaseUrl, options.schema) : await openPglite(options.dataDir, options.schema);
  await migrate(db);
  return db;
}

/**
 * PGlite runs PostgreSQL in this process's memory. Its defaults (shared_buffers 128 MB) are sized
 * for a server; a bot's store is a few MB, so a smaller buffer pool keeps the process ~140 MB smaller
 * and reopens faster. Durability is untouched: every commit still reaches the data directory.
 */
export const pgliteSettings = ['shared_buffers=16MB', 'wal_buffers=1MB', 'work_mem=2MB', 'temp_buffers=2MB', 'maintenance_work_mem=16MB'];

async function openPglite(dataDir: string | undefined, schema: string | undefined): Promise<Db> {
  let pglite: PGlite;
  if (dataDir) {
    mkdirSync(dataDir, { recursive: true });
    pglite = await PGlite.create(join(dataDir, 'pglite'), { postgresqlconf: pgliteSettings });
  } else {
    pglite = await PGlite.create({ postgresqlconf: pgliteSettings });
  }
  if (schema) await pglite.exec(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}; SET search_path TO ${quoteIdent(schema)}`);
  const wrap = (q: Pick<PGlite, 'query'>): Omit<Db, 'close' | 'transaction' | 'session'> => ({
    async query<T>(sql: string, params: unknown[] = []) {
      return (await q.query<T>(sql, params)).rows;
    },
  });
  const db: Db = {
    ...wrap(pglite),
    transaction: (work) => pglite.transaction((tx) => work({ ...wrap(tx), transaction: (inner) => inner(db), session: (inner) => inner(db), close: async () => {} })),
    // PGlite is one connection in one process: every call already shares the session.
    session: (work) => work(db),
    close: () => pglite.close(),
    exclusive: true,
  };
  return db;
}

async function openPg(databaseUrl: string, schema: string | undefined): Promise<Db> {
  // The search path is part of every connection's start-up packet, so no connection ever runs a
  // query against another schema (a per-connection SET could fail, or race the first query).
  const pool = new Pool({ connectionString: databaseUrl, max: 10, ...(schema ? { options: `-c search_path=${quoteIdent(schema)}` } : {}) });
  // An idle connection the server closes (a restart, a failover) emits 'error' on the pool; unhandled,
  // that would end the process. The pool drops the connection and opens a new one on the next query.
  pool.on('error', () => {});
  // The same on a connection in use: its query fails (the caller hears of it) and the client emits 'error' too.
  pool.on('connect', (client) => { client.on('error', () => {}); });
  if (schema) await createSchema(pool, schema).catch(async (error: unknown) => { await pool.end(); throw error; });
  const onClient = (client: PoolClient): Db => ({
    async query<T>(sql: string, params: unknown[] = []) {
      return (await client.query(sql, params)).rows as T[];
    },
    transaction: (work) => work(onClient(client)),
    session: (work) => work(onClient(client)),
    close: async () => {},
  });
  return {
    async query<T>(sql: string, params: unknown[] = []) {
      const client = await pool.connect();
      try {
        return (await client.query(sql, params)).rows as T[];
      } finally {
        client.release();
      }
    },
    async transaction(work) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work(onClient(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    async session(work) {
      const client = await pool.connect();
      try {
        return await work(onClient(client));
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

/**
 * CREATE SCHEMA IF NOT EXISTS is not safe against itself: two instances starting together can both
 * miss the schema and one then fails on pg_namespace's unique index (23505) or with 42P06.
 */
async function createSchema(pool: Pool, schema: string): Promise<void> {
  try {
    await pool.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== '23505' && code !== '42P06') throw error;
  }
}

/** Applies each numbered migration file once, under an advisory lock so concurrent instances don't race. */
async function migrate(db: Db): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock(hashtext('smtp-gate-migrations'))");
    await tx.query('CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const applied = new Set((await tx.query<{ version: string }>('SELECT version FROM schema_migrations')).map((r) => r.version));
    for (const file of readdirSync(migrationsDir).filter((f) => f.endsWith('.sql')).sort()) {
      if (applied.has(file)) continue;
      for (const statement of splitStatements(readFileSync(join(migrationsDir, file), 'utf8'))) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (version) VALUES ($1)', [file]);
    }
  });
}

function splitStatements(sql: string): string[] {
  return sql.split(/;\s*$/m).map((s) => s.replace(/^\s*--.*$/gm, '').trim()).filter(Boolean);
}

function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/i.test(name)) throw new Error(`invalid schema name: ${name}`);
  return `"${name}"`;
}
