import { ClientSecretCredential } from '@azure/identity';
import * as https from 'node:https';
import { CLIENT_ID, startTestSimulator, type TestSimulator } from './simulatorClient';

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8'));
}

describe('simulated Entra token endpoint', () => {
  let sim: TestSimulator;
  beforeAll(async () => {
    sim = await startTestSimulator();
  });
  afterAll(() => sim.stop());
  beforeEach(() => sim.call('POST', '/_simulator/reset'));

  test('the real @azure/identity ClientSecretCredential gets a Graph and an Exchange token, trusting the CA through an agent', async () => {
    const agent = new https.Agent({ ca: sim.ca });
    try {
      const credential = new ClientSecretCredential(sim.tenantId, CLIENT_ID, 'any-secret', {
        authorityHost: sim.simulator.url,
        disableInstanceDiscovery: true,
        agent,
      });
      const graph = await credential.getToken('https://graph.microsoft.com/.default');
      const exchange = await credential.getToken('https://outlook.office365.com/.default');

      expect(claimsOf(graph.token)).toMatchObject({
        aud: 'https://graph.microsoft.com',
        tid: sim.tenantId,
        appid: CLIENT_ID,
        azp: CLIENT_ID,
        roles: expect.arrayContaining(['User.Read.All', 'GroupMember.Read.All', 'Policy.Read.All']),
      });
      expect(claimsOf(exchange.token)).toMatchObject({ aud: 'https://outlook.office365.com', tid: sim.tenantId, roles: ['Exchange.ManageAsApp'] });
      expect(graph.expiresOnTimestamp).toBeGreaterThan(Date.now() + 55 * 60 * 1000);

      const users = await sim.call('GET', '/v1.0/users/bob@contoso.com', { token: graph.token });
      expect(users.status).toBe(200);
      const tokenCalls = (await sim.call('GET', '/_simulator/calls')).json.filter((call: { service: string }) => call.service === 'token');
      expect(tokenCalls.map((call: { method: string; path: string }) => `${call.method} ${call.path.split('?')[0]}`)).toEqual(
        expect.arrayContaining([`GET /${sim.tenantId}/v2.0/.well-known/openid-configuration`, `POST /${sim.tenantId}/oauth2/v2.0/token`]),
      );
      expect(tokenCalls.filter((call: { method: string }) => call.method === 'POST')).toHaveLength(2);
    } finally {
      agent.destroy();
    }
  });

  test('tlsOptions.ca works as well as an agent', async () => {
    const credential = new ClientSecretCredential(sim.tenantId, CLIENT_ID, 'any-secret', {
      authorityHost: sim.simulator.url,
      disableInstanceDiscovery: true,
      tlsOptions: { ca: sim.ca },
    });
    const token = await credential.getToken('https://outlook.office365.com/.default');
    expect(claimsOf(token.token).aud).toBe('https://outlook.office365.com');
  });

  async function tokenRequest(tenant: string, form: Record<string, string>) {
    return sim.call('POST', `/${tenant}/oauth2/v2.0/token`, {
      body: new URLSearchParams(form).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
  }
  const validForm = { grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: 's', scope: 'https://graph.microsoft.com/.default' };

  test('a tenant domain names the tenant as well as its id', async () => {
    const result = await tokenRequest('contoso.onmicrosoft.com', validForm);
    expect(result.status).toBe(200);
    expect(result.json).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
  });

  test.each([
    ['an unknown tenant', '00000000-0000-0000-0000-000000000001', validForm, 400, 'invalid_request', 90002],
    ['a scope without /.default', null, { ...validForm, scope: 'https://graph.microsoft.com/User.Read.All' }, 400, 'invalid_scope', 1002012],
    ['an unknown resource', null, { ...validForm, scope: 'https://vault.azure.net/.default' }, 400, 'invalid_resource', 500011],
    ['no client secret', null, { grant_type: 'client_credentials', client_id: CLIENT_ID, scope: 'https://graph.microsoft.com/.default' }, 401, 'invalid_client', 7000216],
    ['another grant type', null, { ...validForm, grant_type: 'password' }, 400, 'unsupported_grant_type', 70003],
  ])('%s is refused with Entra’s error body', async (_name, tenant, form, status, error, code) => {
    const result = await tokenRequest(tenant ?? sim.tenantId, form);
    expect(result.status).toBe(status);
    expect(result.json).toMatchObject({
      error,
      error_codes: [code],
      timestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$/),
      trace_id: expect.any(String),
      correlation_id: expect.any(String),
    });
    expect(result.json.error_description).toMatch(new RegExp(`^AADSTS${code}: `));
  });

  test('the keys document verifies the tokens the endpoint issues', async () => {
    const { importJWK, jwtVerify } = await import('jose');
    const discovery = await sim.call('GET', `/${sim.tenantId}/v2.0/.well-known/openid-configuration`);
    expect(discovery.json).toMatchObject({
      token_endpoint: `${sim.simulator.url}/${sim.tenantId}/oauth2/v2.0/token`,
      issuer: expect.any(String),
      authorization_endpoint: expect.any(String),
      end_session_endpoint: expect.any(String),
    });
    const keys = await sim.call('GET', new URL(discovery.json.jwks_uri).pathname);
    const token = await sim.token('https://graph.microsoft.com/.default');
    const key = await importJWK(keys.json.keys[0], 'RS256');
    const { payload } = await jwtVerify(token, key);
    expect(payload.tid).toBe(sim.tenantId);
  });
});

describe('simulated App Service managed identity endpoint (GET /msi/token, api-version 2019-08-01)', () => {
  let sim: TestSimulator;
  beforeAll(async () => {
    sim = await startTestSimulator();
  });
  afterAll(() => sim.stop());
  beforeEach(() => sim.call('POST', '/_simulator/reset'));

  const path = (query: Record<string, string>): string => `/msi/token?${new URLSearchParams({ 'api-version': '2019-08-01', ...query })}`;

  test('issues a token for the requested resource with the app roles, in App Service response shape', async () => {
    expect(sim.simulator.identityEndpoint).toBe(`${sim.simulator.url}/msi/token`);
    const headers = { 'X-IDENTITY-HEADER': sim.simulator.identityHeader };
    const graph = await sim.call('GET', path({ resource: 'https://graph.microsoft.com' }), { headers });
    expect(graph.status).toBe(200);
    expect(graph.json).toEqual({
      access_token: expect.any(String),
      expires_on: String(Math.floor(sim.clock.now.getTime() / 1000) + 3600),
      resource: 'https://graph.microsoft.com',
      token_type: 'Bearer',
      client_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(claimsOf(graph.json.access_token)).toMatchObject({ aud: 'https://graph.microsoft.com', tid: sim.tenantId, appid: graph.json.client_id, roles: expect.arrayContaining(['User.Read.All']) });
    expect((await sim.call('GET', '/v1.0/users/bob@contoso.com', { token: graph.json.access_token })).status).toBe(200);

    const clientId = '0f4a5b6c-7d8e-4f90-a1b2-c3d4e5f6a7b8';
    const exchange = await sim.call('GET', path({ resource: 'https://outlook.office365.com', client_id: clientId }), { headers });
    expect(exchange.json).toMatchObject({ resource: 'https://outlook.office365.com', client_id: clientId });
    expect(claimsOf(exchange.json.access_token)).toMatchObject({ aud: 'https://outlook.office365.com', appid: clientId, roles: ['Exchange.ManageAsApp'] });
    expect((await sim.invoke(exchange.json.access_token, 'Get-TransportConfig')).status).toBe(200);
  });

  test('refuses a missing (400) or wrong (401) X-IDENTITY-HEADER, a bad api-version and an unknown resource (400)', async () => {
    const resource = 'https://graph.microsoft.com';
    expect((await sim.call('GET', path({ resource }))).status).toBe(400);
    const wrong = await sim.call('GET', path({ resource }), { headers: { 'X-IDENTITY-HEADER': 'wrong' } });
    expect(wrong.status).toBe(401);
    expect(wrong.json).toEqual({ statusCode: 401, message: expect.stringContaining('X-IDENTITY-HEADER') });
    const headers = { 'X-IDENTITY-HEADER': sim.simulator.identityHeader };
    expect((await sim.call('GET', path({ resource, 'api-version': '2017-09-01' }), { headers })).status).toBe(400);
    expect((await sim.call('GET', path({}), { headers })).status).toBe(400);
    const unknown = await sim.call('GET', path({ resource: 'https://vault.azure.net' }), { headers });
    expect(unknown.status).toBe(400);
    expect(unknown.json.message).toContain('AADSTS500011');
  });
});
