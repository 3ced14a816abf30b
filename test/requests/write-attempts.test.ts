import { demoFixture, demoUser, inProcessBotSuite, pendingEnable, rosterOf, type SimCall } from '../support/harness';

/**
 * A write retried after its previous attempt timed out may be applied twice (issue #13, hole 5):
 * every attempt of a write has an audit event of its own, saying how it ended, so the audit shows
 * how many times the change reached Exchange. The bot's attempt time-out is the test's short one
 * (TENANT_TIMEOUT_MS 1500, one retry).
 */
const alex = demoUser('Alex Wilber');
const megan = demoUser('Megan Bowen');
const jose = demoFixture.users.find((u) => u.userPrincipalName === 'jose.nunez@contoso.com')!;
const suite = inProcessBotSuite({ name: 'write-attempts', startsAt: '2026-11-23T09:00:00Z', members: rosterOf([alex, megan]) });

async function approvedEnableForJose(faults: unknown): Promise<string> {
  await suite.simulator.control('POST', '/_simulator/reset');
  const { requestId } = await pendingEnable(suite, alex, 'enable SMTP for jose.nunez@contoso.com for the floor 2 scanner', { justification: 'floor 2 scanner' });
  await suite.simulator.control('DELETE', '/_simulator/calls');
  await suite.simulator.control('POST', '/_simulator/faults', faults);
  try {
    await suite.bot.teams.press(megan, 'request.approve', { requestId });
    await suite.bot.server.drain();
  } finally {
    await suite.simulator.control('DELETE', '/_simulator/faults');
  }
  return requestId;
}

/** The Set-CASMailbox calls that reached the simulator, once every one still in flight has been answered. */
async function setCasMailboxCallsSettled(expected: number): Promise<SimCall[]> {
  for (let i = 0; i < 100; i++) {
    const calls = await suite.simulator.setCasMailboxCalls();
    if (calls.length >= expected && calls.every((c) => c.status !== null)) return calls;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return suite.simulator.setCasMailboxCalls();
}

async function attemptsAudited(requestId: string) {
  const events = await suite.bot.server.store.auditEvents(requestId);
  return {
    attempts: events.filter((e) => e.action === 'tenant.write-attempt').map((e) => e.detail),
    writes: events.filter((e) => e.action === 'tenant.write').map((e) => e.detail),
  };
}

test('two attempts that both time out reach Exchange twice, and each has its audit event saying it timed out', async () => {
  // Slower than the bot's time-out: each attempt is given up on, and the simulator applies each one.
  const requestId = await approvedEnableForJose({ serviceLatencyMs: { exchange: 2500 } });
  expect(await suite.bot.server.store.getRequest(requestId)).toMatchObject({ state: 'failed', errorCode: 'TENANT_TIMEOUT' });
  const calls = await setCasMailboxCallsSettled(2);
  expect(calls).toHaveLength(2);
  const { attempts, writes } = await attemptsAudited(requestId);
  expect(attempts).toEqual([
    expect.objectContaining({ reason: 'execute', step: 0, stepKind: 'mailbox-smtp-auth', service: 'exchange', operation: 'Set-CASMailbox', attempt: 1, outcome: 'timeout', status: null }),
    expect.objectContaining({ reason: 'execute', step: 0, operation: 'Set-CASMailbox', attempt: 2, outcome: 'timeout', status: null }),
  ]);
  expect(attempts.every((a) => typeof a.durationMs === 'number' && a.durationMs >= 1000)).toBe(true);
  expect(writes).toEqual([expect.objectContaining({ reason: 'execute', attempts: 2, errorCode: 'TENANT_TIMEOUT' })]);
}, 60_000);

test('an attempt answered 503 and its retry answered 200: two audit events with their status codes, one write that succeeded', async () => {
  const requestId = await approvedEnableForJose({ rules: [{ service: 'exchange', match: 'Set-CASMailbox', status: 503, retryAfterSeconds: 0, times: 1 }] });
  expect(await suite.bot.server.store.getRequest(requestId)).toMatchObject({ state: 'succeeded', verified: true });
  expect((await setCasMailboxCallsSettled(2)).map((c) => c.status)).toEqual([503, 200]);
  const { attempts, writes } = await attemptsAudited(requestId);
  expect(attempts.map((a) => [a.attempt, a.outcome, a.status])).toEqual([[1, 'answered', 503], [2, 'answered', 200]]);
  expect(writes).toEqual([expect.objectContaining({ reason: 'execute', attempts: 2, readBackMatched: true, errorCode: null })]);
  expect(await suite.simulator.mailboxOf(jose.id)).toEqual({ smtpClientAuthenticationDisabled: false });
}, 60_000);

test('an attempt whose connection was cut off is audited as a network error, and its retry as answered', async () => {
  const requestId = await approvedEnableForJose({ rules: [{ service: 'exchange', match: 'Set-CASMailbox', drop: true, times: 1 }] });
  expect(await suite.bot.server.store.getRequest(requestId)).toMatchObject({ state: 'succeeded' });
  const calls = await suite.simulator.setCasMailboxCalls();
  expect(calls.map((c) => c.status)).toEqual([null, 200]);
  const { attempts } = await attemptsAudited(requestId);
  expect(attempts.map((a) => [a.attempt, a.outcome, a.status])).toEqual([[1, 'network', null], [2, 'answered', 200]]);
}, 60_000);

test('reads are not audited as write attempts: a plain enable has exactly one attempt event', async () => {
  const requestId = await approvedEnableForJose({});
  expect(await suite.bot.server.store.getRequest(requestId)).toMatchObject({ state: 'succeeded', verified: true });
  const { attempts } = await attemptsAudited(requestId);
  expect(attempts.map((a) => [a.operation, a.attempt, a.outcome, a.status])).toEqual([['Set-CASMailbox', 1, 'answered', 200]]);
}, 60_000);
