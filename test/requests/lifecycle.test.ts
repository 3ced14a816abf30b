import { actionVerbs, cardText } from '../support/fake-connector';
import { connectTenant } from '../../src/tenant';
import { demoFixture, demoUser, inProcessBotSuite, pendingEnable } from '../support/harness';

/** Expiry, reminders and time-boxed reverts, with the clock in the test's hands. */

const hour = 3_600_000;
const alex = demoUser('Alex Wilber');
const megan = demoUser('Megan Bowen');
const bob = demoFixture.users.find((u) => u.userPrincipalName === 'bob@contoso.com')!;

const suite = inProcessBotSuite({ name: 'lifecycle', startsAt: '2026-11-23T09:00:00Z' });

beforeEach(async () => {
  await suite.simulator.control('POST', '/_simulator/reset');
  suite.connector.calls.length = 0;
});

/** Alex asks and confirms; the request waits for approval. */
const requestAndConfirm = (text: string) => pendingEnable(suite, alex, text, { justification: 'the floor 2 scanner' });

test('an unanswered request reminds the approvers before it expires, then expires and tells the requester', async () => {
  const { requestId, approval } = await requestAndConfirm('enable SMTP for bob');
  // This connector has no roster to tell approvers apart by: every viewer gets the buttons.
  expect(suite.connector.rosterRequests).toBeGreaterThan(0);
  expect(actionVerbs(approval.card)).toEqual(['request.approve', 'request.reject']);
  expect(await suite.bot.server.runDueJobs()).toBe(0);

  const expiresAt = new Date(suite.clock.now().getTime() + 24 * hour).toISOString().slice(0, 16).replace('T', ' ');
  suite.clock.advance(20 * hour + 1000); // the default 24 h lifetime, reminded 4 h before the end
  expect(await suite.bot.server.runDueJobs()).toBe(1);
  expect(suite.connector.postedCards().map((p) => cardText(p.card)).join('\n')).toContain(`Reminder: the request from Alex Wilber for Bob Smith is waiting for approval and expires at ${expiresAt} UTC`);

  suite.clock.advance(4 * hour);
  expect(await suite.bot.server.runDueJobs()).toBe(1);
  const expired = await suite.connector.waitFor('the approval card marked expired', () => suite.connector.updates(approval.id).find((c) => cardText(c).includes('Expired')));
  expect(actionVerbs(expired)).toEqual([]);
  expect(suite.connector.postedCards().map((p) => cardText(p.card)).join('\n')).toContain('expired before anyone approved it');

  const late = await suite.bot.teams.press(megan, 'request.approve', { requestId });
  expect(cardText(late.body.value)).toContain("can't be changed any more: it is Expired");
  expect(await suite.simulator.setCasMailboxCalls()).toHaveLength(0);
  expect(await suite.bot.server.runDueJobs()).toBe(0);
}, 60_000);

test('"enable SMTP for bob for 7 days" reverts by itself after 7 days, once, and says so', async () => {
  const before = bob.mailbox!.smtpClientAuthenticationDisabled;
  const { requestId, confirmation, approval } = await requestAndConfirm('enable SMTP for bob for 7 days');
  expect(cardText(confirmation.card)).toContain('Time-boxed: reverts automatically 7 days after it is applied.');
  await suite.bot.teams.press(megan, 'request.approve', { requestId });
  await suite.bot.server.drain();
  const done = await suite.connector.waitFor('done', () => suite.connector.updates(approval.id).find((c) => cardText(c).includes('Done, verified')));
  const revertAt = new Date(suite.clock.now().getTime() + 7 * 24 * hour).toISOString().slice(0, 16).replace('T', ' ');
  expect(cardText(done)).toContain(`Reverts automatically on ${revertAt} UTC.`);
  expect(await suite.simulator.mailboxOf(bob.id)).toEqual({ smtpClientAuthenticationDisabled: false });

  suite.clock.advance(7 * 24 * hour - 60_000);
  expect(await suite.bot.server.runDueJobs()).toBe(0);
  suite.clock.advance(2 * 60_000);
  expect(await suite.bot.server.runDueJobs()).toBe(1);
  expect(await suite.simulator.mailboxOf(bob.id)).toEqual({ smtpClientAuthenticationDisabled: before });
  const sets = await suite.simulator.setCasMailboxCalls();
  expect(sets.map((c) => c.parameters?.SmtpClientAuthenticationDisabled)).toEqual([false, before]);
  await suite.connector.waitFor('the card marked reverted', () => suite.connector.updates(approval.id).find((c) => cardText(c).includes('Reverted: the mailbox setting is back')));
  expect(await suite.bot.server.runDueJobs()).toBe(0);
}, 60_000);

test('undo creates the reverse request under the same gating and does nothing until confirmed', async () => {
  const { requestId, approval } = await requestAndConfirm('enable SMTP for bob');
  await suite.bot.teams.press(megan, 'request.approve', { requestId });
  await suite.bot.server.drain();
  const done = await suite.connector.waitFor('done', () => suite.connector.updates(approval.id).find((c) => cardText(c).includes('Done, verified')));
  expect(actionVerbs(done)).toEqual(['request.undo']);
  const posted = suite.connector.postedCards().length;
  await suite.bot.teams.press(alex, 'request.undo', { requestId });
  await suite.bot.server.drain();
  const reverse = await suite.connector.waitFor('the reverse request', () => suite.connector.postedCards().slice(posted).find((p) => actionVerbs(p.card).includes('request.confirm')));
  const reverseTitle = bob.mailbox!.smtpClientAuthenticationDisabled === null ? 'Reset SMTP AUTH for Bob Smith' : 'Disable SMTP AUTH for Bob Smith';
  expect(cardText(reverse.card)).toContain(reverseTitle);
  expect(await suite.simulator.setCasMailboxCalls()).toHaveLength(1);
}, 60_000);

