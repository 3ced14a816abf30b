import { TenantHttpError } from '../../src/tenant/http';
import { connect, startTestSimulator, type TestSimulator } from './tenantHarness';

/** An attempt that gets no answer in time ends as a timeout, on its own deadline, whatever the service does meanwhile. */
describe('tenant HTTP layer: attempt time-outs, against the simulator over HTTPS', () => {
  let sim: TestSimulator;

  beforeAll(async () => {
    sim = await startTestSimulator();
  });
  afterAll(() => sim.stop());
  afterEach(async () => {
    await sim.call('POST', '/_simulator/faults', { json: {} });
  });

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
    }
  });

  test('the same call answered within its time-out succeeds: the time-out is per attempt, not per connection', async () => {
    await sim.call('POST', '/_simulator/faults', { json: { serviceLatencyMs: { exchange: 100 } } });
    const tenant = connect(sim, { policy: { attemptTimeoutMs: 1500, maxRetries: 0 } });
    try {
      for (let i = 0; i < 3; i++) expect((await tenant.exchange.getCasMailbox('bob@contoso.com'))?.smtpClientAuthenticationDisabled).toBe(true);
    } finally {
      await tenant.close();
    }
  });
});
