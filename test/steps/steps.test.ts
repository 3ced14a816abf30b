import { randomUUID } from 'node:crypto';
import { requestCard } from '../../src/cards/builders';
import { loadConfig, quorumFor, type Config } from '../../src/config';
import type { Notifier } from '../../src/ports/notifier';
import { translator } from '../../src/i18n';
import { createLogger } from '../../src/log';
import type { RequestRecord } from '../../src/model/requests';
import { requestServices, type RequestServices } from '../../src/requests/services';
import { mailboxSmtpAuth } from '../../src/steps/mailbox-smtp-auth';
import { orgSmtpAuth } from '../../src/steps/org-smtp-auth';
import { authenticationPolicy } from '../../src/steps/authentication-policy';
import { perUserMfa } from '../../src/steps/per-user-mfa';
import { securityDefaults } from '../../src/steps/security-defaults';
import type { TenantFixture } from '../../src/simulator/fixture';
import { planRisk, readPlan, reverseIntents } from '../../src/steps/plan';
import { stepKinds } from '../../src/steps/registry';
import type { StepIntent, StepTarget } from '../../src/steps/types';
import type { Store } from '../../src/store/store';
import { connectTenant, type Tenant } from '../../src/tenant';
import { describeWithPostgres, pgliteDatabase, postgresDatabase, storeSuite, type TestDatabase } from '../support/databases';
import { botSettings, demoFixture, SimulatorHandle, type SimCall } from '../support/harness';

/**
 * The plan model against the simulator over HTTPS and a real store: every step kind is written,
 * read back, audited and reversed; a crash between a write and its state update is settled from the
 * tenant with no second write; plans of several steps run in order, stop at the first failure and
 * are undone as a whole.
 */

const bob = demoFixture.users.find((u) => u.userPrincipalName === 'bob@contoso.com')!;
const bobMailbox: StepTarget = { type: 'mailbox', id: bob.id, identity: bob.userPrincipalName, displayName: bob.displayName };
const organization: StepTarget = { type: 'organization', id: demoFixture.tenant.id, identity: demoFixture.tenant.id, displayName: demoFixture.tenant.id };

const jose = demoFixture.users.find((u) => u.userPrincipalName === 'jose.nunez@contoso.com')!;
const joseUser: StepTarget = { type: 'user', id: jose.id, identity: jose.userPrincipalName, displayName: jose.displayName };
/** Security defaults on and no Conditional Access policy: the only tenant in which Entra lets them be turned back on. */
const securityDefaultsOn = (fixture: TenantFixture): void => {
  fixture.org.securityDefaultsEnabled = true;
  fixture.conditionalAccessPolicies = [];
};

/** One intent per step kind that changes the demo tenant's value (in the tenant `fixture` makes of it), and what it starts at. */
const changeOf: Record<string, { intent: StepIntent; start: unknown; fixture?: (fixture: TenantFixture) => void }> = {
  [mailboxSmtpAuth.id]: { intent: { kind: mailboxSmtpAuth.id, target: bobMailbox, desired: false }, start: bob.mailbox!.smtpClientAuthenticationDisabled },
  [orgSmtpAuth.id]: { intent: { kind: orgSmtpAuth.id, target: organization, desired: false }, start: true },
  [securityDefaults.id]: { intent: { kind: securityDefaults.id, target: organization, desired: false }, start: true, fixture: securityDefaultsOn },
  [perUserMfa.id]: { intent: { kind: perUserMfa.id, target: joseUser, desired: 'disabled' }, start: 'enabled' },
  [authenticationPolicy.id]: { intent: { kind: authenticationPolicy.id, target: joseUser, desired: 'Allow Basic SMTP' }, start: 'Block Basic Auth' },
};

let simulator: SimulatorHandle;
let tenant: Tenant;
let config: Config;

beforeAll(async () => {
  simulator = await SimulatorHandle.start();
  config = loadConfig(botSettings(simulator, { LOG_LEVEL: 'silent' }));
  tenant = connectTenant(config);
}, 60_000);

afterAll(async () => {
  await tenant?.close();
  await simulator?.close();
});

const silentNotifier: Notifier = { send: async () => undefined, update: async () => {}, members: async () => [] };

/** Every write the tenant received: Exchange Set-* cmdlets and Graph PATCHes (their JSON body as parameters). */
async function writes(): Promise<(SimCall & { method: string; path: string })[]> {
  return (await simulator.control<(SimCall & { method: string; path: string })[]>('GET', '/_simulator/calls')).filter((c) => c.cmdlet?.startsWith('Set-') || c.method === 'PATCH');
}

/** How a write shows in the call log: the cmdlet, or the Graph operation (version and object ids left out), as the audit names it. */
function writeName(call: { cmdlet: string | null; method: string; path: string }): string {
  return call.cmdlet ?? `${call.method} ${call.path.replace(/^\/(v1\.0|beta)/, '').replace(/\/users\/[^/]+\//, '/users/{id}/')}`;
}

