import { randomUUID } from 'node:crypto';
import { loadConfig, type Config } from '../../src/config';
import type { Notifier } from '../../src/ports/notifier';
import { planGroupChange } from '../../src/core/group-drafts';
import { smtpDisableGroup } from '../../src/commands/smtp-disable-group';
import { smtpEnableGroup } from '../../src/commands/smtp-enable-group';
import type { ChangeCommand } from '../../src/commands/types';
import { createLogger } from '../../src/log';
import type { RequestRecord } from '../../src/model/requests';
import { requestServices, type RequestServices } from '../../src/requests/services';
import { loadFixture, type TenantFixture } from '../../src/simulator/fixture';
import { reverseIntents, readPlan } from '../../src/steps/plan';
import type { Store } from '../../src/store/store';
import { connectTenant, type Tenant } from '../../src/tenant';
import { describeWithPostgres, pgliteDatabase, postgresDatabase, storeSuite, type TestDatabase } from '../support/databases';
import { count, recordFigure } from '../support/figures';
import { botSettings, SimulatorHandle, type SimCall } from '../support/harness';
import { DEMO_FIXTURE_PATH } from '../simulator/simulatorClient';

/**
 * A group change against the simulator over HTTPS and a real store (PGlite and PostgreSQL): every
 * mailbox of the group (nested groups flattened) is one step, claimed before its write and written
 * once, in bounded parallel, through Exchange throttling and outages; each mailbox has its own audit
 * event and, for an enable, its own exception, which ends or lapses on its own.
 */

