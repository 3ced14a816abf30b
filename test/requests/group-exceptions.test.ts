import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { loadFixture, type TenantFixture } from '../../src/simulator/fixture';
import { describeWithPostgres, postgresUrl } from '../support/databases';
import { actionVerbs, cardText, isApprovalCard, requestIdOf, type CardJson } from '../support/fake-connector';
import { demoFixture, demoUser, FakeConnector, InProcessBot, SimulatorHandle, TestClock } from '../support/harness';
import { DEMO_FIXTURE_PATH } from '../simulator/simulatorClient';

/**
 * A group's exceptions as an admin lives with them, through the bot as its users and on the bot's
 * own clock, on PGlite and on PostgreSQL: a group enable whose writes all timed out is read back
 * mailbox by mailbox; before a group's exceptions end, one reminder for the group (not one per
 * mailbox) to the requester and the approvers, with Extend, Let it lapse and End now for the whole
 * group, each mailbox still ending, lapsing and being extended on its own.
 */

const minute = 60_000;
const day = 24 * 3_600_000;
const alex = demoUser('Alex Wilber'); // IT staff
const megan = demoUser('Megan Bowen'); // approver
const adele = demoUser('Adele Vance'); // IT staff and approver
const size = 6;
const printerId = (i: number) => `20000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
const printerUpn = (i: number) => `printer${i}@contoso.com`;
const groupId = '30000000-0000-4000-8000-000000000001';
const utc = (date: Date) => `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

function fixture(): TenantFixture {
  const f = loadFixture(DEMO_FIXTURE_PATH);
  for (let i = 0; i < size; i++) {
    f.users.push({ id: printerId(i), displayName: `Printer ${i}`, userPrincipalName: printerUpn(i), mail: null, givenName: null, surname: null,
      preferredLanguage: null, accountEnabled: true, mailbox: { smtpClientAuthenticationDisabled: true }, perUserMfaState: 'disabled' });
  }
  const nested = '30000000-0000-4000-8000-00000000000a';
  f.groups!.push(
    { id: nested, displayName: 'Printers Basement', mailNickname: 'printersbasement', members: [printerId(0), printerId(1), printerId(2)] },
    { id: groupId, displayName: 'Printers', mailNickname: 'printers', members: [nested, printerId(3), printerId(4), printerId(5)] },
  );
  return f;
}

let simulator: SimulatorHandle;
let connector: FakeConnector;

beforeAll(async () => {
  simulator = await SimulatorHandle.start();
  connector = new FakeConnector();
  await connector.start();
}, 60_000);

afterAll(async () => {
  await connector?.stop();
  await simulator?.close();
});

beforeEach(async () => {
  await simulator.control('POST', '/_simulator/reset', fixture());
  await simulator.control('DELETE', '/_simulator/faults');
  await simulator.control('DELETE', '/_simulator/calls');
  connector.calls.length = 0;
});

interface Context { bot: InProcessBot; clock: TestClock }

/**
 * A bot of its own for each test (its jobs never come due in another), on the store `database`
 * names. One attempt per write and a generous time-out: a write is counted by the simulator's log.
 */
function botPerTest(database: 'PGlite' | 'PostgreSQL') {
  const context = {} as Context;
  let dataDir = '';
  let schema = '';
  beforeEach(async () => {
    context.clock = new TestClock(new Date('2026-12-02T09:00:00Z'));
    dataDir = mkdtempSync(join(tmpdir(), 'smtp-gate-group-exceptions-'));
    schema = `smtp_gate_test_${randomBytes(6).toString('hex')}`;
    const store: Record<string, string> = database === 'PostgreSQL' ? { DATABASE_URL: postgresUrl, DATABASE_SCHEMA: schema } : {};
    context.bot = await InProcessBot.start(simulator, connector, context.clock.now, { DATA_DIR: dataDir, TENANT_TIMEOUT_MS: '4000', TENANT_MAX_RETRIES: '0', ...store });
  }, 60_000);
  afterEach(async () => {
    await context.bot?.server.close();
    rmSync(dataDir, { recursive: true, force: true });
    if (database === 'PostgreSQL') {
      const client = new Client({ connectionString: postgresUrl });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    }
  });
  return context;
}

async function printerValues(): Promise<(boolean | null | undefined)[]> {
  const state = await simulator.control<{ users: { id: string; mailbox: { smtpClientAuthenticationDisabled: boolean | null } | null }[] }>('GET', '/_simulator/state');
  return Array.from({ length: size }, (_, i) => state.users.find((u) => u.id === printerId(i))?.mailbox?.smtpClientAuthenticationDisabled);
}

