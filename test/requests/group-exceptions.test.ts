import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { loadFixture, type TenantFixture } from '../../src/simulator/fixture';
import { connectTenant } from '../../src/tenant';
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
/** Mailboxes whose write reached Exchange after all, late: written straight to the tenant, past SMTP Gate. */
async function landedLate(config: Parameters<typeof connectTenant>[0], identities: string[]): Promise<void> {
  const tenant = connectTenant(config);
  try {
    for (const identity of identities) await tenant.exchange.setCasMailboxSmtpClientAuthenticationDisabled(identity, false);
  } finally {
    await tenant.close();
  }
}

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

    test('a group enable done in part with writes cut off: Retry waits for the late check; one that landed counts as applied with its exception, the other is retried once', async () => {
      const { draft, requestId } = await approvedGroupEnable('enable SMTP for group Printers for the basement scanners', async () => {
        await simulator.control('POST', '/_simulator/faults', { rules: [{ service: 'exchange', match: 'Set-CASMailbox', drop: true, times: 2 }] });
      });
      await simulator.control('DELETE', '/_simulator/faults');
      const partial = (await context.bot.server.store.getRequest(requestId))!;
      expect(partial.state).toBe('succeeded');
      const cut = partial.plan.filter((step) => step.status === 'failed');
      expect(cut.map((step) => step.writeErrorCode)).toEqual(['TENANT_UNAVAILABLE', 'TENANT_UNAVAILABLE']);
      const card = await connector.waitFor('the partial result', () => connector.updates(draft.id).find((c) => cardText(c).includes(`Applied to ${size - 2} of ${size} mailboxes.`)));
      expect(cardText(card)).toContain('2 writes timed out or were cut off: they may still reach Exchange.');
      expect(actionVerbs(card)).not.toContain('request.retry');
      const early = await context.bot.teams.press(alex, 'request.retry', { requestId });
      expect(cardText(early.body.value)).toContain('NOTHING_TO_RETRY');

      // The first of the two did reach Exchange after all, late; the second never did.
      await landedLate(context.bot.config, [cut[0]!.target.identity]);
      await simulator.control('DELETE', '/_simulator/calls');
      context.clock.advance(5 * minute + 1000);
      expect(await context.bot.server.runDueJobs()).toBe(1);
      expect(await simulator.setCasMailboxCalls()).toEqual([]);
      const checked = (await context.bot.server.store.getRequest(requestId))!;
      expect(checked.plan.filter((step) => step.status === 'failed').map((step) => [step.target.identity, step.lateWrite])).toEqual([[cut[1]!.target.identity, 'not-applied']]);
      expect((await ownExceptions(requestId)).map((e) => e.targetUpn)).toContain(cut[0]!.target.identity);
      expect(await ownExceptions(requestId)).toHaveLength(size - 1);
      const after = await connector.waitFor('the card after the check', () => connector.updates(draft.id).find((c) => cardText(c).includes('counts as applied')));
      expect(cardText(after)).toContain(`Applied to ${size - 1} of ${size} mailboxes.`);
      expect(cardText(after)).toContain('Checked again: 1 write that timed out never reached Exchange');
      expect(actionVerbs(after)).toContain('request.retry');

      await context.bot.teams.press(alex, 'request.retry', { requestId });
      await context.bot.server.drain();
      expect(await landedSets()).toEqual([[cut[1]!.target.identity, false]]);
      expect(await ownExceptions(requestId)).toHaveLength(size);
      expect(await printerValues()).toEqual(Array.from({ length: size }, () => false));
    }, 120_000);

    test('the late check of a group change gives up while Exchange cannot be read: the card names the mailboxes whose outcome is unknown and offers Retry, which reads each back first and writes only the one that never landed', async () => {
      const { draft, requestId } = await approvedGroupEnable('enable SMTP for group Printers for the basement scanners', async () => {
        await simulator.control('POST', '/_simulator/faults', { rules: [{ service: 'exchange', match: 'Set-CASMailbox', drop: true, times: 2 }] });
      });
      const cut = (await context.bot.server.store.getRequest(requestId))!.plan.filter((step) => step.status === 'failed');
      expect(cut).toHaveLength(2);
      // Exchange refuses every read from now on, for the whole life of the late check's job (five attempts, a lease apart).
      await simulator.control('POST', '/_simulator/faults', { rules: [{ service: 'exchange', match: 'Get-CASMailbox', status: 403 }] });
      context.clock.advance(5 * minute + 1000);
      for (let attempt = 1; attempt <= 5; attempt++) {
        expect(await context.bot.server.runDueJobs()).toBe(1);
        const card = connector.updates(draft.id).at(-1);
        if (attempt < 5) expect(cardText(card)).not.toContain('The check could not be done');
        context.clock.advance(5 * minute + 1000);
      }
      expect(await context.bot.server.runDueJobs()).toBe(0);
      const card = await connector.waitFor('the card saying the check gave up', () => connector.updates(draft.id).find((c) => cardText(c).includes('The check could not be done')));
      expect(cardText(card)).toContain('it is not known whether 2 writes that timed out reached Exchange. Retry reads each of these mailboxes back first');
      for (const step of cut) expect(cardText(card)).toContain(step.target.identity);
      expect(cardText(card)).not.toContain('SMTP Gate reads each of those mailboxes again in 5 minutes');
      expect(actionVerbs(card)).toContain('request.retry');
      await connector.waitFor('the requester told', () => connector.postedCards().find((p) => p.call.conversationId === `a:${alex.id}` && cardText(p.card).includes('could not be checked again')));

      // Retry while Exchange still cannot be read: nothing is written, the two stay unknown.
      await simulator.control('DELETE', '/_simulator/calls');
      await context.bot.teams.press(alex, 'request.retry', { requestId });
      await context.bot.server.drain();
      expect(await simulator.setCasMailboxCalls()).toEqual([]);
      expect((await context.bot.server.store.getRequest(requestId))!.plan.filter((step) => step.lateWrite === 'unknown')).toHaveLength(2);

      // Exchange can be read again; the first cut write had landed after all, the second never did.
      await simulator.control('DELETE', '/_simulator/faults');
      await landedLate(context.bot.config, [cut[0]!.target.identity]);
      await simulator.control('DELETE', '/_simulator/calls');
      await context.bot.teams.press(alex, 'request.retry', { requestId });
      await context.bot.server.drain();
      expect(await landedSets()).toEqual([[cut[1]!.target.identity, false]]);
      expect(await printerValues()).toEqual(Array.from({ length: size }, () => false));
      expect(await ownExceptions(requestId)).toHaveLength(size);
      const done = await connector.waitFor('the card after the retry', () => connector.updates(draft.id).find((c) => cardText(c).includes(`Applied to ${size} of ${size} mailboxes.`)));
      expect(cardText(done)).not.toContain('The check could not be done');
      expect(actionVerbs(done)).not.toContain('request.retry');
    }, 120_000);

    test('the late check of a group enable whose every write timed out gives up: its card names the mailboxes whose outcome is unknown, and Check again puts back those whose write landed, once each', async () => {
      const { draft, requestId } = await approvedGroupEnable('enable SMTP for group Printers for the basement scanners', async () => {
        await simulator.control('POST', '/_simulator/faults', { rules: [{ service: 'exchange', match: 'Set-CASMailbox', drop: true }] });
      });
      expect((await context.bot.server.store.getRequest(requestId))!.state).toBe('failed');
      await simulator.control('POST', '/_simulator/faults', { rules: [{ service: 'exchange', match: 'Get-CASMailbox', status: 403 }] });
      for (let attempt = 1; attempt <= 5; attempt++) {
        context.clock.advance(5 * minute + 1000);
        expect(await context.bot.server.runDueJobs()).toBe(1);
      }
      const card = await connector.waitFor('the card saying the check gave up', () => connector.updates(draft.id).find((c) => cardText(c).includes('The check could not be done')));
      expect(cardText(card)).toContain(`it is not known whether ${size} writes that timed out reached Exchange`);
      expect(cardText(card)).toContain('Check again reads each of these mailboxes and puts the previous value back on any the write reached');
      for (let i = 0; i < size; i++) expect(cardText(card)).toContain(printerUpn(i));
      expect(cardText(card)).not.toContain('The outcome is not known yet');
      expect(actionVerbs(card)).toEqual(['request.check-again']);
      const notAllowed = await context.bot.teams.press(megan, 'request.check-again', { requestId });
      expect(cardText(notAllowed.body.value)).toContain('NOT_');

      // Exchange can be read again; two of the writes had landed after all. Check again puts back those two, once each, and writes nothing else.
      await simulator.control('DELETE', '/_simulator/faults');
      await landedLate(context.bot.config, [1, 4].map(printerUpn));
      await simulator.control('DELETE', '/_simulator/calls');
      await context.bot.teams.press(alex, 'request.check-again', { requestId });
      await context.bot.server.drain();
      expect((await landedSets()).sort()).toEqual([1, 4].map((i) => [printerUpn(i), true]));
      expect(await printerValues()).toEqual(Array.from({ length: size }, () => true));
      const checked = await connector.waitFor('the card after Check again', () => connector.updates(draft.id).find((c) => cardText(c).includes('SMTP Gate put the previous value back on each')));
      expect(cardText(checked)).toContain('Checked again: 2 writes that timed out reached Exchange later');
      expect(cardText(checked)).toContain('Checked again: 4 writes that timed out never reached Exchange');
      expect(cardText(checked)).not.toContain('The check could not be done');
      expect(actionVerbs(checked)).toEqual([]);
      const twice = await context.bot.teams.press(alex, 'request.check-again', { requestId });
      expect(cardText(twice.body.value)).toContain('NOTHING_TO_CHECK');
      await context.bot.server.drain();
      expect(await landedSets()).toHaveLength(2);
    }, 120_000);

    /** The entry of an `exceptions` card for one mailbox, with its buttons. */
    function registerEntry(card: CardJson, name: string): { text: string; actions: { verb?: string; data?: Record<string, unknown> }[] } | undefined {
      return (card.body ?? []).filter((element) => element.type === 'Container').map((container) => {
        const items = container.items as Record<string, unknown>[];
        const actionSet = items.find((item) => item.type === 'ActionSet') as { actions: { verb?: string; data?: Record<string, unknown> }[] } | undefined;
        return { text: items.filter((item) => item.type === 'TextBlock').map((item) => String(item.text)).join(' '), actions: actionSet?.actions ?? [] };
      }).find((entry) => entry.text.startsWith(`${name} (`));
    }

    const groupReminders = () => connector.postedCards().filter((p) => actionVerbs(p.card).includes('exception.group-extend'));
    const ownExceptions = async (requestId: string) => (await context.bot.server.store.activeExceptions(demoFixture.tenant.id)).filter((e) => e.requestId === requestId);

    test('one reminder for the group, to the approvers and the requester; Extend is one request gated like the group enable; a mailbox ended on its own stays off; old cards are refused', async () => {
      await ask(adele, 'approvals here');
      const { requestId } = await approvedGroupEnable('enable SMTP for group Printers for 30 days for the basement scanners');
      const grantedAt = context.clock.now();
      const endsAt = new Date(grantedAt.getTime() + 30 * day);
      expect(await printerValues()).toEqual(Array.from({ length: size }, () => false));
      expect(await ownExceptions(requestId)).toHaveLength(size);

      // Printer 0's exception is ended on its own, from the register: its End now names that exception.
      const register = await ask(alex, 'exceptions');
      const entry = registerEntry(register.card, 'Printer 0')!;
      expect(entry.actions.map((a) => a.verb)).toEqual(['exception.end']);
      await context.bot.teams.press(alex, 'exception.end', entry.actions[0]!.data!);
      await context.bot.server.drain();
      expect((await printerValues())[0]).toBe(true);
      expect((await ownExceptions(requestId)).map((e) => e.targetUpn).sort()).toEqual([1, 2, 3, 4, 5].map(printerUpn));

      // Seven days before the end, one card for the group, not one per mailbox: in the approvals chat and the requester's.
      context.clock.advance(23 * day - minute);
      expect(await context.bot.server.runDueJobs()).toBe(0);
      expect(groupReminders()).toEqual([]);
      context.clock.advance(2 * minute);
      expect(await context.bot.server.runDueJobs()).toBe(1);
      const reminders = groupReminders();
      expect(reminders.map((p) => p.call.conversationId).sort()).toEqual([`a:${adele.id}`, `a:${alex.id}`].sort());
      expect(connector.postedCards().filter((p) => actionVerbs(p.card).includes('exception.extend'))).toEqual([]);
      const reminder = reminders[0]!.card;
      const text = cardText(reminder);
      expect(text).toContain('The SMTP AUTH exceptions of group Printers end soon');
      expect(text).toContain(`5 mailboxes of this group lose SMTP AUTH on ${utc(endsAt)}`);
      expect(text).toContain('the basement scanners');
      for (const i of [1, 2, 3, 4, 5]) expect(text).toContain(printerUpn(i));
      expect(text).not.toContain(printerUpn(0));
      expect(actionVerbs(reminder)).toEqual(['exception.group-extend', 'exception.group-lapse', 'exception.group-end']);
      expect(reminder.actions!.map((a) => Object.keys(a.data!).sort())).toEqual([['requestId', 'verb'], ['requestId', 'verb'], ['requestId', 'verb']]);

      const outsider = await context.bot.teams.press(demoUser('Bob Smith'), 'exception.group-extend', { requestId });
      expect(cardText(outsider.body.value)).toContain('NOT_APPROVER');

      // Extend: a new request for the five, as high a risk as the group enable (two approvals, never the asker's own).
      await simulator.control('DELETE', '/_simulator/calls');
      const posted = connector.postedCards().length;
      const extend = await context.bot.teams.press(alex, 'exception.group-extend', { requestId });
      expect(cardText(extend.body.value)).toContain('Alex Wilber asked to extend the exceptions of 5 mailboxes of group Printers. The extension is waiting for approval.');
      expect(actionVerbs(extend.body.value)).toEqual([]);
      expect(cardText(extend.body.value)).toContain(printerUpn(1));
      await context.bot.server.drain();
      // Both copies, the approvers' and the requester's, say what was decided and by whom, and offer no button any more.
      for (const copy of reminders) {
        const closed = await connector.waitFor('the reminder copy closed', () => connector.updates(copy.id).at(-1));
        expect(cardText(closed)).toContain('The SMTP AUTH exceptions of group Printers end soon');
        expect(cardText(closed)).toContain('Alex Wilber asked to extend the exceptions of 5 mailboxes of group Printers.');
        expect(actionVerbs(closed)).toEqual([]);
      }
      const approval = await connector.waitFor('the extension approval card', () => connector.postedCards().slice(posted).find((p) => isApprovalCard(p.card)));
      expect(approval.call.conversationId).toBe(`a:${adele.id}`);
      expect(cardText(approval.card)).toContain('Extend the SMTP AUTH exceptions of group Printers');
      expect(cardText(approval.card)).toContain('5 mailboxes keep SMTP AUTH on');
      expect(cardText(approval.card)).not.toContain(printerUpn(0));
      const extensionId = approval.card.refresh?.action?.data?.requestId as string ?? requestIdOf(approval.card);
      expect(await context.bot.server.store.getRequest(extensionId)).toMatchObject({ commandId: 'smtp-enable-group', risk: 'high', requiredApprovals: 2, state: 'pending' });

      const again = await context.bot.teams.press(megan, 'exception.group-extend', { requestId });
      expect(cardText(again.body.value)).toContain('Alex Wilber already asked to extend the exceptions of group Printers');
      await context.bot.server.drain();
      expect(connector.postedCards().slice(posted).filter((p) => isApprovalCard(p.card))).toHaveLength(1);

      await context.bot.teams.press(megan, 'request.approve', { requestId: extensionId });
      await context.bot.server.drain();
      expect((await context.bot.server.store.getRequest(extensionId))?.state).toBe('pending');
      // While the extension waits, Printer 1's exception is ended on its own too.
      const endOne = registerEntry((await ask(alex, 'exceptions')).card, 'Printer 1')!;
      await context.bot.teams.press(alex, 'exception.end', endOne.actions[0]!.data!);
      await context.bot.server.drain();
      await simulator.control('DELETE', '/_simulator/calls');
      await context.bot.teams.press(adele, 'request.approve', { requestId: extensionId });
      await context.bot.server.drain();
      expect((await context.bot.server.store.getRequest(extensionId))?.state).toBe('succeeded');
      // Still on: nothing written; the four are the extension's now, with the new end; Printers 0 and 1 are not brought back.
      expect(await simulator.setCasMailboxCalls()).toEqual([]);
      const newEnd = new Date(context.clock.now().getTime() + 90 * day);
      const extended = await ownExceptions(extensionId);
      expect(extended.map((e) => e.targetUpn).sort()).toEqual([2, 3, 4, 5].map(printerUpn));
      expect(extended.every((e) => e.expiresAt?.toISOString() === newEnd.toISOString() && e.approverNames.sort().join() === 'Adele Vance,Megan Bowen')).toBe(true);
      expect(await ownExceptions(requestId)).toEqual([]);
      expect((await printerValues()).slice(0, 2)).toEqual([true, true]);
      expect((await context.bot.server.store.auditEvents(extensionId)).filter((e) => e.action === 'exception.extended')).toHaveLength(4);

      // The old reminder is out of date now, whoever presses and in their language.
      const stale = await context.bot.teams.press(megan, 'exception.group-extend', { requestId });
      expect(cardText(stale.body.value)).toContain('This reminder is out of date');
      expect(cardText(stale.body.value)).toContain('GROUP_EXCEPTIONS_NOT_ACTIVE');
      const staleEs = await context.bot.teams.press(adele, 'exception.group-end', { requestId }, { locale: 'es-ES' });
      expect(cardText(staleEs.body.value)).toContain('Este recordatorio está desactualizado');
      const staleLapse = await context.bot.teams.press(megan, 'exception.group-lapse', { requestId });
      expect(cardText(staleLapse.body.value)).toContain('GROUP_EXCEPTIONS_NOT_ACTIVE');

      // The old end passes with nothing written; the extension's own reminder comes, then its end turns each off, once.
      context.clock.advance(8 * day);
      await context.bot.server.runDueJobs();
      expect(await simulator.setCasMailboxCalls()).toEqual([]);
      expect(await printerValues()).toEqual([true, true, false, false, false, false]);
      context.clock.advance(newEnd.getTime() - context.clock.now().getTime() - 7 * day + minute);
      expect(await context.bot.server.runDueJobs()).toBe(1);
      expect(cardText(groupReminders().at(-1)!.card)).toContain(`4 mailboxes of this group lose SMTP AUTH on ${utc(newEnd)}`);
      context.clock.advance(7 * day);
      expect(await context.bot.server.runDueJobs()).toBe(1);
      expect(await printerValues()).toEqual(Array.from({ length: size }, () => true));
      expect((await landedSets()).sort()).toEqual([2, 3, 4, 5].map((i) => [printerUpn(i), true]));
      expect(await ownExceptions(extensionId)).toEqual([]);
    }, 120_000);

    test('an extension approved after the group\'s exceptions lapsed turns each lapsed mailbox on again, once, and renews its exception', async () => {
      const { requestId } = await approvedGroupEnable('enable SMTP for group Printers for 30 days for the basement scanners');
      context.clock.advance(30 * day - 60 * minute);
      expect(await context.bot.server.runDueJobs()).toBe(1);
      await context.bot.teams.press(alex, 'exception.group-extend', { requestId });
      await context.bot.server.drain();
      const extension = (await context.bot.server.store.requestsIn('pending')).find((r) => r.params.extendsGroupOf === requestId)!;
      await context.bot.teams.press(megan, 'request.approve', { requestId: extension.id });
      await context.bot.server.drain();

      // Nobody gives the second approval in time: the group's exceptions lapse and every mailbox goes off.
      context.clock.advance(61 * minute);
      await context.bot.server.runDueJobs();
      expect(await printerValues()).toEqual(Array.from({ length: size }, () => true));
      expect(await ownExceptions(requestId)).toEqual([]);

      await simulator.control('DELETE', '/_simulator/calls');
      await context.bot.teams.press(adele, 'request.approve', { requestId: extension.id });
      await context.bot.server.drain();
      expect(await context.bot.server.store.getRequest(extension.id)).toMatchObject({ state: 'succeeded', verified: true });
      expect(await printerValues()).toEqual(Array.from({ length: size }, () => false));
      expect((await landedSets()).sort()).toEqual(Array.from({ length: size }, (_, i) => [printerUpn(i), false]).sort());
      const renewed = await ownExceptions(extension.id);
      expect(renewed).toHaveLength(size);
      expect(renewed.every((e) => e.originRequestId === requestId && e.restoreValue === true)).toBe(true);
      expect((await context.bot.server.store.auditEvents(extension.id)).filter((e) => e.action === 'exception.renewed')).toHaveLength(size);
    }, 120_000);

    test('Let them lapse is recorded once; End now is one request gated like a group disable, and a mailbox already off is ended without a write', async () => {
      const { requestId } = await approvedGroupEnable('enable SMTP for group Printers for 30 days for the basement scanners');
      const endsAt = new Date(context.clock.now().getTime() + 30 * day);
      context.clock.advance(23 * day + minute);
      expect(await context.bot.server.runDueJobs()).toBe(1);
      // No approvals conversation chosen: the requester's chat is where approvers are asked, so one card.
      expect(groupReminders().map((p) => p.call.conversationId)).toEqual([`a:${alex.id}`]);

      const reminderId = groupReminders()[0]!.id;
      const lapse = await context.bot.teams.press(megan, 'exception.group-lapse', { requestId });
      expect(cardText(lapse.body.value)).toContain(`Megan Bowen chose to let the exceptions of ${size} mailboxes of group Printers lapse: SMTP AUTH goes off for each on ${utc(endsAt)}.`);
      expect(actionVerbs(lapse.body.value)).toEqual([]);
      await context.bot.server.drain();
      const lapsed = await connector.waitFor('the reminder closed by the lapse', () => connector.updates(reminderId).at(-1));
      expect(cardText(lapsed)).toContain('Megan Bowen chose to let the exceptions');
      expect(actionVerbs(lapsed)).toEqual([]);
      expect((await context.bot.server.store.auditEvents(requestId)).filter((e) => e.action === 'exception.lapse-chosen')).toEqual([
        expect.objectContaining({ actorId: megan.id, detail: expect.objectContaining({ exceptions: size, group: 'Printers' }) })]);

      const notStaff = await context.bot.teams.press(megan, 'exception.group-end', { requestId });
      expect(cardText(notStaff.body.value)).toContain('NOT_IT_STAFF');

      // Printer 5 is turned off outside SMTP Gate meanwhile.
      await simulator.control('POST', '/_simulator/reset', { ...fixture(), users: fixture().users.map((u) => (u.id === printerId(5) || !u.id.startsWith('20000000') ? u : { ...u, mailbox: { smtpClientAuthenticationDisabled: false } })) });
      await simulator.control('DELETE', '/_simulator/calls');
      const posted = connector.postedCards().length;
      const end = await context.bot.teams.press(alex, 'exception.group-end', { requestId });
      expect(cardText(end.body.value)).toContain('Ending the exceptions of 5 mailboxes of group Printers now');
      await context.bot.server.drain();
      const ending = await connector.waitFor('the reminder saying who ended them', () => connector.updates(reminderId).find((c) => cardText(c).includes('Alex Wilber asked to end the exceptions of 5 mailboxes of group Printers now')));
      expect(actionVerbs(ending)).toEqual([]);
      expect((await context.bot.server.store.activeExceptionFor(printerId(5)))).toBeUndefined();
      const below = await connector.waitFor('the End now request below', () => connector.postedCards().slice(posted).find((p) => cardText(p.card).includes('End the SMTP AUTH exceptions of group Printers now') && !isApprovalCard(p.card)));
      expect(below.call.conversationId).toBe(`a:${alex.id}`);
      const endId = requestIdOf(below.card);
      expect(await context.bot.server.store.getRequest(endId)).toMatchObject({ commandId: 'smtp-disable-group', risk: 'medium', requiredApprovals: 1, state: 'pending' });
      const twice = await context.bot.teams.press(adele, 'exception.group-end', { requestId });
      expect(cardText(twice.body.value)).toContain('Alex Wilber has already asked to end this group\'s exceptions now');
      expect(await simulator.setCasMailboxCalls()).toEqual([]);

      await context.bot.teams.press(megan, 'request.approve', { requestId: endId });
      await context.bot.server.drain();
      expect(await printerValues()).toEqual(Array.from({ length: size }, () => true));
      expect((await landedSets()).sort()).toEqual([0, 1, 2, 3, 4].map((i) => [printerUpn(i), true]));
      expect(await ownExceptions(requestId)).toEqual([]);
      const ended = (await context.bot.server.store.auditEvents(endId)).filter((e) => e.action === 'exception.ended');
      expect(ended).toHaveLength(5);

      const stale = await context.bot.teams.press(megan, 'exception.group-extend', { requestId });
      expect(cardText(stale.body.value)).toContain('GROUP_EXCEPTIONS_NOT_ACTIVE');
      await simulator.control('DELETE', '/_simulator/calls');
      context.clock.advance(8 * day);
      await context.bot.server.runDueJobs();
      expect(await simulator.setCasMailboxCalls()).toEqual([]);
    }, 120_000);
  });
}

describeGroupExceptions('PGlite', describe);
describeGroupExceptions('PostgreSQL', describeWithPostgres);
