import { cardText, listEntries, type CardJson } from '../support/fake-connector';
import { demoUser, inProcessBotSuite, pendingEnable } from '../support/harness';
import type { TeamsUser } from '../support/teams';

/**
 * A `requests` list is a snapshot of requests that keep moving. Teams refreshes it (Universal
 * Actions, `refresh.userIds`) each time its reader sees it, so an old list shows each request as it
 * is now; a button on a list nobody refreshed is checked by the route table like any other, refused
 * in the list's language, and changes nothing.
 */

const suite = inProcessBotSuite({ name: 'requests-refresh', startsAt: '2026-11-24T09:00:00Z' });
const alex = demoUser('Alex Wilber'); // IT staff, not an approver
const megan = demoUser('Megan Bowen'); // approver
const adele = demoUser('Adele Vance'); // IT staff and approver
const bob = demoUser('Bob Smith'); // end user

async function ask(user: TeamsUser, text: string): Promise<CardJson> {
  const before = suite.connector.postedCards().length;
  await suite.bot.teams.message(user, text);
  return (await suite.connector.waitFor(`the answer to "${text}"`, () => suite.connector.postedCards()[before])).card;
}

/** What Teams does when `viewer` sees the list card: the card's own refresh action, sent as them. */
async function refreshAs(viewer: TeamsUser, list: CardJson): Promise<CardJson> {
  const action = list.refresh!.action!;
  const answer = await suite.bot.teams.press(viewer, action.verb!, action.data!, { trigger: 'automatic' });
  expect(answer.status).toBe(200);
  return answer.body.value!;
}

async function stateOf(requestId: string): Promise<string | undefined> {
  return (await suite.bot.server.store.getRequest(requestId))?.state;
}

test('an old list, refreshed as its reader sees it, shows each request as it is now; the refresh itself writes nothing', async () => {
  const { requestId: scanner } = await pendingEnable(suite, alex, 'enable SMTP for scanner2@contoso.com permanently for the floor 2 scanner');
  suite.clock.advance(60_000);
  const { requestId: frontDesk } = await pendingEnable(suite, alex, 'enable SMTP for bob for the front desk printer');

  const alexList = await ask(alex, 'my requests');
  // Teams refreshes it for Alex alone, by the id his messages come from.
  expect(alexList.refresh?.userIds).toEqual([`29:${alex.id}`]);
  expect(listEntries(alexList).map((e) => [e.requestId, e.verbs])).toEqual([[frontDesk, ['request.cancel']], [scanner, ['request.cancel']]]);
  expect(listEntries(alexList)[1]!.text).toContain('0 of 2');
  const adeleList = await ask(adele, 'requests');
  expect(listEntries(adeleList).map((e) => e.requestId)).toEqual([frontDesk, scanner]);

  // Elsewhere, on the approval cards: Megan approves both; the front desk change runs.
  await suite.bot.teams.press(megan, 'request.approve', { requestId: scanner });
  await suite.bot.teams.press(megan, 'request.approve', { requestId: frontDesk });
  await suite.bot.server.drain();
  expect([await stateOf(scanner), await stateOf(frontDesk)]).toEqual(['pending', 'succeeded']);

  const events = (await suite.bot.server.store.auditEvents()).length;
  const writes = (await suite.simulator.setCasMailboxCalls()).length;
  const alexNow = await refreshAs(alex, alexList);
  expect(cardText(alexNow)).toContain('Your open requests: 1');
  expect(listEntries(alexNow).map((e) => [e.requestId, e.verbs])).toEqual([[scanner, ['request.cancel']]]);
  expect(listEntries(alexNow)[0]!.text).toContain('1 of 2');
  // The refreshed card refreshes again next time.
  expect(alexNow.refresh).toEqual(alexList.refresh);

  const adeleNow = await refreshAs(adele, adeleList);
  expect(listEntries(adeleNow).map((e) => [e.requestId, e.verbs])).toEqual([[scanner, ['request.approve', 'request.reject']]]);
  expect(listEntries(adeleNow)[0]!.text).toContain('1 of 2');
  expect((await suite.bot.server.store.auditEvents()).length).toBe(events);
  expect(await suite.simulator.setCasMailboxCalls()).toHaveLength(writes);
}, 120_000);

