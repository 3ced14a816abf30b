import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cardText, isApprovalCard, requestIdOf } from '../support/fake-connector';
import { demoUser, FakeConnector, InProcessBot, SimulatorHandle, TestClock } from '../support/harness';

/**
 * Requesters hear about their request in their own chat. When Teams refuses the message (the
 * app was removed for them: 403), the change still completes, the approvers' cards still update,
 * and the failed notification is logged and audited.
 */

const alex = demoUser('Alex Wilber');
const adele = demoUser('Adele Vance'); // IT staff and approver: can say "approvals here"

let simulator: SimulatorHandle;
let connector: FakeConnector;
let bot: InProcessBot;
let dataDir: string;

beforeAll(async () => {
  simulator = await SimulatorHandle.start();
  connector = new FakeConnector();
  await connector.start();
  dataDir = mkdtempSync(join(tmpdir(), 'smtp-gate-notify-'));
  bot = await InProcessBot.start(simulator, connector, new TestClock(new Date('2026-11-23T09:00:00Z')).now, { DATA_DIR: dataDir });
}, 60_000);

afterAll(async () => {
  await bot?.server.close();
  await connector?.stop();
  await simulator?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test('the requester is told of approval and result in their chat', async () => {
  await bot.teams.message(adele, 'approvals here', { conversationId: 'approvals-chat' });
  await connector.waitFor('approvals here answered', () => connector.calls.find((c) => c.conversationId === 'approvals-chat'));
  await bot.teams.message(alex, 'enable SMTP for bob for the floor 2 scanner');
  const confirm = await connector.waitFor('the confirmation card', () => connector.postedCards().find((p) => p.call.conversationId === `a:${alex.id}`));
  const requestId = requestIdOf(confirm.card);
  await bot.teams.press(alex, 'request.confirm', { requestId });
  await bot.server.drain();
  await connector.waitFor('the approval card in the approvals chat', () => connector.postedCards().find((p) => isApprovalCard(p.card) && p.call.conversationId === 'approvals-chat'));
  await bot.teams.press(adele, 'request.approve', { requestId }, { conversationId: 'approvals-chat' });
  await bot.server.drain();
  const told = () => connector.postedCards().filter((p) => p.call.conversationId === `a:${alex.id}` && p.id !== confirm.id).map((p) => cardText(p.card)).join('\n');
  await connector.waitFor('the requester told', () => /approved/i.test(told()) && /done/i.test(told()));
  // Bob's mailbox is on now, yet a Conditional Access policy still blocks legacy authentication for him.
  expect(told()).toContain('Block legacy authentication');
}, 60_000);

test('a 403 from Teams for the requester\'s chat is logged and audited, and the change still completes', async () => {
  await bot.teams.message(alex, 'enable SMTP for Adele Vance for the label printer');
  const confirm = await connector.waitFor('the confirmation card', () => connector.postedCards().find((p) => p.call.conversationId === `a:${alex.id}` && cardText(p.card).includes('Adele Vance')));
  const requestId = requestIdOf(confirm.card);
  await bot.teams.press(alex, 'request.confirm', { requestId });
  await bot.server.drain();
  const approval = await connector.waitFor('the approval card', () => connector.postedCards().find((p) => isApprovalCard(p.card) && p.call.conversationId === 'approvals-chat' && cardText(p.card).includes('Adele Vance')));

  connector.refuse(`a:${alex.id}`); // Alex removed the app: every send to his chat is a 403 now
  await bot.teams.press(demoUser('Megan Bowen'), 'request.approve', { requestId }, { conversationId: 'approvals-chat' });
  await bot.server.drain();

  await connector.waitFor('the approvals chat card updated', () => connector.updates(approval.id).find((c) => cardText(c).includes('Done')));
  expect(connector.refused.filter((r) => r.conversationId === `a:${alex.id}` && r.status === 403).length).toBeGreaterThan(0);
  expect((await bot.server.store.getRequest(requestId))?.state).toBe('succeeded');
  const failed = (await bot.server.store.auditEvents(requestId)).filter((e) => e.action === 'notify.failed');
  expect(failed.length).toBeGreaterThan(0);
  expect(JSON.stringify(failed[0]!.detail)).toMatch(/403/);
}, 60_000);
