import { createHash, createPublicKey, randomUUID } from 'node:crypto';
import type { CryptoKey, JWK, JWTPayload } from 'jose';

// jose ships as an ES module only; a dynamic import loads it from this CommonJS build and under Jest.
type Jose = typeof import('jose');

export const GRAPH_RESOURCE = 'https://graph.microsoft.com';
export const EXCHANGE_RESOURCE = 'https://outlook.office365.com';

export interface ResourceDefinition {
  /** The `aud` Entra puts in app-only v1.0 access tokens for this API. */
  audience: string;
  /** Identifiers a client may name the API by in `scope` (`…/.default`). */
  identifiers: string[];
  /** Application permissions the simulated app registration holds for this API. */
  roles: string[];
}

export const RESOURCES: readonly ResourceDefinition[] = [
  {
    audience: GRAPH_RESOURCE,
    identifiers: ['https://graph.microsoft.com', '00000003-0000-0000-c000-000000000000'],
    roles: [
      'User.Read.All',
      'GroupMember.Read.All',
      'Policy.Read.All',
      'Policy.ReadWrite.SecurityDefaults',
      'Policy.ReadWrite.AuthenticationMethod',
      'AuditLog.Read.All',
      'Organization.Read.All',
    ],
  },
  {
    audience: EXCHANGE_RESOURCE,
    identifiers: ['https://outlook.office365.com', 'https://outlook.office.com', '00000002-0000-0ff1-ce00-000000000000'],
    roles: ['Exchange.ManageAsApp'],
  },
];

export function resourceForScope(scope: string): ResourceDefinition | undefined {
  const identifier = scope.replace(/\/\.default$/i, '').replace(/\/$/, '').toLowerCase();
  return RESOURCES.find((resource) => resource.identifiers.some((known) => known.toLowerCase() === identifier));
}

export const TOKEN_LIFETIME_SECONDS = 3600;

export type TokenRejection =
  | 'empty'
  | 'malformed'
  | 'signature'
  | 'expired'
  | 'notYetValid'
  | 'audience'
  | 'tenant';

export type TokenCheck = { ok: true; claims: JWTPayload & Record<string, unknown> } | { ok: false; reason: TokenRejection };

/** Issues and checks the simulator's access tokens, shaped like Entra's app-only v1.0 tokens. */
export class TokenAuthority {
  private constructor(
    private readonly jose: Jose,
    private readonly privateKey: CryptoKey,
    private readonly publicKey: CryptoKey,
    private readonly publicJwk: JWK,
    private readonly keyId: string,
  ) {}

  /**
   * Tokens whose signature this authority has already verified, with their claims: a client sends
   * the same token on every call until it renews it, and the RSA verification was most of the
   * simulator's CPU per request. Expiry and not-before are still checked on every call.
   */
  private readonly verified = new Map<string, JWTPayload>();
  private static readonly verifiedLimit = 1000;

  static async create(privateKeyPem: string): Promise<TokenAuthority> {
    const jose: Jose = await import('jose');
    const privateKey = await jose.importPKCS8(privateKeyPem, 'RS256');
    const publicJwk = createPublicKey(privateKeyPem).export({ format: 'jwk' }) as JWK;
    const publicKey = (await jose.importJWK(publicJwk, 'RS256')) as CryptoKey;
    const keyId = await jose.calculateJwkThumbprint(publicJwk);
    return new TokenAuthority(jose, privateKey, publicKey, publicJwk, keyId);
  }

  /** The JWKS document Entra serves at `/{tenant}/discovery/v2.0/keys`. */
  jwks(issuer: string): { keys: Record<string, unknown>[] } {
    return {
      keys: [{ kty: 'RSA', use: 'sig', kid: this.keyId, x5t: this.keyId, n: this.publicJwk.n, e: this.publicJwk.e, issuer }],
    };
  }