test('a button on a list nobody refreshed is refused in the language the list was asked in, and changes nothing', async () => {
  const { requestId: payroll } = await pendingEnable(suite, alex, 'enable SMTP for jose.nunez@contoso.com permanently for the payroll app');
  suite.clock.advance(60_000);
  const { requestId: labels } = await pendingEnable(suite, alex, 'enable SMTP for gradya@contoso.com for the label printer');
  const meganList = await ask(megan, 'aprobaciones pendientes');
  const alexList = await ask(alex, 'minhas solicitações');
  const button = (list: CardJson, requestId: string, verb: string) => {
    const entry = listEntries(list).find((e) => e.requestId === requestId)!;
    return entry.data[entry.verbs.indexOf(verb)]!;
  };

  // Elsewhere: Megan approves the payroll app on its approval card; Adele rejects the label printer on its own.
  await suite.bot.teams.press(megan, 'request.approve', { requestId: payroll });
  await suite.bot.teams.press(adele, 'request.reject', { requestId: labels, comment: 'use the relay connector' });
  await suite.bot.server.drain();
  const events = (await suite.bot.server.store.auditEvents()).length;

  // Megan's Spanish list still offers Approve on both.
  const again = await suite.bot.teams.press(megan, 'request.approve', button(meganList, payroll, 'request.approve'));
  expect(cardText(again.body.value)).toContain('Ya tomaste una decisión sobre esta solicitud.');
  const rejected = await suite.bot.teams.press(megan, 'request.approve', button(meganList, labels, 'request.approve'));
  expect(cardText(rejected.body.value)).toContain('Esta solicitud ya no se puede modificar: su estado es “Rechazada”.');
  expect(cardText(rejected.body.value)).toContain('REQUEST_CLOSED');
  // The answer is her list as it is now, still in Spanish: nothing is waiting for her.
  expect(cardText(rejected.body.value)).toContain('No hay nada esperando tu aprobación.');

  // Alex's Portuguese list still offers Cancel on the rejected request.
  const cancel = await suite.bot.teams.press(alex, 'request.cancel', button(alexList, labels, 'request.cancel'));
  expect(cardText(cancel.body.value)).toContain('Esta solicitação não pode mais ser alterada: o status dela é “Rejeitada”.');
  const stillOpen = listEntries(cancel.body.value).map((e) => e.requestId);
  expect(stillOpen).toContain(payroll);
  expect(stillOpen).not.toContain(labels);
  await suite.bot.server.drain();

  expect([await stateOf(payroll), await stateOf(labels)]).toEqual(['pending', 'rejected']);
  expect((await suite.bot.server.store.approvals(payroll)).map((a) => [a.approverName, a.decision])).toEqual([['Megan Bowen', 'approve']]);
  expect((await suite.bot.server.store.approvals(labels)).map((a) => [a.approverName, a.decision])).toEqual([['Adele Vance', 'reject']]);
  // Each refusal is on the record, and nothing else is.
  expect((await suite.bot.server.store.auditEvents()).slice(events).map((e) => [e.action, e.detail.reason])).toEqual([
    ['action.denied', 'ALREADY_APPROVED_BY_YOU'], ['action.denied', 'REQUEST_CLOSED'], ['action.denied', 'REQUEST_CLOSED'],
  ]);
}, 120_000);

test('a list refreshed for someone else shows them their own requests, never its reader\'s; a refresh naming no list is refused', async () => {
  const alexList = await ask(alex, 'my requests');
  expect(listEntries(alexList).length).toBeGreaterThan(0);
  // In a chat of fewer than 60 people Teams refreshes the card for everyone who sees it, not only userIds.
  const bobSees = await refreshAs(bob, alexList);
  expect(cardText(bobSees)).toContain('You have no open requests.');
  expect(cardText(bobSees)).not.toContain('Waiting for your approval');
  expect(listEntries(bobSees)).toEqual([]);
  expect(bobSees.refresh?.userIds).toEqual([`29:${bob.id}`]);

  const forged = await suite.bot.teams.press(alex, 'requests.refresh', { verb: 'requests.refresh' }, { trigger: 'automatic' });
  expect(cardText(forged.body.value)).toContain('BAD_ACTION_DATA');
}, 60_000);

test('a refresh while the directory cannot be read says so and keeps refreshing: the next view brings the list back', async () => {
  const megansList = await ask(megan, 'requests');
  suite.clock.advance(5 * 60_000); // past the minute a person's roles are kept
  await suite.simulator.control('POST', '/_simulator/faults', { rules: [{ service: 'graph', status: 503 }] });
  let down: CardJson;
  try {
    down = await refreshAs(megan, megansList);
  } finally {
    await suite.simulator.control('DELETE', '/_simulator/faults');
  }
  expect(listEntries(down)).toEqual([]);
  expect(cardText(down)).toContain('TENANT_UNAVAILABLE');
  expect(down.refresh).toEqual(megansList.refresh);
  const back = await refreshAs(megan, down);
  expect(cardText(back)).toContain('Waiting for your approval');
  expect(back.refresh).toEqual(megansList.refresh);
}, 60_000);
