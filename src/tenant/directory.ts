import { AuthenticationHandler, Client, GraphError, type AuthenticationProvider, type Context, type Middleware } from '@microsoft/microsoft-graph-client';
import type { TokenCredential } from '@azure/identity';
import { graphScope } from './credential';
import { errorFromResponse, TenantHttp, TenantHttpError, type SendOptions } from './http';
import { graphPermissionFor } from './permissions';

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

export type PerUserMfaState = 'disabled' | 'enabled' | 'enforced';

/** Graph's conditionalAccessPolicy, the fields SMTP Gate reads. */
export interface ConditionalAccessPolicy {
  id: string;
  displayName: string;
  /** `enabled`, `disabled` or `enabledForReportingButNotEnforced` (report-only). */
  state: string;
  conditions?: {
    clientAppTypes?: string[];
    users?: { includeUsers?: string[]; excludeUsers?: string[]; includeGroups?: string[]; excludeGroups?: string[] };
  };
  grantControls?: { operator?: string; builtInControls?: string[] } | null;
}

/**
 * The words Entra uses for its refusal to turn security defaults on while Conditional Access
 * policies exist (Microsoft 365 docs on security defaults; the simulator answers with them). A plan
 * that can tell beforehand quotes them instead of drafting a change that would be refused.
 */
export const SECURITY_DEFAULTS_CONDITIONAL_ACCESS_REFUSAL =
  'Your organization is currently using Conditional Access policies which prevents you from enabling security defaults. You can use Conditional Access to configure custom policies that enable the same behavior provided by security defaults.';

/**
 * Entra's refusal to turn security defaults on while Conditional Access policies exist: its
 * message, as Graph returned it, when `error` is that refusal; otherwise undefined.
 */
export function securityDefaultsRefusal(error: unknown): string | undefined {
  if (!(error instanceof TenantHttpError)) return undefined;
  const appError = error.toAppError();
  return appError.code === 'SECURITY_DEFAULTS_REFUSED' ? String(appError.params.message) : undefined;
}

export interface DirectoryGroup {
  id: string;
  displayName: string;
  mailNickname: string;
  /** Set for a mail-enabled group. */
  mail?: string;
}

