import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { openDb } from '../../src/store/db';
import { Store } from '../../src/store/store';
import type { TenantFixture } from '../../src/simulator/fixture';
import { cardText } from '../support/fake-connector';
import { describeWithPostgres, postgresUrl } from '../support/databases';
import { demoFixture, demoUser, InProcessBot, pendingEnable, tenantSuite, TestClock } from '../support/harness';
import type { TeamsUser } from '../support/teams';

/**
 * Two instances of the bot sharing one PostgreSQL database, as behind a load balancer: every
 * approval click and every job may land on either, and each change still reaches the tenant once.
 */

const day = 24 * 3_600_000;
const alex = demoUser('Alex Wilber'); // IT staff, the requester
const bob = demoFixture.users.find((u) => u.userPrincipalName === 'bob@contoso.com')!;

// Six approvers: the demo's two plus four more, so twenty clicks come from distinct people as well as repeats.
const approverGroupId = demoFixture.localMode!.approverGroupId;
const extraApprovers = demoFixture.users.filter((u) => u.id !== alex.id && u.id !== bob.id && u.mailbox && !demoFixture.groups!.find((g) => g.id === approverGroupId)!.members.includes(u.id)).slice(0, 4);
const fixture: TenantFixture = {
  ...demoFixture,
  groups: demoFixture.groups!.map((g) => (g.id === approverGroupId ? { ...g, members: [...g.members, ...extraApprovers.map((u) => u.id)] } : g)),
};
const approvers: TeamsUser[] = fixture.groups!.find((g) => g.id === approverGroupId)!.members.map((id) => {
  const u = fixture.users.find((x) => x.id === id)!;
  return { id: u.id, name: u.displayName };
});

