import { loadFixture, type TenantFixture } from '../../src/simulator/fixture';
import { setSmtpForGroup, type BulkProgress, type Tenant } from '../../src/tenant';
import { DEMO_FIXTURE_PATH } from '../simulator/simulatorClient';
import { connect, exchangeCalls, startTestSimulator, type TestSimulator } from './tenantHarness';

export function fixtureWithGroup(size: number): { fixture: TenantFixture; groupId: string } {
  const fixture = loadFixture(DEMO_FIXTURE_PATH);
  const ids: string[] = [];
  for (let i = 0; i < size; i++) {
    const id = `20000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
    ids.push(id);
    fixture.users.push({
      id, displayName: `Printer ${i}`, userPrincipalName: `printer${i}@contoso.com`, mail: `printer${i}@contoso.com`, givenName: null, surname: null,
      preferredLanguage: null, accountEnabled: true, mailbox: { smtpClientAuthenticationDisabled: true }, perUserMfaState: 'disabled',
    });
  }
  const groupId = '30000000-0000-4000-8000-000000000001';
  fixture.groups!.push({ id: groupId, displayName: 'Printers', mailNickname: 'printers', members: ids });
  return { fixture, groupId };
}

describe('bulk: every mailbox in a group, bounded and throttle-aware', () => {
  let sim: TestSimulator;
  let tenant: Tenant;
  const { fixture, groupId } = fixtureWithGroup(200);

  beforeAll(async () => {
    sim = await startTestSimulator(fixture);
    tenant = connect(sim, { policy: { maxRetries: 2, baseDelayMs: 5 } });
  });
  afterAll(async () => {
    await tenant.close();
    await sim.stop();
  });

  test('200 mailboxes with 30 % of Set-CASMailbox calls throttled: all 200 set, exactly 200 successful writes, progress to the end', async () => {
    await sim.call('POST', '/_simulator/faults', { json: { rules: [{ service: 'exchange', match: 'Set-CASMailbox', status: 429, retryAfterSeconds: 0, probability: 0.3 }] } });
    const progress: BulkProgress[] = [];
    const results = await setSmtpForGroup(tenant, groupId, false, { concurrency: 8, throttlePauseMs: 5, onProgress: (p) => progress.push(p) });

    expect(results).toHaveLength(200);
    expect(results.every((result) => result.outcome === 'changed')).toBe(true);
    const state = (await sim.call('GET', '/_simulator/state')).json.users.filter((u: { userPrincipalName: string }) => u.userPrincipalName.startsWith('printer'));
    expect(state.every((u: { mailbox: { smtpClientAuthenticationDisabled: boolean } }) => u.mailbox.smtpClientAuthenticationDisabled === false)).toBe(true);

    const sets = await exchangeCalls(sim, 'Set-CASMailbox');
    const successes = sets.filter((call) => call.status === 200);
    expect(successes).toHaveLength(200);
    expect(new Set(successes.map((call) => call.parameters.Identity)).size).toBe(200);
    expect(sets.filter((call) => call.status === 429).length).toBeGreaterThan(30);

    expect(progress.map((p) => p.done)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(progress.at(-1)).toMatchObject({ total: 200, done: 200, changed: 200, failed: 0 });
  });

  test('a second run changes nothing and says so; a member without a mailbox is reported, not retried', async () => {
    await sim.call('DELETE', '/_simulator/faults');
    const again = await setSmtpForGroup(tenant, groupId, false, { concurrency: 8 });
    expect(new Set(again.map((result) => result.outcome))).toEqual(new Set(['unchanged']));
    const withLidia = fixture.groups!.find((g) => g.displayName === 'Scanners')!;
    const lidia = fixture.users.find((u) => u.userPrincipalName === 'lidiah@contoso.com')!;
    const mixed = structuredClone(fixture);
    mixed.groups!.find((g) => g.id === withLidia.id)!.members.push(lidia.id);
    await sim.call('POST', '/_simulator/reset', { json: mixed });
    const results = await setSmtpForGroup(tenant, withLidia.id, false);
    expect(results.map((r) => [r.user.userPrincipalName, r.outcome])).toEqual([['scanner2@contoso.com', 'changed'], ['lidiah@contoso.com', 'no-mailbox']]);
  });
});
