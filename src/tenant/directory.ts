import { AuthenticationHandler, Client, GraphError, type Context, type Middleware } from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials';
import type { TokenCredential } from '@azure/identity';
import { graphScope } from './credential';
import { TenantHttp, TenantHttpError, type SendOptions } from './http';

export interface DirectoryUser {
  id: string;
  displayName: string;
  userPrincipalName: string;
  mail: string | null;
  givenName: string | null;
  surname: string | null;
  preferredLanguage: string | null;
  accountEnabled: boolean;
}

export type UserResolution =
  | { kind: 'found'; user: DirectoryUser }
  | { kind: 'ambiguous'; candidates: DirectoryUser[] }
  | { kind: 'none' };

const userFields = 'id,displayName,userPrincipalName,mail,givenName,surname,preferredLanguage,accountEnabled';
const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** OData string literal: a single quote is doubled (`O'Brien` → `'O''Brien'`). */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** The last link of the Graph client's middleware chain: our HTTP layer instead of its fetch and retry handler. */
class TenantHttpMiddleware implements Middleware {
  constructor(private readonly http: TenantHttp) {}

  async execute(context: Context): Promise<void> {
    const url = typeof context.request === 'string' ? context.request : context.request.url;
    const method = (context.options?.method ?? 'GET').toUpperCase() as SendOptions['method'];
    const headers: Record<string, string> = {};
    new Headers(context.options?.headers as ConstructorParameters<typeof Headers>[0]).forEach((v, k) => { headers[k] = v; });
    const operation = `${method} ${new URL(url).pathname.replace(/^\/(v1\.0|beta)/, '')}`;
    const response = await this.http.send({
      operation, method, url, headers,
      body: typeof context.options?.body === 'string' ? context.options.body : undefined,
      idempotent: method === 'GET' || /\/checkMemberGroups$/.test(url),
    });
    context.response = new Response(response.status === 204 ? null : response.text, { status: response.status, headers: response.headers });
  }
}

/** The Directory port over Microsoft Graph (users and group membership). */
export class GraphDirectory {
  private readonly client: Client;

  constructor(credential: TokenCredential, graphBaseUrl: string, private readonly http: TenantHttp) {
    const auth = new TokenCredentialAuthenticationProvider(credential, { scopes: [graphScope] });
    const authentication = new AuthenticationHandler(auth);
    authentication.setNext(new TenantHttpMiddleware(http));
    this.client = Client.initWithMiddleware({
      middleware: authentication,
      baseUrl: `${graphBaseUrl}/`,
      // The SDK only attaches the bearer token for Graph's own hosts and these.
      customHosts: new Set([new URL(graphBaseUrl).hostname]),
    });
  }

  async getUser(idOrUpn: string): Promise<DirectoryUser | undefined> {
    try {
      return await this.call(`GET /users/{id}`, () => this.client.api(`/users/${encodeURIComponent(idOrUpn)}`).select(userFields).get());
    } catch (error) {
      if (error instanceof TenantHttpError && error.status === 404) return undefined;
      throw error;
    }
  }

  async findUsers(filter: string, top = 10): Promise<DirectoryUser[]> {
    const page = await this.call<{ value: DirectoryUser[] }>('GET /users', () => this.client.api('/users').filter(filter).select(userFields).top(top).get());
    return page.value;
  }

  /** User resolution shared by every command: id, then UPN/mail exact, then name prefix; ranked, capped. */
  async resolveUser(rawQuery: string, limit = 10): Promise<UserResolution> {
    const query = rawQuery.trim().replace(/^["'“”‘’«»「」]+|["'“”‘’«»「」]+$/g, '').trim();
    if (!query) return { kind: 'none' };
    if (guidPattern.test(query)) {
      const user = await this.getUser(query);
      return user ? { kind: 'found', user } : { kind: 'none' };
    }
    const literal = odataString(query);
    if (query.includes('@')) {
      const users = await this.findUsers(`userPrincipalName eq ${literal} or mail eq ${literal}`, 2);
      return users.length === 1 ? { kind: 'found', user: users[0]! } : users.length ? { kind: 'ambiguous', candidates: users } : { kind: 'none' };
    }
    const users = await this.findUsers(
      ['displayName', 'givenName', 'surname', 'userPrincipalName', 'mail'].map((f) => `startswith(${f},${literal})`).join(' or '),
      limit,
    );
    const q = query.toLocaleLowerCase();
    const localPart = (u: DirectoryUser) => u.userPrincipalName.split('@')[0]!.toLocaleLowerCase();
    const exact = users.filter((u) => localPart(u) === q || u.displayName.toLocaleLowerCase() === q);
    if (exact.length === 1) return { kind: 'found', user: exact[0]! };
    if (users.length === 1) return { kind: 'found', user: users[0]! };
    if (users.length === 0) return { kind: 'none' };
    const rank = (u: DirectoryUser) => (exact.includes(u) ? 0 : u.givenName?.toLocaleLowerCase() === q ? 1 : 2);
    return { kind: 'ambiguous', candidates: [...users].sort((a, b) => rank(a) - rank(b) || a.displayName.localeCompare(b.displayName)) };
  }

  /** Proves the credential works and Graph answers. */
  async ping(): Promise<void> {
    await this.call('GET /users', () => this.client.api('/users').select('id').top(1).get());
  }

  /** Which of `groupIds` the user belongs to (transitively), per Graph's checkMemberGroups. */
  async memberOf(userId: string, groupIds: string[]): Promise<string[]> {
    const result = await this.call<{ value: string[] }>('POST /users/{id}/checkMemberGroups', () =>
      this.client.api(`/users/${encodeURIComponent(userId)}/checkMemberGroups`).post({ groupIds }));
    return result.value;
  }

  private async call<T>(operation: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw toTenantHttpError(operation, error);
    }
  }
}

function toTenantHttpError(operation: string, error: unknown): unknown {
  if (error instanceof TenantHttpError) return error;
  if (error instanceof GraphError) {
    if (error.statusCode > 0) {
      return new TenantHttpError('graph', operation, 'status', error.statusCode, error.code ?? undefined, error.message, error.requestId ?? undefined, { cause: error });
    }
    // The SDK rewraps what a middleware threw; the original error's name survives as `code`.
    if (/^(Authentication|CredentialUnavailable)/.test(error.code ?? '')) {
      return new TenantHttpError('graph', operation, 'status', 401, error.code ?? undefined, undefined, undefined, { cause: error });
    }
    const kind = error.code === 'TenantTimeoutError' ? 'timeout' : 'network';
    return new TenantHttpError('graph', operation, kind, undefined, undefined, undefined, undefined, { cause: error });
  }
  return error;
}
