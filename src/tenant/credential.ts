import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { ClientCertificateCredential, ClientSecretCredential, ManagedIdentityCredential, type AccessToken, type GetTokenOptions, type TokenCredential } from '@azure/identity';
import type { Config } from '../config';

/** Resource scopes: the same in local mode; only the hosts the calls go to change. */
export const graphScope = 'https://graph.microsoft.com/.default';
export const exchangeScope = 'https://outlook.office365.com/.default';

/** A token is renewed this long before it expires, so no call goes out with one about to lapse. */
export const TOKEN_RENEW_BEFORE_EXPIRY_MS = 5 * 60_000;

/**
 * Keeps each scope's access token and hands it out until shortly before it expires (or until the
 * `refreshAfter` time Entra suggested), instead of asking the library for it on every call; callers
 * that ask at the same time share one request. A failed request is not kept: the next call asks again.
 */
export class ReusedTokenCredential implements TokenCredential {
  private readonly tokens = new Map<string, AccessToken>();
  private readonly pending = new Map<string, Promise<AccessToken | null>>();

  constructor(readonly inner: TokenCredential, private readonly now: () => number = Date.now) {}

  async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
    const key = Array.isArray(scopes) ? [...scopes].sort().join(' ') : scopes;
    // Claims (a CAE challenge) or a tenant override mean "not the token you have": go to the library.
    if (options?.claims || options?.tenantId) return this.inner.getToken(scopes, options);
    const held = this.tokens.get(key);
    if (held && this.stillGood(held)) return held;
    let request = this.pending.get(key);
    if (!request) {
      request = this.inner.getToken(scopes, options).then((token) => {
        if (token) this.tokens.set(key, token);
        else this.tokens.delete(key);
        return token;
      }).finally(() => this.pending.delete(key));
      this.pending.set(key, request);
    }
    return request;
  }

  private stillGood(token: AccessToken): boolean {
    const now = this.now();
    if (token.refreshAfterTimestamp !== undefined && now >= token.refreshAfterTimestamp) return false;
    return now < token.expiresOnTimestamp - TOKEN_RENEW_BEFORE_EXPIRY_MS;
  }
}

/** The bot's own identity toward Graph and Exchange, from TENANT_CREDENTIAL (secret, certificate or managed identity), its tokens reused. */
export function createTenantCredential(config: Config, now?: () => number): ReusedTokenCredential {
  return new ReusedTokenCredential(createLibraryCredential(config), now);
}

function createLibraryCredential(config: Config): TokenCredential {
  const options = {
    authorityHost: config.AUTHORITY_HOST,
    // The simulator is not a known Entra cloud; instance discovery would go to login.microsoftonline.com.
    disableInstanceDiscovery: config.AUTHORITY_HOST !== 'https://login.microsoftonline.com',
    agent: config.TENANT_CA_FILE ? new Agent({ ca: readFileSync(config.TENANT_CA_FILE, 'utf8'), keepAlive: true }) : undefined,
  };
  switch (config.TENANT_CREDENTIAL ?? 'client-secret') {
    case 'certificate':
      // A PEM holding the certificate and its unencrypted private key; the public part is uploaded to the app registration.
      return new ClientCertificateCredential(config.TENANT_ID, config.TENANT_CLIENT_ID, { certificatePath: config.TENANT_CERTIFICATE_PATH ?? '' }, options);
    case 'managed-identity':
      return new ManagedIdentityCredential({ ...options, clientId: config.TENANT_MANAGED_IDENTITY_CLIENT_ID });
    case 'client-secret':
      return new ClientSecretCredential(config.TENANT_ID, config.TENANT_CLIENT_ID, config.TENANT_CLIENT_SECRET ?? '', options);
  }
}

export type CredentialCheck =
  | { ok: true }
  /** `setting`: the configuration entry an administrator should fix; `reason`: Entra's or the library's words, never a secret. */
  | { ok: false; setting: string; reason: string; unreachable: boolean };

/**
 * Asks Entra for both tokens the bot needs. A refusal names the setting to fix, from the
 * AADSTS code Entra answers with (https://login.microsoftonline.com/error?code=N).
 */
export async function checkTenantCredential(config: Config, credential: TokenCredential): Promise<CredentialCheck> {
  try {
    await credential.getToken(graphScope);
    await credential.getToken(exchangeScope);
    return { ok: true };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const unreachable = !/AADSTS\d+/.test(message) && /ENOTFOUND|ECONNREFUSED|ECONNRESET|ETIMEDOUT|socket hang up|network/i.test(message);
    return { ok: false, setting: unreachable ? 'AUTHORITY_HOST' : settingToFix(config, message, identityEndpointStatus(error)), reason: firstLine(message), unreachable };
  }
}

/** The HTTP status of a managed identity endpoint's refusal: MSAL's ServerError, the `cause` of @azure/identity's error. */
function identityEndpointStatus(error: unknown): number | undefined {
  const status = (error as { cause?: { status?: unknown } } | null)?.cause?.status;
  return typeof status === 'number' ? status : undefined;
}

function settingToFix(config: Config, message: string, identityStatus?: number): string {
  const kind = config.TENANT_CREDENTIAL ?? 'client-secret';
  if (/AADSTS(90002|900023)\b/.test(message)) return 'TENANT_ID';
  if (/AADSTS(700016|7000229)\b/.test(message)) return 'TENANT_CLIENT_ID';
  if (/AADSTS(7000215|7000222|7000216)\b/.test(message)) return kind === 'certificate' ? 'TENANT_CERTIFICATE_PATH' : 'TENANT_CLIENT_SECRET';
  if (/AADSTS(700027|700023|700024|50027)\b/.test(message)) return 'TENANT_CERTIFICATE_PATH';
  if (kind === 'certificate') return 'TENANT_CERTIFICATE_PATH';
  // 401 from the identity endpoint: it refused this process's IDENTITY_HEADER, which the platform sets, not the admin.
  // The host gives the bot no usable managed identity: enable one there, or choose another TENANT_CREDENTIAL.
  if (kind === 'managed-identity') return identityStatus === 401 ? 'TENANT_CREDENTIAL' : 'TENANT_MANAGED_IDENTITY_CLIENT_ID';
  if (/ENOTFOUND|ECONNREFUSED|certificate|ETIMEDOUT/i.test(message)) return 'AUTHORITY_HOST';
  return 'TENANT_CLIENT_SECRET';
}

function firstLine(message: string): string {
  return (message.split(/\r?\n/).find((line) => line.trim() !== '') ?? message).slice(0, 300);
}
