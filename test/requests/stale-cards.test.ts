import { actionVerbs, cardText, isApprovalCard, requestIdOf, type CardJson } from '../support/fake-connector';
import { demoFixture, demoUser, inProcessBotSuite } from '../support/harness';
import type { TeamsUser } from '../support/teams';

/**
 * A card stays in the chat after its request has moved on. Every verb pressed on such a stale card
 * (already undone, decided, in another state, an exception since ended, a mailbox since registered)
 * is refused with a message saying why, in the reader's language, and changes nothing: no tenant
 * write, no request row moved, no decision recorded, no request drafted — only the denial audited.
 */

const suite = inProcessBotSuite({ name: 'stale-cards', startsAt: '2026-11-23T09:00:00Z' });
const alex = demoUser('Alex Wilber'); // IT staff, the requester
const adele = demoUser('Adele Vance'); // IT staff and approver
const megan = demoUser('Megan Bowen'); // approver
const bob = demoFixture.users.find((u) => u.userPrincipalName === 'bob@contoso.com')!;

const store = () => suite.bot.server.store;
const requestCount = async () => (await store().db.query<{ n: number }>('SELECT count(*)::int AS n FROM requests'))[0]!.n;

async function newPost(action: () => Promise<unknown>, matching: (card: CardJson) => boolean = () => true): Promise<CardJson> {
  const before = suite.connector.postedCards().length;
  await action();
  await suite.bot.server.drain();
  return (await suite.connector.waitFor('the posted card', () => suite.connector.postedCards().slice(before).find((p) => matching(p.card)))).card;
}

/** Everything a press could have changed. */
async function snapshot(requestId: string) {
  return {
    request: await store().getRequest(requestId),
    approvals: await store().approvals(requestId),
    requests: await requestCount(),
    exceptions: await store().activeExceptions(demoFixture.tenant.id),
    sets: (await suite.simulator.setCasMailboxCalls()).length,
  };
}

async function expectStale(user: TeamsUser, verb: string, data: Record<string, unknown>, requestId: string, code: string, text: string, locale?: string): Promise<CardJson | undefined> {
  const before = await snapshot(requestId);
  const auditBefore = (await store().auditEvents()).length;
  const pressed = await suite.bot.teams.press(user, verb, data, locale ? { locale } : {});
  await suite.bot.server.drain();
  expect(pressed.status).toBe(200);
  const shown = cardText(pressed.body.value);
  expect([verb, shown.includes(code), shown.includes(text)]).toEqual([verb, true, true]);
  expect(await snapshot(requestId)).toEqual(before);
  const added = (await store().auditEvents()).slice(auditBefore);
  expect(added.map((e) => [e.action, e.detail.verb, e.detail.reason])).toEqual([['action.denied', verb, code]]);
  return pressed.body.value;
}

test('every button on the card of a change that was done and then undone is refused, and nothing changes', async () => {
  const draft = await newPost(() => suite.bot.teams.message(alex, 'enable SMTP for bob for the floor 2 scanner'));
  const requestId = requestIdOf(draft);
  await suite.bot.teams.press(alex, 'request.confirm', { requestId });
  await suite.bot.server.drain();
  await suite.bot.teams.press(megan, 'request.approve', { requestId });
  await suite.bot.server.drain();
  expect((await store().getRequest(requestId))?.state).toBe('succeeded');
  const reverse = await newPost(() => suite.bot.teams.press(alex, 'request.undo', { requestId }), (card) => actionVerbs(card).includes('request.confirm'));
  await suite.bot.teams.press(alex, 'request.confirm', { requestId: requestIdOf(reverse) });
  await suite.bot.server.drain();
  expect(await suite.simulator.mailboxOf(bob.id)).toEqual(bob.mailbox);
  expect((await suite.simulator.setCasMailboxCalls()).length).toBe(2);

  const data = { requestId };
  await expectStale(alex, 'request.undo', data, requestId, 'ALREADY_UNDONE', 'This request has already been undone.');
  await expectStale(alex, 'request.confirm', { ...data, justification: 'again' }, requestId, 'REQUEST_CLOSED', "can't be changed any more: it is Done");
  await expectStale(alex, 'request.cancel', data, requestId, 'REQUEST_CLOSED', "can't be changed any more: it is Done");
  await expectStale(adele, 'request.approve', data, requestId, 'REQUEST_CLOSED', "can't be changed any more: it is Done");
  await expectStale(megan, 'request.reject', { ...data, comment: 'too late' }, requestId, 'REQUEST_CLOSED', "can't be changed any more: it is Done");
  await expectStale(alex, 'user.pick', { ...data, userId: bob.id }, requestId, 'REQUEST_CLOSED', "can't be changed any more: it is Done");
  await expectStale(megan, 'exception.extend', data, requestId, 'EXCEPTION_NOT_ACTIVE', 'This exception is no longer active');
  await expectStale(adele, 'exception.lapse', data, requestId, 'EXCEPTION_NOT_ACTIVE', 'This exception is no longer active');
  await expectStale(adele, 'exception.end', { ...data, view: 'exceptions', language: 'en' }, requestId, 'EXCEPTION_NOT_ACTIVE', 'This exception is no longer active');
  // The reverse request is done too: confirming it again is stale, and a reader gets the refusal in their own language.
  await expectStale(megan, 'request.approve', { requestId: requestIdOf(reverse) }, requestIdOf(reverse), 'REQUEST_CLOSED', 'Esta solicitud ya no se puede modificar', 'es-ES');
  await expectStale(adele, 'request.reject', { requestId: requestIdOf(reverse) }, requestIdOf(reverse), 'REQUEST_CLOSED', '此请求无法再更改', 'zh-CN');
}, 120_000);

