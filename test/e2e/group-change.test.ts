import { loadFixture, type TenantFixture } from '../../src/simulator/fixture';
import { actionVerbs, cardText, isApprovalCard, requestIdOf } from '../support/fake-connector';
import { demoFixture, demoUser, inProcessBotSuite } from '../support/harness';
import { DEMO_FIXTURE_PATH } from '../simulator/simulatorClient';

/**
 * "enable SMTP for group Printers" from chat, as an admin uses it: the group is found like a person,
 * the card says how many members, how many change and who is skipped, one request gets its two
 * approvals, the card follows the run and ends with each mailbox's result; failed mailboxes are
 * listed and a Retry writes only them, once; each mailbox is its own exception and undo puts back each.
 */

const alex = demoUser('Alex Wilber');
const megan = demoUser('Megan Bowen');
const adele = demoUser('Adele Vance');
const size = 40;
const printerId = (i: number) => `20000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
const groupId = '30000000-0000-4000-8000-000000000001';

function fixture(): TenantFixture {
  const f = loadFixture(DEMO_FIXTURE_PATH);
  for (let i = 0; i < size; i++) {
    f.users.push({ id: printerId(i), displayName: `Printer ${i}`, userPrincipalName: `printer${i}@contoso.com`, mail: null, givenName: null, surname: null,
      preferredLanguage: null, accountEnabled: true, mailbox: { smtpClientAuthenticationDisabled: true }, perUserMfaState: 'disabled' });
  }
  const lidia = f.users.find((u) => u.userPrincipalName === 'lidiah@contoso.com')!;
  const wang = f.users.find((u) => u.userPrincipalName === 'wang.wei@contoso.com')!;
  const nested = '30000000-0000-4000-8000-00000000000a';
  f.groups!.push(
    { id: nested, displayName: 'Printers Basement', mailNickname: 'printersbasement', members: Array.from({ length: size / 2 }, (_, i) => printerId(i)) },
    { id: groupId, displayName: 'Printers', mailNickname: 'printers', members: [nested, ...Array.from({ length: size / 2 }, (_, i) => printerId(size / 2 + i)), lidia.id, wang.id] },
    { id: '30000000-0000-4000-8000-00000000000e', displayName: 'Empty shelf', mailNickname: 'emptyshelf', members: [] },
    { id: '30000000-0000-4000-8000-00000000000f', displayName: 'Mailless', mailNickname: 'mailless', members: [lidia.id] },
  );
  return f;
}

// A write is retried after a time-out (it may have landed): on a loaded machine 1.5 s is too short to count writes by.
const suite = inProcessBotSuite({ name: 'group-change', startsAt: '2026-12-02T09:00:00Z', settings: { TENANT_TIMEOUT_MS: '15000' } });

beforeEach(async () => {
  await suite.simulator.control('POST', '/_simulator/reset', fixture());
  await suite.simulator.control('DELETE', '/_simulator/faults');
  await suite.simulator.control('DELETE', '/_simulator/calls');
});

async function ask(text: string) {
  const posted = suite.connector.postedCards().length;
  await suite.bot.teams.message(alex, text);
  return suite.connector.waitFor(`the answer to "${text}"`, () => suite.connector.postedCards()[posted]);
}

async function successfulSets(): Promise<string[]> {
  return (await suite.simulator.setCasMailboxCalls()).filter((c) => c.status === 200).map((c) => String(c.parameters!.Identity));
}

async function printerValues(): Promise<(boolean | null | undefined)[]> {
  const state = await suite.simulator.control<{ users: { id: string; mailbox: { smtpClientAuthenticationDisabled: boolean | null } | null }[] }>('GET', '/_simulator/state');
  return Array.from({ length: size }, (_, i) => state.users.find((u) => u.id === printerId(i))?.mailbox?.smtpClientAuthenticationDisabled);
}

/** Alex asks and confirms; Megan and Adele approve (a group enable is high risk: two approvals). */
async function approvedGroupEnable(text: string) {
  const draft = await ask(text);
  const requestId = requestIdOf(draft.card);
  await suite.bot.teams.press(alex, 'request.confirm', { requestId });
  await suite.bot.server.drain();
  await suite.bot.teams.press(megan, 'request.approve', { requestId });
  await suite.bot.teams.press(adele, 'request.approve', { requestId });
  await suite.bot.server.drain();
  return { draft, requestId };
}

test('the confirmation card counts members, changes and skipped ones; two approvals; every mailbox set once, its own exception; the card ends with the results', async () => {
  const { draft, requestId } = await approvedGroupEnable('enable SMTP for group Printers for 30 days for the basement scanners');
  const text = cardText(draft.card);
  expect(text).toContain('Enable SMTP AUTH for every mailbox in group Printers');
  expect(text).toContain(`Group Printers: ${size + 2} members, nested groups included.`);
  expect(text).toContain(`${size} mailboxes will change:`);
  expect(text).toContain('1 mailbox is already as asked and is left out.');
  expect(text).toContain('1 member has no Exchange Online mailbox and is skipped:');
  expect(text).toContain('Lidia Holloway (lidiah@contoso.com)');
  expect(text).toContain('Approvals needed after you confirm: 2.');

  const request = await suite.bot.server.store.getRequest(requestId);
  expect(request).toMatchObject({ state: 'succeeded', risk: 'high', verified: true });
  expect(await printerValues()).toEqual(Array.from({ length: size }, () => false));
  const sets = await successfulSets();
  expect(sets).toHaveLength(size);
  expect(new Set(sets).size).toBe(size);

  const exceptions = (await suite.bot.server.store.activeExceptions(demoFixture.tenant.id)).filter((e) => e.requestId === requestId);
  expect(exceptions.map((e) => e.targetUpn).sort()).toEqual(Array.from({ length: size }, (_, i) => `printer${i}@contoso.com`).sort());
  expect(exceptions.every((e) => e.justification === 'the basement scanners' && e.approverNames.sort().join() === 'Adele Vance,Megan Bowen')).toBe(true);

  const final = await suite.connector.waitFor('the result on the card', () => suite.connector.updates(draft.id).find((c) => cardText(c).includes(`Applied to ${size} of ${size} mailboxes.`)));
  expect(cardText(final)).toContain('Done, verified');
  expect(actionVerbs(final)).toContain('request.undo');
  expect(actionVerbs(final)).not.toContain('request.retry');

  const register = await ask('exceptions');
  expect(cardText(register.card)).toContain('Printer 0');
  expect(suite.connector.postedCards().some((p) => isApprovalCard(p.card))).toBe(true);
}, 120_000);

test('mailboxes Exchange refuses are listed with why; Retry writes only them, once each, and a second Retry is refused', async () => {
  await suite.simulator.control('POST', '/_simulator/faults', { rules: [{ service: 'exchange', match: 'Set-CASMailbox', status: 400, exchangeError: 'InvalidOperationException', times: 3 }] });
  const { draft, requestId } = await approvedGroupEnable('enable SMTP for group printers@contoso.com for the basement scanners');
  const done = (await suite.bot.server.store.getRequest(requestId))!;
  expect(done.state).toBe('succeeded');
  const failed = done.plan.filter((step) => step.status === 'failed');
  expect(failed).toHaveLength(3);
  const card = await suite.connector.waitFor('the partial result', () => suite.connector.updates(draft.id).find((c) => cardText(c).includes(`Applied to ${size - 3} of ${size} mailboxes.`)));
  expect(cardText(card)).toContain('Done in part');
  expect(cardText(card)).toContain('3 mailboxes failed:');
  for (const step of failed) expect(cardText(card)).toContain(step.target.identity);
  expect(actionVerbs(card)).toContain('request.retry');
  expect((await suite.bot.server.store.activeExceptions(demoFixture.tenant.id)).filter((e) => e.requestId === requestId)).toHaveLength(size - 3);

  await suite.simulator.control('DELETE', '/_simulator/calls');
  const retried = await suite.bot.teams.press(alex, 'request.retry', { requestId });
  expect(retried.status).toBe(200);
  await suite.bot.server.drain();
  expect((await successfulSets()).sort()).toEqual(failed.map((step) => step.target.identity).sort());
  expect((await suite.bot.server.store.getRequest(requestId))!.plan.every((step) => step.status === 'applied')).toBe(true);
  expect((await suite.bot.server.store.activeExceptions(demoFixture.tenant.id)).filter((e) => e.requestId === requestId)).toHaveLength(size);
  await suite.connector.waitFor('the card after the retry', () => suite.connector.updates(draft.id).find((c) => cardText(c).includes(`Applied to ${size} of ${size} mailboxes.`) && !actionVerbs(c).includes('request.retry')));

  await suite.simulator.control('DELETE', '/_simulator/calls');
  const again = await suite.bot.teams.press(alex, 'request.retry', { requestId });
  expect(cardText(again.body.value)).toContain('NOTHING_TO_RETRY');
  await suite.bot.server.drain();
  expect(await successfulSets()).toEqual([]);
}, 120_000);

test('undo puts every mailbox back and ends each exception; a group disable then has nothing to do', async () => {
  const { requestId } = await approvedGroupEnable('enable SMTP for group Printers for the basement scanners');
  const undoStart = suite.connector.postedCards().length;
  await suite.bot.teams.press(alex, 'request.undo', { requestId });
  await suite.bot.server.drain();
  const reverse = await suite.connector.waitFor('the undo draft', () => suite.connector.postedCards().slice(undoStart).find((p) => actionVerbs(p.card).includes('request.confirm')));
  expect(cardText(reverse.card)).toContain('Printers');
  expect(cardText(reverse.card)).toContain(`${size} mailboxes will change:`);
  const undoId = requestIdOf(reverse.card);
  await suite.bot.teams.press(alex, 'request.confirm', { requestId: undoId });
  await suite.bot.server.drain();
  if ((await suite.bot.server.store.getRequest(undoId))?.state === 'pending') {
    await suite.bot.teams.press(megan, 'request.approve', { requestId: undoId });
    await suite.bot.server.drain();
  }
  expect(await suite.bot.server.store.getRequest(undoId)).toMatchObject({ state: 'succeeded' });
  expect(await printerValues()).toEqual(Array.from({ length: size }, () => true));
  expect((await suite.bot.server.store.activeExceptions(demoFixture.tenant.id)).filter((e) => e.requestId === requestId)).toEqual([]);

  const disable = await ask('disable SMTP for group Printers Basement');
  expect(cardText(disable.card)).toContain('Already so');
  expect(cardText(disable.card)).toContain(`All ${size / 2} mailboxes of group Printers Basement already have SMTP AUTH off by their own setting.`);
}, 120_000);

test('an approver whose own mailbox is in the group cannot approve it (the target never approves)', async () => {
  const f = fixture();
  f.groups!.find((g) => g.id === groupId)!.members.push(megan.id);
  await suite.simulator.control('POST', '/_simulator/reset', f);
  const draft = await ask('enable SMTP for group Printers for the basement scanners');
  const requestId = requestIdOf(draft.card);
  expect(cardText(draft.card)).toContain(`${size + 1} mailboxes will change:`);
  await suite.bot.teams.press(alex, 'request.confirm', { requestId });
  await suite.bot.server.drain();
  const refused = await suite.bot.teams.press(megan, 'request.approve', { requestId });
  expect(cardText(refused.body.value)).toContain('TARGET_APPROVAL');
  expect(await suite.bot.server.store.approvals(requestId)).toEqual([]);
  expect(await suite.simulator.setCasMailboxCalls()).toEqual([]);
}, 60_000);

test.each([
  ['disable SMTP for group Toasters', 'I can\'t find a group called "Toasters"', 'GROUP_NOT_FOUND'],
  ['enable SMTP for group Empty shelf', 'The group Empty shelf has no members: nothing to do.', 'GROUP_EMPTY'],
  ['enable SMTP for group Mailless', 'None of the 1 members of Mailless has an Exchange Online mailbox', 'GROUP_NO_MAILBOXES'],
])('"%s" is answered clearly, with no request and no write', async (text, says, code) => {
  const before = (await suite.bot.server.store.db.query<{ n: number }>('SELECT count(*)::int AS n FROM requests'))[0]!.n;
  const answer = await ask(text);
  expect(cardText(answer.card)).toContain(says);
  expect(cardText(answer.card)).toContain(code);
  expect((await suite.bot.server.store.db.query<{ n: number }>('SELECT count(*)::int AS n FROM requests'))[0]!.n).toBe(before);
  expect(await suite.simulator.setCasMailboxCalls()).toEqual([]);
}, 60_000);

test('a name several groups start with gets a pick card; its button names the group by id and drafts for it', async () => {
  const pick = await ask('enable SMTP for group Print for 14 days');
  expect(cardText(pick.card)).toContain('Several groups match "Print": which one?');
  const buttons = pick.card.actions as unknown as { title: string; data: { msteams: { value: string } } }[];
  expect(buttons.map((b) => b.title)).toEqual(['Printers (printers)', 'Printers Basement (printersbasement)']);
  expect(buttons[0]!.data.msteams.value).toBe(`enable SMTP for group ${groupId} 336h`);
  const drafted = await ask(buttons[0]!.data.msteams.value);
  expect(cardText(drafted.card)).toContain('Enable SMTP AUTH for every mailbox in group Printers');
  expect(cardText(drafted.card)).toContain('reverts automatically 2 weeks after it is applied');
  expect(await suite.simulator.setCasMailboxCalls()).toEqual([]);
}, 60_000);

test('"enable SMTP for group" asks which group; the answer completes it', async () => {
  const asked = await ask('enable SMTP for group');
  expect(cardText(asked.card)).toContain('Which group?');
  const drafted = await ask('Printers Basement');
  expect(cardText(drafted.card)).toContain('Enable SMTP AUTH for every mailbox in group Printers Basement');
  expect(actionVerbs(drafted.card)).toContain('request.confirm');
}, 60_000);
