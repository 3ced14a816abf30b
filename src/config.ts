import { z } from 'zod';

/** Every setting the bot reads, parsed once at start-up (STYLE.md habit 7). */
const guid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'expected a GUID');
const url = z.string().url('expected an absolute URL').transform((u) => u.replace(/\/+$/, ''));
const port = z.coerce.number().int('expected an integer').min(0).max(65535, 'expected a port number (0-65535)');

const configSchema = z.object({
  PORT: port.default(3978),
  DATA_DIR: z.string().min(1).default('./.data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL').optional(),
  /** PostgreSQL schema of the bot's tables (created if missing); instances sharing work must name the same one. */
  DATABASE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/i, 'expected a schema name: letters, digits and _, not starting with a digit').optional(),

  MicrosoftAppId: z.string().default(''),
  MicrosoftAppPassword: z.string().default(''),
  MicrosoftAppType: z.enum(['MultiTenant', 'SingleTenant', 'UserAssignedMSI']).default('MultiTenant'),
  MicrosoftAppTenantId: z.string().default(''),
  /** Where the Bot Framework channel's signing keys are published; only sovereign clouds (and tests) change it. */
  BOT_OPENID_METADATA_URL: url.optional(),
  BOT_TOKEN_ISSUER: z.string().optional(),
  /** Bot Framework endpoint settings under Microsoft's own names (ConfigurationBotFrameworkAuthentication); each overrides its public-cloud default. */
  ToBotFromChannelOpenIdMetadataUrl: z.string().optional(),
  ToBotFromChannelTokenIssuer: z.string().optional(),
  ToBotFromEmulatorOpenIdMetadataUrl: z.string().optional(),
  ToChannelFromBotLoginUrl: z.string().optional(),
  ToChannelFromBotOAuthScope: z.string().optional(),
  /** Which cloud's Bot Framework / Teams service hosts an activity's serviceUrl may name. */
  BOT_CLOUD: z.enum(['public', 'gcc', 'gcchigh', 'dod']).default('public'),
  /** How long any call to the Bot Connector (replies, card updates, rosters) may take. */
  BOT_CONNECTOR_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),

  TENANT_ID: guid,
  TENANT_CLIENT_ID: guid,
  /** How the bot proves its identity to Graph and Exchange; inferred from which of the settings below is set. */
  TENANT_CREDENTIAL: z.enum(['client-secret', 'certificate', 'managed-identity']).optional(),
  TENANT_CLIENT_SECRET: z.string().optional(),
  /** PEM file holding the certificate and its private key (ClientCertificateCredential). */
  TENANT_CERTIFICATE_PATH: z.string().optional(),
  /** Client id of a user-assigned managed identity; empty = the system-assigned one. */
  TENANT_MANAGED_IDENTITY_CLIENT_ID: guid.optional(),
  AUTHORITY_HOST: url.default('https://login.microsoftonline.com'),
  GRAPH_BASE_URL: url.default('https://graph.microsoft.com'),
  EXCHANGE_BASE_URL: url.default('https://outlook.office365.com'),
  TENANT_CA_FILE: z.string().optional(),
  TENANT_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  TENANT_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(4),

  IT_STAFF_GROUP_ID: guid,
  APPROVER_GROUP_ID: guid,
  QUORUM_LOW: z.coerce.number().int().min(0).max(5).default(0),
  QUORUM_MEDIUM: z.coerce.number().int().min(0).max(5).default(1),
  QUORUM_HIGH: z.coerce.number().int().min(0).max(5).default(2),
  QUORUM_CRITICAL: z.coerce.number().int().min(0).max(5).default(2),
  REQUEST_TTL_HOURS: z.coerce.number().positive().default(24),
  /** How long an SMTP AUTH exception lasts when the request names no duration ("permanent" needs the high-risk quorum). */
  EXCEPTION_DEFAULT_DAYS: z.coerce.number().int().min(1).max(366).default(90),
  /** How many days before an exception ends the approvers are asked to extend it or let it lapse. */
  EXCEPTION_REMINDER_DAYS: z.coerce.number().int().min(0).max(90).default(7),
  JOB_INTERVAL_MS: z.coerce.number().int().min(100).default(15_000),
  /**
   * Approval cards show their buttons to approvers only, through Teams' user-specific views
   * (`refresh.userIds`). `shared` shows them to every viewer (the server still checks who clicks):
   * for clients without user-specific views, such as the Agents Playground.
   */
  APPROVAL_CARD_VIEW: z.enum(['user-specific', 'shared']).default('user-specific'),
});

