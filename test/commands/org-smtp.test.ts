import { connectTenant } from '../../src/tenant';
import { cardText, requestIdOf, actionVerbs } from '../support/fake-connector';
import { demoFixture, demoUser, inProcessBotSuite } from '../support/harness';

/** `org-smtp-enable` / `org-smtp-disable`: one Set-TransportConfig step, gated by its risk, with the card saying whom it reaches. */

const alex = demoUser('Alex Wilber');
const megan = demoUser('Megan Bowen');
const adele = demoUser('Adele Vance');
const inheriting = demoFixture.users.filter((u) => u.mailbox && u.mailbox.smtpClientAuthenticationDisabled === null);
const ownOn = demoFixture.users.filter((u) => u.mailbox?.smtpClientAuthenticationDisabled === false);

const suite = inProcessBotSuite({ name: 'org-smtp', startsAt: '2026-11-28T09:00:00Z' });

beforeEach(async () => {
  await suite.simulator.control('POST', '/_simulator/reset');
  await suite.simulator.control('DELETE', '/_simulator/calls');
  suite.connector.calls.length = 0;
});

async function ask(text: string) {
  const posted = suite.connector.postedCards().length;
  await suite.bot.teams.message(alex, text);
  return suite.connector.waitFor(`the answer to "${text}"`, () => suite.connector.postedCards()[posted]);
}

async function transportWrites() {
  return (await suite.simulator.control<{ cmdlet: string | null; parameters: Record<string, unknown> | null; status: number | null }[]>('GET', '/_simulator/calls')).filter((c) => c.cmdlet === 'Set-TransportConfig');
}

test('turning SMTP AUTH on for the organization warns how many mailboxes inherit it, offers the per-mailbox change, and needs two approvals', async () => {
  const draft = await ask('enable SMTP for the organization');
  const text = cardText(draft.card);
  expect(text).toContain('Turn SMTP AUTH on for the whole organization');
  expect(text).toContain(`Mailboxes that follow it now: ${inheriting.length}.`);
  expect(text).toContain('"enable SMTP for <name>"');
  expect(text).toContain('Approvals needed after you confirm: 2');
  const requestId = requestIdOf(draft.card);
  await suite.bot.teams.press(alex, 'request.confirm', { requestId });
  await suite.bot.server.drain();
  await suite.bot.teams.press(megan, 'request.approve', { requestId });
  await suite.bot.server.drain();
  expect((await suite.bot.server.store.getRequest(requestId))?.state).toBe('pending');
  expect(await transportWrites()).toEqual([]);
  await suite.bot.teams.press(adele, 'request.approve', { requestId });
  await suite.bot.server.drain();
  const done = await suite.bot.server.store.getRequest(requestId);
  expect(done).toMatchObject({ state: 'succeeded', verified: true, risk: 'high' });
  expect((await transportWrites()).map((c) => c.parameters)).toEqual([{ SmtpClientAuthenticationDisabled: false }]);
  const audit = (await suite.bot.server.store.auditEvents(requestId)).filter((e) => e.action === 'tenant.write');
  expect(audit.map((e) => e.detail)).toEqual([expect.objectContaining({ cmdlet: 'Set-TransportConfig', stepKind: 'org-smtp-auth', readBackMatched: true })]);
}, 60_000);

test('turning it off lists the mailboxes that keep SMTP AUTH on by their own setting; already off, it writes nothing', async () => {
  const already = await ask('disable SMTP for the organization'); // the demo organization has it off
  expect(cardText(already.card)).toContain('Already so: nothing to change.');
  expect(actionVerbs(already.card)).toEqual([]);
  expect(await transportWrites()).toEqual([]);

  // The organization on, as another admin might have left it.
  const tenant = connectTenant(suite.bot.config);
  try {
    await tenant.exchange.setTransportConfigSmtpClientAuthenticationDisabled(false);
  } finally {
    await tenant.close();
  }
  await suite.simulator.control('DELETE', '/_simulator/calls');
  const draft = await ask('disable SMTP for the organization');
  const text = cardText(draft.card);
  expect(text).toContain('Turn SMTP AUTH off for the whole organization');
  expect(text).toContain(`keep SMTP AUTH on by their own setting (${ownOn.length})`);
  for (const user of ownOn) expect(text).toContain(user.displayName);
  await suite.bot.teams.press(alex, 'request.confirm', { requestId: requestIdOf(draft.card) });
  await suite.bot.server.drain();
  expect((await transportWrites()).map((c) => c.parameters)).toEqual([{ SmtpClientAuthenticationDisabled: true }]);
}, 60_000);
