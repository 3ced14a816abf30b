import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { actionVerbs, cardText, requestIdOf, isApprovalCard } from '../support/fake-connector';
import { demoUser, FakeConnector, InProcessBot, SimulatorHandle, TestClock } from '../support/harness';

/** An approver says no, with a reason the requester and every other approver can read. */

const alex = demoUser('Alex Wilber');
const megan = demoUser('Megan Bowen');

let simulator: SimulatorHandle;
let connector: FakeConnector;
let bot: InProcessBot;
let dataDir: string;

beforeAll(async () => {
  simulator = await SimulatorHandle.start();
  connector = new FakeConnector();
  connector.members = [alex, megan].map((u) => ({ id: `29:${u.id}`, name: u.name, aadObjectId: u.id }));
  await connector.start();
  dataDir = mkdtempSync(join(tmpdir(), 'smtp-gate-reject-'));
  bot = await InProcessBot.start(simulator, connector, new TestClock(new Date('2026-11-23T09:00:00Z')).now, { DATA_DIR: dataDir });
}, 60_000);

afterAll(async () => {
  await bot?.server.close();
  await connector?.stop();
  await simulator?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test('a reject with a comment ends the request, writes nothing, shows the reason on every copy and tells the requester', async () => {
  await bot.teams.message(alex, 'enable SMTP for bob for the floor 2 scanner');
  const confirm = await connector.waitFor('the confirmation card', () => connector.postedCards()[0]);
  const requestId = requestIdOf(confirm.card);
  await bot.teams.press(alex, 'request.confirm', { requestId, justification: 'floor 2 scanner' });
  await bot.server.drain();
  const approval = await connector.waitFor('the approval card', () => connector.postedCards().find((p) => isApprovalCard(p.card)));
  // Everyone sees the status; Teams refreshes the card into buttons and a comment box for approvers.
  expect(actionVerbs(approval.card)).toEqual([]);
  expect(approval.card.refresh?.userIds).toEqual([`29:${megan.id}`]);
  const live = await bot.teams.press(megan, 'request.refresh', { requestId });
  expect(actionVerbs(live.body.value)).toEqual(['request.approve', 'request.reject']);
  expect(JSON.stringify(live.body.value?.body)).toContain('"id":"comment"');

  const answer = await bot.teams.press(megan, 'request.reject', { requestId, comment: 'Use OAuth with the new firmware instead' });
  await bot.server.drain();
  expect(cardText(answer.body.value)).toMatch(/Rejected/);
  expect(cardText(answer.body.value)).toContain('Megan Bowen: Use OAuth with the new firmware instead');
  expect(actionVerbs(answer.body.value)).toEqual([]);

  const updated = await connector.waitFor('the approval card marked rejected', () => connector.updates(approval.id).find((c) => cardText(c).includes('Use OAuth with the new firmware instead')));
  expect(actionVerbs(updated)).toEqual([]);
  await connector.waitFor('the requester told', () => connector.postedCards().find((p) => /rejected/i.test(cardText(p.card)) && p.call.conversationId === `a:${alex.id}` && p.id !== approval.id));
  expect(await simulator.setCasMailboxCalls()).toHaveLength(0);

  const late = await bot.teams.press(megan, 'request.approve', { requestId });
  expect(cardText(late.body.value)).toContain("can't be changed any more");

  const events = await bot.server.store.auditEvents(requestId);
  expect(events.find((e) => e.action === 'request.reject')?.detail).toMatchObject({ comment: 'Use OAuth with the new firmware instead' });
}, 60_000);