  async issue(input: {
    tenantId: string;
    clientId: string;
    resource: ResourceDefinition;
    clientAuthentication: 'secret' | 'assertion';
    now: Date;
    /** Application permissions granted to the app for this resource; the resource's defaults when absent. */
    roles?: readonly string[];
  }): Promise<string> {
    const issuedAt = Math.floor(input.now.getTime() / 1000);
    const issuer = `https://sts.windows.net/${input.tenantId}/`;
    const servicePrincipalId = deterministicGuid(`service-principal:${input.tenantId}:${input.clientId}`);
    return new this.jose.SignJWT({
      aud: input.resource.audience,
      iss: issuer,
      iat: issuedAt,
      nbf: issuedAt,
      exp: issuedAt + TOKEN_LIFETIME_SECONDS,
      appid: input.clientId,
      // v2.0 tokens name the client `azp`; some libraries read only that claim.
      azp: input.clientId,
      appidacr: input.clientAuthentication === 'secret' ? '1' : '2',
      idp: issuer,
      idtyp: 'app',
      oid: servicePrincipalId,
      sub: servicePrincipalId,
      roles: [...(input.roles ?? input.resource.roles)],
      tid: input.tenantId,
      uti: randomUUID().replace(/-/g, '').slice(0, 22),
      ver: '1.0',
    })
      .setProtectedHeader({ typ: 'JWT', alg: 'RS256', kid: this.keyId, x5t: this.keyId })
      .sign(this.privateKey);
  }

  /**
   * A delegated v2.0 access token for a signed-in user, as Entra gives a tab for its own API
   * (Teams SSO: `scp` access_as_user, `aud` the app's client id): what the sign-in page issues.
   */
  async issueUserToken(input: {
    issuer: string;
    tenantId: string;
    clientId: string;
    user: { id: string; userPrincipalName: string; displayName: string };
    scope: string;
    nonce?: string;
    now: Date;
  }): Promise<string> {
    const issuedAt = Math.floor(input.now.getTime() / 1000);
    return new this.jose.SignJWT({
      aud: input.clientId,
      iss: input.issuer,
      iat: issuedAt,
      nbf: issuedAt,
      exp: issuedAt + TOKEN_LIFETIME_SECONDS,
      azp: input.clientId,
      azpacr: '0',
      name: input.user.displayName,
      oid: input.user.id,
      preferred_username: input.user.userPrincipalName,
      scp: input.scope,
      sub: deterministicGuid(`subject:${input.clientId}:${input.user.id}`),
      tid: input.tenantId,
      uti: randomUUID().replace(/-/g, '').slice(0, 22),
      ver: '2.0',
      ...(input.nonce ? { nonce: input.nonce } : {}),
    })
      .setProtectedHeader({ typ: 'JWT', alg: 'RS256', kid: this.keyId })
      .sign(this.privateKey);
  }

  async check(token: string | undefined, expected: { audience: string; tenantId: string; now: Date }): Promise<TokenCheck> {
    if (!token) return { ok: false, reason: 'empty' };
    if (token.split('.').length !== 3) return { ok: false, reason: 'malformed' };
    let claims = this.verified.get(token);
    if (claims) {
      const timing = validityProblem(claims, expected.now);
      if (timing) return { ok: false, reason: timing };
    } else try {
      ({ payload: claims } = await this.jose.jwtVerify(token, this.publicKey, {
        algorithms: ['RS256'],
        currentDate: expected.now,
      }));
      if (this.verified.size >= TokenAuthority.verifiedLimit) this.verified.clear();
      this.verified.set(token, claims);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'ERR_JWT_EXPIRED') return { ok: false, reason: 'expired' };
      if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && (error as { claim?: string }).claim === 'nbf') {
        return { ok: false, reason: 'notYetValid' };
      }
      if (code === 'ERR_JWS_INVALID' || code === 'ERR_JWT_INVALID') return { ok: false, reason: 'malformed' };
      return { ok: false, reason: 'signature' };
    }
    if (claims.aud !== expected.audience) return { ok: false, reason: 'audience' };
    if (typeof claims.tid !== 'string' || claims.tid.toLowerCase() !== expected.tenantId.toLowerCase()) {
      return { ok: false, reason: 'tenant' };
    }
    return { ok: true, claims: claims as JWTPayload & Record<string, unknown> };
  }
}

/** jwtVerify's own time checks (no clock tolerance): expired at `exp`, not yet valid before `nbf`. */
function validityProblem(claims: JWTPayload, now: Date): 'expired' | 'notYetValid' | undefined {
  const seconds = Math.floor(now.getTime() / 1000);
  if (typeof claims.nbf === 'number' && claims.nbf > seconds) return 'notYetValid';
  if (typeof claims.exp === 'number' && claims.exp <= seconds) return 'expired';
  return undefined;
}

export function bearerToken(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const match = /^Bearer\s+(.*)$/i.exec(authorization.trim());
  const token = match?.[1]?.trim();
  return token === '' ? undefined : token;
}

/** A stable GUID-shaped id derived from a name, for objects the fixture does not name (sign-ins, service principals). */
export function deterministicGuid(name: string): string {
  const hex = createHash('sha256').update(name).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
