import { loadFixture, type TenantFixture } from '../../src/simulator/fixture';
import type { Tenant } from '../../src/tenant';
import { DEMO_FIXTURE_PATH } from '../simulator/simulatorClient';
import { connect, startTestSimulator, type TestSimulator } from './tenantHarness';
import { recordFigure } from '../support/figures';

/**
 * A name typed into chat ends up inside a Graph `$filter`. Whatever it holds — a quote, `%27`,
 * `%25`, `#`, `&`, `+` — it must be read as those characters and nothing more (issue #13, hole 4).
 */
describe('resolveUser: a name cannot change the $filter it is put into', () => {
  let sim: TestSimulator;
  let tenant: Tenant;
  const fixture: TenantFixture = loadFixture(DEMO_FIXTURE_PATH);
  const megan = fixture.users.find((u) => u.displayName === 'Megan Bowen')!;
  const extra = [
    ['R&D Scanner', 'rd.scanner'], ['Ann+Lee Printer', 'annlee'], ['100% Copier', 'copier100'], ['Room #4 Scanner', 'room4'], ['Quote%27s Device', 'quote27'],
  ] as const;
  extra.forEach(([displayName, alias], i) => fixture.users.push({
    id: `00000000-0000-4000-8000-00000000a${String(i).padStart(3, '0')}`, displayName, userPrincipalName: `${alias}@contoso.com`, mail: `${alias}@contoso.com`,
    givenName: null, surname: null, preferredLanguage: null, accountEnabled: true, mailbox: { smtpClientAuthenticationDisabled: null }, perUserMfaState: 'disabled',
  }));

  beforeAll(async () => {
    sim = await startTestSimulator(fixture);
    tenant = connect(sim);
  });
  const outcomes: { probe: boolean; ok: boolean }[] = [];
  afterAll(async () => {
    const probes = outcomes.filter((o) => o.probe);
    const names = outcomes.filter((o) => !o.probe);
    if (probes.length === 5 && names.length === 5) {
      recordFigure('odata-injection', {
        suite: 'OData $filter injection through a name (hole 4)',
        tried: `${probes.length} injection probes (%27 and quote breaking out, & smuggling a parameter, # cutting the URL)`,
        held: `${probes.filter((o) => o.ok).length} of ${probes.length} found nobody; ${names.filter((o) => o.ok).length} of ${names.length} names with & + % # %27 found literally`,
      });
    }
    await tenant.close();
    await sim.stop();
  });

  const resolved = async (query: string) => {
    const result = await tenant.directory.resolveUser(query);
    return result.kind === 'found' ? result.user.displayName : result.kind === 'ambiguous' ? result.candidates.map((u) => u.displayName).sort() : 'none';
  };

  test.each([
    ['the probe that returned another user\'s card', `zzz%27) or id eq %27${megan.id}%27 or startswith(displayName,%27zzz`],
    ['the probe that listed disabled accounts', '%27) or accountEnabled eq false'],
    ['a quote closing the literal, unencoded', "x') or startswith(displayName,'"],
    ['a parameter smuggled after &', 'zzz&$filter=accountEnabled eq false'],
    ['a fragment cutting the filter short', "zzz') or true #"],
  ])('%s finds nobody', async (_name, query) => {
    const result = await resolved(query);
    outcomes.push({ probe: true, ok: result === 'none' });
    expect(result).toBe('none');
  });

  test.each([
    ['R&D', 'R&D Scanner'],
    ['Ann+Lee', 'Ann+Lee Printer'],
    ['100%', '100% Copier'],
    ['Room #4', 'Room #4 Scanner'],
    ['Quote%27s', 'Quote%27s Device'],
  ])('"%s" is taken literally and finds %s', async (query, name) => {
    const result = await resolved(query);
    outcomes.push({ probe: false, ok: result === name });
    expect(result).toBe(name);
  });

  test('percent escapes are not decoded on the way: %25 is not %, %2B is not +, %26 is not &', async () => {
    expect(await resolved('100%25')).toBe('none');
    expect(await resolved('Ann%2BLee')).toBe('none');
    expect(await resolved('R%26D')).toBe('none');
    // A space is a space; Graph reads a raw + as one, so a literal + must reach it encoded.
    expect(await resolved('Ann Lee')).toBe('none');
  });

  test('an address with + and a quote is looked up as written', async () => {
    expect(await resolved('annlee@contoso.com')).toBe('Ann+Lee Printer');
    expect(await resolved('ann+lee@contoso.com')).toBe('none');
    expect(await resolved("sean.o'brien@contoso.com")).toBe("Seán O'Brien");
  });
});
