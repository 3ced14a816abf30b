import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cardText, isApprovalCard } from '../support/fake-connector';
import { demoFixture, demoUser, draftRequest, InProcessBot, pendingEnable, tenantSuite, TestClock } from '../support/harness';

/**
 * The process stopped after the approval was recorded but before the execution started: the
 * request sits `approved`. The next start runs it, once, and the cards catch up.
 */

const alex = demoUser('Alex Wilber');
const bob = demoFixture.users.find((u) => u.userPrincipalName === 'bob@contoso.com')!;

const tenant = tenantSuite();
let dataDir: string;

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'smtp-gate-restart-'));
});

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

/** IT staff asks to enable SMTP for bob on this bot; resolves with the draft's request id. */
async function draftEnableForBob(bot: InProcessBot): Promise<string> {
  return (await draftRequest({ connector: tenant.connector, bot }, alex, 'enable SMTP for bob for the floor 2 scanner')).requestId;
}

test('a request left approved by a stop before execution is executed once at the next start', async () => {
  const clock = new TestClock(new Date('2026-11-23T09:00:00Z'));
  const first = await InProcessBot.start(tenant.simulator, tenant.connector, clock.now, { DATA_DIR: dataDir });
  let requestId: string;
  try {
    ({ requestId } = await pendingEnable({ connector: tenant.connector, bot: first }, alex, 'enable SMTP for bob for the floor 2 scanner'));
    // The approval was stored and the process went away before its follow-up ran.
    const pending = await first.server.store.getRequest(requestId);
    expect(pending?.state).toBe('pending');
    expect(await first.server.store.transition(requestId, 'pending', 'approved', clock.now())).toBeDefined();
  } finally {
    await first.server.close();
  }
  expect(await tenant.simulator.setCasMailboxCalls()).toHaveLength(0);

  const second = await InProcessBot.start(tenant.simulator, tenant.connector, clock.now, { DATA_DIR: dataDir });
  try {
    const settled = await second.server.store.getRequest(requestId);
    expect(settled).toMatchObject({ state: 'succeeded', verified: true });
    const sets = await tenant.simulator.setCasMailboxCalls();
    expect(sets.map((c) => c.parameters)).toEqual([{ Identity: bob.userPrincipalName, SmtpClientAuthenticationDisabled: false }]);
    const events = await second.server.store.auditEvents(requestId);
    expect(events.map((e) => e.action)).toContain('request.reconciled');
    await tenant.connector.waitFor('the requester told it is done', () => tenant.connector.postedCards().find((p) => /done/i.test(cardText(p.card)) && cardText(p.card).includes('Bob Smith')));
  } finally {
    await second.server.close();
  }

  // A third start finds nothing to do.
  const third = await InProcessBot.start(tenant.simulator, tenant.connector, clock.now, { DATA_DIR: dataDir });
  await third.server.close();
  expect(await tenant.simulator.setCasMailboxCalls()).toHaveLength(1);
}, 90_000);

test('a request left executing with nobody executing it is settled by a later job pass, without a restart', async () => {
  const clock = new TestClock(new Date('2026-11-24T09:00:00Z'));
  const bot = await InProcessBot.start(tenant.simulator, tenant.connector, clock.now, { DATA_DIR: dataDir });
  try {
    await tenant.simulator.control('POST', '/_simulator/reset');
    const requestId = await draftEnableForBob(bot);
    await bot.teams.press(alex, 'request.confirm', { requestId });
    await bot.server.drain();
    // Another instance claimed the execution and died before writing (its lock went with it).
    expect(await bot.server.store.transition(requestId, 'pending', 'approved', clock.now())).toBeDefined();
    expect(await bot.server.store.transition(requestId, 'approved', 'executing', clock.now())).toBeDefined();

    await bot.server.runDueJobs();
    expect((await bot.server.store.getRequest(requestId))?.state).toBe('executing'); // not stale yet: maybe someone is on it

    clock.advance(3 * 60_000);
    await bot.server.runDueJobs();
    expect(await bot.server.store.getRequest(requestId)).toMatchObject({ state: 'succeeded', verified: true });
    expect(await tenant.simulator.setCasMailboxCalls()).toHaveLength(1);
    const outcome = (await bot.server.store.auditEvents(requestId)).find((e) => e.action === 'request.reconciled')?.detail;
    expect(outcome).toMatchObject({ outcome: 'retrying-once' });
    await bot.server.runDueJobs();
    expect(await tenant.simulator.setCasMailboxCalls()).toHaveLength(1);
  } finally {
    await bot.server.close();
  }
}, 90_000);

test('a request left confirmed (stopped between confirming and routing) goes to the approvers at the next pass', async () => {
  const clock = new TestClock(new Date('2026-11-25T09:00:00Z'));
  const bot = await InProcessBot.start(tenant.simulator, tenant.connector, clock.now, { DATA_DIR: dataDir });
  try {
    await tenant.simulator.control('POST', '/_simulator/reset');
    const posted = tenant.connector.postedCards().length;
    const requestId = await draftEnableForBob(bot);
    expect(await bot.server.store.transition(requestId, 'draft', 'confirmed', clock.now())).toBeDefined();

    clock.advance(3 * 60_000);
    await bot.server.runDueJobs();
    expect((await bot.server.store.getRequest(requestId))?.state).toBe('pending');
    await tenant.connector.waitFor('the approval card', () => tenant.connector.postedCards().slice(posted).find((p) => isApprovalCard(p.card)));
    expect(await tenant.simulator.setCasMailboxCalls()).toHaveLength(0);
  } finally {
    await bot.server.close();
  }
}, 90_000);

test('/healthz answers 503 naming the store while the database is gone', async () => {
  const clock = new TestClock(new Date('2026-11-26T09:00:00Z'));
  const bot = await InProcessBot.start(tenant.simulator, tenant.connector, clock.now, { DATA_DIR: dataDir });
  const health = async () => {
    const res = await fetch(`http://127.0.0.1:${bot.server.port}/healthz`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  try {
    expect(await health()).toMatchObject({ status: 200, body: { store: 'ok', tenant: 'ok' } });
    await bot.server.store.close();
    expect(await health()).toMatchObject({ status: 503, body: { store: 'unavailable', tenant: 'ok' } });
  } finally {
    await bot.server.close().catch(() => undefined);
  }
}, 60_000);
