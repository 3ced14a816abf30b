import { readFileSync } from 'node:fs';
import { DEMO_FIXTURE_PATH, startTestSimulator, type TestSimulator } from './simulatorClient';

describe('simulator control API', () => {
  let sim: TestSimulator;
  let exchangeToken: string;
  let graphToken: string;

  beforeAll(async () => {
    sim = await startTestSimulator();
    exchangeToken = await sim.token('https://outlook.office365.com/.default');
    graphToken = await sim.token('https://graph.microsoft.com/.default');
  });
  afterAll(() => sim.stop());
  beforeEach(() => sim.call('POST', '/_simulator/reset'));

  const setFaults = async (faults: unknown) => {
    const result = await sim.call('POST', '/_simulator/faults', { json: faults });
    expect(result.status).toBe(200);
  };
  const enableBob = () => sim.invoke(exchangeToken, 'Set-CASMailbox', { Identity: 'bob@contoso.com', SmtpClientAuthenticationDisabled: false });

  test('a 429 rule with Retry-After answers twice, then lets the cmdlet through', async () => {
    await setFaults({ rules: [{ service: 'exchange', match: 'Set-CASMailbox', status: 429, retryAfterSeconds: 1, times: 2 }] });

    const first = await enableBob();
    const second = await enableBob();
    const third = await enableBob();
    expect([first.status, second.status, third.status]).toEqual([429, 429, 200]);
    expect(first.headers['retry-after']).toBe('1');
    expect(first.json.error.code).toBe('TooManyRequests');

    const reads = await sim.invoke(exchangeToken, 'Get-CASMailbox', { Identity: 'bob' });
    expect(reads.status).toBe(200);
    const calls = (await sim.call('GET', '/_simulator/calls')).json;
    expect(calls.filter((call: { cmdlet: string }) => call.cmdlet === 'Set-CASMailbox').map((call: { status: number }) => call.status)).toEqual([429, 429, 200]);
    expect((await sim.call('GET', '/_simulator/state')).json.users.find((user: { userPrincipalName: string }) => user.userPrincipalName === 'bob@contoso.com').mailbox).toEqual({
      smtpClientAuthenticationDisabled: false,
    });
  });

  test('an Exchange transient error is answered in the cmdlet error envelope', async () => {
    await setFaults({ rules: [{ service: 'exchange', match: 'Get-CASMailbox', exchangeError: 'ServerBusyException', times: 1 }] });
    const busy = await sim.invoke(exchangeToken, 'Get-CASMailbox', { Identity: 'bob' });
    expect(busy.status).toBe(500);
    expect(busy.json.error.details[0].message).toContain('ServerBusyException');
    expect((await sim.invoke(exchangeToken, 'Get-CASMailbox', { Identity: 'bob' })).status).toBe(200);
  });

  test('Graph faults match on the path and use Graph’s error shape; latency delays every call', async () => {
    await setFaults({ latencyMs: 150, rules: [{ service: 'graph', match: '/checkMemberGroups', status: 503, retryAfterSeconds: 2 }] });
    const started = Date.now();
    const unavailable = await sim.call('POST', `/v1.0/users/${sim.fixture.users[0]?.id}/checkMemberGroups`, { token: graphToken, json: { groupIds: [] } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers['retry-after']).toBe('2');
    expect(unavailable.json.error).toMatchObject({ code: 'ServiceNotAvailable', innerError: { 'request-id': unavailable.headers['request-id'] } });
    expect((await sim.call('GET', '/v1.0/users/bob@contoso.com', { token: graphToken })).status).toBe(200);
  });

  test('latency can be set per service: Exchange slower than Graph, the rest at the common value', async () => {
    await setFaults({ latencyMs: 0, serviceLatencyMs: { exchange: 300 } });
    let started = Date.now();
    expect((await sim.call('GET', '/v1.0/users/bob@contoso.com', { token: graphToken })).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(250);
    started = Date.now();
    expect((await sim.invoke(exchangeToken, 'Get-CASMailbox', { Identity: 'bob' })).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect((await sim.call('GET', '/_simulator/faults')).json).toEqual({ latencyMs: 0, serviceLatencyMs: { exchange: 300 }, rules: [] });
  });

  test('a drop rule closes the connection without an answer', async () => {
    await setFaults({ rules: [{ service: 'token', drop: true, times: 1 }] });
    await expect(sim.token('https://graph.microsoft.com/.default')).rejects.toThrow();
    expect(await sim.token('https://graph.microsoft.com/.default')).toMatch(/^ey/);
    const tokenCalls = (await sim.call('GET', '/_simulator/calls')).json.filter((call: { service: string }) => call.service === 'token');
    expect(tokenCalls.map((call: { status: number | null }) => call.status)).toEqual([null, 200]);
  });

  test('a fault configuration that does not follow the format is refused with the offending path', async () => {
    const result = await sim.call('POST', '/_simulator/faults', { json: { rules: [{ service: 'exchange', status: 'busy' }] } });
    expect(result.status).toBe(400);
    expect(result.json.error.message).toContain('rules[0].status');
  });

  test('reset restores the fixture and clears calls and faults', async () => {
    await enableBob();
    await setFaults({ rules: [{ service: 'graph', status: 500 }] });
    const reset = await sim.call('POST', '/_simulator/reset');
    expect(reset.status).toBe(200);

    const state = (await sim.call('GET', '/_simulator/state')).json;
    expect(state.users.find((user: { userPrincipalName: string }) => user.userPrincipalName === 'bob@contoso.com').mailbox).toEqual({ smtpClientAuthenticationDisabled: true });
    expect(state.org).toEqual(sim.fixture.org);
    expect((await sim.call('GET', '/_simulator/calls')).json).toEqual([]);
    expect((await sim.call('GET', '/_simulator/faults')).json).toEqual({ latencyMs: 0, rules: [] });
    expect((await sim.call('GET', '/v1.0/users/bob@contoso.com', { token: graphToken })).status).toBe(200);
  });

  test('reset with an invalid fixture is refused and leaves the tenant as it was', async () => {
    await enableBob();
    const broken = JSON.parse(readFileSync(DEMO_FIXTURE_PATH, 'utf8'));
    broken.users[3].mailbox.smtpClientAuthenticationDisabled = 'no';
    const result = await sim.call('POST', '/_simulator/reset', { json: broken });
    expect(result.status).toBe(400);
    expect(result.json.error.message).toContain('users[3].mailbox.smtpClientAuthenticationDisabled: expected true, false or null');
    const bob = (await sim.call('GET', '/_simulator/state')).json.users.find((user: { userPrincipalName: string }) => user.userPrincipalName === 'bob@contoso.com');
    expect(bob.mailbox).toEqual({ smtpClientAuthenticationDisabled: false });
  });

  test('reset with a new fixture replaces the tenant; a bare reset returns to the original', async () => {
    const other = JSON.parse(readFileSync(DEMO_FIXTURE_PATH, 'utf8'));
    other.tenant.id = '0f0f0f0f-1111-4222-8333-444455556666';
    other.org.smtpClientAuthenticationDisabled = false;
    other.users = other.users.slice(0, 3);
    for (const group of other.groups) group.members = group.members.filter((id: string) => other.users.some((user: { id: string }) => user.id === id));
    expect((await sim.call('POST', '/_simulator/reset', { json: other })).json).toEqual({ reset: true, tenantId: other.tenant.id, users: 3 });
    expect((await sim.call('GET', '/_simulator/state')).json.org.smtpClientAuthenticationDisabled).toBe(false);
    // Tokens name the tenant they were issued for.
    expect((await sim.call('GET', '/v1.0/users', { token: graphToken })).status).toBe(401);

    await sim.call('POST', '/_simulator/reset');
    expect((await sim.call('GET', '/_simulator/state')).json.users).toHaveLength(sim.fixture.users.length);
  });
});
