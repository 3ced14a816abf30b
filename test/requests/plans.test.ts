import { connectTenant } from '../../src/tenant';
import { actionVerbs, cardText, isApprovalCard, requestIdOf } from '../support/fake-connector';
import { demoFixture, demoUser, inProcessBotSuite, pendingEnable } from '../support/harness';

/** Commands as plans, tried from chat: nothing to do writes nothing, stale cards refuse, exceptions end only when SMTP AUTH goes off. */

const alex = demoUser('Alex Wilber');
const megan = demoUser('Megan Bowen');
const bob = demoFixture.users.find((u) => u.userPrincipalName === 'bob@contoso.com')!;

const suite = inProcessBotSuite({ name: 'plans', startsAt: '2026-11-27T09:00:00Z' });

beforeEach(async () => {
  await suite.simulator.control('POST', '/_simulator/reset');
  await suite.simulator.control('DELETE', '/_simulator/calls');
  suite.connector.calls.length = 0;
});

async function writes() {
  return (await suite.simulator.control<{ cmdlet: string | null }[]>('GET', '/_simulator/calls')).filter((c) => c.cmdlet?.startsWith('Set-'));
}

async function ask(text: string) {
  const posted = suite.connector.postedCards().length;
  await suite.bot.teams.message(alex, text);
  return suite.connector.waitFor(`the answer to "${text}"`, () => suite.connector.postedCards()[posted]);
}

/** Alex asks, confirms (with a justification for an enable), Megan approves when it needs her. */
async function change(text: string) {
  const confirm = await ask(text);
  const requestId = requestIdOf(confirm.card);
  await suite.bot.teams.press(alex, 'request.confirm', { requestId, justification: 'the floor 2 scanner' });
  await suite.bot.server.drain();
  if ((await suite.bot.server.store.getRequest(requestId))?.state === 'pending') {
    await suite.bot.teams.press(megan, 'request.approve', { requestId });
    await suite.bot.server.drain();
  }
  expect((await suite.bot.server.store.getRequest(requestId))?.state).toBe('succeeded');
  return { requestId, confirm };
}

test('a command whose target already holds the value answers "already so" with the current value: no request, no write', async () => {
  const requestsBefore = (await suite.bot.server.store.db.query<{ n: number }>('SELECT count(*)::int AS n FROM requests'))[0]!.n;
  const disable = await ask('disable SMTP for bob'); // bob's mailbox is explicitly off
  expect(cardText(disable.card)).toContain('Already so: nothing to change.');
  expect(cardText(disable.card)).toContain("SMTP AUTH of Bob Smith's mailbox");
  expect(cardText(disable.card)).toContain('off for this mailbox');
  expect(actionVerbs(disable.card)).toEqual([]);
  const reset = await ask('reset SMTP for Alex Wilber'); // Alex's mailbox follows the organization
  expect(cardText(reset.card)).toContain('follows the organization setting');
  expect((await suite.bot.server.store.db.query<{ n: number }>('SELECT count(*)::int AS n FROM requests'))[0]!.n).toBe(requestsBefore);
  expect(await writes()).toEqual([]);
}, 60_000);

test('an undone request loses its Undo; pressing Undo on the stale card is refused and writes nothing', async () => {
  const { requestId } = await change('enable SMTP for bob');
  const undoDraft = suite.connector.postedCards().length;
  await suite.bot.teams.press(alex, 'request.undo', { requestId });
  await suite.bot.server.drain();
  const reverse = await suite.connector.waitFor('the reverse request', () => suite.connector.postedCards().slice(undoDraft).find((p) => actionVerbs(p.card).includes('request.confirm')));
  // The confirmation card of a change that turns SMTP AUTH off says the exception ends with it.
  expect(cardText(reverse.card)).toContain('so the exception Alex Wilber asked for');
  await suite.bot.teams.press(alex, 'request.confirm', { requestId: requestIdOf(reverse.card) });
  await suite.bot.server.drain();
  expect(await suite.simulator.mailboxOf(bob.id)).toEqual(bob.mailbox);
  expect((await suite.bot.server.store.activeExceptions(demoFixture.tenant.id)).map((e) => e.targetUserId)).not.toContain(bob.id);
  const writesSoFar = (await writes()).length;

  const stale = await suite.bot.teams.press(alex, 'request.undo', { requestId });
  expect(cardText(stale.body.value)).toContain('ALREADY_UNDONE');
  expect(actionVerbs(stale.body.value)).not.toContain('request.undo');
  await suite.bot.server.drain();
  expect(await writes()).toHaveLength(writesSoFar);
}, 60_000);

