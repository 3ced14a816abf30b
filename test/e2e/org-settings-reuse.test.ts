import { loadFixture } from '../../src/simulator/fixture';
import { cardText, requestIdOf } from '../support/fake-connector';
import { demoUser, inProcessBotSuite } from '../support/harness';
import { DEMO_FIXTURE_PATH } from '../simulator/simulatorClient';

/** `smtp status` reuses organization-wide settings for a minute, says so on the card, and drops them when SMTP Gate writes. */

const alex = demoUser('Alex Wilber');
const suite = inProcessBotSuite({ name: 'org-settings', startsAt: '2026-11-23T09:00:00Z' });
const asOf = 'Organization-wide settings as of';

async function status(): Promise<string> {
  const before = suite.connector.postedCards().length;
  await suite.bot.teams.message(alex, 'smtp status bob@contoso.com');
  return cardText((await suite.connector.waitFor('the status card', () => suite.connector.postedCards()[before])).card);
}

test('a second status within the minute says "as of"; a change SMTP Gate makes, or a minute, brings a fresh read', async () => {
  await suite.simulator.control('POST', '/_simulator/reset');
  expect(await status()).not.toContain(asOf);

  // Security defaults go on in the tenant, outside SMTP Gate.
  const fixture = loadFixture(DEMO_FIXTURE_PATH);
  fixture.org.securityDefaultsEnabled = true;
  await suite.simulator.control('POST', '/_simulator/reset', fixture);
  suite.clock.advance(20_000);
  const reused = await status();
  expect(reused).toContain(`${asOf} 09:00:00 UTC`);
  expect(reused).not.toContain('Ref: SECURITY_DEFAULTS_ON');

  // SMTP Gate's own write (a disable, which needs no approval) drops the copy; the check after it reads the organization anew.
  // (Adele's mailbox is on: disabling bob's, already off, would be "already so" and write nothing.)
  await suite.bot.teams.message(alex, 'disable smtp for adelev@contoso.com');
  const draft = await suite.connector.waitFor('the disable draft', () => suite.connector.postedCards().find((p) => cardText(p.card).includes('Disable SMTP AUTH for Adele Vance')));
  await suite.bot.teams.press(alex, 'request.confirm', { requestId: requestIdOf(draft.card) });
  await suite.bot.server.drain();
  expect(await suite.simulator.setCasMailboxCalls()).toHaveLength(1);
  const fresh = await status();
  expect(fresh).toContain('Ref: SECURITY_DEFAULTS_ON');
  expect(fresh).toContain(`${asOf} 09:00:20 UTC`);

  suite.clock.advance(60_000);
  const minuteLater = await status();
  expect(minuteLater).not.toContain(asOf);
  expect(minuteLater).toContain('Ref: SECURITY_DEFAULTS_ON');
}, 60_000);
