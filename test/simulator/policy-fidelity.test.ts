import { loadFixture, type TenantFixture } from '../../src/simulator/fixture';
import { SECURITY_DEFAULTS_CONDITIONAL_ACCESS_REFUSAL } from '../../src/simulator/graph';
import { DEMO_FIXTURE_PATH, startTestSimulator, type TestSimulator } from './simulatorClient';

const GRAPH = 'https://graph.microsoft.com/.default';
const EXCHANGE = 'https://outlook.office365.com/.default';
const SECURITY_DEFAULTS = '/v1.0/policies/identitySecurityDefaultsEnforcementPolicy';

/**
 * The calls behind the policy steps, answered as Microsoft answers them: security defaults,
 * per-user MFA (beta), Set-TransportConfig, Set-User -AuthenticationPolicy, Get-AuthenticationPolicy
 * and nested group membership — status codes, bodies, error shapes and the permission each needs.
 */
describe('simulator fidelity: the policy layers SMTP Gate changes', () => {
  let sim: TestSimulator;
  let graph: string;
  let exchange: string;
  const user = (upn: string) => sim.fixture.users.find((candidate) => candidate.userPrincipalName === upn)!;
  const liveUser = async (upn: string) =>
    (await sim.call('GET', '/_simulator/state')).json.users.find((candidate: { userPrincipalName: string }) => candidate.userPrincipalName === upn);
  const withFixture = async (change: (fixture: TenantFixture) => void) => {
    const fixture = loadFixture(DEMO_FIXTURE_PATH);
    change(fixture);
    const reset = await sim.call('POST', '/_simulator/reset', { json: fixture });
    expect(reset.status).toBe(200);
  };
  const grant = async (graphRoles: string[]) => {
    await sim.call('POST', '/_simulator/app', { json: { graphRoles } });
    return sim.token(GRAPH);
  };

  beforeAll(async () => {
    sim = await startTestSimulator();
  });
  afterAll(() => sim.stop());
  beforeEach(async () => {
    await sim.call('POST', '/_simulator/reset');
    graph = await sim.token(GRAPH);
    exchange = await sim.token(EXCHANGE);
  });

  describe('security defaults (identitySecurityDefaultsEnforcementPolicy)', () => {
    test('GET answers the policy entity; PATCH isEnabled false answers 204 with no body and the next GET reads it', async () => {
      await withFixture((fixture) => {
        fixture.org.securityDefaultsEnabled = true;
        fixture.conditionalAccessPolicies = [];
      });
      const before = await sim.call('GET', SECURITY_DEFAULTS, { token: graph });
      expect(before.status).toBe(200);
      expect(before.json).toEqual({
        '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#policies/identitySecurityDefaultsEnforcementPolicy/$entity',
        id: '00000000-0000-0000-0000-000000000005',
        displayName: 'Security Defaults',
        description: expect.stringContaining('Security defaults is a set of basic identity security mechanisms'),
        isEnabled: true,
      });
      const patch = await sim.call('PATCH', SECURITY_DEFAULTS, { token: graph, json: { isEnabled: false } });
      expect(patch.status).toBe(204);
      expect(patch.text).toBe('');
      expect((await sim.call('GET', SECURITY_DEFAULTS, { token: graph })).json.isEnabled).toBe(false);
      expect((await sim.call('GET', '/_simulator/state')).json.org.securityDefaultsEnabled).toBe(false);
    });

    test('turning them on while Conditional Access policies exist is refused with 400 and the words Entra uses; nothing changes', async () => {
      const refused = await sim.call('PATCH', SECURITY_DEFAULTS, { token: graph, json: { isEnabled: true } });
      expect(refused.status).toBe(400);
      expect(refused.json).toEqual({
        error: {
          code: 'BadRequest',
          message: SECURITY_DEFAULTS_CONDITIONAL_ACCESS_REFUSAL,
          innerError: { date: expect.any(String), 'request-id': refused.headers['request-id'], 'client-request-id': expect.any(String) },
        },
      });
      expect(refused.json.error.message).toMatch(/^Your organization is currently using Conditional Access policies which prevents you from enabling security defaults\./);
      expect((await sim.call('GET', '/_simulator/state')).json.org.securityDefaultsEnabled).toBe(false);
    });

    test('a policy that is only switched off still blocks them (any state counts); with no policy at all they turn on', async () => {
      await withFixture((fixture) => {
        fixture.conditionalAccessPolicies = fixture.conditionalAccessPolicies!.slice(0, 1).map((policy) => ({ ...policy, state: 'disabled' as const }));
      });
      expect((await sim.call('PATCH', SECURITY_DEFAULTS, { token: graph, json: { isEnabled: true } })).status).toBe(400);

      await withFixture((fixture) => {
        fixture.conditionalAccessPolicies = [];
      });
      expect((await sim.call('PATCH', SECURITY_DEFAULTS, { token: graph, json: { isEnabled: true } })).status).toBe(204);
      expect((await sim.call('GET', SECURITY_DEFAULTS, { token: graph })).json.isEnabled).toBe(true);
    });

    test('only isEnabled can be written; a read-only property or a non-boolean is a 400', async () => {
      for (const body of [{ isEnabled: 'false' }, { isEnabled: false, displayName: 'x' }, {}]) {
        const answer = await sim.call('PATCH', SECURITY_DEFAULTS, { token: graph, json: body });
        expect(answer.status).toBe(400);
        expect(answer.json.error.code).toBe('BadRequest');
      }
    });

    test('writing needs Policy.ReadWrite.SecurityDefaults (or Policy.ReadWrite.ConditionalAccess); Policy.Read.All only reads', async () => {
      const reader = await grant(['Policy.Read.All']);
      expect((await sim.call('GET', SECURITY_DEFAULTS, { token: reader })).status).toBe(200);
      const denied = await sim.call('PATCH', SECURITY_DEFAULTS, { token: reader, json: { isEnabled: false } });
      expect(denied.status).toBe(403);
      expect(denied.json.error).toMatchObject({ code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' });

      for (const role of ['Policy.ReadWrite.SecurityDefaults', 'Policy.ReadWrite.ConditionalAccess']) {
        const writer = await grant([role]);
        expect((await sim.call('PATCH', SECURITY_DEFAULTS, { token: writer, json: { isEnabled: false } })).status).toBe(204);
      }
    });
  });

  describe('per-user MFA (beta /users/{id}/authentication/requirements)', () => {
    const requirements = (id: string, version = 'beta') => `/${version}/users/${id}/authentication/requirements`;

    test('GET answers strongAuthenticationRequirements; PATCH answers 204 and the state reads back; v1.0 has no such segment', async () => {
      const megan = user('meganb@contoso.com');
      const read = await sim.call('GET', requirements(megan.id), { token: graph });
      expect(read.status).toBe(200);
      expect(read.json).toMatchObject({ perUserMfaState: 'enabled' });

      const patch = await sim.call('PATCH', requirements(megan.userPrincipalName), { token: graph, json: { perUserMfaState: 'disabled' } });
      expect(patch.status).toBe(204);
      expect(patch.text).toBe('');
      expect((await sim.call('GET', requirements(megan.id), { token: graph })).json.perUserMfaState).toBe('disabled');
      expect((await liveUser('meganb@contoso.com')).perUserMfaState).toBe('disabled');

      const v1 = await sim.call('PATCH', requirements(megan.id, 'v1.0'), { token: graph, json: { perUserMfaState: 'enabled' } });
      expect(v1.status).toBe(400);
      expect(v1.json.error).toMatchObject({ code: 'BadRequest', message: "Resource not found for the segment 'requirements'." });
      expect((await liveUser('meganb@contoso.com')).perUserMfaState).toBe('disabled');
    });

    test('enabled becomes enforced by itself when the user has registered an MFA method, as Entra documents', async () => {
      await withFixture((fixture) => {
        fixture.users.find((candidate) => candidate.userPrincipalName === 'bob@contoso.com')!.isMfaRegistered = true;
      });
      const bob = user('bob@contoso.com');
      const adele = user('adelev@contoso.com');
      expect((await sim.call('PATCH', requirements(bob.id), { token: graph, json: { perUserMfaState: 'enabled' } })).status).toBe(204);
      expect((await sim.call('PATCH', requirements(adele.id), { token: graph, json: { perUserMfaState: 'enabled' } })).status).toBe(204);
      expect((await sim.call('GET', requirements(bob.id), { token: graph })).json.perUserMfaState).toBe('enforced');
      expect((await sim.call('GET', requirements(adele.id), { token: graph })).json.perUserMfaState).toBe('enabled');
    });

    test('a value outside the enum or another property is a 400; an unknown user is a 404, and nothing changes', async () => {
      const alex = user('alexw@contoso.com');
      for (const body of [{ perUserMfaState: 'off' }, { perUserMfaState: 'disabled', userPreferredMethodForSecondaryAuthentication: 'sms' }, []]) {
        const answer = await sim.call('PATCH', requirements(alex.id), { token: graph, json: body });
        expect(answer.status).toBe(400);
        expect(answer.json.error.code).toBe('BadRequest');
      }
      const ghost = await sim.call('PATCH', requirements('ghost@contoso.com'), { token: graph, json: { perUserMfaState: 'disabled' } });
      expect(ghost.status).toBe(404);
      expect(ghost.json.error).toMatchObject({ code: 'Request_ResourceNotFound', message: expect.stringContaining("Resource 'ghost@contoso.com' does not exist") });
      expect((await liveUser('alexw@contoso.com')).perUserMfaState).toBe('enforced');
    });

    test('reading needs Policy.Read.All, writing Policy.ReadWrite.AuthenticationMethod; UserAuthenticationMethod.* does neither', async () => {
      const alex = user('alexw@contoso.com');
      const methods = await grant(['UserAuthenticationMethod.ReadWrite.All']);
      expect((await sim.call('GET', requirements(alex.id), { token: methods })).status).toBe(403);
      expect((await sim.call('PATCH', requirements(alex.id), { token: methods, json: { perUserMfaState: 'disabled' } })).status).toBe(403);

      const reader = await grant(['Policy.Read.All']);
      expect((await sim.call('GET', requirements(alex.id), { token: reader })).status).toBe(200);
      const denied = await sim.call('PATCH', requirements(alex.id), { token: reader, json: { perUserMfaState: 'disabled' } });
      expect(denied.status).toBe(403);
      expect(denied.json.error.code).toBe('Authorization_RequestDenied');

      const writer = await grant(['Policy.ReadWrite.AuthenticationMethod']);
      expect((await sim.call('PATCH', requirements(alex.id), { token: writer, json: { perUserMfaState: 'disabled' } })).status).toBe(204);
      expect((await liveUser('alexw@contoso.com')).perUserMfaState).toBe('disabled');
    });
  });

  describe('Set-TransportConfig -SmtpClientAuthenticationDisabled', () => {
    test('a change answers 200 with no warning and Get-TransportConfig reads it; the same value again answers the no-change warning', async () => {
      const set = await sim.invoke(exchange, 'Set-TransportConfig', { SmtpClientAuthenticationDisabled: false });
      expect(set.status).toBe(200);
      expect(set.json).toMatchObject({ '@adminapi.warnings': [], value: [] });
      const read = await sim.invoke(exchange, 'Get-TransportConfig');
      expect(read.json.value[0]).toMatchObject({ Identity: 'Transport Settings', SmtpClientAuthenticationDisabled: false });

      const again = await sim.invoke(exchange, 'Set-TransportConfig', { SmtpClientAuthenticationDisabled: false });
      expect(again.status).toBe(200);
      expect(again.json['@adminapi.warnings']).toEqual(["The command completed successfully but no settings of 'Transport Settings' have been modified."]);
      const calls = (await sim.call('GET', '/_simulator/calls')).json.filter((call: { cmdlet: string }) => call.cmdlet === 'Set-TransportConfig');
      expect(calls.map((call: { parameters: unknown; status: number }) => [call.parameters, call.status])).toEqual([
        [{ SmtpClientAuthenticationDisabled: false }, 200],
        [{ SmtpClientAuthenticationDisabled: false }, 200],
      ]);
    });

    test('$null is refused (the organization setting is true or false), and so is a string; the value stays', async () => {
      for (const value of [null, 'false']) {
        const refused = await sim.invoke(exchange, 'Set-TransportConfig', { SmtpClientAuthenticationDisabled: value });
        expect(refused.status).toBe(400);
        expect(refused.json.error.details[0].message).toMatch(/^\|System\.Management\.Automation\.ParameterBindingException\|Cannot process argument transformation on parameter 'SmtpClientAuthenticationDisabled'/);
      }
      expect((await sim.call('GET', '/_simulator/state')).json.org.smtpClientAuthenticationDisabled).toBe(true);
    });

    test('without the Organization Transport Settings role the REST endpoint answers 401 "User is not allowed to call"', async () => {
      await sim.call('POST', '/_simulator/app', { json: { exchangeManagementRoles: ['Mail Recipients', 'View-Only Configuration'] } });
      const token = await sim.token(EXCHANGE);
      expect((await sim.invoke(token, 'Get-TransportConfig')).status).toBe(200);
      const denied = await sim.invoke(token, 'Set-TransportConfig', { SmtpClientAuthenticationDisabled: false });
      expect(denied.status).toBe(401);
      expect(denied.json.error).toMatchObject({ code: 'Unauthorized', message: 'User is not allowed to call Set-TransportConfig' });
    });
  });

  describe('Set-User -AuthenticationPolicy and Get-AuthenticationPolicy', () => {
    test('Get-AuthenticationPolicy lists every policy with its AllowBasicAuth* switches; -Identity finds one; an unknown one is a 404', async () => {
      const all = await sim.invoke(exchange, 'Get-AuthenticationPolicy');
      expect(all.status).toBe(200);
      expect(all.json.value.map((policy: { Name: string; AllowBasicAuthSmtp: boolean }) => [policy.Name, policy.AllowBasicAuthSmtp])).toEqual([
        ['Block Basic Auth', false],
        ['Allow Basic SMTP', true],
      ]);
      expect(all.json.value[1]).toMatchObject({ Identity: 'Allow Basic SMTP', AllowBasicAuthPop: false, AllowBasicAuthImap: false, AllowBasicAuthActiveSync: false });
      expect((await sim.invoke(exchange, 'Get-AuthenticationPolicy', { Identity: 'allow basic smtp' })).json.value).toHaveLength(1);
      const missing = await sim.invoke(exchange, 'Get-AuthenticationPolicy', { Identity: 'Nope' });
      expect(missing.status).toBe(404);
      expect(missing.json.error.details[0].message).toContain('ManagementObjectNotFoundException');
    });

    test('assigning an existing policy answers 200, Get-User shows its own name; the same again warns; $null clears it', async () => {
      const assign = await sim.invoke(exchange, 'Set-User', { Identity: 'bob@contoso.com', AuthenticationPolicy: 'allow basic smtp' });
      expect(assign.status).toBe(200);
      expect(assign.json['@adminapi.warnings']).toEqual([]);
      expect((await sim.invoke(exchange, 'Get-User', { Identity: 'bob' })).json.value[0].AuthenticationPolicy).toBe('Allow Basic SMTP');
      expect((await liveUser('bob@contoso.com')).authenticationPolicy).toBe('Allow Basic SMTP');

      const again = await sim.invoke(exchange, 'Set-User', { Identity: 'bob', AuthenticationPolicy: 'Allow Basic SMTP' });
      expect(again.json['@adminapi.warnings']).toEqual(["The command completed successfully but no settings of 'bob' have been modified."]);

      const cleared = await sim.invoke(exchange, 'Set-User', { Identity: 'bob', AuthenticationPolicy: null });
      expect(cleared.status).toBe(200);
      expect(cleared.json['@adminapi.warnings']).toEqual([]);
      expect((await sim.invoke(exchange, 'Get-User', { Identity: 'bob' })).json.value[0].AuthenticationPolicy).toBeNull();
      const clearedAgain = await sim.invoke(exchange, 'Set-User', { Identity: 'bob', AuthenticationPolicy: null });
      expect(clearedAgain.json['@adminapi.warnings']).toHaveLength(1);
    });

    test('it works for a user without a mailbox (Set-User is about the user), and by object id', async () => {
      const lidia = user('lidiah@contoso.com');
      expect((await sim.invoke(exchange, 'Set-User', { Identity: lidia.id, AuthenticationPolicy: 'Block Basic Auth' })).status).toBe(200);
      expect((await liveUser('lidiah@contoso.com')).authenticationPolicy).toBe('Block Basic Auth');
    });

    test('a policy that does not exist, an unknown user or a non-string value fails with Exchange’s envelope and changes nothing', async () => {
      const noPolicy = await sim.invoke(exchange, 'Set-User', { Identity: 'bob', AuthenticationPolicy: 'Made Up' });
      expect(noPolicy.status).toBe(404);
      expect(noPolicy.json.error).toMatchObject({ code: 'NotFound', message: 'Error executing cmdlet' });
      expect(noPolicy.json.error.details[0].message).toMatch(/^Ex6F9304\|Microsoft\.Exchange\.Configuration\.Tasks\.ManagementObjectNotFoundException\|The operation couldn't be performed because object 'Made Up' couldn't be found/);
      const noUser = await sim.invoke(exchange, 'Set-User', { Identity: 'ghost@contoso.com', AuthenticationPolicy: 'Block Basic Auth' });
      expect(noUser.status).toBe(404);
      expect(noUser.json.error.details[0].message).toContain("object 'ghost@contoso.com'");
      const wrongType = await sim.invoke(exchange, 'Set-User', { Identity: 'bob', AuthenticationPolicy: true });
      expect(wrongType.status).toBe(400);
      expect(wrongType.json.error.details[0].message).toContain('ParameterBindingException');
      const noIdentity = await sim.invoke(exchange, 'Set-User', { AuthenticationPolicy: 'Block Basic Auth' });
      expect(noIdentity.json.error.details[0].message).toContain('missing mandatory parameters: Identity');
      expect((await liveUser('bob@contoso.com')).authenticationPolicy).toBeNull();
    });

    test('without the Recipient Policies role, RBAC hides -AuthenticationPolicy: "A parameter cannot be found"', async () => {
      await sim.call('POST', '/_simulator/app', { json: { exchangeManagementRoles: ['Mail Recipients', 'View-Only Configuration'] } });
      const token = await sim.token(EXCHANGE);
      const hidden = await sim.invoke(token, 'Set-User', { Identity: 'bob', AuthenticationPolicy: 'Allow Basic SMTP' });
      expect(hidden.status).toBe(400);
      expect(hidden.json.error.details[0].message).toBe("|System.Management.Automation.ParameterBindingException|A parameter cannot be found that matches parameter name 'AuthenticationPolicy'.");
      expect((await liveUser('bob@contoso.com')).authenticationPolicy).toBeNull();
    });
  });

  describe('group transitive members', () => {
    const bigGroup = (fixture: TenantFixture, size: number) => {
      const hex = (n: number) => n.toString(16).padStart(12, '0');
      const users = Array.from({ length: size }, (_, i) => ({
        id: `00000000-0000-4000-8000-${hex(i + 1)}`,
        displayName: `Device ${i + 1}`,
        userPrincipalName: `device${i + 1}@contoso.com`,
        mail: `device${i + 1}@contoso.com`,
        givenName: null,
        surname: null,
        preferredLanguage: null,
        accountEnabled: true,
        mailbox: { smtpClientAuthenticationDisabled: null },
        perUserMfaState: 'disabled' as const,
      }));
      fixture.users.push(...users);
      const inner = { id: '00000000-0000-4000-9000-000000000001', displayName: 'Inner devices', mailNickname: 'inner', members: users.slice(size / 2).map((u) => u.id) };
      const outer = { id: '00000000-0000-4000-9000-000000000002', displayName: 'All devices', mailNickname: 'alldevices', members: [...users.slice(0, size / 2).map((u) => u.id), inner.id] };
      fixture.groups!.push(inner, outer);
      return outer.id;
    };

    test('pages of 100 by default with @odata.nextLink; nested members appear once, the nested group itself as a group', async () => {
      let outerId = '';
      await withFixture((fixture) => {
        outerId = bigGroup(fixture, 200);
      });
      const types: string[] = [];
      const ids = new Set<string>();
      let next: string | undefined = `/v1.0/groups/${outerId}/transitiveMembers?$select=id,userPrincipalName`;
      const sizes: number[] = [];
      while (next) {
        const page = await sim.call('GET', next.replace(sim.simulator.url, ''), { token: graph });
        expect(page.status).toBe(200);
        expect(page.json['@odata.context']).toBe('https://graph.microsoft.com/v1.0/$metadata#directoryObjects');
        sizes.push(page.json.value.length);
        for (const member of page.json.value) {
          types.push(member['@odata.type']);
          ids.add(member.id);
        }
        next = page.json['@odata.nextLink'];
        if (next) expect(next).toMatch(/^https:\/\/localhost:\d+\/v1\.0\/groups\/.+\/transitiveMembers\?.*\$skiptoken=/);
      }
      expect(sizes).toEqual([100, 100, 1]);
      expect(types.filter((type) => type === '#microsoft.graph.user')).toHaveLength(200);
      expect(types.filter((type) => type === '#microsoft.graph.group')).toHaveLength(1);
      expect(ids.size).toBe(201);
    });

    test('$top beyond 999 and $count without ConsistencyLevel are refused; an unknown group is a 404; GroupMember.Read.All is enough', async () => {
      const scanners = sim.fixture.groups!.find((group) => group.displayName === 'Scanners')!;
      const tooBig = await sim.call('GET', `/v1.0/groups/${scanners.id}/transitiveMembers?$top=1000`, { token: graph });
      expect(tooBig.status).toBe(400);
      expect(tooBig.json.error.message).toContain('Must be between 1 and 999');
      const count = await sim.call('GET', `/v1.0/groups/${scanners.id}/transitiveMembers?$count=true`, { token: graph });
      expect(count.status).toBe(400);
      const counted = await sim.call('GET', `/v1.0/groups/${scanners.id}/transitiveMembers?$count=true`, { token: graph, headers: { ConsistencyLevel: 'eventual' } });
      expect(counted.json['@odata.count']).toBe(scanners.members.length);
      const ghost = await sim.call('GET', '/v1.0/groups/00000000-0000-4000-9000-00000000dead/transitiveMembers', { token: graph });
      expect(ghost.status).toBe(404);
      expect(ghost.json.error.code).toBe('Request_ResourceNotFound');

      const members = await grant(['GroupMember.Read.All']);
      expect((await sim.call('GET', `/v1.0/groups/${scanners.id}/transitiveMembers`, { token: members })).status).toBe(200);
      const users = await grant(['User.Read.All']);
      expect((await sim.call('GET', `/v1.0/groups/${scanners.id}/transitiveMembers`, { token: users })).status).toBe(403);
    });
  });
});
