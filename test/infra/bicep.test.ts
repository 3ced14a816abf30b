import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig, settingNames } from '../../src/config';
import { parseEnvFile } from '../../scripts/app-package';

/**
 * infra/azure.bicep against the code: the app settings it writes are exactly the settings
 * src/config.ts reads (less those deliberately left at their default in Azure, each with its reason),
 * secrets come from Key Vault, and the toolkit files agree with the Bicep and the app package.
 */

const root = join(__dirname, '..', '..');
const bicep = readFileSync(join(root, 'infra', 'azure.bicep'), 'utf8');

/** `var appSettings = { NAME: value ... }`, one setting a line. */
function bicepAppSettings(): Record<string, string> {
  const block = /^var appSettings = \{\n([\s\S]*?)\n\}/m.exec(bicep);
  if (!block) throw new Error('infra/azure.bicep has no `var appSettings = { ... }` block');
  return Object.fromEntries(block[1]!.split('\n').filter((l) => l.trim() && !l.trim().startsWith('//')).map((line) => {
    const m = /^\s+([A-Za-z_][A-Za-z0-9_]*):\s*(.+?)\s*$/.exec(line);
    if (!m) throw new Error(`unexpected line in appSettings: ${line}`);
    return [m[1]!, m[2]!];
  }));
}

/** Read by App Service itself, not by the bot. */
const platformSettings: Record<string, string> = {
  APPLICATIONINSIGHTS_CONNECTION_STRING: "Application Insights' agent",
  ApplicationInsightsAgent_EXTENSION_VERSION: "turns on App Service's Node.js auto-instrumentation",
  SCM_DO_BUILD_DURING_DEPLOYMENT: 'the deployment ships a build; App Service must not rebuild it',
};

/** Settings src/config.ts reads that Azure leaves unset on purpose. */
const leftAtDefaultInAzure: Record<string, string> = {
  PORT: 'App Service sets it',
  DATA_DIR: 'PGlite only; Azure uses PostgreSQL (DATABASE_URL)',
  DATABASE_SCHEMA: "the server's search_path (public) is the bot's own database",
  TENANT_CLIENT_SECRET: 'the managed identity has no secret',
  TENANT_CERTIFICATE_PATH: 'the managed identity has no certificate',
  BOT_OPENID_METADATA_URL: 'public cloud default',
  BOT_TOKEN_ISSUER: 'public cloud default',
  ToBotFromChannelOpenIdMetadataUrl: 'public cloud default', ToBotFromChannelTokenIssuer: 'public cloud default', ToBotFromEmulatorOpenIdMetadataUrl: 'public cloud default', ToChannelFromBotLoginUrl: 'public cloud default', ToChannelFromBotOAuthScope: 'public cloud default',
  BOT_CLOUD: 'public cloud default', BOT_CONNECTOR_TIMEOUT_MS: 'default',
  AUTHORITY_HOST: 'public cloud default',
  GRAPH_BASE_URL: 'public cloud default',
  EXCHANGE_BASE_URL: 'public cloud default',
  TENANT_CA_FILE: 'the simulator only; Microsoft 365 has public certificates',
  TENANT_TIMEOUT_MS: 'default', TENANT_MAX_RETRIES: 'default',
  QUORUM_LOW: 'default (an admin changes it in the portal or the Bicep)', QUORUM_MEDIUM: 'default', QUORUM_HIGH: 'default', QUORUM_CRITICAL: 'default',
  REQUEST_TTL_HOURS: 'default', EXCEPTION_DEFAULT_DAYS: 'default', EXCEPTION_REMINDER_DAYS: 'default', JOB_INTERVAL_MS: 'default',
  APPROVAL_CARD_VIEW: 'default (user-specific views: Teams has them)',
};

const secretSettings = ['MicrosoftAppPassword', 'DATABASE_URL', 'TENANT_CLIENT_SECRET'];

test('the app settings the Bicep writes are exactly the settings src/config.ts reads, less those left at their default', () => {
  const written = Object.keys(bicepAppSettings()).filter((name) => !(name in platformSettings));
  const unknown = written.filter((name) => !settingNames.includes(name));
  expect({ settingsConfigDoesNotRead: unknown }).toEqual({ settingsConfigDoesNotRead: [] });
  const expected = settingNames.filter((name) => !(name in leftAtDefaultInAzure));
  // A new setting in src/config.ts: write it in infra/azure.bicep's appSettings, or add it above with the reason Azure leaves it unset.
  expect([...written].sort()).toEqual([...expected].sort());
  for (const name of Object.keys(leftAtDefaultInAzure)) expect({ name, inConfig: settingNames.includes(name) }).toEqual({ name, inConfig: true });
});

