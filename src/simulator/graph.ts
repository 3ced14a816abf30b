import type { FaultRule } from './faults';
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
}

type Version = 'v1.0' | 'beta';

interface GraphCall {
  request: SimRequest;
  params: Record<string, string>;
  context: GraphContext;
  version: Version;
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
  properties: { id: 'string', displayName: 'string', mailNickname: 'string', securityEnabled: 'boolean', mailEnabled: 'boolean' },
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
  const query = queryOptions(call.request, ['$select', '$filter', '$top', '$skiptoken', '$orderby', '$count']);
  const { state } = call.context;
  const selected = selection(call.request, USER_SELECTABLE, USER_DEFAULT_PROPERTIES, 'microsoft.graph.user');
  const toEntity = (user: FixtureUser): Record<string, unknown> => graphUser(state, user);
  const matching = orderBy(applyFilter([...state.users], query.get('$filter'), USER_FILTER, toEntity), call.request, ['displayName', 'userPrincipalName'], toEntity);
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
  const query = queryOptions(call.request, ['$select', '$filter', '$top', '$skiptoken', '$orderby', '$count']);
  const { state } = call.context;
  const selected = selection(call.request, GROUP_DEFAULT_PROPERTIES, GROUP_DEFAULT_PROPERTIES, 'microsoft.graph.group');
  const matching = orderBy(applyFilter([...state.groups], query.get('$filter'), GROUP_FILTER, graphGroup), call.request, ['displayName'], graphGroup);
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

function groupMembers(call: GraphCall): SimResponse {
  queryOptions(call.request, ['$select', '$top', '$skiptoken', '$count']);
  const group = findGroup(call);
  if ('status' in group) return group;
  const { state } = call.context;
  const selected = selection(call.request, USER_SELECTABLE, USER_DEFAULT_PROPERTIES, 'microsoft.graph.user');
  const members = group.members.map((id) => state.userById(id)).filter((user): user is FixtureUser => user !== undefined);
  const count = countRequested(call) ? members.length : undefined;
  const page = paginate(members, call.request, { defaultTop: 100, maxTop: 999 });
  return collection(
    call,
    'directoryObjects',
    {
      ...page,
      items: page.items.map((user) => ({ '@odata.type': '#microsoft.graph.user', ...project(graphUser(state, user), selected.properties) })),
    },
    count,
  );
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

function patchSecurityDefaults(call: GraphCall): SimResponse {
  const body = readJson(call.request);
  const value = body.ok ? body.value : undefined;
  const keys = value !== null && typeof value === 'object' ? Object.keys(value) : [];
  const isEnabled = (value as { isEnabled?: unknown } | undefined)?.isEnabled;
  if (typeof isEnabled !== 'boolean' || keys.some((key) => key !== 'isEnabled')) {
    return graphError(call.context, 400, 'BadRequest', "Invalid request body: only 'isEnabled' (true or false) can be updated.");
  }
  call.context.state.setSecurityDefaultsEnabled(isEnabled);
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
  const state = body.ok ? (body.value as { perUserMfaState?: unknown } | null)?.perUserMfaState : undefined;
  if (state !== 'disabled' && state !== 'enabled' && state !== 'enforced') {
    return graphError(call.context, 400, 'BadRequest', "Invalid value for 'perUserMfaState': expected 'disabled', 'enabled' or 'enforced'.");
  }
  call.context.state.setPerUserMfaState(user, state);
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
  handle(call: GraphCall): SimResponse;
}

const GRAPH_ROUTES: GraphRoute[] = [
  { method: 'GET', pattern: '/users', handle: listUsers },
  { method: 'GET', pattern: '/users/{user}', handle: getUser },
  { method: 'POST', pattern: '/users/{user}/checkMemberGroups', handle: checkMemberGroups },
  { method: 'POST', pattern: '/users/{user}/getMemberGroups', handle: getMemberGroups },
  { method: 'GET', pattern: '/users/{user}/memberOf', handle: memberOf },
  { method: 'GET', pattern: '/users/{user}/authentication/requirements', versions: ['beta'], handle: getAuthenticationRequirements },
  { method: 'PATCH', pattern: '/users/{user}/authentication/requirements', versions: ['beta'], handle: patchAuthenticationRequirements },
  { method: 'GET', pattern: '/groups', handle: listGroups },
  { method: 'GET', pattern: '/groups/{group}', handle: getGroup },
  { method: 'GET', pattern: '/groups/{group}/members', handle: groupMembers },
  { method: 'GET', pattern: '/groups/{group}/transitiveMembers', handle: groupMembers },
  { method: 'GET', pattern: '/policies/identitySecurityDefaultsEnforcementPolicy', handle: getSecurityDefaults },
  { method: 'PATCH', pattern: '/policies/identitySecurityDefaultsEnforcementPolicy', handle: patchSecurityDefaults },
  { method: 'GET', pattern: '/identity/conditionalAccess/policies', handle: listConditionalAccessPolicies },
  { method: 'GET', pattern: '/identity/conditionalAccess/policies/{policy}', handle: getConditionalAccessPolicy },
  { method: 'GET', pattern: '/auditLogs/signIns', handle: listSignIns },
  { method: 'GET', pattern: '/organization', handle: listOrganization },
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

  const call: GraphCall = { request, params: {}, context, version };
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
  const headers: Record<string, string> = {};
  if (rule.retryAfterSeconds !== undefined) headers['Retry-After'] = String(rule.retryAfterSeconds);
  return withGraphHeaders(graphError(context, status, code, message, headers), context);
}