test('"disable SMTP for bob for 1 hour" is refused: only an enable is time-boxed, so nothing can turn SMTP AUTH back on by itself', async () => {
  const draftsBefore = (await suite.bot.server.store.requestsIn('draft')).length;
  await suite.bot.teams.message(alex, 'disable SMTP for bob for 1 hour');
  const answer = await suite.connector.waitFor('the answer', () => suite.connector.postedCards()[0]);
  expect(cardText(answer.card)).toContain('Only an enable can be time-boxed');
  expect(cardText(answer.card)).toContain('DURATION_ONLY_FOR_ENABLE');
  expect(actionVerbs(answer.card)).toEqual([]);
  expect(await suite.bot.server.store.requestsIn('draft')).toHaveLength(draftsBefore);
});

test('a write that answers with an error but whose read-back shows the asked value settles as done, so the exception and its revert exist', async () => {
  const { requestId } = await requestAndConfirm('enable SMTP for bob for the label printer');
  // Another admin turns bob's mailbox on meanwhile, and Exchange then answers the bot's write with a 500.
  const tenant = connectTenant(suite.bot.config);
  try {
    await tenant.exchange.setCasMailboxSmtpClientAuthenticationDisabled(bob.userPrincipalName, false);
  } finally {
    await tenant.close();
  }
  await suite.simulator.control('POST', '/_simulator/faults', { rules: [{ service: 'exchange', match: 'Set-CASMailbox', status: 500 }] });
  await suite.bot.teams.press(megan, 'request.approve', { requestId });
  await suite.bot.server.drain();
  await suite.simulator.control('DELETE', '/_simulator/faults');
  expect(await suite.bot.server.store.getRequest(requestId)).toMatchObject({ state: 'succeeded', verified: true });
  const write = (await suite.bot.server.store.auditEvents(requestId)).find((e) => e.action === 'tenant.write');
  expect(write?.detail).toMatchObject({ readBackMatched: true, errorCode: null, writeErrorCode: 'TENANT_UNAVAILABLE' });
  expect((await suite.bot.server.store.activeExceptions(demoFixture.tenant.id)).map((e) => e.targetUpn)).toContain(bob.userPrincipalName);
}, 60_000);

test('a write that timed out but reached Exchange late is undone by the recheck, so the failed request leaves nothing behind', async () => {
  const { requestId, approval } = await requestAndConfirm('enable SMTP for bob for the floor 2 scanner');
  // Slower than the bot's time-out: the bot gives up, the simulator still applies the write.
  await suite.simulator.control('POST', '/_simulator/faults', { latencyMs: 2500, rules: [] });
  await suite.bot.teams.press(megan, 'request.approve', { requestId });
  await suite.bot.server.drain();
  expect(await suite.bot.server.store.getRequest(requestId)).toMatchObject({ state: 'failed', errorCode: 'TENANT_TIMEOUT' });
  // Until the late check has looked, the card says the outcome is not known yet.
  await suite.connector.waitFor('the card says the outcome is unknown', () => suite.connector.updates(approval.id).find((c) => cardText(c).includes('The outcome is not known yet')));
  for (let i = 0; i < 100 && (await suite.simulator.mailboxOf(bob.id))?.smtpClientAuthenticationDisabled !== false; i++) await new Promise((r) => setTimeout(r, 100));
  expect(await suite.simulator.mailboxOf(bob.id)).toEqual({ smtpClientAuthenticationDisabled: false });
  await suite.simulator.control('DELETE', '/_simulator/faults');

  expect(await suite.bot.server.runDueJobs()).toBe(0);
  suite.clock.advance(5 * 60_000 + 1000);
  expect(await suite.bot.server.runDueJobs()).toBe(1);
  expect(await suite.simulator.mailboxOf(bob.id)).toEqual({ smtpClientAuthenticationDisabled: bob.mailbox!.smtpClientAuthenticationDisabled });
  const writes = (await suite.bot.server.store.auditEvents(requestId)).filter((e) => e.action === 'tenant.write').map((e) => e.detail.reason);
  expect(writes).toEqual(['execute', 'undo-late-write']);
  await suite.connector.waitFor('the card says so', () => suite.connector.updates(approval.id).find((c) => cardText(c).includes('put the previous value back')));
  await suite.connector.waitFor('the requester told', () => suite.connector.postedCards().find((p) => cardText(p.card).includes('has been checked again')));
  expect(cardText(suite.connector.updates(approval.id).at(-1)!)).not.toContain('The outcome is not known yet');
  expect((await suite.bot.server.store.getRequest(requestId))?.state).toBe('failed');
  suite.clock.advance(10 * 60_000);
  expect(await suite.bot.server.runDueJobs()).toBe(0);
}, 60_000);
