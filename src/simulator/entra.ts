import { randomUUID, X509Certificate } from 'node:crypto';
import type { AppRegistration } from './app';
import { retryAfterHeader, type FaultRule } from './faults';
import { header, jsonResponse, RouteTable, type SimRequest, type SimResponse } from './http';
import type { TenantState } from './state';
import { deterministicGuid, GRAPH_RESOURCE, resourceForScope, TOKEN_LIFETIME_SECONDS, type TokenAuthority } from './tokens';

// The Microsoft Entra endpoints MSAL Node (under @azure/identity) calls for the client credentials flow.

export interface EntraContext {
  state: TenantState;
  authority: TokenAuthority;
  now: Date;
  app: AppRegistration;
  /** The secret an App Service-style managed identity client sends as `X-IDENTITY-HEADER` (its `IDENTITY_HEADER`). */
  identityHeader: string;
}

const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access', 'email']);
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Entra's `yyyy-MM-dd HH:mm:ssZ` timestamp. */
function entraTimestamp(now: Date): string {
  return `${now.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** The OAuth error body Entra answers with, AADSTS code included. */
export function entraError(status: number, error: string, code: number, description: string, now: Date): SimResponse {
  const timestamp = entraTimestamp(now);
  const traceId = randomUUID();
  const correlationId = randomUUID();
  return jsonResponse(
    status,
    {
      error,
      error_description: `AADSTS${code}: ${description}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    },
    { 'Cache-Control': 'no-store, no-cache', Pragma: 'no-cache' },
  );
}

function tenantNotFound(tenant: string, now: Date, error = 'invalid_request'): SimResponse {
  return entraError(
    400,
    error,
    90002,
    `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
    now,
  );
}

function openIdConfiguration(request: SimRequest, params: Record<string, string>, context: EntraContext): SimResponse {
  const tenant = params.tenant as string;
  if (!context.state.isThisTenant(tenant)) return tenantNotFound(tenant, context.now, 'invalid_tenant');
  const tenantId = context.state.tenant.id;
  const base = `${request.origin}/${tenantId}`;
  return jsonResponse(200, {
    token_endpoint: `${base}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${base}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `${base}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${request.origin}/oidc/userinfo`,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    claims_supported: ['sub', 'iss', 'cloud_instance_name', 'cloud_instance_host_name', 'cloud_graph_host_name', 'msgraph_host', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'at_hash', 'c_hash', 'email'],
    kerberos_endpoint: `${base}/kerberos`,
    tenant_region_scope: 'EU',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
    rbac_url: 'https://pas.windows.net',
  });
}

function keys(request: SimRequest, _params: Record<string, string>, context: EntraContext): SimResponse {
  return jsonResponse(200, context.authority.jwks(`${request.origin}/${context.state.tenant.id}/v2.0`));
}

