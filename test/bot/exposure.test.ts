import { createServer, type Server } from 'node:http';
import { networkInterfaces } from 'node:os';
import { checkServiceUrl } from '../../src/bot/service-url';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/log';
import { startServer } from '../../src/server';
import { demoFixture, demoUser, inProcessBotSuite } from '../support/harness';
import { recordFigure } from '../support/figures';

/** Who can reach the bot, and whom the bot will call (issue #13, hole 3). */

const alex = demoUser('Alex Wilber');
const production = {
  TENANT_ID: demoFixture.tenant.id, TENANT_CLIENT_ID: '00000000-0000-4000-8000-0000000007e5', TENANT_CLIENT_SECRET: 'x',
  IT_STAFF_GROUP_ID: demoFixture.localMode!.itStaffGroupId, APPROVER_GROUP_ID: demoFixture.localMode!.approverGroupId,
};
const externalAddress = Object.values(networkInterfaces()).flat().find((i) => i && !i.internal && i.family === 'IPv4')?.address;

const suite = inProcessBotSuite({ name: 'exposure', startsAt: '2026-11-23T09:00:00Z', settings: { BOT_CONNECTOR_TIMEOUT_MS: '300' } });
let blackHole: Server;
let blackHoleUrl: string;

beforeAll(async () => {
  // A Bot Connector that accepts the connection and never answers.
  blackHole = createServer(() => {});
  await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', () => resolve()));
  blackHoleUrl = `http://127.0.0.1:${(blackHole.address() as { port: number }).port}/`;
});
afterAll(async () => {
  blackHole?.closeAllConnections();
  await new Promise<void>((resolve) => blackHole?.close(() => resolve()));
});

function activity(serviceUrl: string, text = 'help') {
  return {
    type: 'message', id: `m-${Math.random()}`, channelId: 'msteams', serviceUrl, locale: 'en-US', text,
    from: { id: `29:${alex.id}`, name: alex.name, aadObjectId: alex.id }, recipient: { id: '28:smtp-gate' },
    conversation: { id: `a:${alex.id}`, conversationType: 'personal', tenantId: demoFixture.tenant.id }, channelData: { tenant: { id: demoFixture.tenant.id } },
  };
}

async function post(host: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`http://${host}:${suite.bot.server.port}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

test('an empty MicrosoftAppId against a real tenant does not start: anonymous is for local mode only', async () => {
  const config = loadConfig({ ...production, PORT: '0', LOG_LEVEL: 'silent', DATA_DIR: suite.dataDir });
  await expect(startServer(config, createLogger('silent'))).rejects.toThrow(/anonymous auth is allowed only in local mode/);
});

describe('local mode listens on loopback only', () => {
  test('127.0.0.1 and ::1 answer', async () => {
    expect((await fetch(`http://127.0.0.1:${suite.bot.server.port}/healthz`)).status).toBe(200);
    expect((await fetch(`http://[::1]:${suite.bot.server.port}/healthz`)).status).toBe(200);
  });
  (externalAddress ? test : test.skip)(`another interface does not${externalAddress ? ` (${externalAddress})` : ' [skipped: this machine has no non-loopback IPv4 address]'}`, async () => {
    await expect(fetch(`http://${externalAddress}:${suite.bot.server.port}/healthz`, { signal: AbortSignal.timeout(3000) })).rejects.toThrow();
  });
});

const hostile: { status: number; calls: number }[] = [];
afterAll(() => {
  if (hostile.length !== 5) return;
  recordFigure('service-urls', {
    suite: 'serviceUrl the bot would call back (hole 3)',
    tried: `${hostile.length} hostile serviceUrls (query, user information, the simulator's control API, another host, not a URL)`,
    held: `${hostile.filter((h) => h.status === 400).length} × 400, ${hostile.reduce((n, h) => n + h.calls, 0)} Bot Connector calls`,
  });
});

describe('the serviceUrl an activity names', () => {
  test.each([
    ['a query', () => `${suite.connector.url}?next=http://evil.example/`],
    ['user information', () => suite.connector.url.replace('http://', 'http://admin:pw@')],
    ['the tenant simulator (its control API)', () => `${suite.simulator.url}/_simulator/`],
    ['a host elsewhere', () => 'https://evil.example/'],
    ['not a URL', () => 'smba.trafficmanager.net'],
  ])('%s is refused with 400, and the bot calls nothing', async (_name, url) => {
    const calls = suite.connector.calls.length;
    const answer = await post('127.0.0.1', activity(url()));
    hostile.push({ status: answer.status, calls: suite.connector.calls.length - calls });
    expect(answer.status).toBe(400);
    expect(answer.json.error).toMatchObject({ code: 'BAD_ACTIVITY', field: 'serviceUrl' });
    expect(suite.connector.calls.length).toBe(calls);
  });

  test('in production only the configured cloud\'s Bot Framework / Teams hosts, over https', () => {
    const config = loadConfig(production);
    const ok = (u: string, c = config) => checkServiceUrl(u, c).ok;
    expect(ok('https://smba.trafficmanager.net/emea/')).toBe(true);
    expect(ok('https://smba.trafficmanager.net/amer/')).toBe(true);
    expect(ok('https://webchat.botframework.com/')).toBe(true);
    expect(ok('https://smba.trafficmanager.net.evil.example/emea/')).toBe(false);
    expect(ok('http://smba.trafficmanager.net/emea/')).toBe(false);
    expect(ok('https://smba.trafficmanager.net:8443/emea/')).toBe(false);
    expect(ok('https://evilbotframework.com/')).toBe(false);
    expect(ok('http://127.0.0.1:3978/')).toBe(false);
    expect(ok('https://smba.infra.gov.teams.microsoft.us/teams')).toBe(false);
    expect(ok('https://smba.infra.gov.teams.microsoft.us/teams', loadConfig({ ...production, BOT_CLOUD: 'gcchigh' }))).toBe(true);
  });
});

test('a Bot Connector that never answers is given up after BOT_CONNECTOR_TIMEOUT_MS: the turn ends, the bot keeps answering', async () => {
  const started = Date.now();
  const answer = await post('127.0.0.1', activity(blackHoleUrl));
  expect(Date.now() - started).toBeLessThan(5_000);
  expect(answer.status).toBeLessThan(500);
  const before = suite.connector.postedCards().length;
  expect((await post('127.0.0.1', activity(suite.connector.url))).status).toBe(200);
  await suite.connector.waitFor('the next reply', () => suite.connector.postedCards()[before]);
}, 30_000);
