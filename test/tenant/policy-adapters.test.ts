import { loadFixture } from '../../src/simulator/fixture';
import { securityDefaultsRefusal, type Tenant } from '../../src/tenant';
import { TenantHttpError } from '../../src/tenant/http';
import { SECURITY_DEFAULTS_CONDITIONAL_ACCESS_REFUSAL } from '../../src/tenant/directory';
import { errorText } from '../../src/errors';
import { translator } from '../../src/i18n';
import { DEMO_FIXTURE_PATH } from '../simulator/simulatorClient';
import { connect, exchangeCalls, recordingHooks, startTestSimulator, type TestSimulator } from './tenantHarness';

/** The production adapters for every policy layer, against the simulator over HTTPS. */
describe('tenant adapters: security defaults, per-user MFA, organization SMTP AUTH, authentication policies, nested groups', () => {
  let sim: TestSimulator;
  let tenant: Tenant;
  const graphCalls = async (fragment: string) =>
    (await sim.call('GET', '/_simulator/calls')).json.filter((call: { service: string; path: string }) => call.service === 'graph' && call.path.includes(fragment));
  const live = async () => (await sim.call('GET', '/_simulator/state')).json;
  const idOf = (upn: string) => sim.fixture.users.find((user) => user.userPrincipalName === upn)!.id;

  beforeAll(async () => {
    sim = await startTestSimulator();
    tenant = connect(sim, { hooks: recordingHooks(sim) });
  });
  afterAll(async () => {
    await tenant.close();
    await sim.stop();
  });
  beforeEach(() => sim.call('POST', '/_simulator/reset'));

  test('security defaults: read, turn off, read back', async () => {
    const fixture = loadFixture(DEMO_FIXTURE_PATH);
    fixture.org.securityDefaultsEnabled = true;
    fixture.conditionalAccessPolicies = [];
    await sim.call('POST', '/_simulator/reset', { json: fixture });
    expect(await tenant.directory.getSecurityDefaultsEnabled()).toBe(true);
    await tenant.directory.setSecurityDefaultsEnabled(false);
    expect(await tenant.directory.getSecurityDefaultsEnabled()).toBe(false);
    expect((await graphCalls('identitySecurityDefaultsEnforcementPolicy')).map((call: { method: string; status: number }) => `${call.method} ${call.status}`)).toEqual([
      'GET 200',
      'PATCH 204',
      'GET 200',
    ]);
  });

  test("security defaults: Entra's refusal while Conditional Access policies exist comes back in its own words, sent once", async () => {
    const error = await tenant.directory.setSecurityDefaultsEnabled(true).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TenantHttpError);
    expect(error).toMatchObject({ status: 400, microsoftCode: 'BadRequest', operation: 'PATCH /policies/identitySecurityDefaultsEnforcementPolicy' });
    expect(securityDefaultsRefusal(error)).toBe(SECURITY_DEFAULTS_CONDITIONAL_ACCESS_REFUSAL);
    expect(SECURITY_DEFAULTS_CONDITIONAL_ACCESS_REFUSAL).toMatch(/^Your organization is currently using Conditional Access policies which prevents you from enabling security defaults\./);
    expect(securityDefaultsRefusal(new Error('other'))).toBeUndefined();
    const appError = (error as TenantHttpError).toAppError();
    expect(appError.code).toBe('SECURITY_DEFAULTS_REFUSED');
    expect(errorText(translator('es'), appError.code, appError.params)).toContain('Entra se negó a activar los valores predeterminados de seguridad: «Your organization is currently using Conditional Access policies');
    expect(await graphCalls('identitySecurityDefaultsEnforcementPolicy')).toHaveLength(1);
    expect((await live()).org.securityDefaultsEnabled).toBe(false);
    const policies = await tenant.directory.listConditionalAccessPolicies();
    expect(policies.map((policy) => [policy.displayName, policy.state])).toEqual([
      ['Block legacy authentication', 'enabled'],
      ['Require MFA for all users (report-only)', 'enabledForReportingButNotEnforced'],
    ]);
  });

  test('a PATCH that met a 503 is sent again (it names the end value), and the end state is the one asked for', async () => {
    await sim.call('POST', '/_simulator/faults', { json: { rules: [{ service: 'graph', match: 'authentication/requirements', status: 503, times: 1 }] } });
    await tenant.directory.setPerUserMfaState(idOf('meganb@contoso.com'), 'disabled');
    expect((await graphCalls('authentication/requirements')).map((call: { status: number; parameters: unknown }) => [call.status, call.parameters])).toEqual([
      [503, { perUserMfaState: 'disabled' }],
      [204, { perUserMfaState: 'disabled' }],
    ]);
    expect(await tenant.directory.getPerUserMfaState(idOf('meganb@contoso.com'))).toBe('disabled');
  });

  test('per-user MFA: enabled reads back as enforced for a user who registered a method; a missing permission is named', async () => {
    const fixture = loadFixture(DEMO_FIXTURE_PATH);
    fixture.users.find((user) => user.userPrincipalName === 'bob@contoso.com')!.isMfaRegistered = true;
    await sim.call('POST', '/_simulator/reset', { json: fixture });
    await tenant.directory.setPerUserMfaState(idOf('bob@contoso.com'), 'enabled');
    expect(await tenant.directory.getPerUserMfaState(idOf('bob@contoso.com'))).toBe('enforced');

    await sim.call('POST', '/_simulator/app', { json: { graphRoles: ['Policy.Read.All'] } });
    const limited = connect(sim);
    try {
      expect(await limited.directory.getPerUserMfaState(idOf('alexw@contoso.com'))).toBe('enforced');
      const error = (await limited.directory.setPerUserMfaState(idOf('alexw@contoso.com'), 'disabled').catch((e: unknown) => e)) as TenantHttpError;
      expect(error.toAppError()).toMatchObject({ code: 'TENANT_PERMISSION_DENIED', params: { permission: 'Policy.ReadWrite.AuthenticationMethod', service: 'graph' } });
      const defaults = (await limited.directory.setSecurityDefaultsEnabled(false).catch((e: unknown) => e)) as TenantHttpError;
      expect(defaults.requiredPermission).toBe('Policy.ReadWrite.SecurityDefaults');
    } finally {
      await limited.close();
    }
    expect((await live()).users.find((user: { userPrincipalName: string }) => user.userPrincipalName === 'alexw@contoso.com').perUserMfaState).toBe('enforced');
  });

  test('organization SMTP AUTH: a change reports true, the same value again reports false; Get-TransportConfig reads it', async () => {
    expect(await tenant.exchange.setTransportConfigSmtpClientAuthenticationDisabled(false)).toBe(true);
    expect(await tenant.exchange.getTransportConfig()).toEqual({ smtpClientAuthenticationDisabled: false });
    expect(await tenant.exchange.setTransportConfigSmtpClientAuthenticationDisabled(false)).toBe(false);
    expect((await exchangeCalls(sim, 'Set-TransportConfig')).map((call) => call.parameters)).toEqual([
      { SmtpClientAuthenticationDisabled: false },
      { SmtpClientAuthenticationDisabled: false },
    ]);
  });

  test('authentication policy: assign an existing one, read it back with Get-User, clear it with $null; each reports whether it changed', async () => {
    const policies = await tenant.exchange.getAuthenticationPolicies();
    expect(policies).toEqual([
      { name: 'Block Basic Auth', allowBasicAuthSmtp: false, otherBasicAuthProtocols: [] },
      { name: 'Allow Basic SMTP', allowBasicAuthSmtp: true, otherBasicAuthProtocols: [] },
    ]);
    expect(await tenant.exchange.setUserAuthenticationPolicy('bob@contoso.com', 'Allow Basic SMTP')).toBe(true);
    expect(await tenant.exchange.getUserAuthenticationPolicy('bob@contoso.com')).toBe('Allow Basic SMTP');
    expect(await tenant.exchange.setUserAuthenticationPolicy('bob@contoso.com', 'Allow Basic SMTP')).toBe(false);
    expect(await tenant.exchange.setUserAuthenticationPolicy('bob@contoso.com', null)).toBe(true);
    expect(await tenant.exchange.getUserAuthenticationPolicy('bob@contoso.com')).toBeNull();
    expect((await exchangeCalls(sim, 'Set-User')).map((call) => call.parameters)).toEqual([
      { Identity: 'bob@contoso.com', AuthenticationPolicy: 'Allow Basic SMTP' },
      { Identity: 'bob@contoso.com', AuthenticationPolicy: 'Allow Basic SMTP' },
      { Identity: 'bob@contoso.com', AuthenticationPolicy: null },
    ]);
  });

  test('authentication policy: the other protocols a policy lets Basic authentication through for are listed, Exchange’s names', async () => {
    const fixture = loadFixture(DEMO_FIXTURE_PATH);
    fixture.authenticationPolicies!.push({ name: 'Legacy printers', allowBasicAuthSmtp: true, allowBasicAuthPop: true, allowBasicAuthImap: true });
    await sim.call('POST', '/_simulator/reset', { json: fixture });
    expect((await tenant.exchange.getAuthenticationPolicies()).find((policy) => policy.name === 'Legacy printers')).toEqual({
      name: 'Legacy printers',
      allowBasicAuthSmtp: true,
      otherBasicAuthProtocols: ['Imap', 'Pop'],
    });
    const invalid = structuredClone(fixture) as unknown as { authenticationPolicies: Record<string, unknown>[] };
    invalid.authenticationPolicies[2]!.allowBasicAuthPop = 'yes';
    const refused = await sim.call('POST', '/_simulator/reset', { json: invalid });
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('authenticationPolicies[2].allowBasicAuthPop: expected true or false');
  });

  test('authentication policy: a name Exchange does not know fails and creates nothing; every assignment is listed across pages', async () => {
    const error = (await tenant.exchange.setUserAuthenticationPolicy('bob', 'Made Up').catch((e: unknown) => e)) as TenantHttpError;
    expect(error).toMatchObject({ status: 404, microsoftMessage: expect.stringContaining("object 'Made Up' couldn't be found") });
    expect((await tenant.exchange.getAuthenticationPolicies()).map((policy) => policy.name)).toEqual(['Block Basic Auth', 'Allow Basic SMTP']);

    const assignments = await tenant.exchange.listUserAuthenticationPolicies({ pageSize: 5 });
    expect(assignments).toHaveLength(sim.fixture.users.length);
    expect(assignments.filter((row) => row.authenticationPolicy !== null)).toEqual([
      { identity: 'jose.nunez', userPrincipalName: 'jose.nunez@contoso.com', externalDirectoryObjectId: idOf('jose.nunez@contoso.com'), authenticationPolicy: 'Block Basic Auth' },
    ]);
  });

  test('authentication policy: without the Recipient Policies role the refusal names that role, and the user keeps the policy', async () => {
    await sim.call('POST', '/_simulator/app', { json: { exchangeManagementRoles: ['Mail Recipients', 'View-Only Configuration'] } });
    const limited = connect(sim);
    try {
      const error = (await limited.exchange.setUserAuthenticationPolicy('jose.nunez@contoso.com', null).catch((e: unknown) => e)) as TenantHttpError;
      expect(error.toAppError()).toMatchObject({ code: 'TENANT_PERMISSION_DENIED', params: { permission: 'Recipient Policies', service: 'exchange' } });
      expect(await limited.exchange.getUserAuthenticationPolicy('jose.nunez@contoso.com')).toBe('Block Basic Auth');
    } finally {
      await limited.close();
    }
  });

  test('nested group members: every page followed through a 429, each user once, the nested group itself left out', async () => {
    const fixture = loadFixture(DEMO_FIXTURE_PATH);
    const scanners = fixture.groups!.find((group) => group.displayName === 'Scanners')!;
    const exceptions = fixture.groups!.find((group) => group.displayName === 'SMTP AUTH exceptions')!;
    const outer = { id: '00000000-0000-4000-9000-0000000000aa', displayName: 'All SMTP senders', mailNickname: 'allsmtp', members: [scanners.id, exceptions.id, ...exceptions.members] };
    fixture.groups!.push(outer);
    await sim.call('POST', '/_simulator/reset', { json: fixture });
    await sim.call('POST', '/_simulator/faults', { json: { rules: [{ service: 'graph', match: 'transitiveMembers', status: 429, retryAfterSeconds: 2, times: 1 }] } });

    const users = await tenant.directory.groupUsers(outer.id, 1);
    expect(users.map((user) => user.id).sort()).toEqual([...new Set([...scanners.members, ...exceptions.members])].sort());
    expect(users[0]).toEqual(expect.objectContaining({ id: expect.any(String), userPrincipalName: expect.any(String), accountEnabled: expect.any(Boolean) }));
    const statuses = (await graphCalls('transitiveMembers')).map((call: { status: number }) => call.status);
    expect(statuses[0]).toBe(429);
    expect(statuses.slice(1).every((status: number) => status === 200)).toBe(true);
    // One object per page: the users plus the two nested groups and the duplicates Graph flattens away.
    expect(statuses.length - 1).toBeGreaterThanOrEqual(users.length + 2);
  });
});
