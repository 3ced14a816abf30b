import { cardText } from '../support/fake-connector';
import { demoFixture, demoUser, inProcessBotSuite, pendingEnable, rosterOf } from '../support/harness';
import { recordFigure } from '../support/figures';

/**
 * The tenant goes away in the middle of a change (issue #13, faults): the request fails clearly or
 * completes within its deadline, and is never half-applied. The deadline is the test's short one
 * (TENANT_TIMEOUT_MS 1500, one retry), so the outage need not last 30 s of wall time.
 */
const alex = demoUser('Alex Wilber');
const megan = demoUser('Megan Bowen');
const jose = demoFixture.users.find((u) => u.userPrincipalName === 'jose.nunez@contoso.com')!;
const suite = inProcessBotSuite({ name: 'faults', startsAt: '2026-11-23T09:00:00Z', members: rosterOf([alex, megan]) });

const pendingEnableForJose = () => pendingEnable(suite, alex, 'enable SMTP for jose.nunez@contoso.com for the floor 2 scanner', { justification: 'floor 2 scanner' });

test.each([
  ['Exchange drops every connection', { rules: [{ service: 'exchange', drop: true }] }],
  ['Exchange answers 503 to everything', { rules: [{ service: 'exchange', status: 503, retryAfterSeconds: 0 }] }],
  ['the token endpoint is down too', { rules: [{ service: 'exchange', drop: true }, { service: 'token', drop: true }] }],
])('%s while the approved change runs: it fails clearly within its deadline, and nothing is half-applied', async (name, faults) => {
  await suite.simulator.control('POST', '/_simulator/reset');
  const { requestId, approvalId } = await pendingEnableForJose();
  const mailboxBefore = await suite.simulator.mailboxOf(jose.id);
  await suite.simulator.control('POST', '/_simulator/faults', faults);
  const started = Date.now();
  try {
    await suite.bot.teams.press(megan, 'request.approve', { requestId });
    await suite.bot.server.drain();
  } finally {
    await suite.simulator.control('DELETE', '/_simulator/faults');
  }
  const elapsed = Date.now() - started;
  const request = (await suite.bot.server.store.getRequest(requestId))!;
  const mailboxAfter = await suite.simulator.mailboxOf(jose.id);
  const applied = (await suite.simulator.setCasMailboxCalls()).filter((c) => c.status === 200).length;
  // Either it failed, with a code the user reads, and the mailbox is as it was; or it completed and says so.
  if (request.state === 'failed') {
    expect(['TENANT_UNAVAILABLE', 'TENANT_TIMEOUT', 'TENANT_AUTH_FAILED']).toContain(request.errorCode);
    expect(mailboxAfter).toEqual(mailboxBefore);
    expect(applied).toBe(0);
  } else {
    expect(request.state).toBe('succeeded');
    expect(mailboxAfter).toEqual({ smtpClientAuthenticationDisabled: false });
  }
  const card = await suite.connector.waitFor('the approval card updated', () => suite.connector.updates(approvalId).map(cardText).find((t) => /Failed|Done/.test(t)));
  expect(card).toMatch(request.state === 'failed' ? /Failed/ : /Done/);
  expect(elapsed).toBeLessThan(30_000);
  outcomes.push({ name, state: request.state, elapsed, halfApplied: request.state === 'failed' ? applied > 0 || JSON.stringify(mailboxAfter) !== JSON.stringify(mailboxBefore) : false });
}, 60_000);

const outcomes: { name: string; state: string; elapsed: number; halfApplied: boolean }[] = [];
afterAll(() => {
  if (outcomes.length !== 3) return;
  recordFigure('tenant-outage', {
    suite: 'Tenant down mid-change (simulator faults)',
    tried: `${outcomes.length} outages during an approved change (connections dropped, 503 to everything, token endpoint down too)`,
    held: `${outcomes.filter((o) => o.state === 'failed').length} failed clearly, ${outcomes.filter((o) => o.state === 'succeeded').length} completed; ${outcomes.filter((o) => o.halfApplied).length} half-applied; slowest ${(Math.max(...outcomes.map((o) => o.elapsed)) / 1000).toFixed(1)} s (TENANT_TIMEOUT_MS 1,500, one retry)`,
  });
});