async function until<T>(what: string, probe: () => Promise<T | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Set-CASMailbox calls Exchange carried out (answered 200), as [identity, value]. */
async function landedSets(): Promise<[string, unknown][]> {
  return (await simulator.setCasMailboxCalls()).filter((c) => c.status === 200).map((c) => [String(c.parameters!.Identity), c.parameters!.SmtpClientAuthenticationDisabled]);
}

function describeGroupExceptions(database: 'PGlite' | 'PostgreSQL', describeOn: (name: string, fn: () => void) => void) {
  describeOn(`group exceptions on ${database}`, () => {
    const context = botPerTest(database);

    async function ask(user: typeof alex, text: string): Promise<{ card: CardJson; id: string }> {
      const posted = connector.postedCards().length;
      await context.bot.teams.message(user, text);
      return connector.waitFor(`the answer to "${text}"`, () => connector.postedCards()[posted]);
    }

    /** Alex asks and confirms; Megan and Adele approve (a group enable is high risk); `beforeLast` runs before the second approval. */
    async function approvedGroupEnable(text: string, beforeLast: () => Promise<void> = async () => {}) {
      const draft = await ask(alex, text);
      const requestId = requestIdOf(draft.card);
      await context.bot.teams.press(alex, 'request.confirm', { requestId });
      await context.bot.server.drain();
      await context.bot.teams.press(megan, 'request.approve', { requestId });
      await beforeLast();
      await context.bot.teams.press(adele, 'request.approve', { requestId });
      await context.bot.server.drain();
      return { draft, requestId };
    }

    test('every write of a group enable timed out: the late check reads each mailbox again; those that landed are put back once each, the others are left alone', async () => {
      // Slower than the bot's time-out, so every write and read-back times out; Exchange still carries
      // out the writes late, except two whose connections it drops.
      const { draft, requestId } = await approvedGroupEnable('enable SMTP for group Printers for the basement scanners', async () => {
        await simulator.control('POST', '/_simulator/faults', { serviceLatencyMs: { exchange: 6000 }, rules: [{ service: 'exchange', match: 'Set-CASMailbox', drop: true, times: 2 }] });
      });
      const failed = (await context.bot.server.store.getRequest(requestId))!;
      expect(failed).toMatchObject({ state: 'failed', errorCode: 'TENANT_TIMEOUT' });
      expect(failed.plan.map((step) => [step.status, step.writeErrorCode])).toEqual(Array.from({ length: size }, () => ['failed', 'TENANT_TIMEOUT']));
      await connector.waitFor('the card says the outcome is not known yet', () => connector.updates(draft.id).find((c) => cardText(c).includes('The outcome is not known yet')));
      const late = await until('the late writes to land', async () => { const sets = await landedSets(); return sets.length === size - 2 && sets; });
      await simulator.control('DELETE', '/_simulator/faults');
      const landed = new Set(late.map(([identity]) => identity));
      expect(late.every(([, value]) => value === false)).toBe(true);
      expect(await printerValues()).toEqual(Array.from({ length: size }, (_, i) => (landed.has(printerUpn(i)) ? false : true)));

      expect(await context.bot.server.runDueJobs()).toBe(0);
      context.clock.advance(5 * minute + 1000);
      await simulator.control('DELETE', '/_simulator/calls');
      expect(await context.bot.server.runDueJobs()).toBe(1);
      // Every mailbox is off again; each that had landed was put back by one write, and none written on a second time.
      expect(await printerValues()).toEqual(Array.from({ length: size }, () => true));
      expect((await landedSets()).sort()).toEqual([...landed].sort().map((identity) => [identity, true]));
      const checked = (await context.bot.server.store.getRequest(requestId))!;
      expect(checked.state).toBe('failed');
      expect(checked.plan.map((step) => [step.target.identity, step.lateWrite]).sort()).toEqual(
        Array.from({ length: size }, (_, i) => [printerUpn(i), landed.has(printerUpn(i)) ? 'undone' : 'not-applied']).sort());
      const writes = (await context.bot.server.store.auditEvents(requestId)).filter((e) => e.action === 'tenant.write').map((e) => e.detail.reason);
      expect(writes.filter((r) => r === 'execute')).toHaveLength(size);
      expect(writes.filter((r) => r === 'undo-late-write')).toHaveLength(size - 2);
      expect((await context.bot.server.store.activeExceptions(demoFixture.tenant.id)).filter((e) => e.targetUserId.startsWith('20000000'))).toEqual([]);

      const card = await connector.waitFor('the card with what the check found', () => connector.updates(draft.id).find((c) => cardText(c).includes('Checked again')));
      expect(cardText(card)).toContain(`Checked again: ${size - 2} writes that timed out reached Exchange later. SMTP Gate put the previous value back on each`);
      for (const identity of landed) expect(cardText(card)).toContain(identity);
      expect(cardText(card)).toContain('Checked again: 2 writes that timed out never reached Exchange');
      expect(cardText(card)).not.toContain('The outcome is not known yet');
      await connector.waitFor('the requester told', () => connector.postedCards().find((p) => p.call.conversationId === `a:${alex.id}` && cardText(p.card).includes('has been checked again')));

      context.clock.advance(day);
      expect(await context.bot.server.runDueJobs()).toBe(0);
      expect(await landedSets()).toHaveLength(size - 2);
    }, 120_000);
  });
}

describeGroupExceptions('PGlite', describe);
describeGroupExceptions('PostgreSQL', describeWithPostgres);
