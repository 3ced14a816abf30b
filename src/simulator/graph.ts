import { retryAfterHeader, type CallLog, type FaultInjector, type FaultRule } from './faults';
import type { FixtureGroup, FixtureUser } from './fixture';
import { header, jsonResponse, readJson, RouteTable, type SimRequest, type SimResponse } from './http';
import {
  evaluateFilter,
  FilterError,
  objectReader,
  parseFilter,
  type FilterSchema,
} from './odataFilter';
import type { TenantState } from './state';
import { bearerToken, deterministicGuid, GRAPH_RESOURCE, type TokenAuthority, type TokenRejection } from './tokens';

// Microsoft Graph v1.0 and beta, limited to the resources SMTP Gate reads and writes.

export interface GraphContext {
  state: TenantState;
  authority: TokenAuthority;
  now: Date;
  requestId: string;
  clientRequestId: string;
  /** For `$batch`: each inner request meets the fault rules and lands in the call log like a request of its own. */
  faults?: FaultInjector;
  calls?: CallLog;
}

type Version = 'v1.0' | 'beta';

interface GraphCall {
  request: SimRequest;
  params: Record<string, string>;
  context: GraphContext;
  version: Version;
  /** The access token's `roles` claim: the application permissions granted to the caller. */
  roles: readonly string[];
}

const GRAPH_CONTENT_TYPE = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

/** Graph's `innerError.date`: UTC without fractions or zone designator. */
function graphDate(now: Date): string {
  return now.toISOString().slice(0, 19);
}

export function graphError(context: GraphContext, status: number, code: string, message: string, headers: Record<string, string> = {}): SimResponse {
  return jsonResponse(
    status,
    {
      error: {
        code,
        message,
        innerError: {
          date: graphDate(context.now),
          'request-id': context.requestId,
          'client-request-id': context.clientRequestId,
        },
      },
    },
    headers,
  );
}

function metadata(version: Version, fragment: string): string {
  return `https://graph.microsoft.com/${version}/$metadata#${fragment}`;
}

// ----- users -------------------------------------------------------------------------------

// Graph returns these user properties when a request has no $select (v1.0 default set).
const USER_DEFAULT_PROPERTIES = [
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
  'id',
];

const USER_SELECTABLE = [...USER_DEFAULT_PROPERTIES, 'accountEnabled', 'mailNickname', 'userType', 'usageLocation', 'otherMails'];

const USER_FILTER: FilterSchema = {
  entityType: 'microsoft.graph.user',
  properties: {
    id: 'string',
    displayName: 'string',
    givenName: 'string',
    surname: 'string',
    userPrincipalName: 'string',
    mail: 'string',
    mailNickname: 'string',
    preferredLanguage: 'string',
    userType: 'string',
    accountEnabled: 'boolean',
  },
};

function graphUser(state: TenantState, user: FixtureUser): Record<string, unknown> {
  return {
    businessPhones: [],
    displayName: user.displayName,
    givenName: user.givenName,
    jobTitle: null,
    mail: user.mail,
    mobilePhone: null,
    officeLocation: null,
    preferredLanguage: user.preferredLanguage,
    surname: user.surname,
    userPrincipalName: user.userPrincipalName,
    id: user.id,
    accountEnabled: user.accountEnabled,
    mailNickname: state.alias(user),
    userType: 'Member',
    usageLocation: null,
    otherMails: [],
  };
}

// ----- groups ------------------------------------------------------------------------------

const GROUP_DEFAULT_PROPERTIES = ['id', 'description', 'displayName', 'groupTypes', 'mail', 'mailEnabled', 'mailNickname', 'securityEnabled'];

const GROUP_FILTER: FilterSchema = {
  entityType: 'microsoft.graph.group',
  properties: { id: 'string', displayName: 'string', mailNickname: 'string', mail: 'string', securityEnabled: 'boolean', mailEnabled: 'boolean' },
};

function graphGroup(group: FixtureGroup): Record<string, unknown> {
  return {
    id: group.id,
    description: null,
    displayName: group.displayName,
    groupTypes: [],
    mail: null,
    mailEnabled: false,
    mailNickname: group.mailNickname,
    securityEnabled: true,
  };
}

// ----- sign-ins ----------------------------------------------------------------------------

const SIGN_IN_FILTER: FilterSchema = {
  entityType: 'microsoft.graph.signIn',
  properties: {
    id: 'string',
    createdDateTime: 'datetime',
    userId: 'string',
    userPrincipalName: 'string',
    userDisplayName: 'string',
    appId: 'string',
    appDisplayName: 'string',
    clientAppUsed: 'string',
    ipAddress: 'string',
    conditionalAccessStatus: 'string',
    'status/errorCode': 'number',
  },
};

const SIGN_IN_SELECTABLE = [
  'id',
  'createdDateTime',
  'userDisplayName',
  'userPrincipalName',
  'userId',
  'appId',
  'appDisplayName',
  'ipAddress',
  'clientAppUsed',
  'conditionalAccessStatus',
  'isInteractive',
  'resourceDisplayName',
  'resourceId',
  'status',
];