const schema = `smtp_gate_instances_${randomBytes(6).toString('hex')}`;
describeWithPostgres('two bot instances on one PostgreSQL', () => {
  const tenant = tenantSuite();
  let clock: TestClock;
  let first: InProcessBot;
  let second: InProcessBot;
  let store: Store;

  beforeAll(async () => {
    clock = new TestClock(new Date('2026-11-23T09:00:00Z'));
    const shared = { DATABASE_URL: postgresUrl, DATABASE_SCHEMA: schema, QUORUM_MEDIUM: '2' };
    // Started together, as a deployment's instances are: both create the schema and migrate at once.
    [first, second] = await Promise.all([
      InProcessBot.start(tenant.simulator, tenant.connector, clock.now, shared),
      InProcessBot.start(tenant.simulator, tenant.connector, clock.now, shared),
    ]);
    store = new Store(await openDb({ databaseUrl: postgresUrl, schema }));
  }, 60_000);
  tenant.closeBeforeTenant(async () => {
    await first?.server.close();
    await second?.server.close();
    await store?.close();
  });

  afterAll(async () => {
    const client = new Client({ connectionString: postgresUrl });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });

  beforeEach(async () => {
    await tenant.simulator.control('POST', '/_simulator/reset', fixture);
    tenant.connector.calls.length = 0;
  });

  /** Alex asks on the first instance and confirms on the second; returns the request and its approval card. */
  async function requestAndConfirm(text: string) {
    const { requestId, confirmed, approval } = await pendingEnable({ connector: tenant.connector, bot: first }, alex, text, { justification: 'the floor 2 scanner sends scans by mail', confirmOn: second });
    expect(cardText(confirmed.body.value)).toContain('Waiting for approval');
    return { requestId, approval };
  }

  async function settled(requestId: string, state: string) {
    await Promise.all([first.server.drain(), second.server.drain()]);
    return waitFor(`request ${state}`, async () => {
      const request = await store.getRequest(requestId);
      return request?.state === state ? request : undefined;
    });
  }

  test('20 concurrent approve clicks over two instances, quorum 2: one Set-CASMailbox, two approvals recorded, every clicker a sensible card', async () => {
    const { requestId, approval } = await requestAndConfirm('enable SMTP for bob');

    const clicks = Array.from({ length: 20 }, (_, i) => ({ approver: approvers[i % approvers.length]!, bot: i % 2 === 0 ? first : second }));
    const answers = await Promise.all(clicks.map(({ approver, bot }) => bot.teams.press(approver, 'request.approve', { requestId })));

    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.body.statusCode).toBe(200);
      expect(answer.body.type).toBe('application/vnd.microsoft.card.adaptive');
      const text = cardText(answer.body.value);
      expect(text).toContain('Enable SMTP AUTH for Bob Smith');
      // Whoever clicks sees where the request stands, or why their click changed nothing — never a failure.
      expect(text).toMatch(/Waiting for approval|Approved — applying the change|Applying the change|Done|already decided|can't be changed any more/);
      expect(text).not.toMatch(/INTERNAL|went wrong|failed/i);
    }

    const done = await settled(requestId, 'succeeded');
    expect(done.verified).toBe(true);
    const sets = await tenant.simulator.setCasMailboxCalls();
    expect(sets).toHaveLength(1);
    expect(sets[0]!.parameters).toEqual({ Identity: bob.userPrincipalName, SmtpClientAuthenticationDisabled: false });
    expect(await tenant.simulator.mailboxOf(bob.id)).toEqual({ smtpClientAuthenticationDisabled: false });

    // The quorum is two: the two approvals that reached it, and no decision recorded after it was reached.
    const approvals = await store.approvals(requestId);
    expect(approvals.map((a) => a.decision)).toEqual(['approve', 'approve']);
    expect(new Set(approvals.map((a) => a.approverId)).size).toBe(2);
    const events = await store.auditEvents(requestId);
    expect(events.filter((e) => e.action === 'request.approve')).toHaveLength(2);
    expect(events.filter((e) => e.action === 'tenant.write')).toHaveLength(1);
    expect(events.filter((e) => e.action === 'request.transition' && e.detail.to === 'executing')).toHaveLength(1);
    // Each refused click is on the record with its reason.
    const denied = events.filter((e) => e.action === 'action.denied').map((e) => e.detail.reason);
    expect(denied).toHaveLength(18);
    expect(new Set(denied)).toEqual(new Set(denied.filter((r) => r === 'ALREADY_APPROVED_BY_YOU' || r === 'REQUEST_CLOSED')));

    await tenant.connector.waitFor('the approval card updated to done', () => tenant.connector.updates(approval.id).find((c) => cardText(c).includes('Done, verified')));
  }, 60_000);

  test('a time-boxed enable reverts once although both instances run their job loops concurrently, again and again', async () => {
    const before = bob.mailbox!.smtpClientAuthenticationDisabled;
    const { requestId, approval } = await requestAndConfirm('enable SMTP for bob for 7 days');
    await first.teams.press(approvers[0]!, 'request.approve', { requestId });
    await second.teams.press(approvers[1]!, 'request.approve', { requestId });
    await settled(requestId, 'succeeded');
    expect(await tenant.simulator.mailboxOf(bob.id)).toEqual({ smtpClientAuthenticationDisabled: false });

    const bothLoops = async () => (await Promise.all([first, second, first, second].map((bot) => bot.server.runDueJobs()))).reduce((a, b) => a + b, 0);
    clock.advance(7 * day - 60_000);
    expect(await bothLoops()).toBe(0);

    clock.advance(2 * 60_000);
    // The revert's write is slow; while it is in flight the clock passes the job's lease (5 min) and
    // both instances look again: the job is due again, but the revert must not run twice.
    await tenant.simulator.control('POST', '/_simulator/faults', { latencyMs: 400, rules: [] });
    const inFlight = bothLoops();
    await waitFor('the revert on its way to the tenant', async () => (await tenant.simulator.setCasMailboxCalls()).length === 2 || undefined);
    clock.advance(10 * 60_000);
    const overlapping = bothLoops();
    await Promise.all([inFlight, overlapping]);
    await tenant.simulator.control('DELETE', '/_simulator/faults');
    for (let round = 0; round < 3; round++) {
      clock.advance(10 * 60_000);
      await bothLoops();
    }

    const reverted = await settled(requestId, 'reverted');
    expect(reverted.after).toMatchObject({ mailboxSmtpClientAuthenticationDisabled: before });
    expect(await tenant.simulator.mailboxOf(bob.id)).toEqual({ smtpClientAuthenticationDisabled: before });
    const sets = await tenant.simulator.setCasMailboxCalls();
    expect(sets.map((c) => c.parameters?.SmtpClientAuthenticationDisabled)).toEqual([false, before]);
    const writes = (await store.auditEvents(requestId)).filter((e) => e.action === 'tenant.write');
    expect(writes.map((e) => e.detail.reason)).toEqual(['execute', 'revert']);
    expect((await store.jobs(requestId)).find((j) => j.kind === 'request.revert')?.state).toBe('done');
    await tenant.connector.waitFor('the card marked reverted', () => tenant.connector.updates(approval.id).find((c) => cardText(c).includes('Reverted: the mailbox setting is back')));
    expect(tenant.connector.postedCards().filter((p) => cardText(p.card).includes('time-boxed change for Bob Smith has ended'))).toHaveLength(1);
  }, 60_000);

  async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
});
