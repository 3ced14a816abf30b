import { createHash, createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/log';
import { startServer, type RunningServer } from '../../src/server';
import { recordFigure } from '../support/figures';

/**
 * With a bot registration configured, only Bot Framework tokens signed by the channel's published
 * keys get in. Plain botbuilder answers 500 to several forged tokens; the server must say 401.
 */

const appId = '6b1f7a3e-2c4d-4e5f-8a9b-0c1d2e3f4a5b';
const issuer = 'https://api.botframework.com';
const channelKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
const foreignKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
/** Published in the channel's key set, but endorsed for another channel only. */
const webchatKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
const kid = 'channel-key-1';

let metadataServer: Server;
let bot: RunningServer;
let dataDir: string;

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

function jwt(payload: Record<string, unknown>, options: { key?: KeyObject; alg?: string; header?: Record<string, unknown> } = {}): string {
  const alg = options.alg ?? 'RS256';
  const head = b64url(JSON.stringify({ alg, typ: 'JWT', kid, ...options.header }));
  const body = b64url(JSON.stringify(payload));
  const input = `${head}.${body}`;
  if (alg === 'none') return `${input}.`;
  if (alg === 'HS256') return `${input}.${b64url(createHmac('sha256', createHash('sha256').update('guess').digest()).update(input).digest())}`;
  return `${input}.${b64url(sign('sha256', Buffer.from(input), options.key ?? channelKey.privateKey))}`;
}

const now = () => Math.floor(Date.now() / 1000);
const claims = (overrides: Record<string, unknown> = {}) => ({
  iss: issuer, aud: appId, serviceurl: 'https://smba.trafficmanager.net/emea/', nbf: now() - 60, exp: now() + 3600, iat: now() - 60, ...overrides,
});

async function post(authorization?: string): Promise<number> {
  const activity = {
    type: 'typing', id: 'a1', channelId: 'msteams', serviceUrl: 'https://smba.trafficmanager.net/emea/',
    from: { id: '29:x', aadObjectId: '00000000-0000-4000-8000-000000000001' }, recipient: { id: `28:${appId}` },
    conversation: { id: 'c1', tenantId: '7f3c2a9e-5b1d-4c8e-9a6f-2d4b8e1c3f70' },
  };
  const res = await fetch(`http://127.0.0.1:${bot.port}/api/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify(activity),
  });
  await res.text();
  return res.status;
}

beforeAll(async () => {
  const jwk = { ...(channelKey.publicKey.export({ format: 'jwk' }) as Record<string, unknown>), kid, use: 'sig', alg: 'RS256', endorsements: ['msteams'] };
  metadataServer = createServer((req, res) => {
    const base = `http://127.0.0.1:${(metadataServer.address() as { port: number }).port}`;
    res.setHeader('content-type', 'application/json');
    if (req.url === '/openid') res.end(JSON.stringify({ issuer, jwks_uri: `${base}/keys`, id_token_signing_alg_values_supported: ['RS256'] }));
    else if (req.url === '/keys') res.end(JSON.stringify({ keys: [jwk, { ...(webchatKey.publicKey.export({ format: 'jwk' }) as Record<string, unknown>), kid: 'webchat-key', use: 'sig', alg: 'RS256', endorsements: ['webchat'] }] }));
    else { res.writeHead(404); res.end('{}'); }
  });
  await new Promise<void>((resolve) => metadataServer.listen(0, '127.0.0.1', () => resolve()));
  dataDir = mkdtempSync(join(tmpdir(), 'smtp-gate-auth-'));
  const config = loadConfig({
    PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent',
    MicrosoftAppId: appId, MicrosoftAppPassword: 'not-used-by-inbound-checks', MicrosoftAppType: 'MultiTenant',
    BOT_OPENID_METADATA_URL: `http://127.0.0.1:${(metadataServer.address() as { port: number }).port}/openid`,
    TENANT_ID: '7f3c2a9e-5b1d-4c8e-9a6f-2d4b8e1c3f70', TENANT_CLIENT_ID: '00000000-0000-4000-8000-0000000007e5', TENANT_CLIENT_SECRET: 'x',
    IT_STAFF_GROUP_ID: '11111111-1111-4111-8111-111111111111', APPROVER_GROUP_ID: '22222222-2222-4222-8222-222222222222',
  });
  bot = await startServer(config, createLogger('silent'));
}, 30_000);

afterAll(async () => {
  await bot?.close();
  await new Promise<void>((resolve) => metadataServer?.close(() => resolve()));
  rmSync(dataDir, { recursive: true, force: true });
});

test('a token signed by the channel key for this bot is accepted', async () => {
  expect(await post(`Bearer ${jwt(claims())}`)).toBe(200);
});

test.each([
  ['no Authorization header', undefined],
  ['alg none', `Bearer ${jwt(claims(), { alg: 'none' })}`],
  ['a signature from another key', `Bearer ${jwt(claims(), { key: foreignKey.privateKey })}`],
  ['HS256 with a guessed secret', `Bearer ${jwt(claims(), { alg: 'HS256' })}`],
  ['a tampered payload', `Bearer ${(() => { const [h, , s] = jwt(claims()).split('.'); return `${h}.${b64url(JSON.stringify(claims({ aud: appId, roles: ['admin'] })))}.${s}`; })()}`],
  ['a token not yet valid', `Bearer ${jwt(claims({ nbf: now() + 3600, iat: now() + 3600 }))}`],
  ['an expired token', `Bearer ${jwt(claims({ exp: now() - 3600, nbf: now() - 7200, iat: now() - 7200 }))}`],
  ['a token for another bot', `Bearer ${jwt(claims({ aud: '99999999-9999-4999-8999-999999999999' }))}`],
  ['a token from another issuer', `Bearer ${jwt(claims({ iss: 'https://evil.example' }))}`],
  ['garbage', 'Bearer not.a.jwt'],
  ['an unknown kid', `Bearer ${jwt(claims(), { header: { kid: 'no-such-key' } })}`],
  ['no kid', `Bearer ${jwt(claims(), { header: { kid: undefined } })}`],
  ['a jku header naming another key set', `Bearer ${jwt(claims(), { header: { jku: 'https://evil.example/keys' } })}`],
  ['a key not endorsed for msteams', `Bearer ${jwt(claims(), { key: webchatKey.privateKey, header: { kid: 'webchat-key' } })}`],
  ['a serviceurl claim that is not the activity\'s', `Bearer ${jwt(claims({ serviceurl: 'https://smba.trafficmanager.net/amer/' }))}`],
])('%s is answered 401', async (_, authorization) => {
  const status = await post(authorization);
  forged.push(status);
  expect(status).toBe(401);
});

const forged: number[] = [];
afterAll(() => {
  if (forged.length < 15) return;
  recordFigure('forged-tokens', {
    suite: 'Inbound Bot Framework authentication',
    tried: `${forged.length} forged-token kinds (none, alg none, HS256, another key, tampered, not yet valid, expired, wrong audience, wrong issuer, unknown or missing kid, jku, key not endorsed for msteams, serviceurl mismatch, garbage)`,
    held: `${forged.filter((s) => s === 401).length} × 401, ${forged.filter((s) => s >= 500).length} × 500`,
  });
});
