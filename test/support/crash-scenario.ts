import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { verifyAuditChain } from '../../src/audit/verify';
import { openDb } from '../../src/store/db';
import { Store } from '../../src/store/store';
import { startBotProcess, type BotProcess } from './bot-process';
import { postgresUrl } from './databases';
import { cardText } from './fake-connector';
import { botSettings, demoFixture, demoUser, pendingEnable, tenantSuite, type TenantSuite } from './harness';
import { TeamsClient } from './teams';

/**
 * Crash safety, shared by test/requests/crash*.test.ts: the bot process (real main.ts) is killed by
 * SIGKILL while a request is `executing`, then started again on the same database.
 */

const alex = demoUser('Alex Wilber');
const megan = demoUser('Megan Bowen');
const bob = demoFixture.users.find((u) => u.userPrincipalName === 'bob@contoso.com')!;

/** The simulator and connector of the describe block that is running. */
let tenant: TenantSuite;

/** Slow enough to kill the bot between the tenant's answer and the bot's next step, quick enough to keep the test short. */
const tenantLatencyMs = 1500;

export interface Database {
  env: Record<string, string>;
  /** The store as the test reads it; PGlite only while no bot process has it open. */
  withStore<T>(read: (store: Store) => Promise<T>): Promise<T>;
  cleanup(): Promise<void>;
}

