import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openDb } from '../store/db';
import { auditHash, genesisHash, Store } from '../store/store';

export type AuditChainVerdict =
  | { ok: true; count: number }
  | {
    ok: false;
    seq: number;
    /** 'edited': the row's hash no longer matches its content. 'broken-link': its prev_hash is not the previous row's hash (a row before it was deleted or rows were reordered). */
    reason: 'edited' | 'broken-link';
    action: string;
  };

/**
 * Walks the audit chain in seq order and stops at the first broken link. Gaps in seq are not breaks:
 * a rolled-back append still consumes a sequence value. Removing rows from the end of the chain
 * leaves no trace in it; only a copy of the last hash kept elsewhere can show that.
 */
export async function verifyAuditChain(store: Pick<Store, 'auditEventsAfter'>, { pageSize = 1000 } = {}): Promise<AuditChainVerdict> {
  let prevHash = genesisHash;
  // Below any seq, so a row moved to zero or a negative seq is still walked (and found out of place).
  let lastSeq = -Number.MAX_SAFE_INTEGER;
  let count = 0;
  for (;;) {
    const page = await store.auditEventsAfter(lastSeq, pageSize);
    for (const event of page) {
      // Content first: a row whose prev_hash was itself rewritten counts as edited.
      if (auditHash(event.prevHash, event) !== event.hash) return { ok: false, seq: event.seq, reason: 'edited', action: event.action };
      if (event.prevHash !== prevHash) return { ok: false, seq: event.seq, reason: 'broken-link', action: event.action };
      prevHash = event.hash;
      lastSeq = event.seq;
      count += 1;
    }
    if (page.length < pageSize) return { ok: true, count };
  }
}

export function describeVerdict(verdict: AuditChainVerdict): string {
  if (verdict.ok) return `audit chain intact: ${verdict.count} events`;
  const why = verdict.reason === 'edited'
    ? "the row's hash no longer matches its content (the row was edited)"
    : "its prev_hash does not match the previous row's hash (a row before it was deleted, or rows were reordered)";
  return `audit chain broken at seq ${verdict.seq} (${verdict.action}): ${why}`;
}

/**
 * `npm run audit:verify`: reads only DATABASE_URL and DATA_DIR (from the environment or `.env`), so it
 * runs on a host holding the database without the bot's tenant settings. Exit 0 intact, 1 broken,
 * 2 when the audit trail could not be read. An embedded (PGlite) database belongs to one process at a
 * time: stop the bot before verifying its DATA_DIR.
 */
async function main(): Promise<number> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const databaseUrl = process.env.DATABASE_URL || undefined;
  const dataDir = resolve(process.env.DATA_DIR || './.data');
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    process.stderr.write('DATABASE_URL: expected a postgres:// URL\n');
    return 2;
  }
  // Opening an empty DATA_DIR would create a database and call its empty chain intact.
  if (!databaseUrl && !existsSync(join(dataDir, 'pglite'))) {
    process.stderr.write(`no database in DATA_DIR ${dataDir} (set DATA_DIR or DATABASE_URL)\n`);
    return 2;
  }
  let store: Store;
  try {
    store = new Store(await openDb({ databaseUrl, dataDir }));
  } catch (error) {
    process.stderr.write(`could not open the database: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  try {
    const verdict = await verifyAuditChain(store);
    process.stdout.write(`${describeVerdict(verdict)}\n`);
    return verdict.ok ? 0 : 1;
  } catch (error) {
    process.stderr.write(`could not read the audit trail: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  } finally {
    await store.close();
  }
}

if (require.main === module) {
  main().then((code) => { process.exitCode = code; }, (error: unknown) => {
    process.stderr.write(`audit:verify failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  });
}
