import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { demoFixture, demoUser, inProcessBotSuite } from '../support/harness';

/**
 * Local mode with a bot registration: the simulator stays the tenant, but every activity's token is
 * checked against the Bot Framework endpoints named in the environment — here a local OpenID
 * metadata and JWKS server, tokens signed with jose.
 */
const appId = '6b1f7a3e-2c4d-4e5f-8a9b-0c1d2e3f4a5b';
const issuer = 'https://api.botframework.com';
const kid = 'local-channel-key';
const alex = demoUser('Alex Wilber');

type Jose = typeof import('jose');
let jose: Jose;
let privateKey: Parameters<InstanceType<Jose['SignJWT']>['sign']>[0];
let metadata: Server;
let metadataUrl: string;

beforeAll(async () => {
  jose = await import('jose');
  const pair = await jose.generateKeyPair('RS256', { extractable: true });
  privateKey = pair.privateKey;
  const jwk = { ...(await jose.exportJWK(pair.publicKey)), kid, use: 'sig', alg: 'RS256', endorsements: ['msteams'] };
  metadata = createServer((req, res) => {
    const base = `http://127.0.0.1:${(metadata.address() as { port: number }).port}`;
    res.setHeader('content-type', 'application/json');
    if (req.url === '/openid') res.end(JSON.stringify({ issuer, jwks_uri: `${base}/keys`, id_token_signing_alg_values_supported: ['RS256'] }));
    else if (req.url === '/keys') res.end(JSON.stringify({ keys: [jwk] }));
    else { res.writeHead(404); res.end('{}'); }
  });
  await new Promise<void>((resolve) => metadata.listen(0, '127.0.0.1', () => resolve()));
  metadataUrl = `http://127.0.0.1:${(metadata.address() as { port: number }).port}/openid`;
}, 60_000);
// The bot's settings are read once the metadata server above listens.
const suite = inProcessBotSuite({
  name: 'local-auth', startsAt: new Date().toISOString(),
  settings: () => ({
    MicrosoftAppId: appId, MicrosoftAppPassword: 'local-test-only', MicrosoftAppType: 'SingleTenant', MicrosoftAppTenantId: demoFixture.tenant.id,
    ToBotFromChannelOpenIdMetadataUrl: metadataUrl, ToBotFromChannelTokenIssuer: issuer, ToBotFromEmulatorOpenIdMetadataUrl: metadataUrl,
  }),
});
afterAll(async () => {
  await new Promise<void>((resolve) => metadata?.close(() => resolve()));
});

async function token(overrides: { exp?: number; aud?: string } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new jose.SignJWT({ serviceurl: suite.connector.url })
    .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
    .setIssuer(issuer).setAudience(overrides.aud ?? appId).setIssuedAt(now - 60).setNotBefore(now - 60).setExpirationTime(overrides.exp ?? now + 3600)
    .sign(privateKey);
}

/** An Action.Execute with a verb the bot does not know: the handler answers it and puts the clicker on the record. */
async function invoke(authorization?: string): Promise<{ status: number; id: string }> {
  const id = randomUUID();
  const activity = {
    type: 'invoke', name: 'adaptiveCard/action', id, channelId: 'msteams', serviceUrl: suite.connector.url, locale: 'en-US',
    from: { id: `29:${alex.id}`, name: alex.name, aadObjectId: alex.id }, recipient: { id: `28:${appId}` },
    conversation: { id: `a:${alex.id}`, conversationType: 'personal', tenantId: demoFixture.tenant.id }, channelData: { tenant: { id: demoFixture.tenant.id } },
    value: { action: { type: 'Action.Execute', verb: `probe.${id}`, data: {} } },
  };
  const res = await fetch(`http://127.0.0.1:${suite.bot.server.port}/api/messages`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) }, body: JSON.stringify(activity),
  });
  await res.text();
  return { status: res.status, id };
}

const reachedHandler = async (id: string) => (await suite.bot.server.store.auditEvents()).some((e) => e.action === 'action.denied' && e.detail.verb === `probe.${id}` && e.actorId === alex.id);

test('local mode with MicrosoftAppId and SingleTenant starts, keeps the simulator tenant, and accepts a valid channel token: the identity reaches the handler', async () => {
  const answer = await invoke(`Bearer ${await token()}`);
  expect(answer.status).toBe(200);
  expect(await reachedHandler(answer.id)).toBe(true);
});

test.each([
  ['no token', async () => undefined],
  ['a token expired beyond the clock-skew allowance', async () => `Bearer ${await token({ exp: Math.floor(Date.now() / 1000) - 600 })}`],
  ['a token for another bot', async () => `Bearer ${await token({ aud: '99999999-9999-4999-8999-999999999999' })}`],
])('%s: 401, and nothing reaches a handler', async (_name, authorization) => {
  const answer = await invoke(await authorization());
  expect(answer.status).toBe(401);
  expect(await reachedHandler(answer.id)).toBe(false);
});
