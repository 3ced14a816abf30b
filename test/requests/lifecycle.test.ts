import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { actionVerbs, cardText, requestIdOf, isApprovalCard } from '../support/fake-connector';
import { demoFixture, demoUser, FakeConnector, InProcessBot, SimulatorHandle, TestClock } from '../support/harness';

/** Expiry, reminders and time-boxed reverts, with the clock in the test's hands. */

const hour = 3_600_000;
const alex = demoUser('Alex Wilber');
const megan = demoUser('Megan Bowen');
const bob = demoFixture.users.find((u) => u.userPrincipalName === 'bob@contoso.com')!;

let simulator: SimulatorHandle;
let connector: FakeConnector;
let bot: InProcessBot;
let clock: TestClock;
let dataDir: string;

beforeAll(async () => {
  simulator = await SimulatorHandle.start();
  connector = new FakeConnector();
  await connector.start();
  clock = new TestClock(new Date('2026-11-23T09:00:00Z'));
  dataDir = mkdtempSync(join(tmpdir(), 'smtp-gate-lifecycle-'));
  bot = await InProcessBot.start(simulator, connector, clock.now, { DATA_DIR: dataDir });
}, 60_000);

afterAll(async () => {
  await bot?.server.close();
  await connector?.stop();
  await simulator?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

beforeEach(async () => {
  await simulator.control('POST', '/_simulator/reset');
  connector.calls.length = 0;
});

async function requestAndConfirm(text: string) {
  await bot.teams.message(alex, text);
  const confirm = await connector.waitFor('the confirmation card', () => connector.postedCards()[0]);
  const requestId = requestIdOf(confirm.card);
  await bot.teams.press(alex, 'request.confirm', { requestId, justification: 'the floor 2 scanner' });
  await bot.server.drain();
  const approval = await connector.waitFor('the approval card', () => connector.postedCards().find((p) => isApprovalCard(p.card)));
  return { requestId, confirm, approval };
}

test('an unanswered request reminds the approvers before it expires, then expires and tells the requester', async () => {
  const { requestId, approval } = await requestAndConfirm('enable SMTP for bob');
  // This connector has no roster to tell approvers apart by: every viewer gets the buttons.
  expect(connector.rosterRequests).toBeGreaterThan(0);
  expect(actionVerbs(approval.card)).toEqual(['request.approve', 'request.reject']);
  expect(await bot.server.runDueJobs()).toBe(0);

  const expiresAt = new Date(clock.now().getTime() + 24 * hour).toISOString().slice(0, 16).replace('T', ' ');
  clock.advance(20 * hour + 1000); // the default 24 h lifetime, reminded 4 h before the end
  expect(await bot.server.runDueJobs()).toBe(1);
  expect(connector.postedCards().map((p) => cardText(p.card)).join('\n')).toContain(`Reminder: the request from Alex Wilber for Bob Smith is waiting for approval and expires at ${expiresAt} UTC`);

  clock.advance(4 * hour);
  expect(await bot.server.runDueJobs()).toBe(1);
  const expired = await connector.waitFor('the approval card marked expired', () => connector.updates(approval.id).find((c) => cardText(c).includes('Expired')));
  expect(actionVerbs(expired)).toEqual([]);
  expect(connector.postedCards().map((p) => cardText(p.card)).join('\n')).toContain('expired before anyone approved it');

  const late = await bot.teams.press(megan, 'request.approve', { requestId });
  expect(cardText(late.body.value)).toContain("can't be changed any more: it is Expired");
  expect(await simulator.setCasMailboxCalls()).toHaveLength(0);
  expect(await bot.server.runDueJobs()).toBe(0);
}, 60_000);

test('"enable SMTP for bob for 7 days" reverts by itself after 7 days, once, and says so', async () => {
  const before = bob.mailbox!.smtpClientAuthenticationDisabled;
  const { requestId, confirm, approval } = await requestAndConfirm('enable SMTP for bob for 7 days');
  expect(cardText(confirm.card)).toContain('Time-boxed: reverts automatically 7 days after it is applied.');
  await bot.teams.press(megan, 'request.approve', { requestId });
  await bot.server.drain();
  const done = await connector.waitFor('done', () => connector.updates(approval.id).find((c) => cardText(c).includes('Done, verified')));
  const revertAt = new Date(clock.now().getTime() + 7 * 24 * hour).toISOString().slice(0, 16).replace('T', ' ');
  expect(cardText(done)).toContain(`Reverts automatically on ${revertAt} UTC.`);
  expect(await simulator.mailboxOf(bob.id)).toEqual({ smtpClientAuthenticationDisabled: false });

  clock.advance(7 * 24 * hour - 60_000);
  expect(await bot.server.runDueJobs()).toBe(0);
  clock.advance(2 * 60_000);
  expect(await bot.server.runDueJobs()).toBe(1);
  expect(await simulator.mailboxOf(bob.id)).toEqual({ smtpClientAuthenticationDisabled: before });
  const sets = await simulator.setCasMailboxCalls();
  expect(sets.map((c) => c.parameters?.SmtpClientAuthenticationDisabled)).toEqual([false, before]);
  await connector.waitFor('the card marked reverted', () => connector.updates(approval.id).find((c) => cardText(c).includes('Reverted: the mailbox setting is back')));
  expect(await bot.server.runDueJobs()).toBe(0);
}, 60_000);

test('undo creates the reverse request under the same gating and does nothing until confirmed', async () => {
  const { requestId, approval } = await requestAndConfirm('enable SMTP for bob');
  await bot.teams.press(megan, 'request.approve', { requestId });
  await bot.server.drain();
  const done = await connector.waitFor('done', () => connector.updates(approval.id).find((c) => cardText(c).includes('Done, verified')));
  expect(actionVerbs(done)).toEqual(['request.undo']);
  const posted = connector.postedCards().length;
  await bot.teams.press(alex, 'request.undo', { requestId });
  await bot.server.drain();
  const reverse = await connector.waitFor('the reverse request', () => connector.postedCards().slice(posted).find((p) => actionVerbs(p.card).includes('request.confirm')));
  const reverseTitle = bob.mailbox!.smtpClientAuthenticationDisabled === null ? 'Reset SMTP AUTH for Bob Smith' : 'Disable SMTP AUTH for Bob Smith';
  expect(cardText(reverse.card)).toContain(reverseTitle);
  expect(await simulator.setCasMailboxCalls()).toHaveLength(1);
}, 60_000);

test('"disable SMTP for bob for 1 hour" is refused: only an enable is time-boxed, so nothing can turn SMTP AUTH back on by itself', async () => {
  const draftsBefore = (await bot.server.store.requestsIn('draft')).length;
  await bot.teams.message(alex, 'disable SMTP for bob for 1 hour');
  const answer = await connector.waitFor('the answer', () => connector.postedCards()[0]);
  expect(cardText(answer.card)).toContain('Only an enable can be time-boxed');
  expect(cardText(answer.card)).toContain('DURATION_ONLY_FOR_ENABLE');
  expect(actionVerbs(answer.card)).toEqual([]);
  expect(await bot.server.store.requestsIn('draft')).toHaveLength(draftsBefore);
});

test('a write that answers with an error but whose read-back shows the asked value settles as done, so the exception and its revert exist', async () => {
  const adele = demoFixture.users.find((u) => u.displayName === 'Adele Vance')!;
  expect(adele.mailbox?.smtpClientAuthenticationDisabled).toBe(false); // already on, unmanaged
  await simulator.control('POST', '/_simulator/faults', { rules: [{ service: 'exchange', match: 'Set-CASMailbox', status: 500 }] });
  await bot.teams.message(alex, 'enable SMTP for Adele Vance for the label printer');
  const confirm = await connector.waitFor('the confirmation card', () => connector.postedCards()[0]);
  const requestId = requestIdOf(confirm.card);
  await bot.teams.press(alex, 'request.confirm', { requestId });
  await bot.server.drain();
  await bot.teams.press(megan, 'request.approve', { requestId });
  await bot.server.drain();
  expect(await bot.server.store.getRequest(requestId)).toMatchObject({ state: 'succeeded', verified: true });
  const write = (await bot.server.store.auditEvents(requestId)).find((e) => e.action === 'tenant.write');
  expect(write?.detail).toMatchObject({ readBackMatched: true, errorCode: null, writeErrorCode: 'TENANT_UNAVAILABLE' });
  expect((await bot.server.store.activeExceptions(demoFixture.tenant.id)).map((e) => e.targetUpn)).toContain(adele.userPrincipalName);
}, 60_000);
