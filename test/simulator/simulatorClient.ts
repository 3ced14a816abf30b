import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Agent, request } from 'undici';
import { loadFixture, type TenantFixture } from '../../src/simulator/fixture';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server';

export const DEMO_FIXTURE_PATH = path.join(__dirname, '..', '..', 'fixtures', 'demo-tenant.json');
export const CLIENT_ID = '5c1f0d7a-3b2e-4f6a-9d8c-1e2f3a4b5c6d';

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

export interface TestSimulator {
  simulator: RunningSimulator;
  fixture: TenantFixture;
  tenantId: string;
  ca: string;
  certDir: string;
  dispatcher: Agent;
  /** The simulator's clock; tests move it to expire tokens. */
  clock: { now: Date };
  call(method: string, pathAndQuery: string, options?: { token?: string; json?: unknown; body?: string; headers?: Record<string, string> }): Promise<HttpResult>;
  token(scope: string): Promise<string>;
  invoke(token: string, cmdlet: string, parameters?: Record<string, unknown>): Promise<HttpResult>;
  stop(): Promise<void>;
}

/** A simulator on a random port with its own certificate directory, and an HTTPS client that trusts its CA. */
export async function startTestSimulator(fixture: TenantFixture = loadFixture(DEMO_FIXTURE_PATH)): Promise<TestSimulator> {
  const certDir = mkdtempSync(path.join(os.tmpdir(), 'smtp-gate-simulator-'));
  const clock = { now: new Date() };
  const simulator = await startSimulator({ fixture, port: 0, certDir, now: () => clock.now });
  const ca = readFileSync(simulator.caCertPath, 'utf8');
  const dispatcher = new Agent({ connect: { ca } });
  const tenantId = fixture.tenant.id;

  const call: TestSimulator['call'] = async (method, pathAndQuery, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body = options.body;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] = 'application/json';
    }
    const response = await request(`${simulator.url}${pathAndQuery}`, { method: method as 'GET', headers, body, dispatcher });
    const text = await response.body.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.statusCode, headers: response.headers, text, json };
  };

  return {
    simulator,
    fixture,
    tenantId,
    ca,
    certDir,
    dispatcher,
    clock,
    call,
    token: async (scope) => {
      const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: 'not-a-real-secret', scope });
      const result = await call('POST', `/${tenantId}/oauth2/v2.0/token`, {
        body: form.toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      if (result.status !== 200) throw new Error(`token request failed: ${result.text}`);
      return result.json.access_token as string;
    },
    invoke: (token, cmdlet, parameters = {}) =>
      call('POST', `/adminapi/beta/${tenantId}/InvokeCommand`, {
        token,
        json: { CmdletInput: { CmdletName: cmdlet, Parameters: parameters } },
        headers: { 'X-AnchorMailbox': `APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@${tenantId}` },
      }),
    stop: async () => {
      await simulator.close();
      await dispatcher.close();
      rmSync(certDir, { recursive: true, force: true });
    },
  };
}
