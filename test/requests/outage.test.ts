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
import { planRisk, readPlan } from '../../src/steps/plan';
import type { StepIntent, StepTarget } from '../../src/steps/types';
import { openDb } from '../../src/store/db';
import { Store } from '../../src/store/store';
import { connectTenant, type Tenant } from '../../src/tenant';
import { defaultRetryPolicy } from '../../src/tenant/http';
import { recordFigure } from '../support/figures';
import { botSettings, demoFixture, SimulatorHandle, type SimCall } from '../support/harness';

/**
 * The tenant goes down for 30 s in the middle of a two-step change (issue #13, faults): the
 * mailbox step has been written, the organization step has not. The bot runs with the production
 * retry policy (5 attempts, 10 s each, a 60 s deadline), on a clock the HTTP layer's waits move,
 * so 30 s of outage take no 30 s of the suite: the simulator drops every connection once the first
 * step has been written and read back, until the bot's clock has moved 30 s on, then answers again.
 * Either the request fails clearly within its deadline, with the card saying which step was
 * applied, or (a shorter outage) it completes; never one step half-written, never written twice.
 */

const bob = demoFixture.users.find((u) => u.userPrincipalName === 'bob@contoso.com')!;
const bobMailbox: StepTarget = { type: 'mailbox', id: bob.id, identity: bob.userPrincipalName, displayName: bob.displayName };
const organization: StepTarget = { type: 'organization', id: demoFixture.tenant.id, identity: demoFixture.tenant.id, displayName: demoFixture.tenant.id };
const twoSteps: StepIntent[] = [
  { kind: mailboxSmtpAuth.id, target: bobMailbox, desired: false },
  { kind: orgSmtpAuth.id, target: organization, desired: false },
];

let simulator: SimulatorHandle;
let config: Config;
let store: Store;
let tenant: Tenant;
let requests: RequestServices;

/** The bot's clock: real time plus every wait the HTTP layer asked for, which passes at once. */
let skippedMs = 0;
const botNow = () => Date.now() + skippedMs;
/** When the bot first saw the outage (its first retry), on its clock; and how long the outage lasts. */
let outage: { seenAt?: number; lastsMs: number; over: boolean } = { lastsMs: 0, over: true };

async function endOutageWhenDue(): Promise<void> {
  if (outage.over || outage.seenAt === undefined || botNow() - outage.seenAt < outage.lastsMs) return;
  outage.over = true;
  await simulator.control('DELETE', '/_simulator/faults');
}

beforeAll(async () => {
  simulator = await SimulatorHandle.start();
  // The production retry policy, not the test harness's short one.
  config = loadConfig(botSettings(simulator, { LOG_LEVEL: 'silent', TENANT_TIMEOUT_MS: String(defaultRetryPolicy.attemptTimeoutMs), TENANT_MAX_RETRIES: String(defaultRetryPolicy.maxRetries) }));
  tenant = connectTenant(config, {}, {
    now: botNow,
    random: () => 0.5,
    sleep: async (ms) => {
      skippedMs += ms;
      await endOutageWhenDue();
    },
    onRetry: () => {
      outage.seenAt ??= botNow();
    },
  });
  store = new Store(await openDb({}));
  const silentNotifier: Notifier = { send: async () => undefined, update: async () => {}, members: async () => [] };
  requests = requestServices({ config, store, tenant, notifier: silentNotifier, logger: createLogger('silent'), now: () => new Date(botNow()), newId: randomUUID });
}, 60_000);

afterAll(async () => {
  await tenant?.close();
  await store?.close();
  await simulator?.close();
});

/** The two-step plan, read now, confirmed and approved. */
async function approvedTwoStepRequest(): Promise<RequestRecord> {
  const { steps } = await readPlan(tenant, twoSteps);
  const risk = planRisk(steps);
  const now = new Date(botNow());
  const draft: RequestRecord = {
    id: randomUUID(), tenantId: demoFixture.tenant.id, commandId: 'undo', state: 'draft', risk, requiredApprovals: quorumFor(config, risk),
    requesterId: 'alex', requesterName: 'Alex Wilber', targetUserId: null, targetUpn: null, targetDisplayName: null,
    params: {}, language: 'en', conversation: {}, before: null, after: null, verified: null, errorCode: null,
    createdAt: now, updatedAt: now, expiresAt: new Date(now.getTime() + 3_600_000), plan: steps,
  };
  await requests.lifecycle.create(draft, {});
  const confirmed = await requests.lifecycle.move(draft, 'confirmed', 'alex');
  return (await requests.lifecycle.move(confirmed!, 'approved', 'megan'))!;
}

