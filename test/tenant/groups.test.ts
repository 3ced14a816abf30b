import { loadFixture } from '../../src/simulator/fixture';
import type { Tenant } from '../../src/tenant';
import { DEMO_FIXTURE_PATH } from '../simulator/simulatorClient';
import { connect, startTestSimulator, type TestSimulator } from './tenantHarness';

/** A group named in chat is found like a person: by id, name, mail nickname or address; several matches are ambiguous. */

describe('resolveGroup against the simulator', () => {
  let sim: TestSimulator;
  let tenant: Tenant;
  const fixture = loadFixture(DEMO_FIXTURE_PATH);
  const scanners = fixture.groups!.find((g) => g.displayName === 'Scanners')!;

  beforeAll(async () => {
    sim = await startTestSimulator(fixture);
    tenant = connect(sim);
  });
  afterAll(async () => {
    await tenant.close();
    await sim.stop();
  });

  test.each([
    ['its display name', 'Scanners'],
    ['its display name in other case, quoted', '"scanners"'],
    ['its mail nickname', 'scanners'],
    ['its address (nickname@domain)', 'scanners@contoso.com'],
    ['its object id', scanners.id],
    ['the start of its name', 'Scan'],
  ])('found by %s', async (_how, query) => {
    expect(await tenant.directory.resolveGroup(query)).toEqual({ kind: 'found', group: expect.objectContaining({ id: scanners.id, displayName: 'Scanners' }) });
  });

  test('a name that starts several groups is ambiguous, each candidate named', async () => {
    const resolution = await tenant.directory.resolveGroup('SMTP');
    expect(resolution.kind).toBe('ambiguous');
    expect(resolution.kind === 'ambiguous' && resolution.candidates.map((g) => g.displayName)).toEqual(['SMTP Approvers', 'SMTP AUTH exceptions']);
  });

  test.each(['Printers', '00000000-0000-4000-8000-00000000dead', "zzz%27) or startswith(displayName,%27S", "Scan' or displayName eq 'IT Staff", '#&+'])('no group for %j: none, never another group', async (query) => {
    expect(await tenant.directory.resolveGroup(query)).toEqual({ kind: 'none' });
  });
});
