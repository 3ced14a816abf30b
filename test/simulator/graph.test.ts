import { ClientSecretCredential } from '@azure/identity';
import { Client, PageIterator } from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials';
import * as https from 'node:https';
import { CLIENT_ID, startTestSimulator, type TestSimulator } from './simulatorClient';

describe('simulated Microsoft Graph', () => {
  let sim: TestSimulator;
  let token: string;
  const userId = (displayName: string): string => sim.fixture.users.find((user) => user.displayName === displayName)?.id as string;
  const groupId = (displayName: string): string => sim.fixture.groups?.find((group) => group.displayName === displayName)?.id as string;

  beforeAll(async () => {
    sim = await startTestSimulator();
    token = await sim.token('https://graph.microsoft.com/.default');
  });
  afterAll(() => sim.stop());
  afterEach(() => {
    sim.clock.now = new Date();
  });

  const get = (path: string, headers?: Record<string, string>) => sim.call('GET', path, { token, headers });
  const filter = (expression: string, select = 'id,displayName') =>
    get(`/v1.0/users?$filter=${encodeURIComponent(expression)}&$select=${select}`);

  describe('authentication', () => {
    test('a request without a token is refused with 401 InvalidAuthenticationToken and a request-id', async () => {
      const result = await sim.call('GET', '/v1.0/users');
      expect(result.status).toBe(401);
      expect(result.json).toEqual({
        error: {
          code: 'InvalidAuthenticationToken',
          message: 'Access token is empty.',
          innerError: { date: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/), 'request-id': result.headers['request-id'], 'client-request-id': expect.any(String) },
        },
      });
    });

    test('an Exchange token is refused by Graph: wrong audience', async () => {
      const exchangeToken = await sim.token('https://outlook.office365.com/.default');
      const result = await sim.call('GET', '/v1.0/users', { token: exchangeToken });
      expect(result.status).toBe(401);
      expect(result.json.error).toMatchObject({ code: 'InvalidAuthenticationToken', message: 'Access token validation failure. Invalid audience.' });
    });

    test('a token with a forged signature or past its lifetime is refused', async () => {
      const [head, payload] = token.split('.');
      const forged = `${head}.${payload}.${Buffer.from('not the signature').toString('base64url')}`;
      expect((await sim.call('GET', '/v1.0/users', { token: forged })).status).toBe(401);

      sim.clock.now = new Date(Date.now() + 61 * 60 * 1000);
      const expired = await get('/v1.0/users');
      expect(expired.status).toBe(401);
      expect(expired.json.error.message).toBe('Lifetime validation failed, the token is expired.');
    });

    test('every Graph answer carries a request-id and echoes client-request-id', async () => {
      const result = await get('/v1.0/users/bob@contoso.com', { 'client-request-id': 'c0ffee00-0000-4000-8000-000000000000' });
      expect(result.headers['request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(result.headers['client-request-id']).toBe('c0ffee00-0000-4000-8000-000000000000');
    });
  });

  describe('users', () => {
    test('a user is found by object id and by UPN, case-insensitively, in Graph’s default shape', async () => {
      const byId = await get(`/v1.0/users/${userId('Bob Smith')}`);
      expect(byId.status).toBe(200);
      expect(byId.json).toEqual({
        '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#users/$entity',
        businessPhones: [],
        displayName: 'Bob Smith',
        givenName: 'Bob',
        jobTitle: null,
        mail: 'bob@contoso.com',
        mobilePhone: null,
        officeLocation: null,
        preferredLanguage: 'es-ES',
        surname: 'Smith',
        userPrincipalName: 'bob@contoso.com',
        id: userId('Bob Smith'),
      });
      const byUpn = await get('/v1.0/users/BOB%40Contoso.com?$select=id,accountEnabled');
      expect(byUpn.json).toEqual({
        '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#users(id,accountEnabled)/$entity',
        id: userId('Bob Smith'),
        accountEnabled: true,
      });
      const apostrophe = await get(`/v1.0/users/${encodeURIComponent("sean.o'brien@contoso.com")}?$select=displayName`);
      expect(apostrophe.json.displayName).toBe("Seán O'Brien");
    });

    test('an unknown user is 404 Request_ResourceNotFound', async () => {
      const result = await get('/v1.0/users/nobody@contoso.com');
      expect(result.status).toBe(404);
      expect(result.json.error).toMatchObject({
        code: 'Request_ResourceNotFound',
        message: "Resource 'nobody@contoso.com' does not exist or one of its queried reference-property objects are not present.",
      });
    });

    test("startswith with a doubled quote finds O'Brien; CJK and accented names match too", async () => {
      expect((await filter("startswith(displayName,'Seán O''B')")).json.value).toEqual([{ id: userId("Seán O'Brien"), displayName: "Seán O'Brien" }]);
      expect((await filter("startswith(surname,'o''brien')")).json.value).toHaveLength(1);
      expect((await filter("startswith(displayName,'王')")).json.value).toEqual([{ id: userId('王伟'), displayName: '王伟' }]);
      expect((await filter("startswith(displayName,'ștefan') or startswith(givenName,'josé')")).json.value.map((user: { displayName: string }) => user.displayName)).toEqual([
        'José Núñez',
        'Ștefan Popescu',
      ]);
    });

    test('eq on userPrincipalName, mail and id, combined with or; both Bobs by first name', async () => {
      const result = await filter(`userPrincipalName eq 'SEAN.O''BRIEN@contoso.com' or mail eq 'bob@contoso.com' or id eq '${userId('王伟')}'`);
      expect(result.json.value.map((user: { displayName: string }) => user.displayName)).toEqual(['Bob Smith', '王伟', "Seán O'Brien"]);
      const bobs = await filter("startswith(givenName,'bob')", 'displayName,userPrincipalName');
      expect(bobs.json.value).toEqual([
        { displayName: 'Bob Smith', userPrincipalName: 'bob@contoso.com' },
        { displayName: 'Bob Jones', userPrincipalName: 'bob.jones@contoso.com' },
      ]);
    });

    test('a malformed filter is 400 with Graph’s error shape, never a partial match', async () => {
      const unescaped = await filter("startswith(displayName,'O'Brien')");
      expect(unescaped.status).toBe(400);
      expect(unescaped.json.error).toMatchObject({ code: 'BadRequest', message: expect.stringMatching(/^Invalid filter clause/) });
      expect(unescaped.json.error.innerError['request-id']).toBe(unescaped.headers['request-id']);
      expect((await filter("endswith(mail,'@contoso.com')")).json.error.code).toBe('Request_UnsupportedQuery');
      expect((await get('/v1.0/users?$select=nonsense')).status).toBe(400);
    });

    test('$top pages through every user with @odata.nextLink', async () => {
      const seen: string[] = [];
      let next: string | undefined = '/v1.0/users?$top=5&$select=id';
      let pages = 0;
      while (next) {
        const result = await get(next);
        expect(result.status).toBe(200);
        expect(result.json.value.length).toBeLessThanOrEqual(5);
        seen.push(...result.json.value.map((user: { id: string }) => user.id));
        next = result.json['@odata.nextLink'] ? new URL(result.json['@odata.nextLink']).pathname + new URL(result.json['@odata.nextLink']).search : undefined;
        pages += 1;
      }
      expect(pages).toBe(Math.ceil(sim.fixture.users.length / 5));
      expect(seen).toEqual(sim.fixture.users.map((user) => user.id));
      expect((await get('/v1.0/users?$top=1000')).status).toBe(400);
    });
  });

  test('checkMemberGroups answers which of the given groups the user belongs to', async () => {
    const itStaff = groupId('IT Staff');
    const approvers = groupId('SMTP Approvers');
    const check = (name: string) =>
      sim.call('POST', `/v1.0/users/${userId(name)}/checkMemberGroups`, { token, json: { groupIds: [itStaff, approvers] } });
    expect((await check('Adele Vance')).json).toEqual({
      '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#Collection(Edm.String)',
      value: [itStaff, approvers],
    });
    expect((await check('Alex Wilber')).json.value).toEqual([itStaff]);
    expect((await check('Megan Bowen')).json.value).toEqual([approvers]);
    expect((await check('Bob Jones')).json.value).toEqual([]);
  });

  test('security defaults, Conditional Access, per-user MFA and organization read from the fixture', async () => {
    expect((await get('/v1.0/policies/identitySecurityDefaultsEnforcementPolicy')).json).toMatchObject({ isEnabled: false });
    const policies = (await get('/v1.0/identity/conditionalAccess/policies')).json.value;
    expect(policies.map((policy: { displayName: string }) => policy.displayName)).toContain('Block legacy authentication');
    expect((await get(`/beta/users/${userId('Megan Bowen')}/authentication/requirements`)).json).toMatchObject({ perUserMfaState: 'enabled' });
    expect((await get(`/v1.0/users/${userId('Megan Bowen')}/authentication/requirements`)).status).toBe(400);
    expect((await get('/v1.0/organization')).json.value[0]).toMatchObject({ id: sim.tenantId, displayName: 'Contoso' });
  });

  test('sign-in logs filter by user and client app, newest first', async () => {
    const result = await get(
      `/v1.0/auditLogs/signIns?$filter=${encodeURIComponent(`userId eq '${userId('Floor 2 Scanner')}' and clientAppUsed eq 'Authenticated SMTP' and status/errorCode ne 0`)}&$top=2`,
    );
    expect(result.status).toBe(200);
    expect(result.json.value).toHaveLength(2);
    expect(result.json.value[0]).toMatchObject({ userPrincipalName: 'scanner2@contoso.com', clientAppUsed: 'Authenticated SMTP', status: { errorCode: 50126 } });
    expect(Date.parse(result.json.value[0].createdDateTime)).toBeGreaterThan(Date.parse(result.json.value[1].createdDateTime));
    expect(result.json['@odata.nextLink']).toBeDefined();
  });

  test('the real Graph SDK client, authenticated through @azure/identity, reads users and follows nextLink', async () => {
    const agent = new https.Agent({ ca: sim.ca });
    try {
      const credential = new ClientSecretCredential(sim.tenantId, CLIENT_ID, 'any-secret', { authorityHost: sim.simulator.url, disableInstanceDiscovery: true, agent });
      const client = Client.initWithMiddleware({
        authProvider: new TokenCredentialAuthenticationProvider(credential, { scopes: ['https://graph.microsoft.com/.default'] }),
        baseUrl: `${sim.simulator.url}/`,
        // The SDK sends the token only to Graph's own hosts and these; it wants a hostname, without the port.
        customHosts: new Set([new URL(sim.simulator.url).hostname]),
        // undici 7's Agent works with Node 20's fetch, but its types differ from the ones bundled with @types/node.
        fetchOptions: { dispatcher: sim.dispatcher } as unknown as RequestInit,
      });
      const bob = await client.api('/users/bob@contoso.com').select('id,displayName').get();
      expect(bob.displayName).toBe('Bob Smith');
      const ids: string[] = [];
      const firstPage = await client.api('/users').select('id').top(4).get();
      await new PageIterator(client, firstPage, (user: { id: string }) => {
        ids.push(user.id);
        return true;
      }).iterate();
      expect(ids).toEqual(sim.fixture.users.map((user) => user.id));
      await expect(client.api('/users/nobody@contoso.com').get()).rejects.toMatchObject({ statusCode: 404, code: 'Request_ResourceNotFound' });
    } finally {
      agent.destroy();
    }
  });

  test('an endpoint the simulator lacks fails loudly instead of pretending', async () => {
    const result = await get('/v1.0/me/messages');
    expect(result.status).toBe(501);
    expect(result.json.error.message).toContain('does not implement GET /v1.0/me/messages');
  });

  describe('writable policies and sign-in logs', () => {
    afterEach(() => sim.call('POST', '/_simulator/reset'));

    test('security defaults: PATCH isEnabled answers 204 and GET shows it; any other property is a 400', async () => {
      // Entra refuses to turn them on while Conditional Access policies exist (policy-fidelity.test.ts).
      const withoutConditionalAccess = structuredClone(sim.fixture);
      withoutConditionalAccess.conditionalAccessPolicies = [];
      expect((await sim.call('POST', '/_simulator/reset', { json: withoutConditionalAccess })).status).toBe(200);
      expect((await get('/v1.0/policies/identitySecurityDefaultsEnforcementPolicy')).json).toMatchObject({ isEnabled: false });
      expect((await sim.call('PATCH', '/v1.0/policies/identitySecurityDefaultsEnforcementPolicy', { token, json: { isEnabled: true } })).status).toBe(204);
      expect((await get('/v1.0/policies/identitySecurityDefaultsEnforcementPolicy')).json).toMatchObject({ isEnabled: true });
      const bad = await sim.call('PATCH', '/v1.0/policies/identitySecurityDefaultsEnforcementPolicy', { token, json: { isEnabled: true, displayName: 'x' } });
      expect(bad.status).toBe(400);
      expect(bad.json).toMatchObject({ error: { code: 'BadRequest' } });
      await sim.call('POST', '/_simulator/reset');
    });

    test('per-user MFA: the beta requirements PATCH changes perUserMfaState; v1.0 does not have it; a bad value is a 400', async () => {
      const path = `/users/${userId('Bob Jones')}/authentication/requirements`;
      expect((await get(`/beta${path}`)).json).toMatchObject({ perUserMfaState: 'disabled' });
      expect((await sim.call('PATCH', `/beta${path}`, { token, json: { perUserMfaState: 'enforced' } })).status).toBe(204);
      expect((await get(`/beta${path}`)).json).toMatchObject({ perUserMfaState: 'enforced' });
      expect((await get(`/v1.0${path}`)).status).toBe(400);
      expect((await sim.call('PATCH', `/beta${path}`, { token, json: { perUserMfaState: 'sometimes' } })).status).toBe(400);
    });

    test('sign-in logs answer 403 with Graph\'s error in a tenant without Entra ID P1', async () => {
      const withoutP1 = structuredClone(sim.fixture);
      withoutP1.tenant.entraP1 = false;
      expect((await sim.call('POST', '/_simulator/reset', { json: withoutP1 })).status).toBe(200);
      const filter = encodeURIComponent(`userId eq '${userId('Bob Smith')}' and clientAppUsed eq 'Authenticated SMTP'`);
      const result = await get(`/v1.0/auditLogs/signIns?$filter=${filter}`);
      expect(result.status).toBe(403);
      expect(result.json).toMatchObject({ error: { code: 'Authentication_RequestFromNonPremiumTenantOrB2CTenant' } });
    });
  });
});