export function postgresSchema(): Database {
  const schema = `smtp_gate_crash_${randomBytes(6).toString('hex')}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'smtp-gate-crash-'));
  return {
    env: { DATABASE_URL: postgresUrl, DATABASE_SCHEMA: schema, DATA_DIR: dataDir },
    async withStore(read) {
      const store = new Store(await openDb({ databaseUrl: postgresUrl, schema }));
      try {
        return await read(store);
      } finally {
        await store.close();
      }
    },
    async cleanup() {
      const client = new Client({ connectionString: postgresUrl });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function pgliteDataDir(): Database {
  const dataDir = mkdtempSync(join(tmpdir(), 'smtp-gate-crash-'));
  return {
    env: { DATA_DIR: dataDir },
    async withStore(read) {
      const store = new Store(await openDb({ dataDir }));
      try {
        return await read(store);
      } finally {
        await store.close();
      }
    },
    cleanup: async () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

function startBot(database: Database): Promise<BotProcess> {
  // Retries off and a patient timeout: the only thing slowing the tenant down is the injected latency.
  return startBotProcess(botSettings(tenant.simulator, { ...database.env, TENANT_TIMEOUT_MS: '10000', TENANT_MAX_RETRIES: '0', JOB_INTERVAL_MS: '3600000' }));
}

/** Alex asks for SMTP AUTH for bob and confirms; returns the request id and the approval card. */
async function requestEnableForBob(teams: TeamsClient) {
  const { requestId, messageStatus, confirmed, approval } = await pendingEnable({ connector: tenant.connector, bot: { teams } }, alex, 'enable SMTP for bob', { justification: 'the floor 2 scanner sends scans by mail' });
  expect(messageStatus).toBe(200);
  expect(cardText(confirmed.body.value)).toContain('Waiting for approval');
  return { requestId, approval };
}

export type Moment = 'after the write reached the tenant' | 'before the write reached the tenant';

/**
 * Approves bob's request and SIGKILLs the bot at the given moment, with the request `executing`.
 * After the write: the Set-CASMailbox has been applied and the bot waits for its read-back.
 * Before it: the Set-CASMailbox is on its way and the connection will drop without applying it.
 */
async function crashDuringExecution(database: Database, moment: Moment, checkExecutingWhileAlive: boolean) {
  const bot = await startBot(database);
  try {
    const teams = new TeamsClient(bot.url, tenant.connector.url, demoFixture.tenant.id);
    const { requestId, approval } = await requestEnableForBob(teams);
    const writeLands = moment === 'after the write reached the tenant';
    await tenant.simulator.control('POST', '/_simulator/faults', {
      latencyMs: tenantLatencyMs,
      rules: writeLands ? [] : [{ service: 'exchange', match: 'Set-CASMailbox', drop: true, times: 1 }],
    });
    const approved = await teams.press(megan, 'request.approve', { requestId });
    expect(approved.status).toBe(200);
    if (writeLands) {
      await poll('the mailbox changed in the tenant', async () => (await tenant.simulator.mailboxOf(bob.id))?.smtpClientAuthenticationDisabled === false);
    } else {
      await poll('the Set-CASMailbox on its way', async () => (await tenant.simulator.setCasMailboxCalls()).length === 1);
    }
    if (checkExecutingWhileAlive) expect((await database.withStore((s) => s.getRequest(requestId)))?.state).toBe('executing');
    await bot.kill();
    if (!writeLands) {
      // The dropped write must have been consumed by the rule before the faults are cleared.
      await poll('the write dropped', async () => (await tenant.simulator.control<{ rules: { remaining: number | null }[] }>('GET', '/_simulator/faults')).rules[0]?.remaining === 0);
    }
    await tenant.simulator.control('DELETE', '/_simulator/faults');
    return { requestId, approval };
  } catch (error) {
    await bot.kill();
    throw new Error(`${(error as Error).message}\nbot log:\n${bot.logs.join('').slice(-6000)}`);
  }
}

async function restartAndCheck(database: Database, requestId: string, approvalCardId: string, moment: Moment) {
  const writeLands = moment === 'after the write reached the tenant';
  expect(await tenant.simulator.mailboxOf(bob.id)).toEqual(writeLands ? { smtpClientAuthenticationDisabled: false } : bob.mailbox);
  expect(await database.withStore((s) => s.getRequest(requestId))).toMatchObject({ state: 'executing', verified: null });
  tenant.connector.calls.length = 0;

  // Reconciliation happens before the bot takes traffic: by "bot listening" it is done.
  const bot = await startBot(database);
  try {
    expect(bot.logs.join('')).toContain('reconciled requests a previous run left executing');
    expect(await tenant.simulator.mailboxOf(bob.id)).toEqual({ smtpClientAuthenticationDisabled: false });
    const sets = await tenant.simulator.setCasMailboxCalls();
    const expected = { Identity: bob.userPrincipalName, SmtpClientAuthenticationDisabled: false };
    if (writeLands) {
      expect(sets).toEqual([expect.objectContaining({ parameters: expected, status: 200 })]);
    } else {
      // The dropped attempt (never answered) and the one retry at start-up.
      expect(sets).toEqual([expect.objectContaining({ parameters: expected, status: null }), expect.objectContaining({ parameters: expected, status: 200 })]);
    }
    // The cards posted before the crash are brought up to date, and the requester hears of it.
    await tenant.connector.waitFor('the approval card updated to done', () => tenant.connector.updates(approvalCardId).find((c) => cardText(c).includes('Done, verified')));
    await tenant.connector.waitFor('the requester told', () => tenant.connector.postedCards().find((p) => cardText(p.card).includes('Your request for Bob Smith is done and verified')));
  } finally {
    await bot.stop();
  }

  // Read once the bot is stopped: a PGlite data directory has one user at a time.
  const { request, events, chain } = await database.withStore(async (s) => ({
    request: await s.getRequest(requestId), events: await s.auditEvents(requestId), chain: await verifyAuditChain(s),
  }));
  expect(request).toMatchObject({ state: 'succeeded', verified: true, after: { mailboxSmtpClientAuthenticationDisabled: false, effectiveEnabled: true } });
  const reconciled = events.filter((e) => e.action === 'request.reconciled');
  expect(reconciled).toHaveLength(1);
  const writes = events.filter((e) => e.action === 'tenant.write');
  if (writeLands) {
    expect(reconciled[0]!.detail).toMatchObject({ outcome: 'already-applied', after: { mailboxSmtpClientAuthenticationDisabled: false } });
    expect(writes).toEqual([]);
  } else {
    expect(reconciled[0]!.detail).toMatchObject({ outcome: 'retrying-once', current: { mailboxSmtpClientAuthenticationDisabled: bob.mailbox!.smtpClientAuthenticationDisabled } });
    expect(writes.map((e) => e.detail)).toEqual([expect.objectContaining({ reason: 'reconcile', readBackMatched: true, errorCode: null })]);
  }
  const lastMove = events.filter((e) => e.action === 'request.transition').at(-1);
  expect(lastMove?.detail).toMatchObject({ from: 'executing', to: 'succeeded', verified: true });
  expect(chain).toMatchObject({ ok: true });
}

/**
 * One describe block: a simulator and a fake connector for the file, then one test per moment of
 * the crash, each on a database of its own. `checkExecutingWhileAlive`: read the store while the bot
 * still runs (PostgreSQL only; a PGlite data directory has one user at a time).
 */
export function describeCrashRecovery(name: string, options: { database: () => Database; moments: Moment[]; checkExecutingWhileAlive: boolean; available: () => { ok: true } | { ok: false; reason: string } }): void {
  // Chosen while the file loads: a database that is not there makes the suite skipped, with its reason.
  const probe = options.available();
  const suite = probe.ok ? describe : describe.skip;
  suite(`a bot killed mid-change, on ${name}${probe.ok ? '' : ` [skipped: ${probe.reason}]`}`, () => {
    const ours = tenantSuite();
    beforeAll(() => {
      tenant = ours;
    });

    beforeEach(async () => {
      await tenant.simulator.control('POST', '/_simulator/reset');
      tenant.connector.calls.length = 0;
    });

    test.each(options.moments)('killed %s: reconciled at start-up, exactly one successful Set-CASMailbox, audited', async (moment) => {
      const database = options.database();
      try {
        const { requestId, approval } = await crashDuringExecution(database, moment, options.checkExecutingWhileAlive);
        await restartAndCheck(database, requestId, approval.id, moment);
      } finally {
        await database.cleanup();
      }
    }, 60_000);
  });
}

async function poll(what: string, probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