async function token(request: SimRequest, params: Record<string, string>, context: EntraContext): Promise<SimResponse> {
  const { state, now } = context;
  const tenant = params.tenant as string;
  if (!state.isThisTenant(tenant)) return tenantNotFound(tenant, now);

  const form = new URLSearchParams(request.body.toString('utf8'));
  const missing = (name: string): SimResponse =>
    entraError(400, 'invalid_request', 900144, `The request body must contain the following parameter: '${name}'.`, now);

  const grantType = form.get('grant_type');
  if (!grantType) return missing('grant_type');
  if (grantType !== 'client_credentials') {
    return entraError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grantType}'.`, now);
  }

  // client_secret_basic: the client id and secret may come in an HTTP Basic header instead of the form.
  const basic = /^Basic\s+(.+)$/i.exec(header(request, 'authorization') ?? '');
  const [basicId, basicSecret] = basic ? Buffer.from(basic[1] as string, 'base64').toString('utf8').split(':', 2).map(decodeURIComponent) : [];
  const clientId = form.get('client_id') || basicId;
  if (!clientId) return missing('client_id');

  // Unless the app registration lists its secrets or certificates (POST /_simulator/app), any
  // client secret or well-formed assertion is accepted.
  const secret = form.get('client_secret') || basicSecret;
  const assertion = form.get('client_assertion');
  let clientAuthentication: 'secret' | 'assertion';
  if (secret) {
    if (context.app.clientSecrets !== null && !context.app.clientSecrets.includes(secret)) {
      return entraError(
        401,
        'invalid_client',
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
        now,
      );
    }
    clientAuthentication = 'secret';
  } else if (assertion) {
    if (form.get('client_assertion_type') !== JWT_BEARER || assertion.split('.').length !== 3) {
      return entraError(401, 'invalid_client', 50027, 'JWT token is invalid or malformed.', now);
    }
    const rejection = await checkClientAssertion(assertion, clientId, context);
    if (rejection) return rejection;
    clientAuthentication = 'assertion';
  } else {
    return entraError(
      401,
      'invalid_client',
      7000216,
      "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
      now,
    );
  }

  const scope = form.get('scope');
  if (!scope) return missing('scope');
  const requested = scope.split(/\s+/).filter((item) => item !== '' && !OIDC_SCOPES.has(item.toLowerCase()));
  const notDefault = requested.find((item) => !/\/\.default$/i.test(item));
  if (notDefault !== undefined || requested.length === 0) {
    return entraError(
      400,
      'invalid_scope',
      1002012,
      `The provided value for scope ${notDefault ?? scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      now,
    );
  }
  if (requested.length > 1) {
    return entraError(400, 'invalid_scope', 70011, `The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid.`, now);
  }
  const scopeValue = requested[0] as string;
  const resource = resourceForScope(scopeValue);
  if (!resource) {
    const resourceName = scopeValue.replace(/\/\.default$/i, '');
    return entraError(
      400,
      'invalid_resource',
      500011,
      `The resource principal named ${resourceName} was not found in the tenant named ${state.tenant.displayName}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
      now,
    );
  }

  const accessToken = await context.authority.issue({
    tenantId: state.tenant.id,
    clientId,
    resource,
    clientAuthentication,
    now,
    roles: resource.audience === 'https://graph.microsoft.com' ? context.app.graphRoles : context.app.exchangeRoles,
  });
  return jsonResponse(
    200,
    {
      token_type: 'Bearer',
      expires_in: TOKEN_LIFETIME_SECONDS,
      ext_expires_in: TOKEN_LIFETIME_SECONDS,
      access_token: accessToken,
    },
    { 'Cache-Control': 'no-store, no-cache', Pragma: 'no-cache' },
  );
}

/** How App Service's local token service reports a refusal (MSAL reads `message`). */
function managedIdentityError(status: number, message: string): SimResponse {
  return jsonResponse(status, { statusCode: status, message }, { 'Cache-Control': 'no-store, no-cache' });
}

/**
 * App Service / Container Apps managed identity (`IDENTITY_ENDPOINT`, API version 2019-08-01):
 * `GET /msi/token?resource=…&api-version=2019-08-01[&client_id=…]` with `X-IDENTITY-HEADER: IDENTITY_HEADER`.
 */
async function managedIdentityToken(request: SimRequest, _params: Record<string, string>, context: EntraContext): Promise<SimResponse> {
  const { state, now } = context;
  const secret = header(request, 'x-identity-header');
  if (!secret) return managedIdentityError(400, 'The X-IDENTITY-HEADER header is required.');
  if (secret !== context.identityHeader) return managedIdentityError(401, 'Unauthorized. The X-IDENTITY-HEADER value is not valid for this process.');
  const query = request.url.searchParams;
  const apiVersion = query.get('api-version');
  if (apiVersion !== '2019-08-01') return managedIdentityError(400, `The api-version '${apiVersion ?? ''}' is not supported; use 2019-08-01.`);
  const resourceName = query.get('resource');
  if (!resourceName) return managedIdentityError(400, "The request must contain the 'resource' query parameter.");
  const resource = resourceForScope(resourceName);
  if (!resource) {
    return managedIdentityError(
      400,
      `AADSTS500011: The resource principal named ${resourceName} was not found in the tenant named ${state.tenant.displayName}.`,
    );
  }
  // A user-assigned identity is named by its client id; the system-assigned one has a stable id of its own.
  const clientId = query.get('client_id') || deterministicGuid(`system-assigned-managed-identity:${state.tenant.id}`);
  const accessToken = await context.authority.issue({
    tenantId: state.tenant.id,
    clientId,
    resource,
    // Managed identity tokens carry appidacr 2 (certificate-based), as Entra issues them.
    clientAuthentication: 'assertion',
    now,
    roles: resource.audience === GRAPH_RESOURCE ? context.app.graphRoles : context.app.exchangeRoles,
  });
  return jsonResponse(
    200,
    {
      access_token: accessToken,
      expires_on: String(Math.floor(now.getTime() / 1000) + TOKEN_LIFETIME_SECONDS),
      resource: resource.audience,
      token_type: 'Bearer',
      client_id: clientId,
    },
    { 'Cache-Control': 'no-store, no-cache' },
  );
}