async function orgValue(): Promise<boolean> {
  return (await tenant.exchange.getTransportConfig()).smtpClientAuthenticationDisabled;
}

function describePlans(name: string, database: () => Promise<TestDatabase | undefined>, describeOn: (name: string, fn: () => void) => void = describe): void {
  describeOn(`plans on ${name}`, () => {
    const test = storeSuite(database);
    let requests: RequestServices;

    const setUp = async (store: Store, fixture?: (fixture: TenantFixture) => void) => {
      const tenantFixture = structuredClone(demoFixture);
      fixture?.(tenantFixture);
      await simulator.control('POST', '/_simulator/reset', tenantFixture);
      await simulator.control('DELETE', '/_simulator/calls');
      requests = requestServices({ config, store, tenant, notifier: silentNotifier, logger: createLogger('silent'), now: () => new Date(), newId: randomUUID });
    };

    /** A request for these steps, read now (those already so dropped), confirmed and approved. */
    const approvedRequest = async (store: Store, intents: StepIntent[], params: Record<string, unknown> = {}): Promise<RequestRecord> => {
      const { steps } = await readPlan(tenant, intents);
      const risk = planRisk(steps);
      const now = new Date();
      const draft: RequestRecord = {
        id: randomUUID(), tenantId: demoFixture.tenant.id, commandId: 'undo', state: 'draft', risk, requiredApprovals: quorumFor(config, risk),
        requesterId: 'alex', requesterName: 'Alex Wilber', targetUserId: null, targetUpn: null, targetDisplayName: null,
        params, language: 'en', conversation: {}, before: null, after: null, verified: null, errorCode: null,
        createdAt: now, updatedAt: now, expiresAt: new Date(now.getTime() + 3_600_000), plan: steps,
      };
      await requests.lifecycle.create(draft, {});
      const confirmed = await requests.lifecycle.move(draft, 'confirmed', 'alex');
      return (await requests.lifecycle.move(confirmed!, 'approved', 'megan'))!;
    };

    test('every step kind: written once, read back, audited by its own operation, and reversed', async (store) => {
      for (const kind of stepKinds) {
        const { intent, start, fixture } = changeOf[kind.id]!;
        await setUp(store, fixture);
        const request = await approvedRequest(store, [intent]);
        await requests.execution.execute(request.id);
        const done = await store.getRequest(request.id);
        expect(done).toMatchObject({ state: 'succeeded', verified: true });
        expect(done!.plan).toEqual([expect.objectContaining({ kind: kind.id, status: 'applied', verified: true })]);
        expect(kind.holds(await kind.read(tenant, intent.target), intent.desired)).toBe(true);
        const operation = kind.operation(intent.target, intent.desired);
        expect((await writes()).map((c) => [writeName(c), c.parameters])).toEqual([[operation.cmdlet ?? operation.operation.replace(' /beta/', ' /'), expect.objectContaining(operation.parameters)]]);
        const audit = (await store.auditEvents(request.id)).filter((e) => e.action === 'tenant.write');
        expect(audit.map((e) => e.detail)).toEqual([expect.objectContaining({ reason: 'execute', stepKind: kind.id, operation: operation.operation, parameters: operation.parameters, readBackMatched: true })]);

        // Reverse: the undo plan puts back the value read before the step ran.
        const reverse = reverseIntents(done!.plan);
        expect(reverse).toEqual([{ kind: kind.id, target: intent.target, desired: start }]);
        const undo = await approvedRequest(store, reverse, { undoes: request.id });
        await requests.execution.execute(undo.id);
        expect(await store.getRequest(undo.id)).toMatchObject({ state: 'succeeded', verified: true });
        expect(kind.valueOf(await kind.read(tenant, intent.target))).toEqual(start);
        expect((await store.getRequest(request.id))?.params.undoneBy).toBe(undo.id);
      }
    }, 60_000);

    test('every step kind: a crash between the write and the state update is settled from the tenant, with no second write', async (store) => {
      for (const kind of stepKinds) {
        const { intent, fixture } = changeOf[kind.id]!;
        await setUp(store, fixture);
        const request = await approvedRequest(store, [intent]);
        // The executor claimed the step and wrote it, then died before recording the outcome.
        const executing = await store.transition(request.id, 'approved', 'executing', new Date());
        expect(await store.updateStep(executing!.id, 0, ['pending'], { status: 'writing' }, new Date())).toBeDefined();
        await kind.write(tenant, intent.target, intent.desired);
        await simulator.control('DELETE', '/_simulator/calls');

        expect(await requests.execution.reconcile()).toBe(1);
        const settled = await store.getRequest(request.id);
        expect(settled).toMatchObject({ state: 'succeeded', verified: true });
        expect(settled!.plan[0]).toMatchObject({ status: 'applied', verified: true });
        expect(await writes()).toEqual([]);
        const events = await store.auditEvents(request.id);
        expect(events.filter((e) => e.action === 'request.reconciled').map((e) => e.detail)).toEqual([expect.objectContaining({ outcome: 'already-applied', stepKind: kind.id })]);
        expect(events.filter((e) => e.action === 'tenant.write')).toEqual([]);
      }
    }, 60_000);

    const twoSteps: StepIntent[] = [changeOf[mailboxSmtpAuth.id]!.intent, changeOf[orgSmtpAuth.id]!.intent];

    test('a plan of two steps runs them in order under the quorum of its riskiest step, and its undo reverses both, last first', async (store) => {
      await setUp(store);
      const request = await approvedRequest(store, twoSteps);
      // Mailbox on is medium, organization on is high: the request needs the high-risk quorum.
      expect(request).toMatchObject({ risk: 'high', requiredApprovals: config.QUORUM_HIGH });
      await requests.execution.execute(request.id);
      const done = await store.getRequest(request.id);
      expect(done).toMatchObject({ state: 'succeeded', verified: true });
      expect(done!.plan.map((s) => s.status)).toEqual(['applied', 'applied']);
      expect((await writes()).map((c) => c.cmdlet)).toEqual(['Set-CASMailbox', 'Set-TransportConfig']);
      const audited = (await store.auditEvents(request.id)).filter((e) => e.action === 'tenant.write').map((e) => [e.detail.step, e.detail.cmdlet]);
      expect(audited).toEqual([[0, 'Set-CASMailbox'], [1, 'Set-TransportConfig']]);

      await simulator.control('DELETE', '/_simulator/calls');
      const undo = await approvedRequest(store, reverseIntents(done!.plan), { undoes: request.id });
      await requests.execution.execute(undo.id);
      expect(await store.getRequest(undo.id)).toMatchObject({ state: 'succeeded', verified: true });
      expect((await writes()).map((c) => [c.cmdlet, c.parameters?.SmtpClientAuthenticationDisabled])).toEqual([
        ['Set-TransportConfig', true], ['Set-CASMailbox', bob.mailbox!.smtpClientAuthenticationDisabled],
      ]);
      expect(await orgValue()).toBe(true);
      expect(await simulator.mailboxOf(bob.id)).toEqual(bob.mailbox);
    }, 60_000);

    test('a failing second step stops the plan: the first stays applied, and the card says which steps were', async (store) => {
      await setUp(store);
      await simulator.control('POST', '/_simulator/faults', { rules: [{ service: 'exchange', match: 'Set-TransportConfig', status: 400 }] });
      const request = await approvedRequest(store, twoSteps);
      await requests.execution.execute(request.id);
      await simulator.control('DELETE', '/_simulator/faults');
      const failed = await store.getRequest(request.id);
      expect(failed).toMatchObject({ state: 'failed', errorCode: 'TENANT_BAD_REQUEST' });
      expect(failed!.plan.map((s) => [s.status, s.errorCode])).toEqual([['applied', null], ['failed', 'TENANT_BAD_REQUEST']]);
      expect(await simulator.mailboxOf(bob.id)).toEqual({ smtpClientAuthenticationDisabled: false });
      expect(await orgValue()).toBe(true);
      const text = JSON.stringify(requestCard(translator('en'), { request: failed!, approvals: [] }, 'requester'));
      expect(text).toContain('The plan stopped at a step that failed: 1 of 2 steps were applied and stay applied.');
      expect(text).toContain("SMTP AUTH of Bob Smith's mailbox");
      expect(text).toContain('on for this mailbox (applied)');
      expect(text).toContain('(failed)');

      // The applied step can still be undone on its own.
      expect(reverseIntents(failed!.plan)).toEqual([{ kind: mailboxSmtpAuth.id, target: bobMailbox, desired: bob.mailbox!.smtpClientAuthenticationDisabled }]);
    }, 60_000);

    test('a step whose target already holds the value is dropped from the plan; a plan left empty writes nothing', async (store) => {
      await setUp(store);
      const { steps, read } = await readPlan(tenant, [
        { kind: mailboxSmtpAuth.id, target: bobMailbox, desired: bob.mailbox!.smtpClientAuthenticationDisabled },
        { kind: orgSmtpAuth.id, target: organization, desired: true },
      ]);
      expect(steps).toEqual([]);
      expect(read).toHaveLength(2);
      expect(await writes()).toEqual([]);
    });
  });
}

describePlans('PGlite', async () => pgliteDatabase());
describePlans('PostgreSQL', async () => postgresDatabase(), describeWithPostgres);