const size = 200;
const groupId = '30000000-0000-4000-8000-000000000001';
const printerId = (i: number) => `20000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

/** 200 printers in two nested groups that overlap by ten, plus a member without a mailbox and one already on. */
function printersFixture(): TenantFixture {
  const fixture = loadFixture(DEMO_FIXTURE_PATH);
  for (let i = 0; i < size; i++) {
    fixture.users.push({
      id: printerId(i), displayName: `Printer ${i}`, userPrincipalName: `printer${i}@contoso.com`, mail: `printer${i}@contoso.com`, givenName: null, surname: null,
      preferredLanguage: null, accountEnabled: true, mailbox: { smtpClientAuthenticationDisabled: true }, perUserMfaState: 'disabled',
    });
  }
  const lidia = fixture.users.find((u) => u.userPrincipalName === 'lidiah@contoso.com')!;
  const wang = fixture.users.find((u) => u.userPrincipalName === 'wang.wei@contoso.com')!;
  const north = '30000000-0000-4000-8000-00000000000a';
  const south = '30000000-0000-4000-8000-00000000000b';
  fixture.groups!.push(
    { id: north, displayName: 'Printers North', mailNickname: 'printersnorth', members: Array.from({ length: 110 }, (_, i) => printerId(i)) },
    { id: south, displayName: 'Printers South', mailNickname: 'printerssouth', members: Array.from({ length: 100 }, (_, i) => printerId(100 + i)) },
    { id: groupId, displayName: 'Printers', mailNickname: 'printers', members: [north, south, lidia.id, wang.id] },
  );
  return fixture;
}

let simulator: SimulatorHandle;
let tenant: Tenant;
let config: Config;
const fixture = printersFixture();

beforeAll(async () => {
  simulator = await SimulatorHandle.start();
  // The HTTP layer retries twice, quickly; what outlasts it is the group runner's to retry. A write is
  // retried after a time-out too (it may have landed): on a loaded machine 1.5 s is too short to count writes by.
  config = loadConfig(botSettings(simulator, { LOG_LEVEL: 'silent', TENANT_MAX_RETRIES: '2', TENANT_TIMEOUT_MS: '15000' }));
  tenant = connectTenant(config, { baseDelayMs: 5 });
}, 60_000);

afterAll(async () => {
  await tenant?.close();
  await simulator?.close();
});

async function calls(cmdlet: string): Promise<SimCall[]> {
  return (await simulator.control<SimCall[]>('GET', '/_simulator/calls')).filter((c) => c.cmdlet === cmdlet);
}

async function mailboxes(): Promise<Map<string, boolean | null>> {
  const state = await simulator.control<{ users: { id: string; mailbox: { smtpClientAuthenticationDisabled: boolean | null } | null }[] }>('GET', '/_simulator/state');
  return new Map(state.users.filter((u) => u.mailbox).map((u) => [u.id, u.mailbox!.smtpClientAuthenticationDisabled]));
}

/** Card updates, with when they were sent. */
function recordingNotifier(): Notifier & { updates: number[] } {
  const updates: number[] = [];
  return { updates, send: async () => randomUUID(), update: async () => { updates.push(Date.now()); }, members: async () => [] };
}

function describeGroups(name: string, database: () => Promise<TestDatabase | undefined>, describeOn: (name: string, fn: () => void) => void = describe): void {
  describeOn(`group changes on ${name}`, () => {
    const test = storeSuite(database);
    let requests: RequestServices;
    let notifier: ReturnType<typeof recordingNotifier>;

    const setUp = async (store: Store) => {
      await simulator.control('POST', '/_simulator/reset', fixture);
      await simulator.control('DELETE', '/_simulator/faults');
      await simulator.control('DELETE', '/_simulator/calls');
      notifier = recordingNotifier();
      requests = requestServices({ config, store, tenant, notifier, logger: createLogger('silent'), now: () => new Date(), newId: randomUUID, bulk: { throttlePauseMs: 5, progressIntervalMs: 250 } });
    };

    /** A group request drafted as the dispatcher drafts it, confirmed, approved, its card posted once. */
    const approvedGroupRequest = async (store: Store, command: ChangeCommand, params: Record<string, unknown> = {}): Promise<RequestRecord> => {
      const group = (await tenant.directory.findGroups(groupId))[0]!;
      const planned = await planGroupChange(tenant, command, group, fixture.tenant.id, false);
      const now = new Date();
      const draft: RequestRecord = {
        id: randomUUID(), tenantId: fixture.tenant.id, commandId: command.id, state: 'draft', risk: planned.risk, requiredApprovals: 2,
        requesterId: 'alex', requesterName: 'Alex Wilber', targetUserId: null, targetUpn: null, targetDisplayName: group.displayName,
        params: { group: planned.group, justification: 'floor printers scan to mail', ...params }, language: 'en', conversation: {}, before: null, after: null, verified: null, errorCode: null,
        createdAt: now, updatedAt: now, expiresAt: new Date(now.getTime() + 3_600_000), plan: planned.steps,
      };
      await requests.lifecycle.create(draft, {});
      await store.addCardPost({ requestId: draft.id, activityId: 'a1', conversation: {}, audience: 'requester', language: 'en' });
      const confirmed = await requests.lifecycle.move(draft, 'confirmed', 'alex');
      return (await requests.lifecycle.move(confirmed!, 'approved', 'megan'))!;
    };

    test('a 200-mailbox group enable with 50 % 429s and 10 % 503s on Exchange sets every mailbox once; each has its own audit event and exception', async (store) => {
      await setUp(store);
      const request = await approvedGroupRequest(store, smtpEnableGroup, { durationMs: 30 * 86_400_000 });
      expect(request.risk).toBe('high');
      expect(request.plan).toHaveLength(size);
      expect(request.params.group).toMatchObject({ members: size + 2, alreadySo: 1, skipped: [expect.objectContaining({ userPrincipalName: 'lidiah@contoso.com' })] });
      // Drafting read every mailbox with four listing calls, not one read per member.
      expect(await calls('Get-CASMailbox')).toHaveLength(3);
      await simulator.control('DELETE', '/_simulator/calls');

      await simulator.control('POST', '/_simulator/faults', { rules: [
        { service: 'exchange', status: 429, retryAfterSeconds: 0, probability: 0.5 },
        { service: 'exchange', status: 503, probability: 0.2 },
      ] });
      const started = performance.now();
      await requests.execution.execute(request.id);
      const elapsedMs = performance.now() - started;
      await simulator.control('DELETE', '/_simulator/faults');

      const done = (await store.getRequest(request.id))!;
      expect(done.state).toBe('succeeded');
      expect(done.plan.filter((step) => step.status !== 'applied')).toEqual([]);
      expect(done.verified).toBe(true);
      const state = await mailboxes();
      expect(Array.from({ length: size }, (_, i) => state.get(printerId(i)))).toEqual(Array.from({ length: size }, () => false));

      const sets = await calls('Set-CASMailbox');
      const landed = sets.filter((c) => c.status === 200);
      const perMailbox = new Map<string, number>();
      for (const call of landed) perMailbox.set(String(call.parameters!.Identity), (perMailbox.get(String(call.parameters!.Identity)) ?? 0) + 1);
      expect(perMailbox.size).toBe(size);
      expect([...perMailbox.values()].every((n) => n === 1)).toBe(true);
      const throttled = sets.filter((c) => c.status === 429).length;
      const unavailable = sets.filter((c) => c.status === 503).length;
      expect(throttled).toBeGreaterThan(50);
      expect(unavailable).toBeGreaterThan(5);

      const writes = (await store.auditEvents(request.id)).filter((e) => e.action === 'tenant.write');
      expect(writes).toHaveLength(size);
      expect(new Set(writes.map((e) => e.detail.identity)).size).toBe(size);
      expect(writes.every((e) => e.detail.readBackMatched === true)).toBe(true);

      const exceptions = (await store.activeExceptions(fixture.tenant.id)).filter((e) => e.requestId === request.id);
      expect(exceptions).toHaveLength(size);
      expect(new Set(exceptions.map((e) => e.targetUserId)).size).toBe(size);
      expect(exceptions.every((e) => e.restoreValue === true && e.justification === 'floor printers scan to mail' && e.expiresAt !== null)).toBe(true);

      // The card followed the run at a bounded rate ("n of m"), not once per mailbox, and ended on the result.
      expect(notifier.updates.length).toBeGreaterThanOrEqual(2);
      expect(notifier.updates.length).toBeLessThanOrEqual(Math.ceil(elapsedMs / 250) + 3);

      {
        recordFigure(`group-change-200-${name.toLowerCase()}`, {
          suite: `Group change, 200 mailboxes (simulator, ${name})`,
          tried: `${size} mailboxes in nested groups; Exchange answered ${count(throttled)} × 429 and ${count(unavailable)} × 503 to Set-CASMailbox (50 % / 10 % injected on every Exchange call)`,
          held: `${size} mailboxes set, each by exactly 1 successful write; ${size} audit events, ${size} exceptions; ${(elapsedMs / 1000).toFixed(1)} s; ${notifier.updates.length} card updates`,
        });
      }
    }, 120_000);

    test('undo puts every mailbox back and ends each one\'s exception, with one write each', async (store) => {
      await setUp(store);
      const enable = await approvedGroupRequest(store, smtpEnableGroup);
      await requests.execution.execute(enable.id);
      const done = (await store.getRequest(enable.id))!;
      const reverse = reverseIntents(done.plan);
      expect(reverse).toHaveLength(size);
      const { steps } = await readPlan(tenant, reverse);
      const now = new Date();
      const undo: RequestRecord = {
        ...done, id: randomUUID(), commandId: 'plan-undo', state: 'draft', plan: steps, params: { undoes: enable.id, group: done.params.group },
        createdAt: now, updatedAt: now, verified: null, errorCode: null,
      };
      await requests.lifecycle.create(undo, {});
      const confirmed = await requests.lifecycle.move(undo, 'confirmed', 'alex');
      await requests.lifecycle.move(confirmed!, 'approved', 'megan');
      await simulator.control('DELETE', '/_simulator/calls');
      await requests.execution.execute(undo.id);
      expect(await store.getRequest(undo.id)).toMatchObject({ state: 'succeeded', verified: true });
      const state = await mailboxes();
      expect(Array.from({ length: size }, (_, i) => state.get(printerId(i))).every((v) => v === true)).toBe(true);
      expect((await calls('Set-CASMailbox')).filter((c) => c.status === 200)).toHaveLength(size);
      expect((await store.activeExceptions(fixture.tenant.id)).filter((e) => e.requestId === enable.id)).toEqual([]);
      expect((await store.getRequest(enable.id))?.params.undoneBy).toBe(undo.id);
    }, 120_000);

    test('a crash mid-run is settled per mailbox from the tenant: no mailbox written twice, the rest written once', async (store) => {
      await setUp(store);
      const request = await approvedGroupRequest(store, smtpEnableGroup);
      // As if the process died: executing, 50 steps applied, 20 claimed and written but not recorded, 130 never reached.
      const executing = (await requests.lifecycle.move(request, 'executing', null))!;
      for (let i = 0; i < 70; i++) {
        const step = executing.plan[i]!;
        await store.updateStep(request.id, i, ['pending'], { status: 'writing' }, new Date());
        await tenant.exchange.setCasMailboxSmtpClientAuthenticationDisabled(step.target.identity, false);
        if (i < 50) await store.updateStep(request.id, i, ['writing'], { status: 'applied', verified: true }, new Date());
      }
      await simulator.control('DELETE', '/_simulator/calls');
      await requests.execution.reconcile();
      const settled = (await store.getRequest(request.id))!;
      expect(settled.state).toBe('succeeded');
      expect(settled.plan.every((step) => step.status === 'applied')).toBe(true);
      const written = (await calls('Set-CASMailbox')).map((c) => String(c.parameters!.Identity));
      expect(written.sort()).toEqual(executing.plan.slice(70).map((step) => step.target.identity).sort());
      expect((await store.auditEvents(request.id)).filter((e) => e.action === 'request.reconciled' && e.detail.outcome === 'already-applied')).toHaveLength(20);
    }, 120_000);

    test('a time-boxed group enable lapses per mailbox: each back off, each exception lapsed; one extended by a later request keeps its access', async (store) => {
      await setUp(store);
      const request = await approvedGroupRequest(store, smtpEnableGroup, { durationMs: 7 * 86_400_000 });
      await requests.execution.execute(request.id);
      const exceptions = (await store.activeExceptions(fixture.tenant.id)).filter((e) => e.requestId === request.id);
      expect(exceptions).toHaveLength(size);
      // Printer 7's exception is extended by a request of its own: its access is that request's now,
      // and the group's revert job stays for the other 199.
      const printer7 = exceptions.find((e) => e.targetUserId === printerId(7))!;
      const now = new Date();
      const extension: RequestRecord = {
        id: randomUUID(), tenantId: fixture.tenant.id, commandId: 'smtp-enable', state: 'draft', risk: 'medium', requiredApprovals: 1,
        requesterId: 'alex', requesterName: 'Alex Wilber', targetUserId: printer7.targetUserId, targetUpn: printer7.targetUpn, targetDisplayName: printer7.targetDisplayName,
        params: { extendsException: printer7.id, justification: 'still scanning', durationMs: 30 * 86_400_000 }, language: 'en', conversation: {}, before: null, after: null, verified: null, errorCode: null,
        createdAt: now, updatedAt: now, expiresAt: new Date(now.getTime() + 3_600_000), plan: [],
      };
      await requests.lifecycle.create(extension, {});
      await requests.lifecycle.move((await requests.lifecycle.move(extension, 'confirmed', 'alex'))!, 'approved', 'megan');
      await requests.execution.execute(extension.id);
      expect(await store.activeExceptionFor(printerId(7))).toMatchObject({ requestId: extension.id, justification: 'still scanning' });
      const jobs = await store.db.query<{ kind: string }>("SELECT kind FROM jobs WHERE request_id = $1 AND kind = 'request.revert' AND state = 'scheduled'", [request.id]);
      expect(jobs).toHaveLength(1);
      await requests.execution.revert(request.id);
      expect((await store.getRequest(request.id))?.state).toBe('reverted');
      const state = await mailboxes();
      expect(Array.from({ length: size }, (_, i) => state.get(printerId(i))).filter((v) => v !== true)).toEqual([false]);
      expect(state.get(printerId(7))).toBe(false);
      const active = await store.activeExceptions(fixture.tenant.id);
      expect(active.filter((e) => e.targetUserId.startsWith('20000000')).map((e) => e.targetUserId)).toEqual([printerId(7)]);
    }, 120_000);
  });
}

describeGroups('PGlite', async () => pgliteDatabase());
describeGroups('PostgreSQL', async () => postgresDatabase(), describeWithPostgres);