test('every setting the bot cannot start without is written', () => {
  let required: string[] = [];
  try {
    loadConfig({});
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    required = error.problems.map((p) => p.split(':')[0]!);
  }
  expect(required.length).toBeGreaterThan(0);
  // TENANT_CLIENT_SECRET is required only with a client secret; the Bicep chooses the managed identity.
  const written = bicepAppSettings();
  expect(written.TENANT_CREDENTIAL).toBe("'managed-identity'");
  for (const name of required.filter((n) => n !== 'TENANT_CLIENT_SECRET')) expect({ name, written: name in written }).toEqual({ name, written: true });
});

test('the literal values the Bicep writes are ones src/config.ts accepts, and the bot uses the managed identity for Graph and Exchange', () => {
  const written = bicepAppSettings();
  const sampleGuid = '11111111-2222-4333-8444-555555555555';
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(written)) {
    if (name in platformSettings) continue;
    const literal = /^'([^'$]*)'$/.exec(value);
    env[name] = literal ? literal[1]! : name === 'DATABASE_URL' ? 'postgres://u:p@db.example:5432/smtpgate?sslmode=verify-full' : name === 'MicrosoftAppPassword' ? 'from-key-vault' : name === 'LOG_LEVEL' ? 'info' : sampleGuid;
  }
  const config = loadConfig(env);
  expect(config.TENANT_CREDENTIAL).toBe('managed-identity');
  expect(config.MicrosoftAppType).toBe('SingleTenant');
  expect(written.TENANT_MANAGED_IDENTITY_CLIENT_ID).toBe('identity.properties.clientId');
  expect(bicep).toMatch(/userAssignedIdentities: \{ '\$\{identity\.id\}': \{\} \}/);
});

test('secrets reach the bot only as Key Vault references to secrets the Bicep creates', () => {
  const written = bicepAppSettings();
  for (const name of secretSettings.filter((n) => n in written)) {
    const ref = /^'@Microsoft\.KeyVault\(SecretUri=\$\{(\w+)\.properties\.secretUri\}\)'$/.exec(written[name]!);
    expect({ name, keyVaultReference: Boolean(ref) }).toEqual({ name, keyVaultReference: true });
    expect(bicep).toMatch(new RegExp(`^resource ${ref![1]} 'Microsoft\\.KeyVault/vaults/secrets@`, 'm'));
  }
  expect(bicep).toMatch(/keyVaultReferenceIdentity: identity\.id/);
  // The identity may read secrets (Key Vault Secrets User), and the parameters carrying secrets are @secure().
  expect(bicep).toContain('4633458b-17de-408a-b874-0445c86b69e6');
  for (const param of ['botAadAppClientSecret', 'postgresAdminPassword']) expect(bicep).toMatch(new RegExp(`@secure\\(\\)\\n(@description\\(.*\\)\\n)?param ${param} string`));
});

test('the Bicep has every resource the deployment needs', () => {
  for (const type of ['Microsoft.Web/sites', 'Microsoft.Web/serverfarms', 'Microsoft.BotService/botServices', 'Microsoft.BotService/botServices/channels',
    'Microsoft.DBforPostgreSQL/flexibleServers', 'Microsoft.KeyVault/vaults', 'Microsoft.ManagedIdentity/userAssignedIdentities', 'Microsoft.Insights/components']) {
    expect(bicep).toContain(`'${type}@`);
  }
  expect(bicep).toContain("linuxFxVersion: 'NODE|20-lts'");
  expect(bicep).toContain("msaAppType: 'SingleTenant'");
  expect(bicep).toContain("channelName: 'MsTeamsChannel'");
  // App Service runs the production start: compiled JavaScript, no TypeScript loader.
  expect(bicep).toContain("appCommandLine: 'node scripts/start.cjs'");
  expect(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts.start).toBe('node scripts/start.cjs');
});

