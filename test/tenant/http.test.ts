import { TenantHttpError } from '../../src/tenant/http';
import { connect, exchangeCalls, recordingHooks, startTestSimulator, type TestSimulator } from './tenantHarness';

describe('tenant HTTP layer: retry policy as data, against the simulator over HTTPS', () => {
  let sim: TestSimulator;

  beforeAll(async () => {
    sim = await startTestSimulator();
  });
  afterAll(() => sim.stop());
  beforeEach(async () => {
    // A whole second, so an HTTP-date Retry-After (second precision) converts exactly.
    sim.clock.now = new Date(Math.floor(Date.now() / 1000) * 1000);
    await sim.call('POST', '/_simulator/reset');
  });

  test('three 429s then success: each Retry-After is honoured (seconds and HTTP date) and the user is returned', async () => {
    await sim.call('POST', '/_simulator/faults', {
      json: {
        rules: [
          { service: 'graph', match: '/users/bob', status: 429, retryAfterSeconds: 1, times: 1 },
          { service: 'graph', match: '/users/bob', status: 429, retryAfterSeconds: 2, times: 1 },
          { service: 'graph', match: '/users/bob', status: 429, retryAfterSeconds: 3, retryAfterHttpDate: true, times: 1 },
        ],
      },
    });
    const hooks = recordingHooks(sim);
    const tenant = connect(sim, { hooks });
    try {
      const bob = await tenant.directory.getUser('bob@contoso.com');
      expect(bob?.displayName).toBe('Bob Smith');
      expect(hooks.sleeps).toEqual([1000, 2000, 3000]);
      const statuses = (await sim.call('GET', '/_simulator/calls')).json
        .filter((call: { path: string }) => call.path.startsWith('/v1.0/users/bob'))
        .map((call: { status: number }) => call.status);
      expect(statuses).toEqual([429, 429, 429, 200]);
    } finally {
      await tenant.close();
    }
  });

  test('a Retry-After beyond the deadline ends the call at once as throttled instead of waiting', async () => {
    await sim.call('POST', '/_simulator/faults', { json: { rules: [{ service: 'exchange', match: 'Get-CASMailbox', status: 429, retryAfterSeconds: 120 }] } });
    const hooks = recordingHooks(sim);
    const tenant = connect(sim, { hooks, policy: { deadlineMs: 60_000 } });
    try {
      const error = await tenant.exchange.getCasMailbox('bob').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TenantHttpError);
      expect((error as TenantHttpError).toAppError().code).toBe('TENANT_THROTTLED');
      expect(hooks.sleeps).toEqual([]);
    } finally {
      await tenant.close();
    }
  });

  test('a transient Exchange error on Set-CASMailbox is retried with backoff and the mailbox is written exactly once', async () => {
    await sim.call('POST', '/_simulator/faults', {
      json: {
        rules: [
          { service: 'exchange', match: 'Set-CASMailbox', exchangeError: 'ServerBusyException', times: 1 },
          { service: 'exchange', match: 'Set-CASMailbox', exchangeError: 'BackendCommunicationException', status: 503, times: 1 },
        ],
      },
    });
    const hooks = recordingHooks(sim);
    const tenant = connect(sim, { hooks, policy: { baseDelayMs: 500, jitter: 0.5 } });
    try {
      await tenant.exchange.setCasMailboxSmtpClientAuthenticationDisabled('bob@contoso.com', false);
      // Exponential backoff with half jitter (random = 0.5): 500 → 375 ms, 1000 → 750 ms.
      expect(hooks.sleeps).toEqual([375, 750]);
      const sets = await exchangeCalls(sim, 'Set-CASMailbox');
      expect(sets.map((call) => call.status)).toEqual([500, 503, 200]);
      expect(sets.filter((call) => call.status === 200)).toHaveLength(1);
      expect((await tenant.exchange.getCasMailbox('bob'))?.smtpClientAuthenticationDisabled).toBe(false);
    } finally {
      await tenant.close();
    }
  });

  test('an error that is not transient (unknown mailbox) is not retried and keeps Exchange\'s message', async () => {
    const hooks = recordingHooks(sim);
    const tenant = connect(sim, { hooks });
    try {
      const error = (await tenant.exchange.setCasMailboxSmtpClientAuthenticationDisabled('ghost@contoso.com', false).catch((e: unknown) => e)) as TenantHttpError;
      expect(error.status).toBe(404);
      expect(error.microsoftMessage).toContain("couldn't be found");
      expect(hooks.sleeps).toEqual([]);
      expect(await exchangeCalls(sim, 'Set-CASMailbox')).toHaveLength(1);
    } finally {
      await tenant.close();
    }
  });

  test('a Graph 403 for a missing application permission surfaces a permission error naming it', async () => {
    await sim.call('POST', '/_simulator/app', { json: { graphRoles: ['Policy.Read.All', 'GroupMember.Read.All'] } });
    const tenant = connect(sim);
    try {
      const error = (await tenant.directory.getUser('bob@contoso.com').catch((e: unknown) => e)) as TenantHttpError;
      expect(error).toBeInstanceOf(TenantHttpError);
      expect(error).toMatchObject({ status: 403, microsoftCode: 'Authorization_RequestDenied', requiredPermission: 'User.Read.All' });
      const appError = error.toAppError();
      expect(appError.code).toBe('TENANT_PERMISSION_DENIED');
      expect(appError.params).toMatchObject({ permission: 'User.Read.All', service: 'graph' });
    } finally {
      await tenant.close();
    }
  });

  test('an Exchange cmdlet outside the app\'s management roles surfaces a permission error naming the role, and nothing is written', async () => {
    await sim.call('POST', '/_simulator/app', { json: { exchangeManagementRoles: ['View-Only Recipients', 'View-Only Configuration'] } });
    const tenant = connect(sim);
    try {
      expect((await tenant.exchange.getCasMailbox('bob'))?.smtpClientAuthenticationDisabled).toBe(true);
      const error = (await tenant.exchange.setCasMailboxSmtpClientAuthenticationDisabled('bob', false).catch((e: unknown) => e)) as TenantHttpError;
      expect(error.toAppError()).toMatchObject({ code: 'TENANT_PERMISSION_DENIED', params: { permission: 'Mail Recipients', service: 'exchange' } });
      expect((await tenant.exchange.getCasMailbox('bob'))?.smtpClientAuthenticationDisabled).toBe(true);
    } finally {
      await tenant.close();
    }
  });

  test('an app without Exchange.ManageAsApp is told so', async () => {
    await sim.call('POST', '/_simulator/app', { json: { exchangeRoles: [] } });
    const tenant = connect(sim);
    try {
      const error = (await tenant.exchange.getTransportConfig().catch((e: unknown) => e)) as TenantHttpError;
      expect(error.toAppError()).toMatchObject({ code: 'TENANT_PERMISSION_DENIED', params: { permission: 'Exchange.ManageAsApp' } });
    } finally {
      await tenant.close();
    }
  });

  // An attempt that gets no answer in time ends as a timeout, on its own deadline, whatever the service does meanwhile.
  test('Exchange answering after 3 s, with a 400 ms attempt time-out and no retries: a timeout error well before Exchange answers', async () => {
    await sim.call('POST', '/_simulator/faults', { json: { serviceLatencyMs: { exchange: 3000 } } });
    const tenant = connect(sim, { policy: { attemptTimeoutMs: 400, maxRetries: 0 } });
    try {
      const started = performance.now();
      const error = await tenant.exchange.getCasMailbox('bob@contoso.com').catch((e: unknown) => e);
      const elapsed = performance.now() - started;
      expect(error).toBeInstanceOf(TenantHttpError);
      expect((error as TenantHttpError).kind).toBe('timeout');
      expect((error as TenantHttpError).toAppError().code).toBe('TENANT_TIMEOUT');
      expect(elapsed).toBeGreaterThanOrEqual(350);
      expect(elapsed).toBeLessThan(2500);
    } finally {
      await tenant.close();
      await sim.call('POST', '/_simulator/faults', { json: {} });
    }
  });

  test('the same call answered within its time-out succeeds: the time-out is per attempt, not per connection', async () => {
    await sim.call('POST', '/_simulator/faults', { json: { serviceLatencyMs: { exchange: 100 } } });
    const tenant = connect(sim, { policy: { attemptTimeoutMs: 1500, maxRetries: 0 } });
    try {
      for (let i = 0; i < 3; i++) expect((await tenant.exchange.getCasMailbox('bob@contoso.com'))?.smtpClientAuthenticationDisabled).toBe(true);
    } finally {
      await tenant.close();
      await sim.call('POST', '/_simulator/faults', { json: {} });
    }
  });
});
