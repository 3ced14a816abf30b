import { actionVerbs, cardText, listEntries, type CardJson } from '../support/fake-connector';
import { demoFixture, demoUser, inProcessBotSuite, pendingEnable } from '../support/harness';
import type { TeamsUser } from '../support/teams';

/**
 * `requests` through the bot: my requests on their way and, for approvers, those waiting for my
 * decision, each with the buttons the route table accepts from me now — the same verbs and rules
 * as the request's own cards. A press on the list answers with the list brought up to date.
 */

const suite = inProcessBotSuite({ name: 'requests', startsAt: '2026-11-23T09:00:00Z' });
const alex = demoUser('Alex Wilber'); // IT staff, not an approver
const megan = demoUser('Megan Bowen'); // approver
const adele = demoUser('Adele Vance'); // IT staff and approver
const bob = demoUser('Bob Smith'); // end user
const bobRecord = demoFixture.users.find((u) => u.displayName === 'Bob Smith')!;

async function ask(user: TeamsUser, text: string): Promise<CardJson> {
  const before = suite.connector.postedCards().length;
  await suite.bot.teams.message(user, text);
  return (await suite.connector.waitFor(`the answer to "${text}"`, () => suite.connector.postedCards()[before])).card;
}

const entries = listEntries;

test('help tells everyone about it, in their language', async () => {
  expect(cardText(await ask(bob, 'help'))).toContain('Your requests on their way, and those waiting for your approval');
  expect(cardText(await ask(megan, '帮助'))).toContain('我的请求');
}, 60_000);

test('empty lists say so; an end user sees only their own requests and no approvals section', async () => {
  const card = await ask(bob, 'my requests');
  expect(cardText(card)).toContain('Your open requests: 0');
  expect(cardText(card)).toContain('You have no open requests.');
  expect(cardText(card)).not.toContain('Waiting for your approval');
  const approver = await ask(megan, 'requests');
  expect(cardText(approver)).toContain('Nothing is waiting for your approval.');
  expect(actionVerbs(approver)).toEqual([]);
}, 60_000);

test('my pending request is listed with Cancel; an approver sees it with Approve and Reject, approves from the list, and the change is made once', async () => {
  const { requestId } = await pendingEnable(suite, alex, 'enable SMTP for bob for the floor 2 scanner');
  // Asked seconds ago: not "1 minute ago".
  expect(entries(await ask(alex, 'my requests'))[0]!.text).toContain('just now');
  suite.clock.advance(3 * 60_000);

  const mine = entries(await ask(alex, 'my requests'));
  expect(mine).toHaveLength(1);
  expect(mine[0]!.text).toContain('Enable SMTP AUTH for Bob Smith');
  expect(mine[0]!.text).toContain('Waiting for approval');
  expect(mine[0]!.text).toContain('3 minutes ago');
  expect(mine[0]!.text).toContain('the floor 2 scanner');
  expect(mine[0]!.verbs).toEqual(['request.cancel']);
  // Alex approves nothing: no section for it. Bob, whose mailbox it is, does not see Alex's request.
  expect(cardText(await ask(alex, 'my requests'))).not.toContain('Waiting for your approval');
  expect(cardText(await ask(bob, 'my requests'))).toContain('You have no open requests.');

  const listed = await ask(megan, 'what is waiting for my approval?');
  const waiting = entries(listed);
  expect(waiting.map((e) => [e.requestId, e.verbs])).toEqual([[requestId, ['request.approve', 'request.reject']]]);
  expect(waiting[0]!.text).toContain('Alex Wilber');
  expect(waiting[0]!.text).toContain('0 of 1');

  const approved = await suite.bot.teams.press(megan, 'request.approve', waiting[0]!.data[0]!);
  expect(cardText(approved.body.value)).toContain('You approved “Enable SMTP AUTH for Bob Smith”.');
  expect(cardText(approved.body.value)).toContain('Nothing is waiting for your approval.');
  await suite.bot.server.drain();
  expect((await suite.bot.server.store.getRequest(requestId))?.state).toBe('succeeded');
  expect(await suite.simulator.mailboxOf(bobRecord.id)).toEqual({ smtpClientAuthenticationDisabled: false });
  expect(await suite.simulator.setCasMailboxCalls()).toHaveLength(1);

  // The same button pressed again from the old list: refused, the list says why, nothing written.
  const stale = await suite.bot.teams.press(megan, 'request.approve', waiting[0]!.data[0]!);
  expect(cardText(stale.body.value)).toContain('REQUEST_CLOSED');
  expect(cardText(stale.body.value)).toContain('Your open requests: 0');
  await suite.bot.server.drain();
  expect(await suite.simulator.setCasMailboxCalls()).toHaveLength(1);
  expect(entries(await ask(alex, 'my requests'))).toEqual([]);
}, 90_000);

