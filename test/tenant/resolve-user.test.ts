import { loadFixture } from '../../src/simulator/fixture';
import type { Tenant } from '../../src/tenant';
import { DEMO_FIXTURE_PATH } from '../simulator/simulatorClient';
import { connect, startTestSimulator, type TestSimulator } from './tenantHarness';

describe('resolveUser: one lookup for every command', () => {
  let sim: TestSimulator;
  let tenant: Tenant;

  beforeAll(async () => {
    sim = await startTestSimulator();
    tenant = connect(sim);
  });
  afterAll(async () => {
    await tenant.close();
    await sim.stop();
  });

  const found = async (query: string) => {
    const result = await tenant.directory.resolveUser(query);
    if (result.kind !== 'found') throw new Error(`${query}: ${result.kind}`);
    return result.user.userPrincipalName;
  };

  test("names with quotes, accents and other scripts resolve: Seán O'Brien, 王伟, Ștefan, José Núñez", async () => {
    expect(await found("Seán O'Brien")).toBe("sean.o'brien@contoso.com");
    expect(await found("o'brien")).toBe("sean.o'brien@contoso.com");
    expect(await found('王伟')).toBe('wang.wei@contoso.com');
    expect(await found('王')).toBe('wang.wei@contoso.com');
    expect(await found('Ștefan')).toBe('stefan.popescu@contoso.com');
    expect(await found('“José Núñez”')).toBe('jose.nunez@contoso.com');
    expect(await found("SEAN.O'BRIEN@contoso.com")).toBe("sean.o'brien@contoso.com");
  });

  test('an exact address or alias wins over name prefixes; a prefix shared by given names and surnames is ambiguous', async () => {
    expect(await found('bob')).toBe('bob@contoso.com');
    expect(await found('bob.jones@contoso.com')).toBe('bob.jones@contoso.com');
    const bobs = await tenant.directory.resolveUser('Bob S');
    expect(bobs).toMatchObject({ kind: 'found', user: { displayName: 'Bob Smith' } });
    const ambiguous = await tenant.directory.resolveUser('Bo');
    expect(ambiguous).toMatchObject({ kind: 'ambiguous' });
    if (ambiguous.kind === 'ambiguous') expect(ambiguous.candidates.map((user) => user.displayName).sort()).toEqual(['Bob Jones', 'Bob Smith', 'Megan Bowen']);
    expect(await tenant.directory.resolveUser('nobody-like-this')).toEqual({ kind: 'none' });
    expect(await tenant.directory.resolveUser("x') or startswith(displayName,'")).toEqual({ kind: 'none' });
  });

  test('results are capped and ranked: exact name, then given name, then the rest alphabetically', async () => {
    const fixture = loadFixture(DEMO_FIXTURE_PATH);
    for (let i = 0; i < 30; i++) {
      fixture.users.push({
        id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        displayName: `Anna ${String.fromCharCode(90 - i % 26)}${i}`, userPrincipalName: `anna${i}@contoso.com`, mail: `anna${i}@contoso.com`,
        givenName: 'Anna', surname: `S${i}`, preferredLanguage: null, accountEnabled: true, mailbox: { smtpClientAuthenticationDisabled: null }, perUserMfaState: 'disabled',
      });
    }
    await sim.call('POST', '/_simulator/reset', { json: fixture });
    try {
      const result = await tenant.directory.resolveUser('anna', 5);
      expect(result.kind).toBe('ambiguous');
      if (result.kind !== 'ambiguous') return;
      expect(result.candidates).toHaveLength(5);
      const names = result.candidates.map((user) => user.displayName);
      expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b)));
    } finally {
      await sim.call('POST', '/_simulator/reset');
    }
  });
});

describe('paging over a 2 500-user tenant', () => {
  let sim: TestSimulator;
  let tenant: Tenant;

  beforeAll(async () => {
    const fixture = loadFixture(DEMO_FIXTURE_PATH);
    fixture.users = Array.from({ length: 2500 }, (_, i) => ({
      id: `10000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      displayName: `User ${i}`, userPrincipalName: `user${i}@contoso.com`, mail: `user${i}@contoso.com`,
      givenName: 'User', surname: String(i), preferredLanguage: null, accountEnabled: true, mailbox: { smtpClientAuthenticationDisabled: true }, perUserMfaState: 'disabled' as const,
    }));
    fixture.groups = [];
    delete fixture.localMode;
    sim = await startTestSimulator(fixture);
    tenant = connect(sim);
  });
  afterAll(async () => {
    await tenant.close();
    await sim.stop();
  });

  test('listing follows @odata.nextLink to the last page and returns every user exactly once', async () => {
    const users = await tenant.directory.listAllUsers(undefined, 999);
    expect(users).toHaveLength(2500);
    expect(new Set(users.map((user) => user.id)).size).toBe(2500);
    const pages = (await sim.call('GET', '/_simulator/calls')).json.filter((call: { path: string }) => call.path.startsWith('/v1.0/users'));
    expect(pages).toHaveLength(3);
  });

  test('Exchange pages Get-CASMailbox with Prefer: odata.maxpagesize and the client follows every page', async () => {
    const mailboxes = await tenant.exchange.listCasMailboxes(true, { pageSize: 1000 });
    expect(mailboxes).toHaveLength(2500);
    expect(new Set(mailboxes.map((m) => m.identity)).size).toBe(2500);
  });
});