function graphSignIns(state: TenantState): Record<string, unknown>[] {
  const signIns: Record<string, unknown>[] = [];
  for (const user of state.users) {
    (user.signIns ?? []).forEach((signIn, index) => {
      const errorCode = signIn.status.errorCode;
      signIns.push({
        id: deterministicGuid(`sign-in:${user.id}:${index}:${signIn.createdDateTime}`),
        userDisplayName: user.displayName,
        userPrincipalName: user.userPrincipalName,
        userId: user.id,
        appId: '00000002-0000-0ff1-ce00-000000000000',
        appDisplayName: 'Office 365 Exchange Online',
        ipAddress: '203.0.113.25',
        isInteractive: false,
        resourceDisplayName: 'Office 365 Exchange Online',
        resourceId: '00000002-0000-0ff1-ce00-000000000000',
        // Entra error 53003 means a Conditional Access policy blocked the sign-in.
        conditionalAccessStatus: errorCode === 53003 ? 'failure' : errorCode === 0 ? 'success' : 'notApplied',
        ...signIn,
        status: { failureReason: null, additionalDetails: null, ...signIn.status },
      });
    });
  }
  return signIns.sort((a, b) => Date.parse(String(b.createdDateTime)) - Date.parse(String(a.createdDateTime)));
}

// ----- query options -----------------------------------------------------------------------

class GraphQueryError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function queryOptions(request: SimRequest, supported: string[]): URLSearchParams {
  const query = request.url.searchParams;
  for (const name of query.keys()) {
    if (!name.startsWith('$')) continue;
    if (name === '$search' && supported.includes('$search')) {
      // Directory objects answer $search only in advanced query mode.
      if (header(request, 'ConsistencyLevel')?.toLowerCase() !== 'eventual') {
        throw new GraphQueryError(
          400,
          'Request_UnsupportedQuery',
          "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
        );
      }
      continue;
    }
    if (name === '$search' || name === '$expand' || name === '$apply') {
      throw new GraphQueryError(400, 'Request_UnsupportedQuery', `The tenant simulator does not support ${name} here; use $filter.`);
    }
    if (!supported.includes(name)) {
      throw new GraphQueryError(400, 'BadRequest', `Query option '${name}' is not allowed. To allow it, set the 'AllowedQueryOptions' property on EnableQueryAttribute or QueryValidationSettings.`);
    }
  }
  return query;
}

function applyFilter<T>(items: T[], filter: string | null, schema: FilterSchema, toEntity: (item: T) => Record<string, unknown>): T[] {
  if (filter === null) return items;
  let expression;
  try {
    expression = parseFilter(filter, schema);
  } catch (error) {
    if (!(error instanceof FilterError)) throw error;
    if (error.kind === 'unsupported') throw new GraphQueryError(400, 'Request_UnsupportedQuery', error.message);
    if (error.kind === 'unknownProperty') throw new GraphQueryError(400, 'BadRequest', error.message);
    throw new GraphQueryError(400, 'BadRequest', error.message);
  }
  return items.filter((item) => evaluateFilter(expression, objectReader(toEntity(item))));
}

const SEARCH_CLAUSE = /^"([A-Za-z]+):([^"]*)"$/;

/** Graph's tokenized search words: runs of letters or digits (a name's parts, an address's parts). */
function searchWords(text: string): string[] {
  return text.toLocaleLowerCase().split(/[^\p{L}\p{N}]+/u).filter((word) => word !== '');
}

/**
 * `$search="displayName:wa" OR "mail:wa"`: each clause matches when every word of its term starts
 * a word of the property (Graph tokenizes displayName, mail, userPrincipalName and the like).
 */