export interface GraphBatchRequest {
  id: string;
  method: 'GET' | 'POST';
  /** Relative to the version: `/users/{id}?$select=…`. */
  url: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface GraphBatchResponse {
  id: string;
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** Microsoft Graph accepts at most 20 requests in one `$batch`. */
export const GRAPH_BATCH_LIMIT = 20;

function headerValue(headers: Record<string, string>, name: string): string | undefined {
  const key = Object.keys(headers).find((candidate) => candidate.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

export type GroupResolution =
  | { kind: 'found'; group: DirectoryGroup }
  | { kind: 'ambiguous'; candidates: DirectoryGroup[] }
  | { kind: 'none' };

export type UserResolution =
  | { kind: 'found'; user: DirectoryUser }
  | { kind: 'ambiguous'; candidates: DirectoryUser[] }
  | { kind: 'none' };

const userFields = 'id,displayName,userPrincipalName,mail,givenName,surname,preferredLanguage,accountEnabled';
const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A typed user query without the quotes people put around names and addresses. */
export function userQuery(raw: string): string {
  return raw.trim().replace(/^["'“”‘’«»「」]+|["'“”‘’«»「」]+$/g, '').trim();
}

/** The query as an address to look up (UPN or mail), or undefined when it is a name or an object id. */
export function addressQuery(raw: string): string | undefined {
  const query = userQuery(raw);
  return query.includes('@') && !guidPattern.test(query) ? query : undefined;
}

function addressFilter(address: string): string {
  const literal = odataString(address);
  return `userPrincipalName eq ${literal} or mail eq ${literal}`;
}

function addressResolution(users: DirectoryUser[]): UserResolution {
  return users.length === 1 ? { kind: 'found', user: users[0]! } : users.length ? { kind: 'ambiguous', candidates: users } : { kind: 'none' };
}

/** OData string literal: a single quote is doubled (`O'Brien` → `'O''Brien'`). */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * A `$filter` expression as the query string must carry it. The Graph client puts `.filter()`'s
 * argument into the URL as it is, and Graph percent-decodes the query string (and reads `+` as a
 * space): unencoded, `%27` in a name closes the literal, `&` starts another parameter, `#` ends
 * the URL. Percent-encoded whole, every character of a literal is taken as itself (issue #13, hole 4).
 */
export function filterParameter(expression: string): string {
  return encodeURIComponent(expression.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD'));
}

/** The last link of the Graph client's middleware chain: our HTTP layer instead of its fetch and retry handler. */
class TenantHttpMiddleware implements Middleware {
  constructor(private readonly http: TenantHttp) {}

  async execute(context: Context): Promise<void> {
    const url = typeof context.request === 'string' ? context.request : context.request.url;
    const method = (context.options?.method ?? 'GET').toUpperCase() as SendOptions['method'];
    const given = context.options?.headers;
    const headers: Record<string, string> = {};
    if (given && Object.getPrototypeOf(given) === Object.prototype) {
      for (const [k, v] of Object.entries(given as Record<string, string>)) headers[k.toLowerCase()] = String(v);
    } else {
      new Headers(given as ConstructorParameters<typeof Headers>[0]).forEach((v, k) => { headers[k] = v; });
    }
    const pathname = new URL(url).pathname;
    const operation = `${method} ${pathname.replace(/^\/(v1\.0|beta)/, '')}`;
    const response = await this.http.send({
      operation, method, url, headers,
      body: typeof context.options?.body === 'string' ? context.options.body : undefined,
      // A PATCH we send names the absolute end value (isEnabled, perUserMfaState), so sending it again ends the same.
      idempotent: method === 'GET' || method === 'PATCH' || /\/checkMemberGroups$/.test(url),
      readOnly: method === 'GET' || /\/(checkMemberGroups|getMemberGroups)$/.test(pathname),
    });
    context.response = new GraphAnswer(response.status, response.headers, response.status === 204 ? '' : response.text) as unknown as Response;
  }
}

/**
 * The answer as the Graph client reads it (status, ok, a header, the body as JSON or text). A fetch
 * Response costs ~60 µs to build, several times per status card; anything else the client might
 * ask of one is answered by a real Response, built only then.
 */
class GraphAnswer {
  readonly headers: { get(name: string): string | null; has(name: string): boolean; forEach(fn: (value: string, key: string) => void): void };

  constructor(readonly status: number, raw: Record<string, string>, private readonly text_: string) {
    this.headers = {
      get: (name) => raw[name.toLowerCase()] ?? null,
      has: (name) => name.toLowerCase() in raw,
      forEach: (fn) => { for (const [k, v] of Object.entries(raw)) fn(v, k); },
    };
  }

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  get statusText(): string {
    return '';
  }

  async json(): Promise<unknown> {
    return JSON.parse(this.text_);
  }

  async text(): Promise<string> {
    return this.text_;
  }

  get body(): ReadableStream<Uint8Array> | null {
    return this.real().body;
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    return this.real().arrayBuffer();
  }

  blob(): Promise<Blob> {
    return this.real().blob();
  }

  private real(): Response {
    return new Response(this.status === 204 ? null : this.text_, { status: this.status });
  }
}

/** The Directory port over Microsoft Graph (users and group membership). */
export class GraphDirectory {
  private readonly client: Client;

  constructor(private readonly credential: TokenCredential, private readonly graphBaseUrl: string, private readonly http: TenantHttp) {
    // The SDK's TokenCredentialAuthenticationProvider builds an Error (stack trace and all) on every
    // request in case it needs one; this asks the same credential for the same scope without it.
    const auth: AuthenticationProvider = {
      getAccessToken: async () => {
        const token = (await credential.getToken(graphScope))?.token;
        if (!token) throw Object.assign(new Error('Cannot retrieve accessToken from the Token Credential object'), { name: 'Access token is undefined' });
        return token;
      },
    };
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
    const page = await this.call<{ value: DirectoryUser[] }>('GET /users', () => this.client.api('/users').filter(filterParameter(filter)).select(userFields).top(top).get());
    return page.value;
  }

  /** User resolution shared by every command: id, then UPN/mail exact, then name prefix; ranked, capped. */
  async resolveUser(rawQuery: string, limit = 10): Promise<UserResolution> {
    const query = userQuery(rawQuery);
    if (!query) return { kind: 'none' };
    if (guidPattern.test(query)) {
      const user = await this.getUser(query);
      return user ? { kind: 'found', user } : { kind: 'none' };
    }
    const literal = odataString(query);
    if (query.includes('@')) return addressResolution(await this.findUsers(addressFilter(query), 2));
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

  /**
   * The lookup {@link resolveUser} makes for an address, as a `$batch` item, so it can ride in the
   * same batch as reads that address the mailbox by that address; {@link addressAnswer} reads it.
   */
  addressLookup(id: string, address: string): GraphBatchRequest {
    return { id, method: 'GET', url: `/users?$filter=${filterParameter(addressFilter(address))}&$select=${userFields}&$top=2` };
  }

  /** The answer to {@link addressLookup}, resolved as {@link resolveUser} resolves an address. */
  addressAnswer(answer: GraphBatchResponse): UserResolution {
    if (answer.status < 200 || answer.status >= 300) throw this.batchError('GET /users', answer);
    return addressResolution((answer.body as { value?: DirectoryUser[] }).value ?? []);
  }

  /**
   * People whose names start like the query's words ("Sean Obrian" → "Se…", "Ob…"), for a "did you
   * mean" when nothing matched; the caller ranks them.
   */
  async usersNamedLike(rawQuery: string, limit = 25): Promise<DirectoryUser[]> {
    const words = rawQuery.trim().replace(/@.*$/, '').split(/[\s._'’-]+/).filter((w) => w.length >= 2).slice(0, 3);
    if (!words.length) return [];
    const clauses = words.flatMap((word) => {
      const literal = odataString(word.slice(0, 2));
      return ['displayName', 'givenName', 'surname', 'userPrincipalName'].map((f) => `startswith(${f},${literal})`);
    });
    return this.findUsers(clauses.join(' or '), limit);
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

  /**
   * Graph JSON batching: up to 20 requests per round trip (Graph's limit), answered item by item.
   * Items answered 429/503/504 are sent again after their own Retry-After — the SDK does not retry
   * inside a batch — up to the policy's retries; every other answer is returned as is.
   */
  async batch(requests: GraphBatchRequest[]): Promise<Map<string, GraphBatchResponse>> {
    const results = new Map<string, GraphBatchResponse>();
    for (let start = 0; start < requests.length; start += GRAPH_BATCH_LIMIT) {
      let pending = requests.slice(start, start + GRAPH_BATCH_LIMIT);
      for (let attempt = 0; pending.length > 0; attempt++) {
        const answers = await this.sendBatch(pending);
        const again: GraphBatchRequest[] = [];
        let wait = 0;
        for (const request of pending) {
          const answer = answers.get(request.id) ?? { id: request.id, status: 500, headers: {}, body: null };
          const retryable = [429, 503, 504].includes(answer.status) && attempt < this.http.policy.maxRetries;
          if (retryable) {
            again.push(request);
            wait = Math.max(wait, this.http.backoffMs(attempt, headerValue(answer.headers, 'retry-after')));
          } else {
            results.set(request.id, answer);
          }
        }
        if (again.length > 0) await this.http.pause(wait);
        pending = again;
      }
    }
    return results;
  }

  /** A batch item's failure as the same typed error a direct call would raise. */
  batchError(operation: string, answer: GraphBatchResponse): TenantHttpError {
    const error = (answer.body as { error?: { code?: string; message?: string } } | null)?.error;
    const failure = new TenantHttpError('graph', operation, 'status', answer.status, error?.code, error?.message, headerValue(answer.headers, 'request-id'));
    return withPermission(operation, failure) as TenantHttpError;
  }

  private async sendBatch(requests: GraphBatchRequest[]): Promise<Map<string, GraphBatchResponse>> {
    const operation = 'POST /$batch';
    let token: string;
    try {
      token = (await this.credential.getToken(graphScope))?.token ?? '';
    } catch (error) {
      throw new TenantHttpError('graph', operation, 'status', 401, (error as Error).name, (error as Error).message, undefined, { cause: error });
    }
    const response = await this.http.send({
      operation,
      method: 'POST',
      url: `${this.graphBaseUrl}/v1.0/$batch`,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        requests: requests.map((r) => ({ id: r.id, method: r.method, url: r.url, ...(r.body !== undefined ? { body: r.body, headers: { 'Content-Type': 'application/json', ...r.headers } } : r.headers ? { headers: r.headers } : {}) })),
      }),
      // We only batch reads (GETs and getMemberGroups), so sending the batch again is harmless.
      idempotent: true,
      readOnly: true,
    });
    if (response.status !== 200) throw errorFromResponse('graph', operation, response);
    const body = JSON.parse(response.text) as { responses?: GraphBatchResponse[] };
    return new Map((body.responses ?? []).map((answer) => [answer.id, { ...answer, headers: answer.headers ?? {} }]));
  }

  /** Per-user MFA (Graph beta `authentication/requirements`; there is no v1.0 equivalent). */
  async getPerUserMfaState(userId: string): Promise<PerUserMfaState> {
    const result = await this.call<{ perUserMfaState: PerUserMfaState }>('GET /users/{id}/authentication/requirements', () =>
      this.client.api(`/users/${encodeURIComponent(userId)}/authentication/requirements`).version('beta').get());
    return result.perUserMfaState;
  }

  /**
   * Sets per-user MFA (beta `PATCH …/authentication/requirements`, 204). Entra turns `enabled`
   * into `enforced` by itself once the user has registered an MFA method: read it back.
   */
  async setPerUserMfaState(userId: string, state: PerUserMfaState): Promise<void> {
    await this.call('PATCH /users/{id}/authentication/requirements', () =>
      this.client.api(`/users/${encodeURIComponent(userId)}/authentication/requirements`).version('beta').patch({ perUserMfaState: state }));
  }

  /** Whether Entra security defaults are on (`GET /policies/identitySecurityDefaultsEnforcementPolicy`). */
  async getSecurityDefaultsEnabled(): Promise<boolean> {
    const policy = await this.call<{ isEnabled?: boolean }>('GET /policies/identitySecurityDefaultsEnforcementPolicy', () =>
      this.client.api('/policies/identitySecurityDefaultsEnforcementPolicy').get());
    return policy.isEnabled === true;
  }

  /**
   * Turns security defaults on or off (PATCH, 204). Turning them on while Conditional Access
   * policies exist is refused by Entra (400); `securityDefaultsRefusal(error)` gives its words.
   */
  async setSecurityDefaultsEnabled(isEnabled: boolean): Promise<void> {
    await this.call('PATCH /policies/identitySecurityDefaultsEnforcementPolicy', () =>
      this.client.api('/policies/identitySecurityDefaultsEnforcementPolicy').patch({ isEnabled }));
  }

  /** Every Conditional Access policy, in any state, every page followed. */
  async listConditionalAccessPolicies(): Promise<ConditionalAccessPolicy[]> {
    const operation = 'GET /identity/conditionalAccess/policies';
    type PolicyPage = { value: ConditionalAccessPolicy[]; '@odata.nextLink'?: string };
    const policies: ConditionalAccessPolicy[] = [];
    let page = await this.call<PolicyPage>(operation, () => this.client.api('/identity/conditionalAccess/policies').get());
    for (;;) {
      policies.push(...page.value);
      const next = page['@odata.nextLink'];
      if (!next) return policies;
      page = await this.call<PolicyPage>(operation, () => this.client.api(next).get());
    }
  }

  /** Every user matching `filter` (or all), following `@odata.nextLink` to the last page. */
  async listAllUsers(filter?: string, pageSize = 999): Promise<DirectoryUser[]> {
    const users: DirectoryUser[] = [];
    let request = this.client.api('/users').select(userFields).top(pageSize);
    if (filter) request = request.filter(filterParameter(filter));
    let page = await this.call<{ value: DirectoryUser[]; '@odata.nextLink'?: string }>('GET /users', () => request.get());
    users.push(...page.value);
    while (page['@odata.nextLink']) {
      const next = page['@odata.nextLink'];
      page = await this.call<{ value: DirectoryUser[]; '@odata.nextLink'?: string }>('GET /users', () => this.client.api(next).get());
      users.push(...page.value);
    }
    return users;
  }

  /** A group by object id, display name or mail nickname; undefined when none, every match when several share the name. */
  async findGroups(idOrName: string): Promise<DirectoryGroup[]> {
    if (guidPattern.test(idOrName)) {
      try {
        return [await this.call<DirectoryGroup>('GET /groups', () => this.client.api(`/groups/${idOrName}`).select('id,displayName,mailNickname').get())];
      } catch (error) {
        if (error instanceof TenantHttpError && error.status === 404) return [];
        throw error;
      }
    }
    const literal = odataString(idOrName);
    const page = await this.call<{ value: DirectoryGroup[] }>('GET /groups', () =>
      this.client.api('/groups').filter(filterParameter(`displayName eq ${literal} or mailNickname eq ${literal}`)).select('id,displayName,mailNickname').top(10).get());
    return page.value;
  }

  /**
   * A group as an admin names it, resolved like a user: its object id, its mail address (or mail
   * nickname), its exact display name, else a display name that starts with what was typed. One
   * exact match wins; several are ambiguous (the caller asks which), none is none.
   */
  async resolveGroup(rawQuery: string, limit = 10): Promise<GroupResolution> {
    const query = rawQuery.trim().replace(/^["'“”‘’«»「」]+|["'“”‘’«»「」]+$/g, '').trim();
    if (!query) return { kind: 'none' };
    if (guidPattern.test(query)) {
      const [group] = await this.findGroups(query);
      return group ? { kind: 'found', group } : { kind: 'none' };
    }
    const nickname = query.includes('@') ? query.split('@')[0]! : query;
    const literal = odataString(query);
    const clauses = [`displayName eq ${literal}`, `mailNickname eq ${odataString(nickname)}`, `startswith(displayName,${literal})`];
    if (query.includes('@')) clauses.push(`mail eq ${literal}`);
    const page = await this.call<{ value: (DirectoryGroup & { mail?: string | null })[] }>('GET /groups', () =>
      this.client.api('/groups').filter(filterParameter(clauses.join(' or '))).select('id,displayName,mailNickname,mail').top(limit).get());
    const groups = page.value.map(({ id, displayName, mailNickname, mail }) => ({ id, displayName, mailNickname, ...(mail ? { mail } : {}) }));
    const q = query.toLocaleLowerCase();
    const exact = groups.filter((g) => g.displayName.toLocaleLowerCase() === q || g.mailNickname.toLocaleLowerCase() === nickname.toLocaleLowerCase() || g.mail?.toLocaleLowerCase() === q);
    if (exact.length === 1) return { kind: 'found', group: exact[0]! };
    if (groups.length === 1) return { kind: 'found', group: groups[0]! };
    if (groups.length === 0) return { kind: 'none' };
    return { kind: 'ambiguous', candidates: [...groups].sort((a, b) => Number(!exact.includes(a)) - Number(!exact.includes(b)) || a.displayName.localeCompare(b.displayName)) };
  }

  /** Every user below a group, nested groups flattened, every page followed; each user once. */
  async groupUsers(groupId: string, pageSize = 999): Promise<DirectoryUser[]> {
    const operation = 'GET /groups/{id}/transitiveMembers';
    const seen = new Set<string>();
    const users: DirectoryUser[] = [];
    type MemberPage = { value: (DirectoryUser & { '@odata.type'?: string })[]; '@odata.nextLink'?: string };
    let page = await this.call<MemberPage>(operation, () =>
      this.client.api(`/groups/${encodeURIComponent(groupId)}/transitiveMembers`).select(userFields).top(pageSize).get());
    for (;;) {
      for (const member of page.value) {
        if (member['@odata.type'] !== '#microsoft.graph.user' || seen.has(member.id)) continue;
        seen.add(member.id);
        const { ['@odata.type']: _type, ...user } = member;
        users.push(user);
      }
      const next = page['@odata.nextLink'];
      if (!next) return users;
      page = await this.call<MemberPage>(operation, () => this.client.api(next).get());
    }
  }

  private async call<T>(operation: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw withPermission(operation, toTenantHttpError(operation, error));
    }
  }
}

/** Graph's 403 rarely names the permission; we know which one each operation needs. */
export function withPermission(operation: string, error: unknown): unknown {
  if (error instanceof TenantHttpError && error.status === 403 && graphPermissionFor[operation]) {
    return error.withRequiredPermission(graphPermissionFor[operation] as string);
  }
  return error;
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
