import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { ClientSecretCredential, type AccessToken, type GetTokenOptions, type TokenCredential } from '@azure/identity';
import { exchangeScope, graphScope, ReusedTokenCredential, TOKEN_RENEW_BEFORE_EXPIRY_MS } from '../../src/tenant/credential';
import { CLIENT_ID } from '../simulator/simulatorClient';
import { connect, startTestSimulator, type TestSimulator } from './tenantHarness';

/** The library's credential against the simulator's Entra, with every request it is asked for counted. */
class CountedCredential implements TokenCredential {
  asked: string[] = [];
  constructor(private readonly inner: TokenCredential) {}
  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
    this.asked.push(String(scopes));
    return this.inner.getToken(scopes, options);
  }
}

describe('access tokens are reused until shortly before they expire', () => {
  let sim: TestSimulator;
  beforeAll(async () => { sim = await startTestSimulator(); });
  afterAll(() => sim.stop());

  const library = () => new CountedCredential(new ClientSecretCredential(sim.tenantId, CLIENT_ID, 'simulator-secret', {
    authorityHost: sim.simulator.url, disableInstanceDiscovery: true,
    agent: new Agent({ ca: readFileSync(sim.simulator.caCertPath, 'utf8'), keepAlive: true }),
  }));

  test('one request per scope for many callers, even at the same moment; a new one 5 minutes before expiry', async () => {
    let now = Date.now();
    const counted = library();
    const credential = new ReusedTokenCredential(counted, () => now);
    const first = await Promise.all(Array.from({ length: 10 }, () => credential.getToken(graphScope)));
    expect(new Set(first.map((t) => t?.token)).size).toBe(1);
    for (let i = 0; i < 5; i++) expect((await credential.getToken(graphScope))?.token).toBe(first[0]!.token);
    await credential.getToken(exchangeScope);
    expect(counted.asked).toEqual([graphScope, exchangeScope]);

    const expiresOn = first[0]!.expiresOnTimestamp;
    now = expiresOn - TOKEN_RENEW_BEFORE_EXPIRY_MS - 1000;
    await credential.getToken(graphScope);
    expect(counted.asked).toHaveLength(2);
    now = expiresOn - TOKEN_RENEW_BEFORE_EXPIRY_MS + 1000;
    await credential.getToken(graphScope);
    expect(counted.asked).toEqual([graphScope, exchangeScope, graphScope]);
  });

  test('a refused request is not kept: the next call asks again and its error reaches the caller', async () => {
    const counted = library();
    const credential = new ReusedTokenCredential(counted);
    await sim.call('POST', '/_simulator/faults', { json: { rules: [{ service: 'token', match: '/oauth2/v2.0/token', status: 400, times: 1 }] } });
    await expect(credential.getToken(graphScope)).rejects.toThrow();
    expect((await credential.getToken(graphScope))?.token).toMatch(/^ey/);
    expect(counted.asked.filter((s) => s === graphScope).length).toBeGreaterThanOrEqual(2);
  });

  test('a status-sized burst of Graph and Exchange calls through the tenant asks Entra once per scope', async () => {
    await sim.call('POST', '/_simulator/faults', { json: {} });
    const tenant = connect(sim);
    try {
      await sim.call('DELETE', '/_simulator/calls');
      await Promise.all([
        tenant.directory.getUser('bob@contoso.com'), tenant.directory.getUser('alexw@contoso.com'),
        tenant.exchange.getCasMailbox('bob@contoso.com'), tenant.exchange.getTransportConfig(), tenant.exchange.getAuthenticationPolicies(),
      ]);
      await tenant.exchange.getCasMailbox('alexw@contoso.com');
      const calls: { service: string; method: string }[] = (await sim.call('GET', '/_simulator/calls')).json;
      expect(calls.filter((c) => c.service === 'token' && c.method === 'POST')).toHaveLength(2);
    } finally {
      await tenant.close();
    }
  });
});