test('a change that leaves the mailbox\'s SMTP AUTH on does not end its exception', async () => {
  await change('enable SMTP for bob');
  expect((await suite.bot.server.store.activeExceptions(demoFixture.tenant.id)).map((e) => e.targetUserId)).toContain(bob.id);
  // The organization allows SMTP AUTH now: a reset leaves bob's mailbox inheriting "on".
  const tenant = connectTenant(suite.bot.config);
  try {
    await tenant.exchange.setTransportConfigSmtpClientAuthenticationDisabled(false);
  } finally {
    await tenant.close();
  }
  suite.clock.advance(2 * 60_000); // past the bot's one-minute reuse of organization settings
  const { confirm } = await change('reset SMTP for bob');
  expect(cardText(confirm.card)).not.toContain('the exception');
  expect(await suite.simulator.mailboxOf(bob.id)).toEqual({ smtpClientAuthenticationDisabled: null });
  expect((await suite.bot.server.store.activeExceptions(demoFixture.tenant.id)).map((e) => e.targetUserId)).toContain(bob.id);
  expect(suite.connector.postedCards().some((p) => isApprovalCard(p.card))).toBe(true);
}, 60_000);

test('cards tell the truth: an undone request says Undone, a rejected one promises no revert, an already-on mailbox is registered, a status names the exception', async () => {
  const { requestId, confirm } = await change('enable SMTP for bob for 7 days');
  const status = await ask('smtp status bob');
  expect(cardText(status.card)).toContain('Active SMTP AUTH exception');
  expect(cardText(status.card)).toContain('the floor 2 scanner');
  expect(cardText(status.card)).toContain('Alex Wilber');

  await suite.bot.teams.press(alex, 'request.undo', { requestId });
  await suite.bot.server.drain();
  const reverse = await suite.connector.waitFor('the undo draft', () => suite.connector.postedCards().find((p) => actionVerbs(p.card).includes('request.confirm') && cardText(p.card).includes('Disable SMTP AUTH for Bob Smith')));
  await suite.bot.teams.press(alex, 'request.confirm', { requestId: requestIdOf(reverse.card) });
  await suite.bot.server.drain();
  const undone = await suite.connector.waitFor('the original card marked undone', () => suite.connector.updates(confirm.id).find((c) => cardText(c).includes('Undone: a later request put back')));
  expect(cardText(undone)).not.toContain('Done, verified');
  expect(actionVerbs(undone)).toEqual([]);

  const rejectedDraft = await ask('enable SMTP for bob for 7 days');
  const rejectedId = requestIdOf(rejectedDraft.card);
  await suite.bot.teams.press(alex, 'request.confirm', { requestId: rejectedId, justification: 'the floor 2 scanner' });
  await suite.bot.server.drain();
  const rejected = await suite.bot.teams.press(megan, 'request.reject', { requestId: rejectedId, comment: 'use the relay instead' });
  expect(cardText(rejected.body.value)).toContain('Rejected');
  expect(cardText(rejected.body.value)).not.toContain('reverts automatically');
  await suite.bot.server.drain();
  await suite.connector.waitFor('the rejection notice', () => suite.connector.postedCards().find((p) => cardText(p.card).includes('was rejected')));

  await suite.bot.teams.message(alex, 'enable SMTP for Adele Vance for the label printer'); // her mailbox is on already, with no exception
  const adopt = await suite.connector.waitFor('the adopt draft', () => suite.connector.postedCards().find((p) => cardText(p.card).includes('Adele Vance') && actionVerbs(p.card).includes('request.confirm')));
  expect(cardText(adopt.card)).toContain('Register the SMTP AUTH that is already on for Adele Vance');
}, 60_000);

test('a write whose read-back failed does not say "done and verified": it says so, is read back later, and then the card and the requester are told', async () => {
  const { requestId, approval } = await pendingEnable(suite, alex, 'enable SMTP for bob', { justification: 'the floor 2 scanner' });
  await suite.simulator.control('POST', '/_simulator/faults', { rules: [{ service: 'exchange', match: 'Get-CASMailbox', status: 503 }] });
  await suite.bot.teams.press(megan, 'request.approve', { requestId });
  await suite.bot.server.drain();
  await suite.simulator.control('DELETE', '/_simulator/faults');
  expect(await suite.bot.server.store.getRequest(requestId)).toMatchObject({ state: 'succeeded', verified: false });
  expect(await suite.simulator.mailboxOf(bob.id)).toEqual({ smtpClientAuthenticationDisabled: false });
  const unverified = await suite.connector.waitFor('the card says not verified', () => suite.connector.updates(approval.id).find((c) => cardText(c).includes('could not be read back')));
  expect(cardText(unverified)).not.toContain('Done, verified');
  const told = () => suite.connector.postedCards().map((p) => cardText(p.card)).join('\n');
  await suite.connector.waitFor('the requester told it is not verified yet', () => told().includes('could not be read back to verify it'));
  expect(told()).not.toContain('Your request for Bob Smith is done and verified');

  suite.clock.advance(5 * 60_000 + 1000);
  expect(await suite.bot.server.runDueJobs()).toBe(1);
  expect(await suite.bot.server.store.getRequest(requestId)).toMatchObject({ state: 'succeeded', verified: true });
  await suite.connector.waitFor('the card now verified', () => suite.connector.updates(approval.id).find((c) => cardText(c).includes('Done, verified')));
  await suite.connector.waitFor('the requester told it is verified', () => told().includes('is now verified'));
  expect(await writes()).toHaveLength(1);
}, 60_000);
