import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { loadConfig, type Config } from '../../src/config';
import { createLogger } from '../../src/log';
import { startServer, type RunningServer } from '../../src/server';
import { loadFixture, type TenantFixture } from '../../src/simulator/fixture';
import { startSimulator } from '../../src/simulator/server';
import { FakeConnector, isApprovalCard, requestIdOf } from './fake-connector';
import { TeamsClient, type TeamsUser } from './teams';

export const demoFixture: TenantFixture = loadFixture(join(__dirname, '..', '..', 'fixtures', 'demo-tenant.json'));

export function demoUser(displayName: string): TeamsUser {
  const u = demoFixture.users.find((x) => x.displayName === displayName);
  if (!u) throw new Error(`demo fixture has no ${displayName}`);
  return { id: u.id, name: u.displayName };
}

export interface SimCall { service: string; cmdlet: string | null; parameters: Record<string, unknown> | null; status: number | null }

/** The tenant simulator over HTTPS plus a client for its control API that trusts its CA. */
export class SimulatorHandle {
  private constructor(readonly url: string, readonly caCertPath: string, private readonly dispatcher: Agent, private readonly closeSimulator: () => Promise<void>, private readonly certDir: string) {}

  static async start(): Promise<SimulatorHandle> {
    const certDir = mkdtempSync(join(tmpdir(), 'smtp-gate-ca-'));
    const simulator = await startSimulator({ fixture: demoFixture, port: 0, certDir });
    return new SimulatorHandle(simulator.url, simulator.caCertPath, new Agent({ connect: { ca: readFileSync(simulator.caCertPath, 'utf8') } }), () => simulator.close(), certDir);
  }

  async control<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const res = await request(`${this.url}${path}`, {
      method, dispatcher: this.dispatcher,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async setCasMailboxCalls(): Promise<SimCall[]> {
    return (await this.control<SimCall[]>('GET', '/_simulator/calls')).filter((c) => c.cmdlet === 'Set-CASMailbox');
  }

  async mailboxOf(userId: string): Promise<{ smtpClientAuthenticationDisabled: boolean | null } | null | undefined> {
    const state = await this.control<{ users: { id: string; mailbox: { smtpClientAuthenticationDisabled: boolean | null } | null }[] }>('GET', '/_simulator/state');
    return state.users.find((u) => u.id === userId)?.mailbox;
  }

  async close(): Promise<void> {
    await this.closeSimulator();
    await this.dispatcher.close();
    rmSync(this.certDir, { recursive: true, force: true });
  }
}

/** Settings for a bot wired to the simulator, as the launcher sets them in local mode. */
export function botSettings(simulator: Pick<SimulatorHandle, 'url' | 'caCertPath'>, extra: Record<string, string> = {}): Record<string, string> {
  return {
    TENANT_ID: demoFixture.tenant.id,
    TENANT_CLIENT_ID: '00000000-0000-4000-8000-0000000007e5',
    TENANT_CLIENT_SECRET: 'simulator-accepts-any',
    AUTHORITY_HOST: simulator.url,
    GRAPH_BASE_URL: simulator.url,
    EXCHANGE_BASE_URL: simulator.url,
    TENANT_CA_FILE: simulator.caCertPath,
    IT_STAFF_GROUP_ID: demoFixture.localMode!.itStaffGroupId,
    APPROVER_GROUP_ID: demoFixture.localMode!.approverGroupId,
    TENANT_TIMEOUT_MS: '1500',
    TENANT_MAX_RETRIES: '1',
    ...extra,
  };
}

/** A bot server in this process, with a clock the test moves. */
export class InProcessBot {
  readonly teams: TeamsClient;
  private constructor(readonly server: RunningServer, readonly config: Config, connector: FakeConnector) {
    this.teams = new TeamsClient(`http://127.0.0.1:${server.port}`, connector.url, demoFixture.tenant.id);
  }

  static async start(simulator: SimulatorHandle, connector: FakeConnector, now: () => Date, extra: Record<string, string> = {}): Promise<InProcessBot> {
    const config = loadConfig(botSettings(simulator, { PORT: '0', LOG_LEVEL: 'silent', JOB_INTERVAL_MS: '3600000', ...extra }));
    const server = await startServer(config, createLogger('silent'), { now });
    return new InProcessBot(server, config, connector);
  }
}

/** A clock that only moves when the test says so. */
export class TestClock {
  constructor(private current: Date) {}
  readonly now = () => new Date(this.current);
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

export { FakeConnector };

export interface BotSuite {
  simulator: SimulatorHandle;
  connector: FakeConnector;
  bot: InProcessBot;
  clock: TestClock;
  dataDir: string;
}

/**
 * The usual in-process set-up, registered as this file's beforeAll/afterAll: the simulator over
 * HTTPS, a fake Bot Connector, and a bot on its own PGlite data directory driven by a test clock.
 * The returned object's fields are filled in once beforeAll has run.
 */
export function inProcessBotSuite(options: { name: string; startsAt: string; members?: { id: string; name?: string; aadObjectId?: string }[]; settings?: Record<string, string> }): BotSuite {
  const suite = {} as BotSuite;
  beforeAll(async () => {
    suite.simulator = await SimulatorHandle.start();
    suite.connector = new FakeConnector();
    if (options.members) suite.connector.members = options.members;
    await suite.connector.start();
    suite.clock = new TestClock(new Date(options.startsAt));
    suite.dataDir = mkdtempSync(join(tmpdir(), `smtp-gate-${options.name}-`));
    suite.bot = await InProcessBot.start(suite.simulator, suite.connector, suite.clock.now, { DATA_DIR: suite.dataDir, ...options.settings });
  }, 60_000);
  afterAll(async () => {
    await suite.bot?.server.close();
    await suite.connector?.stop();
    await suite.simulator?.close();
    if (suite.dataDir) rmSync(suite.dataDir, { recursive: true, force: true });
  });
  return suite;
}

/**
 * `requester` asks in chat (`text`, an enable with its justification), confirms, and the request
 * waits for approval: its id and the posted approval card's.
 */
export async function pendingEnable(suite: BotSuite, requester: TeamsUser, text: string, justification: string): Promise<{ requestId: string; approvalId: string }> {
  const before = suite.connector.postedCards().length;
  await suite.bot.teams.message(requester, text);
  const confirm = await suite.connector.waitFor('the confirmation card', () => suite.connector.postedCards()[before]);
  const requestId = requestIdOf(confirm.card);
  await suite.bot.teams.press(requester, 'request.confirm', { requestId, justification });
  await suite.bot.server.drain();
  const approval = await suite.connector.waitFor('the approval card', () => suite.connector.postedCards().slice(before).find((p) => isApprovalCard(p.card) && p.card.refresh?.action?.data?.requestId === requestId));
  return { requestId, approvalId: approval.id };
}
