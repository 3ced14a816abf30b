import { loadFixture } from '../../src/simulator/fixture';
import { cardText } from '../support/fake-connector';
import { demoUser, inProcessBotSuite } from '../support/harness';
import { DEMO_FIXTURE_PATH } from '../simulator/simulatorClient';

/**
 * `smtp status someone@contoso.com` looks the user up in the same Graph `$batch` as the evaluation's
 * reads, which address the mailbox by that address: one round trip to Microsoft 365 instead of two,
 * and the same card as a status that finds the user first.
 */

const alex = demoUser('Alex Wilber');
const fixture = loadFixture(DEMO_FIXTURE_PATH);
// A day after the fixture's SMTP sign-in failures, so the cards carry them.
const suite = inProcessBotSuite({ name: 'status-one-round-trip', startsAt: '2026-11-23T12:00:00Z' });

interface Call { method: string; path: string; cmdlet: string | null; parameters: { $batch?: string } | null }

/** The status card for `query`, and the tenant calls it took. Organization-wide settings are read anew each time. */
async function status(query: string): Promise<{ text: string; calls: Call[] }> {
  suite.clock.advance(61_000);
  const seen = (await suite.simulator.control<Call[]>('GET', '/_simulator/calls')).length;
  const posts = () => suite.connector.calls.filter((c) => c.method === 'POST');
  const before = posts().length;
  await suite.bot.teams.message(alex, `smtp status ${query}`);
  const reply = await suite.connector.waitFor(`the answer to "smtp status ${query}"`, () => posts()[before]);
  const card = reply.activity.attachments?.[0]?.content;
  const calls = (await suite.simulator.control<Call[]>('GET', '/_simulator/calls')).slice(seen);
  return { text: card ? cardText(card) : String(reply.activity.text), calls };
}

const lookups = (calls: Call[]) => calls.filter((c) => c.method === 'GET' && /^\/v1\.0\/users\?/.test(c.path));
/** Lookups sent on their own rather than as an item of a `$batch` (the simulator logs each item too). */
const standaloneLookups = (calls: Call[]) => lookups(calls).filter((c) => c.parameters?.$batch === undefined);
const batches = (calls: Call[]) => calls.filter((c) => c.method === 'POST' && c.path === '/v1.0/$batch');

beforeEach(async () => {
  await suite.simulator.control('POST', '/_simulator/reset');
});

test('for every mailbox of the tenant, the status by UPN is one round trip and shows what the status by object id shows', async () => {
  const mailboxes = fixture.users.filter((u) => u.mailbox);
  expect(mailboxes.length).toBeGreaterThan(8);
  for (const user of mailboxes) {
    const byId = await status(user.id);
    const byUpn = await status(user.userPrincipalName);
    expect(byUpn.text).toBe(byId.text);
    expect(byUpn.text).toContain(user.displayName);
    // The lookup rode in the batch: no Graph call waited for another.
    expect(standaloneLookups(byUpn.calls)).toHaveLength(0);
    expect(lookups(byUpn.calls)).toHaveLength(1);
    expect(batches(byUpn.calls)).toHaveLength(1);
    // The status by id, for comparison, looked the user up first.
    expect(byId.calls.filter((c) => c.method === 'GET' && c.path.startsWith(`/v1.0/users/${user.id}?`) && c.parameters?.$batch === undefined)).toHaveLength(1);
  }
}, 120_000);

test('the sign-in failures, group-based Conditional Access and per-user MFA read by UPN are the mailbox\'s own', async () => {
  const bob = await status('BOB@CONTOSO.COM');
  expect(standaloneLookups(bob.calls)).toHaveLength(0);
  expect(bob.text).toContain('Bob Smith');
  expect(bob.text).toContain('Ref: RECENT_SMTP_FAILURES');
  const scanner = await status('scanner2@contoso.com');
  expect(scanner.text).toContain('Floor 2 Scanner');
  expect(scanner.text).toContain('Ref: RECENT_SMTP_FAILURES');
  expect(scanner.text).not.toContain('Bob Smith');
}, 60_000);

test('a mail address that is not the UPN, an address two people answer to, and an unknown one are answered as before', async () => {
  const changed = structuredClone(fixture);
  changed.users.find((u) => u.displayName === 'Bob Smith')!.mail = 'robert.smith@contoso.com';
  changed.users.find((u) => u.displayName === 'Bob Jones')!.mail = 'bob@contoso.com';
  await suite.simulator.control('POST', '/_simulator/reset', changed);

  const byMail = await status('robert.smith@contoso.com');
  const byId = await status(changed.users.find((u) => u.displayName === 'Bob Smith')!.id);
  expect(byMail.text).toBe(byId.text);

  const ambiguous = await status('bob@contoso.com');
  expect(ambiguous.text).toContain('Several users match “bob@contoso.com”');
  expect(ambiguous.text).toContain('Bob Jones (bob.jones@contoso.com)');

  const unknown = await status('nobody@contoso.com');
  expect(unknown.text).toContain('I found no user matching “nobody@contoso.com”');
}, 60_000);
