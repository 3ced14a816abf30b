// A second floor for `npm run bench`: the echo bot of echo-bot.cjs that, before it answers, sends the
// tenant the same HTTPS requests SMTP Gate's `smtp status <upn>` sends once organization-wide settings
// are kept (Get-CASMailbox, Get-User, one Graph `$batch` of the user lookup, the groups and the sign-ins,
// and the beta per-user MFA read, all four at once), with plain undici and a token fetched once, and
// reads every answer as JSON. What SMTP Gate spends above this floor is its own work: activity claims, roles, the
// language, the evaluation, the store, the card. Plain JavaScript, as the compiled bot runs.
'use strict';
const { readFileSync } = require('node:fs');
const { Agent, request } = require('undici');
const { startEchoBot } = require('./echo-bot.cjs');

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

  await startEchoBot(async () => {
    const upn = env.TARGET_UPN;
    const key = encodeURIComponent(upn);
    const literal = `'${upn}'`;
    const since = new Date(Date.now() - 7 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const signIns = `userPrincipalName eq ${literal} and clientAppUsed eq 'Authenticated SMTP' and status/errorCode ne 0 and createdDateTime ge ${since}`;
    await Promise.all([
      invoke('Get-CASMailbox', { Identity: upn }),
      invoke('Get-User', { Identity: upn }),
      call('POST', `${graph}/v1.0/$batch`, graphToken, { requests: [
        { id: 'lookup', method: 'GET', url: `/users?$filter=${encodeURIComponent(`userPrincipalName eq ${literal} or mail eq ${literal}`)}&$select=id,displayName,userPrincipalName,mail,givenName,surname,preferredLanguage,accountEnabled&$top=2` },
        { id: 'groups', method: 'POST', url: `/users/${key}/getMemberGroups`, body: { securityEnabledOnly: false }, headers: { 'Content-Type': 'application/json' } },
        { id: 'signIns', method: 'GET', url: `/auditLogs/signIns?$filter=${encodeURIComponent(signIns)}&$top=50` },
      ] }),
      call('GET', `${graph}/beta/users/${key}/authentication/requirements`, graphToken),
    ]);
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
