import type { AuditEvent, Store } from '../../src/store/store';
import { cardText } from '../support/fake-connector';
import { demoFixture, demoUser, draftRequest, inProcessBotSuite, pendingEnable } from '../support/harness';
import type { TeamsUser } from '../support/teams';

/**
 * Card data is the clicker's to forge: every state-changing click is checked against the stored
 * request and the clicker. A refused click gets a card saying why, changes nothing, and is audited.
 */

const hour = 3_600_000;
const alex = demoUser('Alex Wilber'); // IT staff, requester
const adele = demoUser('Adele Vance'); // IT staff and approver, not the requester
const megan = demoUser('Megan Bowen'); // approver

// PostgreSQL when there is one (quicker to set up than a fresh PGlite directory).
const suite = inProcessBotSuite({ name: 'tampered', startsAt: '2026-11-23T09:00:00Z', database: 'postgres-when-available' });
let store: Store;

beforeAll(() => {
  store = suite.bot.server.store;
});

beforeEach(async () => {
  await suite.simulator.control('POST', '/_simulator/reset');
  suite.connector.calls.length = 0;
});

async function draft(): Promise<string> {
  return (await draftRequest(suite, alex, 'enable SMTP for bob')).requestId;
}

async function pending(): Promise<string> {
  const { requestId, confirmed } = await pendingEnable(suite, alex, 'enable SMTP for bob', { justification: 'the floor 2 scanner sends scans by mail' });
  expect(cardText(confirmed.body.value)).toContain('Waiting for approval');
  return requestId;
}

/** Everything a click could have changed: the request row, its approvals, its jobs, the tenant. */
async function snapshot(requestId: string) {
  return {
    request: await store.getRequest(requestId),
    approvals: await store.approvals(requestId),
    jobs: await store.jobs(requestId),
    sets: await suite.simulator.setCasMailboxCalls(),
  };
}

/** Presses, expects a refusal card with the code, nothing changed, and exactly one new audit entry: the denial. */
async function expectRefused(user: TeamsUser, verb: string, data: Record<string, unknown>, code: string, text: string | RegExp, requestId: string) {
  const before = await snapshot(requestId);
  const auditBefore = (await store.auditEvents()).length;
  const answer = await suite.bot.teams.press(user, verb, data);
  await suite.bot.server.drain();
  expect(answer.status).toBe(200);
  expect(answer.body.type).toBe('application/vnd.microsoft.card.adaptive');
  const shown = cardText(answer.body.value);
  expect(shown).toContain(code);
  if (typeof text === 'string') expect(shown).toContain(text);
  else expect(shown).toMatch(text);
  expect(await snapshot(requestId)).toEqual(before);
  const added: AuditEvent[] = (await store.auditEvents()).slice(auditBefore);
  expect(added.map((e) => [e.action, e.actorId, e.detail.reason])).toEqual([['action.denied', user.id, code]]);
  return added[0]!;
}

test('approving a request that has expired is refused, writes nothing, and the denial is audited', async () => {
  const requestId = await pending();
  suite.clock.advance(25 * hour);
  await suite.bot.server.runDueJobs();
  expect((await store.getRequest(requestId))?.state).toBe('expired');
  const denied = await expectRefused(megan, 'request.approve', { requestId }, 'REQUEST_CLOSED', "can't be changed any more: it is Expired", requestId);
  expect(denied.requestId).toBe(requestId);
  expect(denied.detail.verb).toBe('request.approve');
  expect(await store.approvals(requestId)).toEqual([]);
}, 60_000);

test("confirming or cancelling someone else's draft is refused, even for IT staff who may approve", async () => {
  const requestId = await draft();
  await expectRefused(adele, 'request.confirm', { requestId, justification: 'forged' }, 'NOT_REQUESTER', 'Only the person who made this request can do that', requestId);
  await expectRefused(adele, 'request.cancel', { requestId }, 'NOT_REQUESTER', 'Only the person who made this request can do that', requestId);
  expect((await store.getRequest(requestId))?.state).toBe('draft');
  // An approver cannot skip ahead: approving a draft is refused too.
  await expectRefused(megan, 'request.approve', { requestId }, 'REQUEST_CLOSED', /can't be changed any more/, requestId);
}, 60_000);

test('an unknown verb, a missing, malformed or unknown request id, and a pick without a user are refused and audited', async () => {
  const requestId = await pending();
  await expectRefused(megan, 'request.execute', { requestId }, 'UNKNOWN_ACTION', "That button isn't one I know", requestId);
  await expectRefused(megan, 'request.approve', {}, 'BAD_ACTION_DATA', 'That card is missing information', requestId);
  await expectRefused(megan, 'request.approve', { requestId: 42 }, 'BAD_ACTION_DATA', 'That card is missing information', requestId);
  await expectRefused(megan, 'request.approve', { requestId: "x' OR '1'='1" }, 'BAD_ACTION_DATA', 'That card is missing information', requestId);
  await expectRefused(megan, 'request.approve', { requestId: '00000000-0000-4000-8000-000000000000' }, 'REQUEST_NOT_FOUND', "I can't find that request", requestId);
  // A pick that names nobody, on the requester's own draft.
  const draftId = await draft();
  await expectRefused(alex, 'user.pick', { requestId: draftId }, 'BAD_ACTION_DATA', 'That card is missing information', draftId);
  // The request itself is still waiting, untouched, for a real approval.
  expect((await store.getRequest(requestId))?.state).toBe('pending');
  expect(await suite.simulator.setCasMailboxCalls()).toHaveLength(0);
}, 60_000);

test('a click from another tenant is refused politely and leaves no trace', async () => {
  const requestId = await pending();
  const before = await snapshot(requestId);
  const auditBefore = (await store.auditEvents()).length;
  const outsider = { id: demoFixture.users[0]!.id, name: 'Mallory' };
  const foreign = await suite.bot.teams.press(outsider, 'request.approve', { requestId }, { tenantId: '11111111-2222-3333-4444-555555555555' });
  expect(cardText(foreign.body.value)).toContain('only works for the organization that installed it');
  expect(await snapshot(requestId)).toEqual(before);
  expect(await store.auditEvents()).toHaveLength(auditBefore);
}, 60_000);