test('the person a change is for may only reject it; the requester never sees their own request as waiting; reject and cancel work from the list', async () => {
  const { requestId: forMegan } = await pendingEnable(suite, alex, 'enable SMTP for Megan Bowen for the meeting room display');
  const meganSees = entries(await ask(megan, 'requests')).find((e) => e.requestId === forMegan)!;
  expect(meganSees.verbs).toEqual(['request.reject']);
  const adeleSees = entries(await ask(adele, 'requests')).find((e) => e.requestId === forMegan)!;
  expect(adeleSees.verbs).toEqual(['request.approve', 'request.reject']);

  const rejected = await suite.bot.teams.press(adele, 'request.reject', { ...adeleSees.data[1]!, [`comment:${forMegan}`]: 'use the relay connector instead' });
  expect(cardText(rejected.body.value)).toContain('You rejected “Enable SMTP AUTH for Megan Bowen”.');
  await suite.bot.server.drain();
  expect((await suite.bot.server.store.getRequest(forMegan))?.state).toBe('rejected');
  expect((await suite.bot.server.store.approvals(forMegan)).map((a) => [a.approverName, a.decision, a.comment])).toEqual([['Adele Vance', 'reject', 'use the relay connector instead']]);

  const { requestId: own } = await pendingEnable(suite, adele, 'enable SMTP for Grady Archie for the label printer');
  const adeleList = await ask(adele, 'requests');
  expect(entries(adeleList).map((e) => [e.requestId, e.verbs])).toEqual([[own, ['request.cancel']]]);
  expect(cardText(adeleList)).toContain('Nothing is waiting for your approval.');
  const cancelled = await suite.bot.teams.press(adele, 'request.cancel', entries(adeleList)[0]!.data[0]!);
  expect(cardText(cancelled.body.value)).toContain('You cancelled “Enable SMTP AUTH for Grady Archie”.');
  expect(cardText(cancelled.body.value)).toContain('You have no open requests.');
  expect((await suite.bot.server.store.getRequest(own))?.state).toBe('cancelled');
  // Megan has nothing left to decide: the cancelled request is gone from her list too.
  expect(entries(await ask(megan, 'requests'))).toEqual([]);
}, 90_000);

test('asked in Chinese or Spanish, the list and the list a button brings back are in that language', async () => {
  const { requestId } = await pendingEnable(suite, alex, 'enable SMTP for José Núñez for the payroll app');
  const zh = await ask(megan, '待审批');
  expect(cardText(zh)).toContain('等待我审批：1');
  expect(cardText(zh)).toContain('我未完成的请求：0');
  const entry = entries(zh).find((e) => e.requestId === requestId)!;
  expect(entry.text).toContain('等待审批');
  // Megan's Teams client is in English; the list she asked for in Chinese stays Chinese.
  const pressed = await suite.bot.teams.press(megan, 'request.approve', entry.data[0]!, { locale: 'en-US' });
  expect(cardText(pressed.body.value)).toContain('你已批准');
  expect(cardText(pressed.body.value)).toContain('没有等待你审批的请求。');
  await suite.bot.server.drain();

  const es = await ask(alex, 'mis solicitudes');
  expect(cardText(es)).toContain('Tus solicitudes abiertas: 0');
  expect(cardText(es)).toContain('No tienes solicitudes abiertas.');
}, 90_000);

/** How often the approvals table has been read, as PostgreSQL's own statistics count it (the bot's store is PGlite, in this process). */
async function approvalsTableReads(): Promise<number> {
  const db = suite.bot.server.store.db;
  await db.query('SELECT pg_stat_force_next_flush()');
  const [row] = await db.query<{ reads: string | number }>("SELECT seq_scan + idx_scan AS reads FROM pg_stat_user_tables WHERE relname = 'approvals' AND schemaname = current_schema()");
  return Number(row!.reads);
}

test('each listed request shows its own approvals, to the requester and to each approver, and the list reads the approvals table once however many it lists', async () => {
  const { requestId: stefan } = await pendingEnable(suite, alex, 'enable SMTP for stefan.popescu@contoso.com for the warehouse printer');
  suite.clock.advance(60_000);
  const { requestId: scanner } = await pendingEnable(suite, alex, 'enable SMTP for scanner2@contoso.com permanently for the floor 2 scanner');
  suite.clock.advance(60_000);
  const { requestId: grady } = await pendingEnable(suite, alex, 'enable SMTP for gradya@contoso.com for the label printer');
  const meganList = entries(await ask(megan, 'requests'));
  await suite.bot.teams.press(megan, 'request.approve', meganList.find((e) => e.requestId === scanner)!.data[0]!);
  await suite.bot.server.drain();
  expect((await suite.bot.server.store.getRequest(scanner))?.state).toBe('pending');

  // The requester: each of their requests with its own count.
  const mine = entries(await ask(alex, 'my requests'));
  expect(mine.map((e) => e.requestId)).toEqual([grady, scanner, stefan]);
  expect(mine.find((e) => e.requestId === stefan)!.text).toContain('0 of 1');
  expect(mine.find((e) => e.requestId === scanner)!.text).toContain('1 of 2');
  expect(mine.find((e) => e.requestId === grady)!.text).toContain('0 of 1');

  // Megan decided on the scanner: it is no longer waiting for her; the other two are.
  const meganNow = entries(await ask(megan, 'requests'));
  expect(meganNow.map((e) => e.requestId).sort()).toEqual([stefan, grady].sort());

  // Adele sees all three waiting, the scanner with Megan's approval counted.
  const readsBefore = await approvalsTableReads();
  const adeleSees = entries(await ask(adele, 'requests'));
  expect(await approvalsTableReads()).toBe(readsBefore + 1);
  expect(adeleSees.map((e) => [e.requestId, e.verbs])).toEqual([grady, scanner, stefan].map((id) => [id, ['request.approve', 'request.reject']]));
  expect(adeleSees.find((e) => e.requestId === scanner)!.text).toContain('1 of 2');
  expect(adeleSees.find((e) => e.requestId === stefan)!.text).toContain('0 of 1');
}, 120_000);
