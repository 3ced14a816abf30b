import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { Agent, request } from 'undici';
import { loadConfig, type Config } from '../../src/config';
import { createLogger } from '../../src/log';
import { startServer, type RunningServer } from '../../src/server';
import { loadFixture, type TenantFixture } from '../../src/simulator/fixture';
import { startSimulator } from '../../src/simulator/server';
import { postgresAvailable, postgresUrl } from './databases';
import { FakeConnector, isApprovalCard, requestIdOf, type CardJson } from './fake-connector';
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

/** A Teams roster entry, as the fake connector answers `GET …/pagedmembers`. */
export type RosterMember = { id: string; name?: string; aadObjectId?: string };

/** The roster of a conversation holding these people, as Teams lists them. */
export function rosterOf(users: TeamsUser[]): RosterMember[] {
  return users.map((u) => ({ id: `29:${u.id}`, name: u.name, aadObjectId: u.id }));
}

/** The tenant side of a test file: the simulator over HTTPS and a fake Bot Connector. */
export interface TenantSuite {
  simulator: SimulatorHandle;
  connector: FakeConnector;
  /** Runs at teardown before the connector and the simulator stop (a bot talking to them closes first). */
  closeBeforeTenant(close: () => Promise<void>): void;
}

/**
 * The simulator and a fake Bot Connector, registered as this file's (or describe's) beforeAll and
 * afterAll. Bots started on it with `botOnTenant` are closed before it stops. The returned object's
 * fields are filled in once beforeAll has run.
 */
export function tenantSuite(options: { members?: RosterMember[] } = {}): TenantSuite {
  const closers: (() => Promise<void>)[] = [];
  const tenant = { closeBeforeTenant: (close: () => Promise<void>) => { closers.push(close); } } as TenantSuite;
  beforeAll(async () => {
    tenant.simulator = await SimulatorHandle.start();
    tenant.connector = new FakeConnector();
    if (options.members) tenant.connector.members = options.members;
    await tenant.connector.start();
  }, 60_000);
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await tenant.connector?.stop();
    await tenant.simulator?.close();
  });
  return tenant;
}

/** The store an in-process bot gets: PGlite in its data directory, or a PostgreSQL schema of its own. */
export type BotDatabase = 'pglite' | 'postgres' | 'postgres-when-available';

/** One in-process bot on a tenant suite: its clock and its data directory. */
export interface BotOnTenant {
  bot: InProcessBot;
  clock: TestClock;
  dataDir: string;
}

/**
 * An in-process bot on `tenant`, started in beforeAll and closed in afterAll of the file or describe
 * it is called in: its own PGlite data directory (or its own PostgreSQL schema) and its own test
 * clock. `settings` may be a function, read once the earlier beforeAll hooks have run.
 */
export function botOnTenant(tenant: TenantSuite, options: {
  name: string;
  startsAt: string;
  settings?: Record<string, string> | (() => Record<string, string>);
  /** `postgres-when-available`: PostgreSQL when a server answers (quicker to set up than a fresh PGlite directory), else PGlite. */
  database?: BotDatabase;
}): BotOnTenant {
  const context = { clock: new TestClock(new Date(options.startsAt)) } as BotOnTenant;
  let schema: string | undefined;
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= (async () => {
    await context.bot?.server.close();
    if (context.dataDir) rmSync(context.dataDir, { recursive: true, force: true });
    if (schema) await dropSchema(schema);
  })());
  tenant.closeBeforeTenant(close);
  beforeAll(async () => {
    const database = options.database ?? 'pglite';
    if (database === 'postgres' || (database === 'postgres-when-available' && (await postgresAvailable()))) {
      schema = `smtp_gate_${options.name.replace(/\W/g, '_')}_${randomBytes(6).toString('hex')}`;
    }
    context.dataDir = mkdtempSync(join(tmpdir(), `smtp-gate-${options.name}-`));
    const settings = typeof options.settings === 'function' ? options.settings() : options.settings;
    context.bot = await InProcessBot.start(tenant.simulator, tenant.connector, context.clock.now, {
      DATA_DIR: context.dataDir, ...(schema ? { DATABASE_URL: postgresUrl, DATABASE_SCHEMA: schema } : {}), ...settings,
    });
  }, 60_000);
  afterAll(close);
  return context;
}