function applySearch<T>(items: T[], search: string | null, searchable: string[], toEntity: (item: T) => Record<string, unknown>): T[] {
  if (search === null) return items;
  const parts = search.trim().split(/\s+(AND|OR)\s+(?=")/);
  const clauses: { property: string; words: string[] }[] = [];
  const operators: string[] = [];
  parts.forEach((part, index) => {
    if (index % 2 === 1) {
      operators.push(part);
      return;
    }
    const match = SEARCH_CLAUSE.exec(part.trim());
    const property = match ? searchable.find((name) => name.toLowerCase() === (match[1] as string).toLowerCase()) : undefined;
    if (!match || !property) {
      throw new GraphQueryError(400, 'Request_UnsupportedQuery', `Syntax error: character '${part.trim()[0] ?? ''}' is not valid at position 0 in '${search}'. Use "property:term" clauses joined by AND or OR.`);
    }
    clauses.push({ property, words: searchWords(match[2] as string) });
  });
  const matches = (entity: Record<string, unknown>, clause: { property: string; words: string[] }): boolean => {
    const value = entity[clause.property];
    if (typeof value !== 'string') return false;
    const words = searchWords(value);
    return clause.words.every((term) => words.some((word) => word.startsWith(term)));
  };
  return items.filter((item) => {
    const entity = toEntity(item);
    let result = matches(entity, clauses[0] as { property: string; words: string[] });
    operators.forEach((operator, index) => {
      const next = matches(entity, clauses[index + 1] as { property: string; words: string[] });
      result = operator === 'AND' ? result && next : result || next;
    });
    return result;
  });
}

function selection(request: SimRequest, selectable: string[], defaults: string[], entityType: string): { properties: string[]; explicit: boolean } {
  const select = request.url.searchParams.get('$select');
  if (select === null || select.trim() === '') return { properties: defaults, explicit: false };
  const properties: string[] = [];
  for (const raw of select.split(',')) {
    const name = raw.trim();
    const known = selectable.find((property) => property.toLowerCase() === name.toLowerCase());
    if (!known) {
      throw new GraphQueryError(
        400,
        'BadRequest',
        `Parsing OData Select and Expand failed: Could not find a property named '${name}' on type '${entityType}'.`,
      );
    }
    if (!properties.includes(known)) properties.push(known);
  }
  return { properties, explicit: true };
}

function project(entity: Record<string, unknown>, properties: string[]): Record<string, unknown> {
  const projected: Record<string, unknown> = {};
  for (const property of properties) projected[property] = entity[property] ?? null;
  return projected;
}

function orderBy<T>(items: T[], request: SimRequest, sortable: string[], toEntity: (item: T) => Record<string, unknown>): T[] {
  const orderby = request.url.searchParams.get('$orderby');
  if (orderby === null) return items;
  const match = /^\s*([A-Za-z]+)(?:\s+(asc|desc))?\s*$/i.exec(orderby);
  const property = match ? sortable.find((name) => name.toLowerCase() === (match[1] as string).toLowerCase()) : undefined;
  if (!match || !property) throw new GraphQueryError(400, 'Request_UnsupportedQuery', 'Unsupported Query.');
  const direction = match[2]?.toLowerCase() === 'desc' ? -1 : 1;
  return [...items].sort((a, b) => {
    const left = String(toEntity(a)[property] ?? '').toLowerCase();
    const right = String(toEntity(b)[property] ?? '').toLowerCase();
    return left < right ? -direction : left > right ? direction : 0;
  });
}

interface Page<T> {
  items: T[];
  nextLink?: string;
}

/** Graph's server-driven paging: `$top` sets the page size, `@odata.nextLink` carries an opaque `$skiptoken`. */
function paginate<T>(items: T[], request: SimRequest, limits: { defaultTop: number; maxTop: number }): Page<T> {
  const query = request.url.searchParams;
  const topText = query.get('$top');
  let top = limits.defaultTop;
  if (topText !== null) {
    top = Number(topText);
    if (!Number.isInteger(top) || top < 1 || top > limits.maxTop) {
      throw new GraphQueryError(
        400,
        'Request_UnsupportedQuery',
        `Invalid page size specified: '${topText}'. Must be between 1 and ${limits.maxTop} inclusive.`,
      );
    }
  }
  let offset = 0;
  const skipToken = query.get('$skiptoken');
  if (skipToken !== null) {
    const decoded = decodeSkipToken(skipToken);
    if (decoded === null) throw new GraphQueryError(400, 'Directory_ExpiredPageToken', 'The specified page token value has expired and can no longer be included in your request.');
    offset = decoded;
  }
  const page = items.slice(offset, offset + top);
  if (offset + top >= items.length) return { items: page };
  const next = new URLSearchParams();
  for (const [name, value] of query) if (name !== '$skiptoken' && name !== '$top') next.append(name, value);
  next.set('$top', String(top));
  next.set('$skiptoken', encodeSkipToken(offset + top));
  const queryText = [...next].map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('&');
  return { items: page, nextLink: `${request.origin}${request.url.pathname}?${queryText}` };
}

function encodeSkipToken(offset: number): string {
  return `RFNwdAIAAQAAA${Buffer.from(JSON.stringify({ offset })).toString('base64url')}`;
}

function decodeSkipToken(token: string): number | null {
  if (!token.startsWith('RFNwdAIAAQAAA')) return null;
  try {
    const { offset } = JSON.parse(Buffer.from(token.slice(13), 'base64url').toString('utf8')) as { offset?: unknown };
    return typeof offset === 'number' && Number.isInteger(offset) && offset >= 0 ? offset : null;
  } catch {
    return null;
  }
}

function collection(
  call: GraphCall,
  contextFragment: string,
  page: Page<Record<string, unknown>>,
  count?: number,
): SimResponse {
  const body: Record<string, unknown> = { '@odata.context': metadata(call.version, contextFragment) };
  if (count !== undefined) body['@odata.count'] = count;
  if (page.nextLink) body['@odata.nextLink'] = page.nextLink;
  body.value = page.items;
  return jsonResponse(200, body);
}

function countRequested(call: GraphCall): boolean {
  const count = call.request.url.searchParams.get('$count');
  if (count === null || count.toLowerCase() === 'false') return false;
  // Directory objects count only under advanced query mode.
  if (header(call.request, 'ConsistencyLevel')?.toLowerCase() !== 'eventual') {
    throw new GraphQueryError(400, 'Request_BadRequest', '$count is not currently supported.');
  }
  return true;
}

function notFound(call: GraphCall, key: string): SimResponse {
  return graphError(
    call.context,
    404,
    'Request_ResourceNotFound',
    `Resource '${key}' does not exist or one of its queried reference-property objects are not present.`,
  );
}

function findUser(call: GraphCall): FixtureUser | SimResponse {
  const key = call.params.user as string;
  return call.context.state.userByIdOrUpn(key) ?? notFound(call, key);
}

function selectFragment(base: string, selected: { properties: string[]; explicit: boolean }): string {
  return selected.explicit ? `${base}(${selected.properties.join(',')})` : base;
}

// ----- handlers ----------------------------------------------------------------------------

function getUser(call: GraphCall): SimResponse {
  queryOptions(call.request, ['$select']);
  const user = findUser(call);
  if ('status' in user) return user;
  const selected = selection(call.request, USER_SELECTABLE, USER_DEFAULT_PROPERTIES, 'microsoft.graph.user');
  return jsonResponse(200, {
    '@odata.context': metadata(call.version, `${selectFragment('users', selected)}/$entity`),
    ...project(graphUser(call.context.state, user), selected.properties),
  });
}

function listUsers(call: GraphCall): SimResponse {
  const query = queryOptions(call.request, ['$select', '$filter', '$top', '$skiptoken', '$orderby', '$count', '$search']);
  const { state } = call.context;
  const selected = selection(call.request, USER_SELECTABLE, USER_DEFAULT_PROPERTIES, 'microsoft.graph.user');
  const toEntity = (user: FixtureUser): Record<string, unknown> => graphUser(state, user);
  const searched = applySearch([...state.users], query.get('$search'), ['displayName', 'givenName', 'surname', 'mail', 'userPrincipalName', 'mailNickname'], toEntity);
  const matching = orderBy(applyFilter(searched, query.get('$filter'), USER_FILTER, toEntity), call.request, ['displayName', 'userPrincipalName'], toEntity);
  const count = countRequested(call) ? matching.length : undefined;
  const page = paginate(matching, call.request, { defaultTop: 100, maxTop: 999 });
  return collection(
    call,
    selectFragment('users', selected),
    { ...page, items: page.items.map((user) => project(toEntity(user), selected.properties)) },
    count,
  );
}

function groupIdsFromBody(call: GraphCall): string[] | SimResponse {
  const body = readJson(call.request);
  const groupIds = body.ok ? (body.value as { groupIds?: unknown } | null)?.groupIds : undefined;
  if (!Array.isArray(groupIds) || !groupIds.every((id) => typeof id === 'string')) {
    return graphError(call.context, 400, 'Request_BadRequest', "The request body must contain 'groupIds', an array of group object ids.");
  }
  // checkMemberGroups accepts at most 20 ids per request (Microsoft Graph documentation).
  if (groupIds.length > 20) {
    return graphError(call.context, 400, 'Request_BadRequest', 'The number of group ids in the request exceeds the limit of 20.');
  }
  return groupIds as string[];
}

function checkMemberGroups(call: GraphCall): SimResponse {
  const user = findUser(call);
  if ('status' in user) return user;
  const groupIds = groupIdsFromBody(call);
  if (!Array.isArray(groupIds)) return groupIds;
  const { state } = call.context;
  const memberOf = groupIds.filter((id) => {
    const group = state.groupById(id);
    return group !== undefined && state.isMember(group, user.id);
  });
  return jsonResponse(200, { '@odata.context': metadata(call.version, 'Collection(Edm.String)'), value: memberOf });
}

function getMemberGroups(call: GraphCall): SimResponse {
  const user = findUser(call);
  if ('status' in user) return user;
  const { state } = call.context;
  const value = state.groups.filter((group) => state.isMember(group, user.id)).map((group) => group.id);
  return jsonResponse(200, { '@odata.context': metadata(call.version, 'Collection(Edm.String)'), value });
}

function memberOf(call: GraphCall): SimResponse {
  queryOptions(call.request, ['$select', '$top', '$skiptoken']);
  const user = findUser(call);
  if ('status' in user) return user;
  const { state } = call.context;
  const selected = selection(call.request, GROUP_DEFAULT_PROPERTIES, GROUP_DEFAULT_PROPERTIES, 'microsoft.graph.group');
  const groups = state.groups.filter((group) => state.isMember(group, user.id));
  const page = paginate(groups, call.request, { defaultTop: 100, maxTop: 999 });
  return collection(call, 'directoryObjects', {
    ...page,
    items: page.items.map((group) => ({ '@odata.type': '#microsoft.graph.group', ...project(graphGroup(group), selected.properties) })),
  });
}

function listGroups(call: GraphCall): SimResponse {
  const query = queryOptions(call.request, ['$select', '$filter', '$top', '$skiptoken', '$orderby', '$count', '$search']);
  const { state } = call.context;
  const selected = selection(call.request, GROUP_DEFAULT_PROPERTIES, GROUP_DEFAULT_PROPERTIES, 'microsoft.graph.group');
  const searched = applySearch([...state.groups], query.get('$search'), ['displayName', 'mailNickname', 'description'], graphGroup);
  const matching = orderBy(applyFilter(searched, query.get('$filter'), GROUP_FILTER, graphGroup), call.request, ['displayName'], graphGroup);
  const count = countRequested(call) ? matching.length : undefined;
  const page = paginate(matching, call.request, { defaultTop: 100, maxTop: 999 });
  return collection(
    call,
    selectFragment('groups', selected),
    { ...page, items: page.items.map((group) => project(graphGroup(group), selected.properties)) },
    count,
  );
}

function findGroup(call: GraphCall): FixtureGroup | SimResponse {
  const id = call.params.group as string;
  return call.context.state.groupById(id) ?? notFound(call, id);
}

function getGroup(call: GraphCall): SimResponse {
  queryOptions(call.request, ['$select']);
  const group = findGroup(call);
  if ('status' in group) return group;
  const selected = selection(call.request, GROUP_DEFAULT_PROPERTIES, GROUP_DEFAULT_PROPERTIES, 'microsoft.graph.group');
  return jsonResponse(200, {
    '@odata.context': metadata(call.version, `${selectFragment('groups', selected)}/$entity`),
    ...project(graphGroup(group), selected.properties),
  });
}

function memberEntity(state: TenantState, member: FixtureUser | FixtureGroup, selected: { properties: string[] }): Record<string, unknown> {
  if ('members' in member) return { '@odata.type': '#microsoft.graph.group', ...project(graphGroup(member), GROUP_DEFAULT_PROPERTIES.filter((p) => selected.properties.includes(p) || p === 'id')) };
  return { '@odata.type': '#microsoft.graph.user', ...project(graphUser(state, member), selected.properties) };
}

/** `/members` lists direct members (users and nested groups); `/transitiveMembers` flattens nested groups. */
function groupMembers(call: GraphCall, transitive: boolean): SimResponse {
  queryOptions(call.request, ['$select', '$top', '$skiptoken', '$count']);
  const group = findGroup(call);
  if ('status' in group) return group;
  const { state } = call.context;
  const selected = selection(call.request, USER_SELECTABLE, USER_DEFAULT_PROPERTIES, 'microsoft.graph.user');
  const members = transitive
    ? state.transitiveMemberIds(group).map((id) => state.userById(id) ?? state.groupById(id)).filter((m): m is FixtureUser | FixtureGroup => m !== undefined)
    : state.directMembers(group);
  const count = countRequested(call) ? members.length : undefined;
  const page = paginate(members, call.request, { defaultTop: 100, maxTop: 999 });
  return collection(call, 'directoryObjects', { ...page, items: page.items.map((member) => memberEntity(state, member, selected)) }, count);
}

function securityDefaults(context: GraphContext): Record<string, unknown> {
  return {
    id: '00000000-0000-0000-0000-000000000005',
    displayName: 'Security Defaults',
    description:
      'Security defaults is a set of basic identity security mechanisms recommended by Microsoft. When enabled, these recommendations will be automatically enforced in your organization. Administrators and users will be better protected from common identity related attacks.',
    isEnabled: context.state.org.securityDefaultsEnabled,
  };
}

function getSecurityDefaults(call: GraphCall): SimResponse {
  return jsonResponse(200, {
    '@odata.context': metadata(call.version, 'policies/identitySecurityDefaultsEnforcementPolicy/$entity'),
    ...securityDefaults(call.context),
  });
}

/**
 * Entra will not turn security defaults on while the tenant has Conditional Access policies, in
 * any state (Microsoft 365 docs, "Revert to security defaults from Conditional Access policies":
 * "If one or more Conditional Access policies exist in any state (Off, On, or Report only), you
 * can't turn on security defaults"). The wording is the one Entra shows for it; Graph's status and
 * code for the refusal are not documented, so 400 BadRequest (Graph's code for a request the
 * service will not carry out as sent) is an assumption — see README.md.
 */
export const SECURITY_DEFAULTS_CONDITIONAL_ACCESS_REFUSAL =
  'Your organization is currently using Conditional Access policies which prevents you from enabling security defaults. You can use Conditional Access to configure custom policies that enable the same behavior provided by security defaults.';

function patchSecurityDefaults(call: GraphCall): SimResponse {
  const body = readJson(call.request);
  const value = body.ok ? body.value : undefined;
  const keys = value !== null && typeof value === 'object' ? Object.keys(value) : [];
  const isEnabled = (value as { isEnabled?: unknown } | undefined)?.isEnabled;
  if (typeof isEnabled !== 'boolean' || keys.some((key) => key !== 'isEnabled')) {
    return graphError(call.context, 400, 'BadRequest', "Invalid request body: only 'isEnabled' (true or false) can be updated.");
  }
  const { state } = call.context;
  if (isEnabled && !state.org.securityDefaultsEnabled && state.conditionalAccessPolicies.length > 0) {
    return graphError(call.context, 400, 'BadRequest', SECURITY_DEFAULTS_CONDITIONAL_ACCESS_REFUSAL);
  }
  state.setSecurityDefaultsEnabled(isEnabled);
  return { status: 204 };
}

function listConditionalAccessPolicies(call: GraphCall): SimResponse {
  queryOptions(call.request, []);
  return jsonResponse(200, {
    '@odata.context': metadata(call.version, 'identity/conditionalAccess/policies'),
    value: structuredClone(call.context.state.conditionalAccessPolicies),
  });
}

function getConditionalAccessPolicy(call: GraphCall): SimResponse {
  const id = (call.params.policy as string).toLowerCase();
  const policy = call.context.state.conditionalAccessPolicies.find((candidate) => candidate.id.toLowerCase() === id);
  if (!policy) return notFound(call, call.params.policy as string);
  return jsonResponse(200, {
    '@odata.context': metadata(call.version, 'identity/conditionalAccess/policies/$entity'),
    ...structuredClone(policy),
  });
}

function getAuthenticationRequirements(call: GraphCall): SimResponse {
  const user = findUser(call);
  if ('status' in user) return user;
  return jsonResponse(200, {
    '@odata.context': metadata(call.version, `users('${user.id}')/authentication/requirements/$entity`),
    perUserMfaState: user.perUserMfaState,
  });
}

function patchAuthenticationRequirements(call: GraphCall): SimResponse {
  const user = findUser(call);
  if ('status' in user) return user;
  const body = readJson(call.request);
  const value = body.ok ? body.value : undefined;
  const keys = value !== null && typeof value === 'object' && !Array.isArray(value) ? Object.keys(value) : [];
  const requested = (value as { perUserMfaState?: unknown } | undefined)?.perUserMfaState;
  if (requested !== 'disabled' && requested !== 'enabled' && requested !== 'enforced') {
    return graphError(call.context, 400, 'BadRequest', "Invalid value for 'perUserMfaState': expected 'disabled', 'enabled' or 'enforced'.");
  }
  if (keys.some((key) => key !== 'perUserMfaState' && key !== '@odata.type')) {
    return graphError(call.context, 400, 'BadRequest', "Invalid request body: only 'perUserMfaState' can be updated on strongAuthenticationRequirements.");
  }
  // Graph: "When you update a user's MFA state to enabled and the user has already registered an
  // MFA method, their state changes automatically to enforced."
  const next = requested === 'enabled' && user.isMfaRegistered === true ? 'enforced' : requested;
  call.context.state.setPerUserMfaState(user, next);
  return { status: 204 };
}

function listSignIns(call: GraphCall): SimResponse {
  const query = queryOptions(call.request, ['$filter', '$top', '$skiptoken', '$orderby', '$select']);
  const { state } = call.context;
  // Sign-in logs need Microsoft Entra ID P1 or P2; Graph refuses tenants without it.
  if (!state.tenant.entraP1) {
    return graphError(call.context, 403, 'Authentication_RequestFromNonPremiumTenantOrB2CTenant', "Neither tenant is B2C or tenant doesn't have premium license");
  }
  const orderby = query.get('$orderby');
  if (orderby !== null && !/^\s*createdDateTime(\s+desc)?\s*$/i.test(orderby)) {
    throw new GraphQueryError(400, 'Request_UnsupportedQuery', 'Unsupported Query.');
  }
  const selected = selection(call.request, SIGN_IN_SELECTABLE, SIGN_IN_SELECTABLE, 'microsoft.graph.signIn');
  const matching = applyFilter(graphSignIns(state), query.get('$filter'), SIGN_IN_FILTER, (signIn) => signIn);
  const page = paginate(matching, call.request, { defaultTop: 1000, maxTop: 1000 });
  return collection(call, selectFragment('auditLogs/signIns', selected), {
    ...page,
    items: selected.explicit ? page.items.map((signIn) => project(signIn, selected.properties)) : page.items,
  });
}

function listOrganization(call: GraphCall): SimResponse {
  const { state } = call.context;
  const initial = state.initialDomain.toLowerCase();
  const defaultDomain = state.tenant.domains.find((domain) => domain.toLowerCase() !== initial) ?? state.initialDomain;
  return jsonResponse(200, {
    '@odata.context': metadata(call.version, 'organization'),
    value: [
      {
        id: state.tenant.id,
        displayName: state.tenant.displayName,
        tenantType: 'AAD',
        verifiedDomains: state.tenant.domains.map((name) => ({
          capabilities: 'Email, OfficeCommunicationsOnline',
          isDefault: name === defaultDomain,
          isInitial: name.toLowerCase() === initial,
          name,
          type: 'Managed',
        })),
      },
    ],
  });
}

interface GraphRoute {
  method: string;
  pattern: string;
  versions?: Version[];
  /** Application permissions any one of which lets a token through (Graph's permissions reference for the call). */
  permissions: readonly string[];
  /** How Graph words the 403 for this call, when it is not the generic Authorization_RequestDenied. */
  denied?: (missing: readonly string[]) => { code: string; message: string };
  handle(call: GraphCall): SimResponse;
}

const USER_READ = ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const GROUP_READ = ['GroupMember.Read.All', 'Group.Read.All', 'Group.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const POLICY_READ = ['Policy.Read.All', 'Policy.ReadWrite.ConditionalAccess', 'Policy.ReadWrite.SecurityDefaults'];
// Per-user MFA of another user (beta authentication-get / authentication-update, "Permissions
// acting on others"): read with Policy.Read.All, write only with Policy.ReadWrite.AuthenticationMethod.
const PER_USER_MFA_READ = ['Policy.Read.All', 'Policy.ReadWrite.AuthenticationMethod'];
const PER_USER_MFA_WRITE = ['Policy.ReadWrite.AuthenticationMethod'];
// Update identitySecurityDefaultsEnforcementPolicy: Policy.ReadWrite.SecurityDefaults, or the wider
// Policy.ReadWrite.ConditionalAccess (the docs also list Policy.Read.All, which cannot write).
const SECURITY_DEFAULTS_WRITE = ['Policy.ReadWrite.SecurityDefaults', 'Policy.ReadWrite.ConditionalAccess'];
const AUDIT_READ = ['AuditLog.Read.All'];
const ORGANIZATION_READ = ['Organization.Read.All', 'Organization.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];

const GRAPH_ROUTES: GraphRoute[] = [
  { method: 'GET', pattern: '/users', permissions: USER_READ, handle: listUsers },
  { method: 'GET', pattern: '/users/{user}', permissions: USER_READ, handle: getUser },
  { method: 'POST', pattern: '/users/{user}/checkMemberGroups', permissions: GROUP_READ, handle: checkMemberGroups },
  { method: 'POST', pattern: '/users/{user}/getMemberGroups', permissions: GROUP_READ, handle: getMemberGroups },
  { method: 'GET', pattern: '/users/{user}/memberOf', permissions: GROUP_READ, handle: memberOf },
  { method: 'GET', pattern: '/users/{user}/authentication/requirements', versions: ['beta'], permissions: PER_USER_MFA_READ, handle: getAuthenticationRequirements },
  { method: 'PATCH', pattern: '/users/{user}/authentication/requirements', versions: ['beta'], permissions: PER_USER_MFA_WRITE, handle: patchAuthenticationRequirements },
  { method: 'GET', pattern: '/groups', permissions: GROUP_READ, handle: listGroups },
  { method: 'GET', pattern: '/groups/{group}', permissions: GROUP_READ, handle: getGroup },
  { method: 'GET', pattern: '/groups/{group}/members', permissions: GROUP_READ, handle: (call) => groupMembers(call, false) },
  { method: 'GET', pattern: '/groups/{group}/transitiveMembers', permissions: GROUP_READ, handle: (call) => groupMembers(call, true) },
  { method: 'GET', pattern: '/policies/identitySecurityDefaultsEnforcementPolicy', permissions: POLICY_READ, handle: getSecurityDefaults },
  { method: 'PATCH', pattern: '/policies/identitySecurityDefaultsEnforcementPolicy', permissions: SECURITY_DEFAULTS_WRITE, handle: patchSecurityDefaults },
  { method: 'GET', pattern: '/identity/conditionalAccess/policies', permissions: POLICY_READ, handle: listConditionalAccessPolicies },
  { method: 'GET', pattern: '/identity/conditionalAccess/policies/{policy}', permissions: POLICY_READ, handle: getConditionalAccessPolicy },
  {
    method: 'GET',
    pattern: '/auditLogs/signIns',
    permissions: AUDIT_READ,
    // The sign-in log names the missing permission in its 403, unlike the directory.
    denied: () => ({ code: 'Authentication_MSGraphPermissionMissing', message: 'Calling principal does not have required MSGraph permissions AuditLog.Read.All' }),
    handle: listSignIns,
  },
  { method: 'GET', pattern: '/organization', permissions: ORGANIZATION_READ, handle: listOrganization },
];

const routeTable = new RouteTable<GraphCall>(
  GRAPH_ROUTES.map((route) => ({
    method: route.method,
    pattern: route.pattern,
    handle: (_request, params, call) => {
      if (route.versions && !route.versions.includes(call.version)) {
        const segment = route.pattern.split('/').pop() as string;
        return graphError(call.context, 400, 'BadRequest', `Resource not found for the segment '${segment}'.`);
      }
      if (!route.permissions.some((permission) => call.roles.includes(permission))) {
        const denied = route.denied?.(route.permissions) ?? { code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' };
        return graphError(call.context, 403, denied.code, denied.message);
      }
      return route.handle({ ...call, params });
    },
  })),
);

const TOKEN_MESSAGES: Record<TokenRejection, string> = {
  empty: 'Access token is empty.',
  malformed:
    "IDX14100: JWT is not well formed, there are no dots (.).\nThe token needs to be in JWS or JWE Compact Serialization Format. (JWS): 'EncodedHeader.EncodedPayload.EncodedSignature'. (JWE): 'EncodedProtectedHeader.EncodedEncryptedKey.EncodedInitializationVector.EncodedCiphertext.EncodedAuthenticationTag'.",
  signature: 'Access token validation failure.',
  expired: 'Lifetime validation failed, the token is expired.',
  notYetValid: 'Lifetime validation failed, the token is not yet valid.',
  audience: 'Access token validation failure. Invalid audience.',
  tenant: 'Access token validation failure. Invalid issuer.',
};

export function isGraphPath(path: string): boolean {
  return /^\/(v1\.0|beta)(\/|$)/i.test(path);
}

function withGraphHeaders(response: SimResponse, context: GraphContext): SimResponse {
  return {
    ...response,
    headers: {
      ...(response.json !== undefined ? { 'Content-Type': GRAPH_CONTENT_TYPE } : {}),
      'OData-Version': '4.0',
      'request-id': context.requestId,
      'client-request-id': context.clientRequestId,
      ...response.headers,
    },
  };
}

export async function handleGraph(request: SimRequest, context: GraphContext): Promise<SimResponse> {
  return withGraphHeaders(await routeGraph(request, context), context);
}

async function routeGraph(request: SimRequest, context: GraphContext): Promise<SimResponse> {
  const versionMatch = /^\/(v1\.0|beta)(\/.*)?$/i.exec(request.url.pathname);
  const version = (versionMatch?.[1]?.toLowerCase() === 'beta' ? 'beta' : 'v1.0') as Version;
  const rest = versionMatch?.[2] ?? '/';

  const check = await context.authority.check(bearerToken(header(request, 'authorization')), {
    audience: GRAPH_RESOURCE,
    tenantId: context.state.tenant.id,
    now: context.now,
  });
  if (!check.ok) {
    return graphError(context, 401, 'InvalidAuthenticationToken', TOKEN_MESSAGES[check.reason], {
      'WWW-Authenticate':
        'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"',
    });
  }

  const roles = Array.isArray(check.claims.roles) ? (check.claims.roles as unknown[]).filter((r): r is string => typeof r === 'string') : [];
  if (request.method === 'POST' && /^\/\$batch\/?$/.test(rest)) return batch(request, context, version);
  return routeAuthenticated(request, context, version, rest, roles);
}

async function routeAuthenticated(request: SimRequest, context: GraphContext, version: Version, rest: string, roles: readonly string[]): Promise<SimResponse> {
  const call: GraphCall = { request, params: {}, context, version, roles };
  const match = routeTable.match(request.method, rest);
  if (!match.found) {
    if (match.methodNotAllowed) {
      return graphError(context, 405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.');
    }
    return graphError(
      context,
      501,
      'NotImplemented',
      `The tenant simulator does not implement ${request.method} /${version}${rest}. Add it to src/simulator/graph.ts if SMTP Gate needs it.`,
    );
  }
  try {
    return await match.route.handle(request, match.params, call);
  } catch (error) {
    if (error instanceof GraphQueryError) return graphError(context, error.status, error.code, error.message);
    throw error;
  }
}

export function graphFault(rule: FaultRule, context: GraphContext): SimResponse {
  const status = rule.status ?? 503;
  const [code, message] =
    status === 429
      ? ['TooManyRequests', 'Too many requests. Retry after the number of seconds in the Retry-After header.']
      : status === 503
        ? ['ServiceNotAvailable', 'The service is temporarily unavailable. Try again later.']
        : status === 504
          ? ['GatewayTimeout', 'The gateway did not receive a response in time.']
          : status >= 500
            ? ['InternalServerError', 'An internal server error occurred.']
            : ['BadRequest', 'Simulated failure injected through /_simulator/faults.'];
  const headers = retryAfterHeader(rule, context.now);
  return withGraphHeaders(graphError(context, status, code, message, headers), context);
}

// ----- JSON batching -----------------------------------------------------------------------

/** Graph's documented limit on the number of requests in one `$batch`. */
export const GRAPH_BATCH_LIMIT = 20;

interface BatchItem {
  id: string;
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
}

function parseBatch(request: SimRequest): { ok: true; items: BatchItem[] } | { ok: false; message: string } {
  const body = readJson(request);
  const requests = body.ok ? (body.value as { requests?: unknown } | null)?.requests : undefined;
  if (!Array.isArray(requests)) return { ok: false, message: "Invalid batch payload format: the body must be an object with a 'requests' array." };
  if (requests.length > GRAPH_BATCH_LIMIT) {
    return { ok: false, message: `Number of requests in the batch (${requests.length}) exceeds the limit of ${GRAPH_BATCH_LIMIT}.` };
  }
  const ids = new Set<string>();
  for (const item of requests as Partial<BatchItem>[]) {
    if (typeof item?.id !== 'string' || item.id === '' || typeof item.method !== 'string' || typeof item.url !== 'string') {
      return { ok: false, message: "Invalid batch payload format: every request needs 'id', 'method' and 'url'." };
    }
    if (ids.has(item.id)) return { ok: false, message: `Batch request ids must be unique; '${item.id}' is repeated.` };
    ids.add(item.id);
    if (item.body !== undefined && !Object.keys(item.headers ?? {}).some((name) => name.toLowerCase() === 'content-type')) {
      return { ok: false, message: `Request '${item.id}' has a body but no Content-Type header.` };
    }
    if (/^https?:/i.test(item.url) || /^\/?(v1\.0|beta)\//i.test(item.url)) {
      return { ok: false, message: `Request '${item.id}': the url must be relative to the batch endpoint's version, such as '/users/{id}'.` };
    }
  }
  return { ok: true, items: requests as BatchItem[] };
}

/**
 * `POST /$batch`: up to 20 requests answered one by one, each with its own status, headers and
 * body. A throttled item answers 429 with its own Retry-After while its neighbours succeed; the
 * Graph SDK does not retry items for the caller.
 */
async function batch(request: SimRequest, context: GraphContext, version: Version): Promise<SimResponse> {
  const parsed = parseBatch(request);
  if (!parsed.ok) return graphError(context, 400, 'BadRequest', parsed.message);
  const responses = [];
  for (const item of parsed.items) {
    const target = `/${version}${item.url.startsWith('/') ? '' : '/'}${item.url}`;
    const headers: Record<string, string> = { authorization: header(request, 'authorization') ?? '' };
    for (const [name, value] of Object.entries(item.headers ?? {})) headers[name.toLowerCase()] = value;
    const inner: SimRequest = {
      method: item.method.toUpperCase(),
      target,
      url: new URL(target, request.origin),
      headers,
      body: item.body === undefined ? Buffer.alloc(0) : Buffer.from(typeof item.body === 'string' ? item.body : JSON.stringify(item.body), 'utf8'),
      origin: request.origin,
    };
    const record = context.calls?.start({ at: context.now.toISOString(), service: 'graph', method: inner.method, path: target, cmdlet: null, parameters: { $batch: item.id } });
    const rule = context.faults?.take('graph', inner.url.pathname, null);
    const answer = rule && !rule.drop ? graphFault(rule, context) : await handleGraph(inner, context);
    if (record) record.status = answer.status;
    const answerHeaders: Record<string, string> = {};
    for (const [name, value] of Object.entries(answer.headers ?? {})) {
      if (!/^(request-id|client-request-id|odata-version)$/i.test(name)) answerHeaders[name] = value;
    }
    responses.push({ id: item.id, status: answer.status, headers: answerHeaders, body: answer.json ?? null });
  }
  return jsonResponse(200, { responses });
}