export type Config = z.infer<typeof configSchema>;

/** Every setting's name, for the checks that .env.sample and the README list them all. */
export const settingNames: readonly string[] = Object.keys(configSchema.shape);

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = configSchema.safeParse(present);
  const credential = credentialProblems(present);
  if (!parsed.success) {
    throw new ConfigError([...parsed.error.issues.map((i) => {
      const key = i.path.join('.');
      const message = present[key] === undefined && i.code === 'invalid_type' ? 'required but not set' : i.message;
      return `${key}: ${message}`;
    }), ...credential]);
  }
  if (credential.length > 0) throw new ConfigError(credential);
  parsed.data.TENANT_CREDENTIAL = tenantCredentialKind(present);
  if (parsed.data.MicrosoftAppId && !parsed.data.MicrosoftAppPassword && parsed.data.MicrosoftAppType !== 'UserAssignedMSI') {
    throw new ConfigError(['MicrosoftAppPassword: required when MicrosoftAppId is set (or set MicrosoftAppType=UserAssignedMSI)']);
  }
  return parsed.data;
}

const loopbackHosts: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

export function isLoopbackHost(hostname: string): boolean {
  return loopbackHosts.has(hostname.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/**
 * Local mode: the tenant is the simulator on this machine (every Microsoft 365 endpoint is a
 * loopback address). Only there may the bot run without a Bot Framework registration (anonymous),
 * and only there does it listen on loopback alone.
 */
export function isLocalMode(config: Pick<Config, 'AUTHORITY_HOST' | 'GRAPH_BASE_URL' | 'EXCHANGE_BASE_URL'>): boolean {
  return [config.AUTHORITY_HOST, config.GRAPH_BASE_URL, config.EXCHANGE_BASE_URL].every((u) => isLoopbackHost(new URL(u).hostname));
}

export type TenantCredentialKind = 'client-secret' | 'certificate' | 'managed-identity';

/** The explicit TENANT_CREDENTIAL, else whichever credential setting is present (a secret by default). */
function tenantCredentialKind(present: Record<string, string | undefined>): TenantCredentialKind {
  const explicit = present.TENANT_CREDENTIAL;
  if (explicit === 'client-secret' || explicit === 'certificate' || explicit === 'managed-identity') return explicit;
  if (present.TENANT_CERTIFICATE_PATH) return 'certificate';
  if (present.TENANT_MANAGED_IDENTITY_CLIENT_ID && !present.TENANT_CLIENT_SECRET) return 'managed-identity';
  return 'client-secret';
}

function credentialProblems(present: Record<string, string | undefined>): string[] {
  const kind = tenantCredentialKind(present);
  if (kind === 'client-secret' && !present.TENANT_CLIENT_SECRET) return ['TENANT_CLIENT_SECRET: required but not set'];
  if (kind === 'certificate' && !present.TENANT_CERTIFICATE_PATH) return ['TENANT_CERTIFICATE_PATH: required when TENANT_CREDENTIAL=certificate'];
  return [];
}

const secretKeys: ReadonlySet<keyof Config> = new Set(['MicrosoftAppPassword', 'TENANT_CLIENT_SECRET', 'DATABASE_URL']);

/** What is safe to log: secrets become "set"/"not set", never their value. */
export function redactedConfigSummary(config: Config): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).map(([key, value]) => [
    key,
    secretKeys.has(key as keyof Config) ? (value ? '[set]' : '[not set]') : value,
  ]));
}

export function quorumFor(config: Config, risk: Risk): number {
  switch (risk) {
    case 'read': return 0;
    case 'low': return config.QUORUM_LOW;
    case 'medium': return config.QUORUM_MEDIUM;
    case 'high': return config.QUORUM_HIGH;
    case 'critical': return config.QUORUM_CRITICAL;
  }
}

export type Risk = 'read' | 'low' | 'medium' | 'high' | 'critical';