test('once rejected, the buttons still showing on other copies of its cards are refused', async () => {
  const draft = await newPost(() => suite.bot.teams.message(alex, 'enable SMTP for Megan Bowen for the meeting room display'));
  const requestId = requestIdOf(draft);
  const approval = await newPost(() => suite.bot.teams.press(alex, 'request.confirm', { requestId }), isApprovalCard);
  expect(requestIdOf(approval)).toBe(requestId);
  // The person whose mailbox it changes never approves it, even as an approver.
  await expectStale(megan, 'request.approve', { requestId }, requestId, 'TARGET_APPROVAL', "You can't approve a change to your own mailbox");
  await suite.bot.teams.press(adele, 'request.reject', { requestId, comment: 'use the relay instead' });
  await suite.bot.server.drain();
  expect((await store().getRequest(requestId))?.state).toBe('rejected');
  await expectStale(megan, 'request.approve', { requestId }, requestId, 'REQUEST_CLOSED', "can't be changed any more: it is Rejected");
  await expectStale(alex, 'request.cancel', { requestId }, requestId, 'REQUEST_CLOSED', "can't be changed any more: it is Rejected");
  await expectStale(alex, 'request.undo', { requestId }, requestId, 'REQUEST_CLOSED', "can't be changed any more: it is Rejected");
}, 120_000);

test('Adopt pressed again on an old `exceptions` card, after the mailbox was registered, drafts nothing', async () => {
  const register = await newPost(() => suite.bot.teams.message(alex, 'exceptions'));
  const adopt = (register.body ?? []).flatMap((element) => ((element.items as Record<string, unknown>[] | undefined) ?? []))
    .filter((item) => item.type === 'ActionSet')
    .flatMap((set) => (set.actions as { verb?: string; data?: Record<string, unknown> }[]))
    .find((action) => action.verb === 'exception.adopt')!;
  const drafted = await newPost(() => suite.bot.teams.press(alex, 'exception.adopt', adopt.data!), (card) => actionVerbs(card).includes('request.confirm'));
  const requestId = requestIdOf(drafted);
  await suite.bot.teams.press(alex, 'request.confirm', { requestId, justification: 'the billing app' });
  await suite.bot.server.drain();
  await suite.bot.teams.press(megan, 'request.approve', { requestId });
  await suite.bot.server.drain();
  expect((await store().getRequest(requestId))?.state).toBe('succeeded');

  const card = await expectStale(alex, 'exception.adopt', adopt.data!, requestId, 'ALREADY_REGISTERED', 'is already in the exceptions register');
  expect(actionVerbs(card)).toEqual([]);
  await expectStale(alex, 'exception.adopt', adopt.data!, requestId, 'ALREADY_REGISTERED', 'ya está en el registro de excepciones', 'es-ES');
}, 120_000);
