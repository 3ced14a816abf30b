import { evaluateSmtpAuth, type SmtpAuthEvaluation } from '../../src/tenant/evaluate';
import type { Tenant } from '../../src/tenant';
import { loadFixture } from '../../src/simulator/fixture';
import { DEMO_FIXTURE_PATH } from '../simulator/simulatorClient';
import { connect, recordingHooks, startTestSimulator, type TestSimulator } from './tenantHarness';

// The demo fixture's sign-ins are from 20–23 November 2026; "recent" is measured from here.
const NOW = new Date('2026-11-23T12:00:00Z');

describe('evaluateSmtpAuth over the demo tenant: every layer that can block SMTP AUTH', () => {
  let sim: TestSimulator;
  let tenant: Tenant;
  let hooks: ReturnType<typeof recordingHooks>;

  const evaluate = async (upn: string): Promise<SmtpAuthEvaluation> => {
    const user = await tenant.directory.getUser(upn);
    if (!user) throw new Error(`no ${upn} in the fixture`);
    return evaluateSmtpAuth(tenant, user, { now: () => NOW });
  };
  const codes = (evaluation: SmtpAuthEvaluation) => evaluation.findings.map((finding) => finding.code);
  const blockerCodes = (evaluation: SmtpAuthEvaluation) => evaluation.blockers.map((finding) => finding.code);

  beforeAll(async () => {
    sim = await startTestSimulator();
    hooks = recordingHooks(sim);
    tenant = connect(sim, { hooks });
  });
  afterAll(async () => {
    await tenant.close();
    await sim.stop();
  });
  // Each test resets the tenant behind SMTP Gate's back, as no real tenant changes: start without the organization-wide copy.
  beforeEach(async () => {
    await sim.call('POST', '/_simulator/reset');
    tenant.orgSettings.invalidate();
  });

  test('bob: mailbox switched off, legacy auth blocked by Conditional Access, recent failed SMTP sign-ins', async () => {
    const bob = await evaluate('bob@contoso.com');
    expect(bob.effectiveEnabled).toBe(false);
    expect(bob.state).toEqual({ mailboxSmtpClientAuthenticationDisabled: true, orgSmtpClientAuthenticationDisabled: true, effectiveEnabled: false });
    expect(blockerCodes(bob)).toEqual(['SMTP_AUTH_DISABLED_MAILBOX', 'CA_BLOCKS_LEGACY_AUTH']);
    expect(bob.blockers[1]).toEqual({ code: 'CA_BLOCKS_LEGACY_AUTH', layer: 'conditional-access', detail: { policyId: 'b36ef0f7-5bff-542c-a32a-dcfdb3f4d416', policyName: 'Block legacy authentication', excludeGroupIds: '95ff6a05-85e6-53fb-b73c-1f2337f7a339' } });
    expect(bob.findings.find((f) => f.code === 'RECENT_SMTP_FAILURES')).toMatchObject({ layer: 'sign-ins', detail: { count: '2' } });
    expect(codes(bob).at(-1)).toBe('BASIC_AUTH_RETIREMENT');
  });

  test('Bob Jones inherits the organization setting, which is off', async () => {
    expect(blockerCodes(await evaluate('bob.jones@contoso.com'))).toEqual(['SMTP_AUTH_DISABLED_TENANT', 'CA_BLOCKS_LEGACY_AUTH']);
  });

  test('王伟 (mailbox on, excluded from the CA policy through the exceptions group) can use SMTP AUTH; only advice remains', async () => {
    const wang = await evaluate('wang.wei@contoso.com');
    expect(wang.effectiveEnabled).toBe(true);
    expect(wang.blockers).toEqual([]);
    expect(codes(wang)).toEqual(['SMTP_AUTH_ENABLED', 'BASIC_AUTH_RETIREMENT']);
  });

  test('Adele has the mailbox setting on, yet the report names Conditional Access as what still blocks her', async () => {
    const adele = await evaluate('adelev@contoso.com');
    expect(adele.state).toMatchObject({ effectiveEnabled: true });
    expect(adele.effectiveEnabled).toBe(false);
    expect(codes(adele)).toEqual(['CA_BLOCKS_LEGACY_AUTH', 'SMTP_AUTH_ENABLED', 'BASIC_AUTH_RETIREMENT']);
  });

  test('José: per-user MFA and his own authentication policy without Basic SMTP', async () => {
    const jose = await evaluate('jose.nunez@contoso.com');
    expect(jose.blockers).toEqual(expect.arrayContaining([
      { code: 'PER_USER_MFA_ON', layer: 'per-user-mfa', detail: { perUserMfaState: 'enabled' } },
      { code: 'AUTH_POLICY_BLOCKS_BASIC_SMTP', layer: 'authentication-policy', detail: { policyName: 'Block Basic Auth', assignedBy: 'user' } },
    ]));
    expect(blockerCodes(await evaluate('alexw@contoso.com'))).toContain('PER_USER_MFA_ON');
  });

  test('no mailbox (Lidia) and a disabled account (Grady) are named as such', async () => {
    const lidia = await evaluate('lidiah@contoso.com');
    expect(lidia.state).toBe('no-mailbox');
    expect(blockerCodes(lidia)[0]).toBe('NO_MAILBOX');
    expect(blockerCodes(await evaluate('gradya@contoso.com'))).toContain('ACCOUNT_DISABLED');
  });

  test('the scanner: mailbox off and failed SMTP sign-ins; the report-only MFA policy does not block anyone', async () => {
    const scanner = await evaluate('scanner2@contoso.com');
    expect(blockerCodes(scanner)).toEqual(['SMTP_AUTH_DISABLED_MAILBOX']);
    expect(codes(scanner)).toContain('RECENT_SMTP_FAILURES');
  });

  test('security defaults and an organization-wide default authentication policy block even an exempted mailbox', async () => {
    const fixture = loadFixture(DEMO_FIXTURE_PATH);
    fixture.org.securityDefaultsEnabled = true;
    fixture.org.defaultAuthenticationPolicy = 'Block Basic Auth';
    await sim.call('POST', '/_simulator/reset', { json: fixture });
    const wang = await evaluate('wang.wei@contoso.com');
    expect(wang.effectiveEnabled).toBe(false);
    expect(wang.blockers).toEqual([
      { code: 'SECURITY_DEFAULTS_ON', layer: 'security-defaults' },
      { code: 'AUTH_POLICY_BLOCKS_BASIC_SMTP', layer: 'authentication-policy', detail: { policyName: 'Block Basic Auth', assignedBy: 'organization-default' } },
    ]);
  });

  test('a tenant without Entra ID P1 (sign-in logs answer 403) is not an error, just no sign-in finding', async () => {
    const fixture = loadFixture(DEMO_FIXTURE_PATH);
    fixture.tenant.entraP1 = false;
    await sim.call('POST', '/_simulator/reset', { json: fixture });
    const bob = await evaluate('bob@contoso.com');
    expect(codes(bob)).not.toContain('RECENT_SMTP_FAILURES');
    expect(blockerCodes(bob)).toEqual(['SMTP_AUTH_DISABLED_MAILBOX', 'CA_BLOCKS_LEGACY_AUTH']);
  });

  test('one evaluation costs one Graph $batch, one beta call and five parallel Exchange reads; a throttled batch item is retried after its Retry-After', async () => {
    const bob = await tenant.directory.getUser('bob@contoso.com');
    await sim.call('POST', '/_simulator/faults', { json: { rules: [{ service: 'graph', match: 'conditionalAccess', status: 429, retryAfterSeconds: 2, times: 1 }] } });
    await sim.call('DELETE', '/_simulator/calls');
    hooks.sleeps.length = 0;
    const evaluation = await evaluateSmtpAuth(tenant, bob!, { now: () => NOW });
    expect(blockerCodes(evaluation)).toContain('CA_BLOCKS_LEGACY_AUTH');
    expect(hooks.sleeps).toEqual([2000]);
    const calls: { service: string; path: string; parameters: Record<string, unknown> | null }[] = (await sim.call('GET', '/_simulator/calls')).json;
    const roundTrips = calls.filter((call) => call.service !== 'token' && !(call.parameters && '$batch' in call.parameters));
    expect(roundTrips.filter((call) => call.service === 'exchange')).toHaveLength(5);
    // The first batch, the retry of its throttled item, and the beta per-user MFA read.
    expect(roundTrips.filter((call) => call.service === 'graph').map((call) => call.path.replace(/\?.*$/, '').replace(/[0-9a-f-]{36}/, '{id}')).sort())
      .toEqual(['/beta/users/{id}/authentication/requirements', '/v1.0/$batch', '/v1.0/$batch']);
  });

  test('within the minute the organization-wide layers are reused and said to be, the mailbox’s own values are read again; our own write drops them', async () => {
    const bob = (await tenant.directory.getUser('bob@contoso.com'))!;
    const first = await evaluateSmtpAuth(tenant, bob, { now: () => NOW });
    expect(first.orgSettingsAsOf).toBeUndefined();
    // Behind SMTP Gate's back, security defaults go on and Bob's mailbox is switched on.
    const fixture = loadFixture(DEMO_FIXTURE_PATH);
    fixture.org.securityDefaultsEnabled = true;
    fixture.users.find((u) => u.userPrincipalName === 'bob@contoso.com')!.mailbox!.smtpClientAuthenticationDisabled = false;
    await sim.call('POST', '/_simulator/reset', { json: fixture });
    await sim.call('DELETE', '/_simulator/calls');
    const later = new Date(NOW.getTime() + 30_000);
    const second = await evaluateSmtpAuth(tenant, bob, { now: () => later });
    expect(second.orgSettingsAsOf).toEqual(NOW);
    expect(second.state).toMatchObject({ mailboxSmtpClientAuthenticationDisabled: false });
    expect(blockerCodes(second)).not.toContain('SECURITY_DEFAULTS_ON');
    const calls: { service: string; cmdlet: string | null; parameters: Record<string, unknown> | null }[] = (await sim.call('GET', '/_simulator/calls')).json;
    expect(calls.filter((c) => c.service === 'exchange').map((c) => c.cmdlet).sort()).toEqual(['Get-CASMailbox', 'Get-User']);
    // A minute after the read, or after any write SMTP Gate sends, the organization is read again.
    const stale = await evaluateSmtpAuth(tenant, bob, { now: () => new Date(NOW.getTime() + 60_000) });
    expect(stale.orgSettingsAsOf).toBeUndefined();
    expect(blockerCodes(stale)).toContain('SECURITY_DEFAULTS_ON');
    fixture.org.securityDefaultsEnabled = false;
    await sim.call('POST', '/_simulator/reset', { json: fixture });
    expect((await evaluateSmtpAuth(tenant, bob, { now: () => new Date(NOW.getTime() + 61_000) })).orgSettingsAsOf).toEqual(new Date(NOW.getTime() + 60_000));
    await tenant.exchange.setCasMailboxSmtpClientAuthenticationDisabled('bob@contoso.com', true);
    const afterWrite = await evaluateSmtpAuth(tenant, bob, { now: () => new Date(NOW.getTime() + 62_000) });
    expect(afterWrite.orgSettingsAsOf).toBeUndefined();
    expect(blockerCodes(afterWrite)).not.toContain('SECURITY_DEFAULTS_ON');
    expect(blockerCodes(afterWrite)).toContain('SMTP_AUTH_DISABLED_MAILBOX');
  });
});
