import { loadConfig, type Config } from '../../src/config';
import { connectTenant, type Tenant } from '../../src/tenant';
import type { RetryPolicy, TenantHttpHooks } from '../../src/tenant/http';
import type { TenantFixture } from '../../src/simulator/fixture';
import { CLIENT_ID, startTestSimulator, type TestSimulator } from '../simulator/simulatorClient';

/** The production tenant adapters, wired by configuration only to a simulator on a random port. */
export function tenantConfig(sim: TestSimulator, overrides: Record<string, string> = {}): Config {
  return loadConfig({
    TENANT_ID: sim.tenantId,
    TENANT_CLIENT_ID: CLIENT_ID,
    TENANT_CLIENT_SECRET: 'simulator-secret',
    AUTHORITY_HOST: sim.simulator.url,
    GRAPH_BASE_URL: sim.simulator.url,
    EXCHANGE_BASE_URL: sim.simulator.url,
    TENANT_CA_FILE: sim.simulator.caCertPath,
    IT_STAFF_GROUP_ID: 'e18284b4-bcc1-5c90-99d3-9cd05ac60578',
    APPROVER_GROUP_ID: '2d5d867c-6afc-5fca-9fdd-a80e592b9cce',
    ...overrides,
  });
}

export interface RecordingHooks extends TenantHttpHooks {
  /** Every wait the HTTP layer asked for, in order; none is actually slept. */
  sleeps: number[];
}

/** Sleeps return at once and are recorded; the clock is the simulator's, so HTTP-date Retry-After values line up. */
export function recordingHooks(sim: TestSimulator): RecordingHooks {
  const sleeps: number[] = [];
  return { sleeps, sleep: async (ms) => { sleeps.push(ms); }, random: () => 0.5, now: () => sim.clock.now.getTime() };
}

export function connect(sim: TestSimulator, options: { policy?: Partial<RetryPolicy>; hooks?: TenantHttpHooks; config?: Record<string, string> } = {}): Tenant {
  return connectTenant(tenantConfig(sim, options.config), options.policy, options.hooks);
}

export async function exchangeCalls(sim: TestSimulator, cmdlet: string): Promise<{ status: number | null; parameters: Record<string, unknown> }[]> {
  return (await sim.call('GET', '/_simulator/calls')).json.filter((call: { cmdlet: string | null }) => call.cmdlet === cmdlet);
}

export { startTestSimulator, type TestSimulator, type TenantFixture };
