import { cardText } from '../support/fake-connector';
import { demoUser, inProcessBotSuite, pendingEnable } from '../support/harness';

/**
 * Requesters hear about their request in their own chat. When Teams refuses the message (the
 * app was removed for them: 403), the change still completes, the approvers' cards still update,
 * and the failed notification is logged and audited.
 */

const alex = demoUser('Alex Wilber');
const adele = demoUser('Adele Vance'); // IT staff and approver: can say "approvals here"

const suite = inProcessBotSuite({ name: 'notify', startsAt: '2026-11-23T09:00:00Z' });

test('only IT staff choose where approval cards go', async () => {
  await suite.bot.teams.message(demoUser('Megan Bowen'), 'approvals here', { conversationId: 'megans-chat' });
  const refused = await suite.connector.waitFor('the refusal', () => suite.connector.postedCards().find((p) => p.call.conversationId === 'megans-chat'));
  expect(cardText(refused.card)).toContain('NOT_IT_STAFF');
  expect(await suite.bot.server.store.getSetting('approvals-conversation')).toBeUndefined();
});

test('the requester is told of approval and result in their chat', async () => {
  await suite.bot.teams.message(adele, 'approvals here', { conversationId: 'approvals-chat' });
  await suite.connector.waitFor('approvals here answered', () => suite.connector.calls.find((c) => c.conversationId === 'approvals-chat'));
  const { requestId, confirmation: confirm } = await pendingEnable(suite, alex, 'enable SMTP for bob for the floor 2 scanner', { approvalsIn: 'approvals-chat' });
  await suite.bot.teams.press(adele, 'request.approve', { requestId }, { conversationId: 'approvals-chat' });
  await suite.bot.server.drain();
  const told = () => suite.connector.postedCards().filter((p) => p.call.conversationId === `a:${alex.id}` && p.id !== confirm.id).map((p) => cardText(p.card)).join('\n');
  await suite.connector.waitFor('the requester told', () => /approved/i.test(told()) && /done/i.test(told()));
  // Bob's mailbox is on now, yet a Conditional Access policy still blocks legacy authentication for him.
  expect(told()).toContain('Block legacy authentication');
}, 60_000);

test('a 403 from Teams for the requester\'s chat is logged and audited, and the change still completes', async () => {
  const { requestId, approval } = await pendingEnable(suite, alex, 'enable SMTP for Adele Vance for the label printer', { approvalsIn: 'approvals-chat' });

  suite.connector.refuse(`a:${alex.id}`); // Alex removed the app: every send to his chat is a 403 now
  await suite.bot.teams.press(demoUser('Megan Bowen'), 'request.approve', { requestId }, { conversationId: 'approvals-chat' });
  await suite.bot.server.drain();

  await suite.connector.waitFor('the approvals chat card updated', () => suite.connector.updates(approval.id).find((c) => cardText(c).includes('Done')));
  expect(suite.connector.refused.filter((r) => r.conversationId === `a:${alex.id}` && r.status === 403).length).toBeGreaterThan(0);
  expect((await suite.bot.server.store.getRequest(requestId))?.state).toBe('succeeded');
  const failed = (await suite.bot.server.store.auditEvents(requestId)).filter((e) => e.action === 'notify.failed');
  expect(failed.length).toBeGreaterThan(0);
  expect(JSON.stringify(failed[0]!.detail)).toMatch(/403/);
}, 60_000);
