import { demoUser, inProcessBotSuite } from '../support/harness';

/**
 * Teams shows a card message as "Sent a card" in notifications and the chat list unless the
 * activity carries a summary. Every card the bot sends, posted or updated, replies or proactive
 * notices, names what it is about, in the user's language.
 */

const alex = demoUser('Alex Wilber');
const suite = inProcessBotSuite({ name: 'summary', startsAt: '2026-11-23T09:00:00Z' });

function firstTextBlock(card: { body?: Record<string, unknown>[] }): string {
  const block = card.body?.find((b) => b.type === 'TextBlock');
  return String(block?.text ?? '').replace(/\*\*/g, '');
}

test('a reply card carries its title as the summary', async () => {
  const before = suite.connector.calls.length;
  expect(await suite.bot.teams.message(alex, 'enable SMTP for bob for the floor 2 scanner')).toBe(200);
  const posted = await suite.connector.waitFor('the confirmation card', () => suite.connector.postedCards()[0]);
  expect(posted.call.activity.summary).toBe('Enable SMTP AUTH for Bob Smith');
  expect(firstTextBlock(posted.card)).toContain('Bob Smith');
  expect(suite.connector.calls.length).toBeGreaterThan(before);
});

test('in another language the summary is in that language', async () => {
  const before = suite.connector.postedCards().length;
  expect(await suite.bot.teams.message(alex, 'ayuda', { locale: 'es-ES' })).toBe(200);
  const posted = await suite.connector.waitFor('the help card', () => suite.connector.postedCards()[before]);
  const summary = String(posted.call.activity.summary ?? '');
  expect(summary).not.toBe('');
  expect(summary).toBe(firstTextBlock(posted.card).replace(/\s+/g, ' ').trim());
});

test('every card activity the bot sent in this file, posted or updated, has a non-empty summary', () => {
  const cardActivities = suite.connector.calls.filter((c) => (c.activity.attachments ?? []).length > 0);
  expect(cardActivities.length).toBeGreaterThanOrEqual(2);
  expect(cardActivities.filter((c) => typeof c.activity.summary !== 'string' || c.activity.summary === '').map((c) => c.path)).toEqual([]);
});
