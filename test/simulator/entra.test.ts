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
