// A second floor for `npm run bench`: the echo bot of echo-bot.cjs that, before it answers, sends the
// tenant the same HTTPS requests SMTP Gate's `smtp status` sends once organization-wide settings are
// kept (the user lookup, then Get-CASMailbox, Get-User, one Graph `$batch` of three reads and the beta
// per-user MFA read, those four at once), with plain undici and a token fetched once, and reads every
// answer as JSON. What SMTP Gate spends above this floor is its own work: activity claims, roles, the
// language, the evaluation, the store, the card. Plain JavaScript, as the compiled bot runs.
'use strict';
const { readFileSync } = require('node:fs');
const restify = require('restify');
const { Agent, request } = require('undici');
const { ActivityHandler, CloudAdapter, ConfigurationBotFrameworkAuthentication } = require('botbuilder');

const env = process.env;
const dispatcher = new Agent({ connect: { ca: readFileSync(env.TENANT_CA_FILE, 'utf8') } });

async function call(method, url, token, body, headers = {}) {
  const res = await request(url, {
    method, dispatcher, body: body === undefined ? undefined : JSON.stringify(body),
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
  });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode}`);
  return JSON.parse(text);
}

async function token(scope) {
  const res = await request(`${env.AUTHORITY_HOST}/${env.TENANT_ID}/oauth2/v2.0/token`, {
    method: 'POST', dispatcher, headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: env.TENANT_CLIENT_ID, client_secret: env.TENANT_CLIENT_SECRET, scope }).toString(),
  });
  return JSON.parse(await res.body.text()).access_token;
}

async function main() {
  const graphToken = await token('https://graph.microsoft.com/.default');
  const exchangeToken = await token('https://outlook.office365.com/.default');
  const graph = env.GRAPH_BASE_URL;
  const invoke = (cmdlet, parameters) => call('POST', `${env.EXCHANGE_BASE_URL}/adminapi/beta/${env.TENANT_ID}/InvokeCommand`, exchangeToken,
    { CmdletInput: { CmdletName: cmdlet, Parameters: parameters } }, { 'x-anchormailbox': `APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@${env.TENANT_ID}` });

  const adapter = new CloudAdapter(new ConfigurationBotFrameworkAuthentication({ MicrosoftAppId: '', MicrosoftAppPassword: '' }));
  const bot = new ActivityHandler();
  bot.onMessage(async (context, next) => {
    const upn = env.TARGET_UPN;
    const literal = `'${upn}'`;
    const found = await call('GET', `${graph}/v1.0/users?$filter=${encodeURIComponent(`userPrincipalName eq ${literal} or mail eq ${literal}`)}&$select=id,displayName,userPrincipalName,mail,givenName,surname,preferredLanguage,accountEnabled&$top=2`, graphToken);
    const id = found.value[0].id;
    const since = new Date(Date.now() - 7 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const signIns = `userId eq '${id}' and clientAppUsed eq 'Authenticated SMTP' and status/errorCode ne 0 and createdDateTime ge ${since}`;
    await Promise.all([
      invoke('Get-CASMailbox', { Identity: upn }),
      invoke('Get-User', { Identity: upn }),
      call('POST', `${graph}/v1.0/$batch`, graphToken, { requests: [
        { id: 'account', method: 'GET', url: `/users/${id}?$select=id,accountEnabled` },
        { id: 'groups', method: 'POST', url: `/users/${id}/getMemberGroups`, body: { securityEnabledOnly: false }, headers: { 'Content-Type': 'application/json' } },
        { id: 'signIns', method: 'GET', url: `/auditLogs/signIns?$filter=${encodeURIComponent(signIns)}&$top=50` },
      ] }),
      call('GET', `${graph}/beta/users/${id}/authentication/requirements`, graphToken),
    ]);
    await context.sendActivity(`echo: ${context.activity.text ?? ''}`);
    await next();
  });
  const server = restify.createServer({ name: 'tenant-echo', handleUncaughtExceptions: false });
  server.use(restify.plugins.bodyParser({ mapParams: false, maxBodySize: 256 * 1024 }));
  server.post('/api/messages', async (req, res) => {
    await adapter.process(req, res, (context) => bot.run(context));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  console.log(JSON.stringify({ echo: { port: server.address().port } }));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