/**
 * A certificate credential's client assertion (RFC 7523): signed with the private key of a
 * certificate registered on the app, naming it by thumbprint (`x5t` = SHA-1, `x5t#S256` = SHA-256).
 */
async function checkClientAssertion(assertion: string, clientId: string, context: EntraContext): Promise<SimResponse | null> {
  const { now } = context;
  const jose = await import('jose');
  let header: Record<string, unknown>;
  let claims: Record<string, unknown>;
  try {
    header = jose.decodeProtectedHeader(assertion) as Record<string, unknown>;
    claims = jose.decodeJwt(assertion) as Record<string, unknown>;
  } catch {
    return entraError(401, 'invalid_client', 50027, 'JWT token is invalid or malformed.', now);
  }
  if (claims.sub !== clientId || claims.iss !== clientId) {
    return entraError(401, 'invalid_client', 700023, 'Client assertion audience claim does not match Realm issuer.', now);
  }
  if (typeof claims.exp === 'number' && claims.exp * 1000 < now.getTime() - 5 * 60_000) {
    return entraError(401, 'invalid_client', 700024, 'Client assertion is not within its valid time range.', now);
  }
  if (context.app.certificates === null) return null;
  const thumbprint = (typeof header['x5t#S256'] === 'string' ? header['x5t#S256'] : header.x5t) as string | undefined;
  const sha256 = typeof header['x5t#S256'] === 'string';
  const registered = context.app.certificates.find((pem) => {
    const certificate = new X509Certificate(pem);
    const fingerprint = Buffer.from((sha256 ? certificate.fingerprint256 : certificate.fingerprint).replace(/:/g, ''), 'hex').toString('base64url');
    return thumbprint !== undefined && fingerprint === thumbprint.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  });
  if (!registered) {
    return entraError(
      401,
      'invalid_client',
      700027,
      `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${thumbprint ?? ''}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${clientId}'.]`,
      now,
    );
  }
  try {
    const algorithm = typeof header.alg === 'string' ? header.alg : 'RS256';
    await jose.jwtVerify(assertion, await jose.importX509(registered, algorithm), { currentDate: now, clockTolerance: 300 });
  } catch {
    return entraError(401, 'invalid_client', 700027, 'Client assertion contains an invalid signature.', now);
  }
  return null;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** Only this machine: the sign-in page exists for local mode, not to hand tokens to other sites. */
function localRedirect(uri: string | null): URL | undefined {
  if (!uri) return undefined;
  try {
    const url = new URL(uri);
    return (url.protocol === 'http:' || url.protocol === 'https:') && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname) && !url.hash ? url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The sign-in page of the implicit flow (`response_type=token`): pick one of the fixture's users,
 * and the browser goes back to `redirect_uri` with a delegated access token in the fragment. What
 * the audit tab uses outside Teams in local mode; inside Teams, Teams' SSO gives it the token.
 * `login_hint` (a user principal name) signs that user in without the page.
 */
async function authorize(request: SimRequest, params: Record<string, string>, context: EntraContext): Promise<SimResponse> {
  const { state, now } = context;
  const tenant = params.tenant as string;
  if (!state.isThisTenant(tenant)) return tenantNotFound(tenant, now);
  const query = request.url.searchParams;
  const clientId = query.get('client_id');
  if (!clientId) return entraError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.", now);
  const redirect = localRedirect(query.get('redirect_uri'));
  if (!redirect) return entraError(400, 'invalid_request', 50011, 'The redirect URI specified in the request does not match the redirect URIs configured for the application (the simulator signs in to localhost only).', now);
  const responseType = (query.get('response_type') ?? '').split(' ');
  if (!responseType.includes('token')) return entraError(400, 'unsupported_response_type', 700054, "response_type 'token' is the only one the simulator's sign-in page supports.", now);
  const scope = (query.get('scope') ?? '').split(' ').filter((s) => s && !OIDC_SCOPES.has(s)).map((s) => s.replace(/^.*\//, '')).join(' ') || 'access_as_user';
  const hint = query.get('login_hint');
  const candidates = state.users.filter((u) => u.accountEnabled);
  if (!hint) {
    const link = (upn: string) => { const u = new URL(request.url.href); u.searchParams.set('login_hint', upn); return `${u.pathname}${u.search}`; };
    const items = candidates.map((u) => `<li><a href="${escapeHtml(link(u.userPrincipalName))}"><strong>${escapeHtml(u.displayName)}</strong> <span>${escapeHtml(u.userPrincipalName)}</span></a></li>`).join('\n');
    return {
      status: 200,
      headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' },
      text: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in: tenant simulator</title><style>body{font-family:"Segoe UI",system-ui,sans-serif;max-width:28rem;margin:3rem auto;color:#242424}ul{list-style:none;padding:0}li a{display:block;padding:.6rem .8rem;margin:.3rem 0;border:1px solid #d1d1d1;border-radius:4px;color:inherit;text-decoration:none}li a:hover{background:#f0f0f0}span{color:#616161;margin-left:.4rem}</style></head><body><h1>Pick an account</h1><p>Tenant simulator: ${escapeHtml(state.tenant.displayName)}. Sign in as</p><ul>\n${items}\n</ul></body></html>`,
    };
  }
  const user = candidates.find((u) => u.userPrincipalName.toLowerCase() === hint.toLowerCase());
  if (!user) return entraError(400, 'invalid_grant', 50034, `The user account ${hint} does not exist in the ${state.tenant.displayName} directory.`, now);
  const accessToken = await context.authority.issueUserToken({
    issuer: `${request.origin}/${state.tenant.id}/v2.0`, tenantId: state.tenant.id, clientId, scope,
    user: { id: user.id, userPrincipalName: user.userPrincipalName, displayName: user.displayName },
    nonce: query.get('nonce') ?? undefined, now,
  });
  const fragment = new URLSearchParams({ access_token: accessToken, token_type: 'Bearer', expires_in: String(TOKEN_LIFETIME_SECONDS), scope, ...(query.get('state') ? { state: query.get('state') as string } : {}) });
  redirect.hash = fragment.toString();
  return { status: 302, headers: { Location: redirect.href, 'Cache-Control': 'no-store' }, text: '' };
}

const routes = new RouteTable<EntraContext>([
  { method: 'GET', pattern: '/{tenant}/v2.0/.well-known/openid-configuration', handle: openIdConfiguration },
  { method: 'GET', pattern: '/{tenant}/discovery/v2.0/keys', handle: keys },
  { method: 'GET', pattern: '/{tenant}/discovery/keys', handle: keys },
  { method: 'POST', pattern: '/{tenant}/oauth2/v2.0/token', handle: token },
  { method: 'GET', pattern: '/{tenant}/oauth2/v2.0/authorize', handle: authorize },
  { method: 'GET', pattern: '/msi/token', handle: managedIdentityToken },
]);

/** True for the paths this module answers, so the server can tell a token call from a stray request. */
export function isEntraPath(path: string): boolean {
  return /^\/[^/]+\/(v2\.0\/\.well-known\/|discovery\/|oauth2\/)/i.test(path) || /^\/msi\/token\/?$/i.test(path);
}

export async function handleEntra(request: SimRequest, context: EntraContext): Promise<SimResponse> {
  const match = routes.match(request.method, request.url.pathname);
  if (!match.found) {
    return entraError(
      match.methodNotAllowed ? 405 : 404,
      'invalid_request',
      900561,
      `The tenant simulator does not implement ${request.method} ${request.url.pathname}; it serves the v2.0 openid-configuration, keys, token and authorize endpoints.`,
      context.now,
    );
  }
  return match.route.handle(request, match.params, context);
}

export function entraFault(rule: FaultRule, now: Date): SimResponse {
  const status = rule.status ?? 503;
  const response =
    status === 429
      ? entraError(429, 'temporarily_unavailable', 90055, 'There are too many incoming requests. Please try again later.', now)
      : status >= 500
        ? entraError(status, 'temporarily_unavailable', 90033, 'A transient error has occurred. Please try again.', now)
        : entraError(status, 'invalid_request', 90000, 'Simulated failure injected through /_simulator/faults.', now);
  response.headers = { ...response.headers, ...retryAfterHeader(rule, now) };
  return response;
}
