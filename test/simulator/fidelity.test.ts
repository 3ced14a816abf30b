import { loadFixture } from '../../src/simulator/fixture';
import { DEMO_FIXTURE_PATH, startTestSimulator, type TestSimulator } from './simulatorClient';

const GRAPH = 'https://graph.microsoft.com/.default';
const EXCHANGE = 'https://outlook.office365.com/.default';

describe('simulator: permissions, $batch, $search and nested groups as Graph and Exchange answer them', () => {
  let sim: TestSimulator;
  let graph: string;

  beforeAll(async () => {
    sim = await startTestSimulator();
  });
  afterAll(() => sim.stop());
  beforeEach(async () => {
    await sim.call('POST', '/_simulator/reset');
    graph = await sim.token(GRAPH);
  });

  test('tokens carry the roles granted through /_simulator/app; Graph answers 403 Authorization_RequestDenied without one', async () => {
    await sim.call('POST', '/_simulator/app', { json: { graphRoles: ['Policy.Read.All'] } });
    const limited = await sim.token(GRAPH);
    const claims = JSON.parse(Buffer.from(limited.split('.')[1] as string, 'base64url').toString('utf8'));
    expect(claims.roles).toEqual(['Policy.Read.All']);

    const users = await sim.call('GET', '/v1.0/users', { token: limited });
    expect(users.status).toBe(403);
    expect(users.json.error).toMatchObject({ code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' });
    const signIns = await sim.call('GET', '/v1.0/auditLogs/signIns', { token: limited });
    expect(signIns.json.error).toMatchObject({ code: 'Authentication_MSGraphPermissionMissing', message: expect.stringContaining('AuditLog.Read.All') });
    expect((await sim.call('GET', '/v1.0/policies/identitySecurityDefaultsEnforcementPolicy', { token: limited })).status).toBe(200);
    // A token issued before the change keeps its roles, as Entra's do.
    expect((await sim.call('GET', '/v1.0/users', { token: graph })).status).toBe(200);
  });

  test('Exchange answers 403 without Exchange.ManageAsApp and 401 "not allowed to call" without the management role', async () => {
    await sim.call('POST', '/_simulator/app', { json: { exchangeRoles: [] } });
    const noApp = await sim.invoke(await sim.token(EXCHANGE), 'Get-CASMailbox', { Identity: 'bob' });
    expect(noApp.status).toBe(403);
    expect(noApp.json.error.message).toContain('Exchange.ManageAsApp');

    await sim.call('POST', '/_simulator/app', { json: { exchangeRoles: ['Exchange.ManageAsApp'], exchangeManagementRoles: ['View-Only Recipients'] } });
    const token = await sim.token(EXCHANGE);
    expect((await sim.invoke(token, 'Get-CASMailbox', { Identity: 'bob' })).status).toBe(200);
    const set = await sim.invoke(token, 'Set-CASMailbox', { Identity: 'bob', SmtpClientAuthenticationDisabled: false });
    expect(set.status).toBe(401);
    expect(set.json.error).toMatchObject({ code: 'Unauthorized', message: 'User is not allowed to call Set-CASMailbox' });
    expect((await sim.call('GET', '/_simulator/state')).json.users.find((u: { userPrincipalName: string }) => u.userPrincipalName === 'bob@contoso.com').mailbox)
      .toEqual({ smtpClientAuthenticationDisabled: true });
  });

  test('a configured client secret list refuses any other secret with AADSTS7000215', async () => {
    await sim.call('POST', '/_simulator/app', { json: { clientSecrets: ['right'] } });
    const form = (secret: string) => new URLSearchParams({ grant_type: 'client_credentials', client_id: 'x', client_secret: secret, scope: GRAPH }).toString();
    const wrong = await sim.call('POST', `/${sim.tenantId}/oauth2/v2.0/token`, { body: form('wrong'), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(wrong.status).toBe(401);
    expect(wrong.json).toMatchObject({ error: 'invalid_client', error_codes: [7000215] });
    const right = await sim.call('POST', `/${sim.tenantId}/oauth2/v2.0/token`, { body: form('right'), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(right.status).toBe(200);
  });

  test('$batch answers each request with its own status, including a 429 with its own Retry-After, and refuses more than 20', async () => {
    await sim.call('POST', '/_simulator/faults', { json: { rules: [{ service: 'graph', match: 'conditionalAccess', status: 429, retryAfterSeconds: 7, times: 1 }] } });
    const result = await sim.call('POST', '/v1.0/$batch', {
      token: graph,
      json: {
        requests: [
          { id: '1', method: 'GET', url: '/users/bob@contoso.com?$select=id,accountEnabled' },
          { id: '2', method: 'GET', url: '/identity/conditionalAccess/policies' },
          { id: '3', method: 'POST', url: '/users/bob@contoso.com/getMemberGroups', headers: { 'Content-Type': 'application/json' }, body: { securityEnabledOnly: false } },
          { id: '4', method: 'GET', url: '/users/ghost@contoso.com' },
        ],
      },
    });
    expect(result.status).toBe(200);
    const byId = Object.fromEntries(result.json.responses.map((r: { id: string }) => [r.id, r]));
    expect(byId['1']).toMatchObject({ status: 200, body: { accountEnabled: true } });
    expect(byId['2']).toMatchObject({ status: 429, headers: { 'Retry-After': '7' }, body: { error: { code: 'TooManyRequests' } } });
    expect(byId['3']).toMatchObject({ status: 200, body: { value: [] } });
    expect(byId['4']).toMatchObject({ status: 404, body: { error: { code: 'Request_ResourceNotFound' } } });
    const calls = (await sim.call('GET', '/_simulator/calls')).json;
    expect(calls.filter((c: { path: string }) => c.path.startsWith('/v1.0/identity/conditionalAccess')).map((c: { status: number }) => c.status)).toEqual([429]);

    const tooMany = await sim.call('POST', '/v1.0/$batch', {
      token: graph,
      json: { requests: Array.from({ length: 21 }, (_, i) => ({ id: String(i), method: 'GET', url: '/organization' })) },
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.json.error.message).toContain('20');
  });

  test('$search needs ConsistencyLevel: eventual and matches word prefixes in any script', async () => {
    const search = encodeURIComponent('"displayName:ștef" OR "displayName:王"');
    const refused = await sim.call('GET', `/v1.0/users?$search=${search}`, { token: graph });
    expect(refused.status).toBe(400);
    expect(refused.json.error.message).toContain("ConsistencyLevel: eventual");
    const found = await sim.call('GET', `/v1.0/users?$search=${search}&$select=displayName`, { token: graph, headers: { ConsistencyLevel: 'eventual' } });
    expect(found.status).toBe(200);
    expect(found.json.value.map((u: { displayName: string }) => u.displayName).sort()).toEqual(['王伟', 'Ștefan Popescu'].sort());
    const brien = await sim.call('GET', `/v1.0/users?$search=${encodeURIComponent('"displayName:brien"')}`, { token: graph, headers: { ConsistencyLevel: 'eventual' } });
    expect(brien.json.value.map((u: { displayName: string }) => u.displayName)).toEqual(["Seán O'Brien"]);
  });

  test('transitiveMembers flattens nested groups and pages with @odata.nextLink; checkMemberGroups sees through nesting', async () => {
    const fixture = loadFixture(DEMO_FIXTURE_PATH);
    const parent = { id: '0d7c0a4e-0000-4000-8000-000000000001', displayName: 'All SMTP devices', mailNickname: 'allsmtp', members: [fixture.groups![3]!.id, fixture.groups![2]!.id] };
    fixture.groups!.push(parent);
    await sim.call('POST', '/_simulator/reset', { json: fixture });
    const direct = await sim.call('GET', `/v1.0/groups/${parent.id}/members`, { token: graph });
    expect(direct.json.value.map((m: { '@odata.type': string }) => m['@odata.type'])).toEqual(['#microsoft.graph.group', '#microsoft.graph.group']);
    const ids: string[] = [];
    let next: string | undefined = `/v1.0/groups/${parent.id}/transitiveMembers?$top=1&$select=id`;
    let pages = 0;
    while (next) {
      const page = await sim.call('GET', next.replace(sim.simulator.url, ''), { token: graph });
      expect(page.status).toBe(200);
      ids.push(...page.json.value.filter((m: { '@odata.type': string }) => m['@odata.type'] === '#microsoft.graph.user').map((m: { id: string }) => m.id));
      next = page.json['@odata.nextLink'];
      pages += 1;
    }
    expect(pages).toBeGreaterThan(2);
    expect(new Set(ids)).toEqual(new Set([...fixture.groups![3]!.members, ...fixture.groups![2]!.members]));
    const wang = fixture.users.find((u) => u.displayName === '王伟')!;
    const check = await sim.call('POST', `/v1.0/users/${wang.id}/checkMemberGroups`, { token: graph, json: { groupIds: [parent.id] } });
    expect(check.json.value).toEqual([parent.id]);
  });
});