async function dropSchema(schema: string): Promise<void> {
  const client = new Client({ connectionString: postgresUrl });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
}

export interface BotSuite extends TenantSuite, BotOnTenant {}

/**
 * The usual in-process set-up, registered as this file's beforeAll/afterAll: the simulator over
 * HTTPS, a fake Bot Connector, and a bot on its own PGlite data directory driven by a test clock.
 * The returned object's fields are filled in once beforeAll has run.
 */
export function inProcessBotSuite(options: { name: string; startsAt: string; members?: RosterMember[]; settings?: Record<string, string> | (() => Record<string, string>); database?: BotDatabase }): BotSuite {
  const tenant = tenantSuite({ members: options.members });
  const bot = botOnTenant(tenant, options);
  return {
    get simulator() { return tenant.simulator; },
    get connector() { return tenant.connector; },
    closeBeforeTenant: tenant.closeBeforeTenant,
    get bot() { return bot.bot; },
    get clock() { return bot.clock; },
    get dataDir() { return bot.dataDir; },
  };
}

/** Where a test talks to a bot: the connector the bot posts to, and the bot's Teams client (an in-process bot also drains its follow-up work). */
export interface Chat {
  connector: FakeConnector;
  bot: { teams: TeamsClient; server?: { drain(): Promise<void> } };
}

export type PostedCard = ReturnType<FakeConnector['postedCards']>[number];
type PressAnswer = Awaited<ReturnType<TeamsClient['press']>>;

/** The request a card is about: in its buttons, or in the refresh action of the approvers' copy. */
export function requestOfCard(card: CardJson | undefined): string | undefined {
  const fromRefresh = card?.refresh?.action?.data?.requestId;
  if (typeof fromRefresh === 'string') return fromRefresh;
  const fromAction = card?.actions?.find((a) => a.data?.requestId)?.data?.requestId;
  return typeof fromAction === 'string' ? fromAction : undefined;
}

/** `requester` asks in their chat (`text`, a change); the card the bot answers with there, its request, and the HTTP status the message got. */
export async function draftRequest(chat: Chat, requester: TeamsUser, text: string): Promise<{ requestId: string; confirmation: PostedCard; messageStatus: number }> {
  const before = chat.connector.postedCards().length;
  // The answer to this message, by the id it replies to: a notice a request of an earlier test posts late lands in the same chat.
  const id = `draft-${randomBytes(8).toString('hex')}`;
  const messageStatus = await chat.bot.teams.message(requester, text, { id });
  const confirmation = await chat.connector.waitFor('the confirmation card', () => chat.connector.postedCards().slice(before)
    .find((p) => p.call.conversationId === `a:${requester.id}` && (p.call.activityId === id || p.call.activity.replyToId === id)));
  return { requestId: requestIdOf(confirmation.card), confirmation, messageStatus };
}

/**
 * `requester` asks in chat (`text`, an enable), confirms (with `justification` when given), and the
 * request waits for approval: its id, the confirmation card, the answer to Confirm and the approval
 * card posted for it (in `approvalsIn` when given), and the HTTP status the message got.
 * `confirmOn`: the bot instance Confirm is pressed on.
 */
export async function pendingEnable(chat: Chat, requester: TeamsUser, text: string, options: { justification?: string; approvalsIn?: string; confirmOn?: Chat['bot'] } = {}): Promise<{ requestId: string; confirmation: PostedCard; confirmed: PressAnswer; approval: PostedCard; approvalId: string; messageStatus: number }> {
  const before = chat.connector.postedCards().length;
  const { requestId, confirmation, messageStatus } = await draftRequest(chat, requester, text);
  const confirmingBot = options.confirmOn ?? chat.bot;
  const confirmed = await confirmingBot.teams.press(requester, 'request.confirm', { requestId, ...(options.justification === undefined ? {} : { justification: options.justification }) });
  await Promise.all([chat.bot.server?.drain(), confirmingBot === chat.bot ? undefined : confirmingBot.server?.drain()]);
  const approval = await chat.connector.waitFor('the approval card', () => chat.connector.postedCards().slice(before)
    .find((p) => isApprovalCard(p.card) && requestOfCard(p.card) === requestId && (options.approvalsIn === undefined || p.call.conversationId === options.approvalsIn)));
  return { requestId, confirmation, confirmed, approval, approvalId: approval.id, messageStatus };
}
