import { actionVerbs, cardText } from '../support/fake-connector';
import { demoUser, inProcessBotSuite, pendingEnable, rosterOf } from '../support/harness';

/** An approver says no, with a reason the requester and every other approver can read. */

const alex = demoUser('Alex Wilber');
const megan = demoUser('Megan Bowen');

const suite = inProcessBotSuite({ name: 'reject', startsAt: '2026-11-23T09:00:00Z', members: rosterOf([alex, megan]) });

test('a reject with a comment ends the request, writes nothing, shows the reason on every copy and tells the requester', async () => {
  const { requestId, approval } = await pendingEnable(suite, alex, 'enable SMTP for bob for the floor 2 scanner', { justification: 'floor 2 scanner' });
  // Everyone sees the status; Teams refreshes the card into buttons and a comment box for approvers.
  expect(actionVerbs(approval.card)).toEqual([]);
  expect(approval.card.refresh?.userIds).toEqual([`29:${megan.id}`]);
  const live = await suite.bot.teams.press(megan, 'request.refresh', { requestId });
  expect(actionVerbs(live.body.value)).toEqual(['request.approve', 'request.reject']);
  expect(JSON.stringify(live.body.value?.body)).toContain('"id":"comment"');

  const answer = await suite.bot.teams.press(megan, 'request.reject', { requestId, comment: 'Use OAuth with the new firmware instead' });
  await suite.bot.server.drain();
  expect(cardText(answer.body.value)).toMatch(/Rejected/);
  expect(cardText(answer.body.value)).toContain('Megan Bowen: Use OAuth with the new firmware instead');
  expect(actionVerbs(answer.body.value)).toEqual([]);

  const updated = await suite.connector.waitFor('the approval card marked rejected', () => suite.connector.updates(approval.id).find((c) => cardText(c).includes('Use OAuth with the new firmware instead')));
  expect(actionVerbs(updated)).toEqual([]);
  await suite.connector.waitFor('the requester told', () => suite.connector.postedCards().find((p) => /rejected/i.test(cardText(p.card)) && p.call.conversationId === `a:${alex.id}` && p.id !== approval.id));
  expect(await suite.simulator.setCasMailboxCalls()).toHaveLength(0);

  const late = await suite.bot.teams.press(megan, 'request.approve', { requestId });
  expect(cardText(late.body.value)).toContain("can't be changed any more");

  const events = await suite.bot.server.store.auditEvents(requestId);
  expect(events.find((e) => e.action === 'request.reject')?.detail).toMatchObject({ comment: 'Use OAuth with the new firmware instead' });
}, 60_000);