async function runThroughOutage(lastsMs: number) {
  await simulator.control('POST', '/_simulator/reset');
  const request = await approvedTwoStepRequest();
  await simulator.control('DELETE', '/_simulator/calls');
  outage = { lastsMs, over: false };
  // Down from the moment the first step has been written and read back, until the bot's clock says the outage is over.
  await simulator.control('POST', '/_simulator/faults', { outage: { after: 'Get-CASMailbox' } });
  const started = botNow();
  await requests.execution.execute(request.id);
  const elapsedMs = botNow() - started;
  await endOutageWhenDue();
  if (!outage.over) await simulator.control('DELETE', '/_simulator/faults');
  const calls = await simulator.control<(SimCall & { path: string })[]>('GET', '/_simulator/calls');
  const state = await simulator.control<{ org: { smtpClientAuthenticationDisabled: boolean } }>('GET', '/_simulator/state');
  return {
    request: (await store.getRequest(request.id))!,
    elapsedMs,
    mailbox: await simulator.mailboxOf(bob.id),
    orgSmtpClientAuthenticationDisabled: state.org.smtpClientAuthenticationDisabled,
    orgWrites: calls.filter((c) => c.cmdlet === 'Set-TransportConfig'),
    mailboxWrites: calls.filter((c) => c.cmdlet === 'Set-CASMailbox'),
    attempts: (await store.auditEvents(request.id)).filter((e) => e.action === 'tenant.write-attempt').map((e) => e.detail),
  };
}

const figures: string[] = [];

test('down for 30 s after the first step: the request fails clearly within its deadline, the card says 1 of 2 steps were applied, and the second is never written', async () => {
  const run = await runThroughOutage(30_000);
  expect(run.request).toMatchObject({ state: 'failed', errorCode: 'TENANT_UNAVAILABLE' });
  expect(run.request.plan.map((s) => [s.kind, s.status])).toEqual([[mailboxSmtpAuth.id, 'applied'], [orgSmtpAuth.id, 'failed']]);
  // Within the production deadline, on the bot's clock: five attempts of the second step, none answered.
  expect(run.elapsedMs).toBeLessThanOrEqual(defaultRetryPolicy.deadlineMs);
  expect(run.mailboxWrites.map((c) => c.status)).toEqual([200]);
  expect(run.orgWrites.map((c) => c.status)).toEqual(Array(defaultRetryPolicy.maxRetries + 1).fill(null));
  expect(run.attempts.filter((a) => a.step === 1).map((a) => a.outcome)).toEqual(Array(defaultRetryPolicy.maxRetries + 1).fill('network'));
  // The tenant: the first step stays applied, the second never happened.
  expect(run.mailbox).toEqual({ smtpClientAuthenticationDisabled: false });
  expect(run.orgSmtpClientAuthenticationDisabled).toBe(true);

  const text = JSON.stringify(requestCard(translator('en'), { request: run.request, approvals: [] }, 'requester'));
  expect(text).toContain('The plan stopped at a step that failed: 1 of 2 steps were applied and stay applied.');
  expect(text).toContain('on for this mailbox (applied)');
  expect(text).toContain('(failed)');

  // Cut off mid-call, the second write's outcome was unknown: once the tenant is back, the late check
  // finds it never landed, and nothing is written again.
  await requests.execution.recheckLateWrite(run.request.id);
  expect((await store.getRequest(run.request.id))?.params.lateWrite).toBe('not-applied');
  const after = await simulator.control<SimCall[]>('GET', '/_simulator/calls');
  expect(after.filter((c) => c.cmdlet?.startsWith('Set-')).length).toBe(run.mailboxWrites.length + run.orgWrites.length);
  figures.push(`30 s outage: failed clearly after ${(run.elapsedMs / 1000).toFixed(1)} s of retries (bot clock), 1 of 2 steps applied and reported, 0 half-applied`);
}, 60_000);

test('down for 5 s after the first step: the retries outlast it and the request completes, each step written once', async () => {
  const run = await runThroughOutage(5_000);
  expect(run.request).toMatchObject({ state: 'succeeded' });
  expect(run.request.plan.map((s) => s.status)).toEqual(['applied', 'applied']);
  expect(run.elapsedMs).toBeLessThanOrEqual(defaultRetryPolicy.deadlineMs);
  expect(run.mailboxWrites.map((c) => c.status)).toEqual([200]);
  // Dropped attempts, then exactly one answered write of the organization setting.
  expect(run.orgWrites.filter((c) => c.status === 200)).toHaveLength(1);
  expect(run.orgWrites.at(-1)?.status).toBe(200);
  expect(run.attempts.filter((a) => a.step === 1).map((a) => a.outcome)).toEqual([...Array(run.orgWrites.length - 1).fill('network'), 'answered']);
  expect(run.mailbox).toEqual({ smtpClientAuthenticationDisabled: false });
  expect(run.orgSmtpClientAuthenticationDisabled).toBe(false);
  figures.push(`5 s outage: completed after ${(run.elapsedMs / 1000).toFixed(1)} s (${run.orgWrites.length} attempts of the second step, 1 answered)`);
}, 60_000);

afterAll(() => {
  if (figures.length !== 2) return;
  recordFigure('tenant-outage-two-steps', {
    suite: 'Tenant down mid-plan (two steps, production retry policy)',
    tried: 'the simulator dropping every call once the first step was written and read back, for 30 s and for 5 s of the bot’s clock',
    held: figures.join('; '),
  });
});
