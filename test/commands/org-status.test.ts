import { orgStatus } from '../../src/commands/org-status';
import { languages, translator } from '../../src/i18n';
import { answerLanguage, understand } from '../../src/nlu/parse';
import { cardText, type CardJson } from '../support/fake-connector';
import { demoUser, inProcessBotSuite } from '../support/harness';

/** `org-status` through the bot, against the simulator: the organization's layers, read only. */
const alex = demoUser('Alex Wilber'); // IT staff
const megan = demoUser('Megan Bowen'); // approver
const bob = demoUser('Bob Smith'); // neither

const suite = inProcessBotSuite({ name: 'org-status', startsAt: '2026-12-01T09:00:00Z' });

beforeEach(async () => {
  await suite.simulator.control('POST', '/_simulator/reset');
});

async function ask(user: typeof alex, text: string): Promise<CardJson> {
  const before = suite.connector.postedCards().length;
  await suite.bot.teams.message(user, text);
  await suite.bot.server.drain();
  return suite.connector.postedCards().slice(before)[0]!.card;
}

test('IT staff see every organization-wide layer of the demo tenant with its numbers; nothing is written', async () => {
  await suite.simulator.control('DELETE', '/_simulator/calls');
  const text = cardText(await ask(alex, 'org status'));
  expect(text).toContain('SMTP AUTH across the organization');
  expect(text).toContain('Off for every mailbox that inherits');
  expect(text).toContain('Block legacy authentication: enforced; excluded groups: 1');
  expect(text).toContain('Require MFA for all users (report-only): report-only');
  expect(text).toContain('Block Basic Auth: blocks Basic SMTP; assigned to 1 users');
  expect(text).toContain('Allow Basic SMTP: allows Basic SMTP; assigned to 0 users');
  expect(text).toContain('2 on by their own setting, 3 off by their own setting, 6 inherit');
  expect(text).toContain('0 active exceptions (0 permanent, 0 ending within 7 days); 2 mailboxes have SMTP AUTH on without a request');
  expect(text).toContain('MC786329');
  const calls = (await suite.simulator.control('GET', '/_simulator/calls')) as { method: string; cmdlet: string | null }[];
  expect(calls.filter((call) => call.method === 'PATCH' || /^Set-/.test(call.cmdlet ?? ''))).toEqual([]);
}, 60_000);

test('approvers may read it; anyone else is told it is for IT staff', async () => {
  expect(cardText(await ask(megan, 'org status'))).toContain('SMTP AUTH across the organization');
  const denied = cardText(await ask(bob, 'org status'));
  expect(denied).toContain('NOT_IT_STAFF');
  expect(denied).not.toContain('SMTP AUTH across the organization');
}, 60_000);

test.each(languages)('every canonical phrase in %s means org-status in that language; the example answers in it', async (language) => {
  for (const phrase of orgStatus.phrases[language]) {
    const understood = understand(phrase);
    expect({ phrase, id: understood.kind === 'command' ? understood.parsed.command.id : understood.kind, language: answerLanguage(understood, undefined) }).toEqual({ phrase, id: 'org-status', language });
  }
  expect(cardText(await ask(alex, orgStatus.example[language]))).toContain(translator(language)('policy.orgStatus.title'));
}, 60_000);
