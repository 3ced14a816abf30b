import { readFileSync } from 'node:fs';
import { Agent, fetch as undiciFetch } from 'undici';
import type { Config } from '../config';
import { AppError } from '../errors';

// jose ships as an ES module only; a dynamic import loads it from the CommonJS build and under Jest.
type Jose = typeof import('jose');

/** Who a tab token says the user is. */
export interface SignedInUser {
  /** Entra object id (`oid`): what group membership and requests are keyed by. */
  id: string;
  name: string;
  userPrincipalName: string;
}

/**
 * Validates the token the audit tab sends: Teams SSO's delegated access token for the bot's app
 * registration (`aud` = MicrosoftAppId or `api://<domain>/botid-<MicrosoftAppId>`, `scp`
 * access_as_user), signed with the tenant's keys from `AUTHORITY_HOST/{TENANT_ID}/discovery/v2.0/keys`
 * and issued for TENANT_ID. In local mode AUTHORITY_HOST is the simulator, whose sign-in page issues
 * the same shape; there the bot has no app id and the audience is TENANT_CLIENT_ID.
 */
export class UserTokenValidator {
  private keys?: Promise<{ jose: Jose; jwks: ReturnType<Jose['createRemoteJWKSet']> }>;
  private readonly dispatcher: Agent;
  readonly audience: string;

  constructor(private readonly config: Pick<Config, 'AUTHORITY_HOST' | 'TENANT_ID' | 'MicrosoftAppId' | 'TENANT_CLIENT_ID' | 'TENANT_CA_FILE' | 'TENANT_TIMEOUT_MS'>) {
    this.audience = config.MicrosoftAppId || config.TENANT_CLIENT_ID;
    this.dispatcher = new Agent({ connect: config.TENANT_CA_FILE ? { ca: readFileSync(config.TENANT_CA_FILE, 'utf8') } : {} });
  }

  /** Where the tab signs in outside Teams (local mode): the authority's authorize endpoint. */
  get authorizeUrl(): string {
    return `${this.config.AUTHORITY_HOST}/${this.config.TENANT_ID}/oauth2/v2.0/authorize`;
  }

  private signingKeys() {
    this.keys ??= import('jose').then((jose) => ({
      jose,
      jwks: jose.createRemoteJWKSet(new URL(`${this.config.AUTHORITY_HOST}/${this.config.TENANT_ID}/discovery/v2.0/keys`), {
        timeoutDuration: this.config.TENANT_TIMEOUT_MS,
        [jose.customFetch]: (url: string, options: { headers: Headers; method: string; redirect: 'manual'; signal: AbortSignal }) =>
          undiciFetch(url, { method: options.method, redirect: options.redirect, signal: options.signal, headers: Object.fromEntries(options.headers.entries()), dispatcher: this.dispatcher }) as unknown as Promise<Response>,
      }),
    }));
    return this.keys;
  }

  /** The signed-in user, or TAB_SIGN_IN_REQUIRED (the cause says why, for the log only). */
  async validate(token: string | undefined): Promise<SignedInUser> {
    if (!token) throw new AppError('TAB_SIGN_IN_REQUIRED', {}, { cause: new Error('no bearer token') });
    const { jose, jwks } = await this.signingKeys();
    const tenantId = this.config.TENANT_ID.toLowerCase();
    let claims: Record<string, unknown>;
    try {
      ({ payload: claims } = await jose.jwtVerify(token, jwks, {
        algorithms: ['RS256'],
        // v2.0 tokens (accessTokenAcceptedVersion 2) and v1.0 ones, both for this tenant only.
        issuer: [`${this.config.AUTHORITY_HOST}/${this.config.TENANT_ID}/v2.0`, `https://sts.windows.net/${this.config.TENANT_ID}/`],
        clockTolerance: 60,
      }));
    } catch (error) {
      throw new AppError('TAB_SIGN_IN_REQUIRED', {}, { cause: error });
    }
    const audience = String(claims.aud ?? '');
    const audienceOk = audience === this.audience || new RegExp(`^api://[^/]+/botid-${escapeRegExp(this.audience)}$`, 'i').test(audience);
    const scopes = String(claims.scp ?? '').split(' ');
    const problem = !audienceOk ? `audience ${audience}` : String(claims.tid ?? '').toLowerCase() !== tenantId ? 'tenant' : !scopes.includes('access_as_user') ? 'scope' : typeof claims.oid !== 'string' ? 'no oid' : undefined;
    if (problem) throw new AppError('TAB_SIGN_IN_REQUIRED', {}, { cause: new Error(`token refused: ${problem}`) });
    return {
      id: claims.oid as string,
      name: typeof claims.name === 'string' ? claims.name : '',
      userPrincipalName: typeof claims.preferred_username === 'string' ? claims.preferred_username : typeof claims.upn === 'string' ? claims.upn : '',
    };
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