test('the parameters file gives every parameter without a default, from variables the environment files define', () => {
  const parameters = JSON.parse(readFileSync(join(root, 'infra', 'azure.parameters.json'), 'utf8')) as { parameters: Record<string, { value: string }> };
  const declared = [...bicep.matchAll(/^param (\w+) (\w+)( = .*)?$/gm)].map((m) => ({ name: m[1]!, hasDefault: Boolean(m[3]) }));
  for (const name of Object.keys(parameters.parameters)) expect({ name, declared: declared.some((d) => d.name === name) }).toEqual({ name, declared: true });
  for (const { name } of declared.filter((d) => !d.hasDefault)) expect({ name, given: name in parameters.parameters }).toEqual({ name, given: true });
  const dev = parseEnvFile(readFileSync(join(root, 'env', '.env.dev'), 'utf8'));
  for (const [, name] of JSON.stringify(parameters).matchAll(/\$\{\{(\w+)\}\}/g)) {
    // SECRET_* live in env/.env.dev.user (not committed) or are written by provision.
    if (name!.startsWith('SECRET_')) continue;
    expect({ name, inEnvDev: name! in dev }).toEqual({ name, inEnvDev: true });
  }
});

/** The toolkit's YAML, read for what this test needs (a version line and `key: path` lines; no YAML library in the project). */
function toolkitProject(text: string): { version: string | undefined; paths: string[]; uses: string[] } {
  return {
    version: /^version: (\S+)$/m.exec(text)?.[1],
    paths: [...text.matchAll(/^\s+(?:-\s+)?(?:manifestPath|ignoreFile|path|parameters): (\.\/\S+)$/gm)].map((m) => m[1]!),
    uses: [...text.matchAll(/^\s+- uses: (\S+)$/gm)].map((m) => m[1]!),
  };
}

test('m365agents.yml, .local.yml and .playground.yml are toolkit projects whose paths exist and whose outputs the environment files name', () => {
  const dev = parseEnvFile(readFileSync(join(root, 'env', '.env.dev'), 'utf8'));
  for (const file of ['m365agents.yml', 'm365agents.local.yml', 'm365agents.playground.yml']) {
    const text = readFileSync(join(root, file), 'utf8');
    expect(text.split('\n')[0]).toMatch(/^# yaml-language-server: \$schema=https:\/\/aka\.ms\/teams-toolkit\/v1\.\d+\/yaml\.schema\.json$/);
    const project = toolkitProject(text);
    expect(project.version).toMatch(/^v1\.\d+$/);
    expect(project.uses.length).toBeGreaterThan(0);
    for (const path of project.paths) expect({ file, path, exists: existsSync(join(root, path)) }).toEqual({ file, path, exists: true });
    expect(existsSync(join(root, 'env', `.env.${file === 'm365agents.yml' ? 'dev' : file.split('.')[1]}`))).toBe(true);
  }
  const main = toolkitProject(readFileSync(join(root, 'm365agents.yml'), 'utf8'));
  expect(main.uses).toEqual(expect.arrayContaining(['teamsApp/create', 'aadApp/create', 'arm/deploy', 'aadApp/update', 'teamsApp/zipAppPackage', 'azureAppService/zipDeploy']));
  expect(main.paths).toEqual(expect.arrayContaining(['./infra/azure.bicep', './infra/azure.parameters.json', './appPackage/manifest.json', './aad.manifest.json']));
  // The Bicep's outputs land in the dev environment file, where the app package and deploy read them.
  for (const [, name] of bicep.matchAll(/^output (\w+) /gm)) {
    if (['BOT_AZURE_APP_SERVICE_RESOURCE_ID', 'BOT_DOMAIN', 'MANAGED_IDENTITY_CLIENT_ID'].includes(name!)) expect({ name, inEnvDev: name! in dev }).toEqual({ name, inEnvDev: true });
  }
});

test('the app registration exposes exactly the SSO resource the Teams manifest asks for', () => {
  const aad = JSON.parse(readFileSync(join(root, 'aad.manifest.json'), 'utf8')) as { appId: string; identifierUris: string[]; signInAudience: string; preAuthorizedApplications: { appId: string }[] };
  const manifest = JSON.parse(readFileSync(join(root, 'appPackage', 'manifest.json'), 'utf8')) as { webApplicationInfo: { id: string; resource: string }; bots: { botId: string }[] };
  expect(aad.identifierUris).toEqual([manifest.webApplicationInfo.resource]);
  expect(aad.appId).toBe(manifest.webApplicationInfo.id);
  expect(aad.appId).toBe(manifest.bots[0]!.botId);
  expect(aad.signInAudience).toBe('AzureADMyOrg');
  // Teams desktop/mobile and Teams web may ask for the tab's token without a consent prompt.
  expect(aad.preAuthorizedApplications.map((a) => a.appId).sort()).toEqual(['1fec8e78-bce4-4aaf-ab1b-5451cc387264', '5e3ce6c0-2b1f-4285-8d4b-75ee78787346']);
});
