import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, chownSync } from 'node:fs';
import { openDb } from '../../src/store/db';
import { Store } from '../../src/store/store';
import { recordFigure } from '../support/figures';

/**
 * PostgreSQL restarted under the bot (issue #13, faults), on a private cluster of its own (initdb on
 * another port), so the shared server the other suites use is never touched. Runs only where
 * initdb and pg_ctl exist and the tests run as root (initdb then runs as the postgres user).
 */
const bin = ['/usr/local/bin', '/usr/lib/postgresql/15/bin'].find((d) => existsSync(`${d}/initdb`) && existsSync(`${d}/pg_ctl`));
const usable = bin && process.getuid?.() === 0 && spawnSync('id', ['-u', 'postgres']).status === 0;
const dir = `/tmp/smtp-gate-pg-restart-${process.pid}`;
const port = 55000 + (process.pid % 400);
const pgctl = (...args: string[]) => spawnSync('runuser', ['-u', 'postgres', '--', `${bin}/pg_ctl`, '-D', `${dir}/data`, ...args], { stdio: 'ignore', timeout: 60_000 });
const options = ['-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`];

(usable ? describe : describe.skip)(`PostgreSQL restarted under load${usable ? '' : ' [skipped: needs root, a postgres user, initdb and pg_ctl]'}`, () => {
  beforeAll(() => {
    mkdirSync(dir, { recursive: true });
    const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    chownSync(dir, uid, uid);
    expect(spawnSync('runuser', ['-u', 'postgres', '--', `${bin}/initdb`, '-D', `${dir}/data`, '-A', 'trust', '-U', 'postgres'], { stdio: 'ignore', timeout: 60_000 }).status).toBe(0);
    expect(pgctl(...options, '-l', `${dir}/log`, '-w', 'start').status).toBe(0);
  }, 90_000);
  afterAll(() => {
    pgctl('-m', 'immediate', '-w', 'stop');
    rmSync(dir, { recursive: true, force: true });
  });

  test('the store reconnects after a restart mid-load: no process crash, no request lost', async () => {
    const store = new Store(await openDb({ databaseUrl: `postgres://postgres@127.0.0.1:${port}/postgres`, schema: 'smtp_gate' }));
    try {
      const at = new Date('2026-11-23T10:00:00Z');
      const request = (id: string) => ({
        id, tenantId: 't', commandId: 'smtp-enable', state: 'draft' as const, risk: 'medium' as const, requiredApprovals: 1,
        requesterId: 'alex', requesterName: 'Alex', targetUserId: 'bob', targetUpn: 'bob@contoso.com', targetDisplayName: 'Bob',
        params: {}, plan: [], language: 'en' as const, conversation: {}, before: null, after: null, verified: null, errorCode: null,
        createdAt: at, updatedAt: at, expiresAt: new Date(at.getTime() + 86_400_000),
      });
      const written: string[] = [];
      let stop = false;
      // Load: inserts one after another; those that fail while the server is down are retried, as a click would be.
      const load = (async () => {
        while (!stop) {
          const id = randomUUID();
          for (let attempt = 0; attempt < 50; attempt++) {
            try {
              await store.insertRequest(request(id));
              written.push(id);
              break;
            } catch {
              await new Promise((r) => setTimeout(r, 100));
            }
          }
        }
      })();
      await new Promise((r) => setTimeout(r, 300));
      expect(pgctl('-m', 'fast', '-w', ...options, 'restart').status).toBe(0);
      await new Promise((r) => setTimeout(r, 500));
      stop = true;
      await load;
      expect(written.length).toBeGreaterThan(1);
      const found = await Promise.all(written.map((id) => store.getRequest(id)));
      expect(found.filter((r) => !r)).toHaveLength(0);
      expect(await store.ping()).toBe(true);
      recordFigure('pg-restart', {
        suite: 'PostgreSQL restarted under load (private cluster)',
        tried: `pg_ctl restart -m fast while request inserts ran back to back (${written.length} written)`,
        held: `0 process crashes, ${found.filter((r) => !r).length} requests lost, the store answering again after the restart`,
      });
    } finally {
      await store.close();
    }
  }, 120_000);
});
