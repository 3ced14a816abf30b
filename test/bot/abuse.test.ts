import * as parse from '../../src/nlu/parse';
import { cardText } from '../support/fake-connector';
import { demoUser, inProcessBotSuite } from '../support/harness';

/** Text a person (or an attacker) sends the bot that is not a command: it gets a clear answer, fast. */

const alex = demoUser('Alex Wilber');
const suite = inProcessBotSuite({ name: 'abuse', startsAt: '2026-11-23T09:00:00Z' });

async function reply(text: string, options: { tenantId?: string; locale?: string } = {}) {
  const before = suite.connector.postedCards().length;
  const status = await suite.bot.teams.message(alex, text, options);
  const posted = await suite.connector.waitFor('the reply', () => suite.connector.postedCards()[before]);
  return { status, text: cardText(posted.card) };
}

describe('hole 1: a long message (issue #13)', () => {
  test('"a" + 100,000 dots + "x" is answered at once that it is too long, and /healthz is not held up', async () => {
    const started = Date.now();
    const [answer, health] = await Promise.all([
      reply('a' + '.'.repeat(100_000) + 'x'),
      fetch(`http://127.0.0.1:${suite.bot.server.port}/healthz`).then((r) => r.status),
    ]);
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('too long');
    expect(answer.text).toContain(String(parse.utteranceMaxLength));
    expect(health).toBe(200);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  test('another tenant\'s message is refused before its text is read', async () => {
    const spy = jest.spyOn(parse, 'parseUtterance');
    try {
      const answer = await reply('enable SMTP for bob', { tenantId: '11111111-2222-4333-8444-555555555555' });
      expect(answer.text).toContain('only works for the organization that installed it');
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });
});
