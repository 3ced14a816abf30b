import type { AppRegistration } from './app';
import { retryAfterHeader, type FaultRule } from './faults';
import { OTHER_BASIC_AUTH_PROTOCOLS, type FixtureAuthenticationPolicy, type FixtureUser } from './fixture';
import { header, jsonResponse, readJson, type SimRequest, type SimResponse } from './http';
import type { TenantState } from './state';
import { bearerToken, deterministicGuid, EXCHANGE_RESOURCE, type TokenAuthority, type TokenRejection } from './tokens';

// The Exchange Online admin API that ExchangeOnlineManagement v3 uses under the hood:
// POST /adminapi/beta/{tenant}/InvokeCommand with {"CmdletInput":{"CmdletName","Parameters"}}.
// Microsoft does not document it; src/simulator/README.md says where each shape below comes from.

export interface ExchangeContext {
  state: TenantState;
  authority: TokenAuthority;
  app: AppRegistration;
  now: Date;
  requestId: string;
  clientRequestId: string;
}

export interface CmdletInvocation {
  cmdlet: string | null;
  parameters: Record<string, unknown> | null;
}

const ODATA_CONTENT_TYPE = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';
// The domain controller Exchange names in "couldn't be found on '…'" messages.
const DOMAIN_CONTROLLER = 'SIMPR01A001DC001.SIMPR01A001.PROD.OUTLOOK.COM';
const DEFAULT_RESULT_SIZE = 1000;
const DEFAULT_PAGE_SIZE = 1000;

interface ExchangeFailure {
  status: number;
  code: string;
  /** Exchange's error id (`Ex6F9304`); empty for errors PowerShell raises itself. */
  errorId: string;
  exceptionType: string;
  message: string;
}

/**
 * The envelope InvokeCommand answers a failed cmdlet with: a generic `error.message`, and the
 * cmdlet's own error in `error.details[].message` as `errorId|exceptionType|message`.
 */
function exchangeErrorBody(failure: ExchangeFailure): Record<string, unknown> {
  return {
    error: {
      code: failure.code,
      message: 'Error executing cmdlet',
      details: [{ code: 'Client', target: '', message: `${failure.errorId}|${failure.exceptionType}|${failure.message}` }],
      innererror: {
        message: 'Error executing cmdlet',
        type: 'Microsoft.Exchange.Admin.OData.Core.ODataServiceException',
        stacktrace: '',
      },
    },
  };
}

function failureResponse(failure: ExchangeFailure): SimResponse {
  return jsonResponse(failure.status, exchangeErrorBody(failure));
}

function objectNotFound(identity: string): ExchangeFailure {
  return {
    status: 404,
    code: 'NotFound',
    errorId: 'Ex6F9304',
    exceptionType: 'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException',
    message: `The operation couldn't be performed because object '${identity}' couldn't be found on '${DOMAIN_CONTROLLER}'.`,
  };
}

function objectAmbiguous(identity: string): ExchangeFailure {
  return {
    status: 400,
    code: 'BadRequest',
    errorId: '',
    exceptionType: 'Microsoft.Exchange.Configuration.Tasks.ManagementObjectAmbiguousException',
    message: `The operation couldn't be performed because '${identity}' matches multiple entries.`,
  };
}

function bindingFailure(message: string): ExchangeFailure {
  return {
    status: 400,
    code: 'BadRequest',
    errorId: '',
    exceptionType: 'System.Management.Automation.ParameterBindingException',
    message,
  };
}

// ----- parameters ----------------------------------------------------------------------------

type ParameterType = 'identity' | 'string' | 'stringOrNull' | 'boolean' | 'booleanOrNull' | 'resultSize' | 'common';

// PowerShell's common parameters: every cmdlet accepts them and they change nothing here.
const COMMON_PARAMETERS: Record<string, ParameterType> = {
  ErrorAction: 'common',
  WarningAction: 'common',
  InformationAction: 'common',
  Verbose: 'common',
  Debug: 'common',
};

const BOOLEAN_HINT = 'Boolean parameters accept only Boolean values and numbers, such as $True, $False, 1 or 0.';

function bindParameters(
  definition: CmdletDefinition,
  supplied: Record<string, unknown>,
): { ok: true; values: Record<string, unknown> } | { ok: false; failure: ExchangeFailure } {
  const declared: Record<string, ParameterType> = { ...COMMON_PARAMETERS, ...definition.parameters };
  const values: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(supplied)) {
    // PowerShell parameter names are case-insensitive.
    const canonical = Object.keys(declared).find((candidate) => candidate.toLowerCase() === name.toLowerCase());
    if (!canonical) return { ok: false, failure: bindingFailure(`A parameter cannot be found that matches parameter name '${name}'.`) };
    const type = declared[canonical] as ParameterType;
    switch (type) {
      case 'common':
        break;
      case 'identity':
      case 'string':
        if (typeof value !== 'string' || value.trim() === '') {
          return {
            ok: false,
            failure: bindingFailure(
              value === null || value === ''
                ? `Cannot bind argument to parameter '${canonical}' because it is null.`
                : `Cannot bind parameter '${canonical}'. Cannot convert the "${JSON.stringify(value)}" value of type "${jsonTypeName(value)}" to type "System.String".`,
            ),
          };
        }
        values[canonical] = value;
        break;
      case 'stringOrNull':
        // `-AuthenticationPolicy $null` arrives as JSON null and clears the value.
        if (value === null) {
          values[canonical] = null;
        } else if (typeof value === 'string' && value.trim() !== '') {
          values[canonical] = value;
        } else {
          return {
            ok: false,
            failure: bindingFailure(
              `Cannot bind parameter '${canonical}'. Cannot convert the "${JSON.stringify(value)}" value of type "${jsonTypeName(value)}" to type "System.String".`,
            ),
          };
        }
        break;
      case 'boolean':
      case 'booleanOrNull':
        if (value === null && type === 'booleanOrNull') {
          values[canonical] = null;
        } else if (typeof value === 'boolean') {
          values[canonical] = value;
        } else {
          return {
            ok: false,
            failure: bindingFailure(
              `Cannot process argument transformation on parameter '${canonical}'. Cannot convert value "${String(value)}" to type "System.Boolean". ${BOOLEAN_HINT}`,
            ),
          };
        }
        break;
      case 'resultSize':
        if (typeof value === 'string' && value.toLowerCase() === 'unlimited') values[canonical] = Number.POSITIVE_INFINITY;
        else if (typeof value === 'number' && Number.isInteger(value) && value > 0) values[canonical] = value;
        else {
          return {
            ok: false,
            failure: bindingFailure(`Cannot bind parameter '${canonical}'. Cannot convert value "${String(value)}" to type "Microsoft.Exchange.Data.Unlimited\`1[System.UInt32]".`),
          };
        }
        break;
    }
  }
  const missing = (definition.mandatory ?? []).filter((name) => !(name in values));
  if (missing.length > 0) {
    return { ok: false, failure: bindingFailure(`Cannot process command because of one or more missing mandatory parameters: ${missing.join(' ')}.`) };
  }
  return { ok: true, values };
}

function jsonTypeName(value: unknown): string {
  if (Array.isArray(value)) return 'System.Object[]';
  if (typeof value === 'number') return 'System.Int32';
  if (typeof value === 'boolean') return 'System.Boolean';
  return 'System.Collections.Hashtable';
}

// ----- cmdlets -------------------------------------------------------------------------------

type CmdletOutcome = { ok: true; value: Record<string, unknown>[]; warnings?: string[] } | { ok: false; failure: ExchangeFailure };

interface CmdletDefinition {
  name: string;
  /** Exchange management roles any one of which includes the cmdlet (Exchange's "permissions required" tables). */
  roles: readonly string[];
  parameters: Record<string, ParameterType>;
  /**
   * Parameters that need a management role of their own. Exchange RBAC hides a parameter the
   * caller's roles do not include, so PowerShell answers as for a parameter that does not exist.
   */
  parameterRoles?: Record<string, readonly string[]>;
  mandatory?: string[];
  run(state: TenantState, parameters: Record<string, unknown>): CmdletOutcome;
}

function resolveMailbox(state: TenantState, identity: string): FixtureUser | ExchangeFailure {
  const resolved = state.resolveRecipient(identity, { mailboxOnly: true });
  if (resolved.kind === 'notFound') return objectNotFound(identity);
  if (resolved.kind === 'ambiguous') return objectAmbiguous(identity);
  return resolved.value;
}

function isFailure(value: object): value is ExchangeFailure {
  return 'exceptionType' in value;
}

function distinguishedName(state: TenantState, user: FixtureUser): string {
  return `CN=${state.alias(user)},OU=${state.initialDomain},OU=Microsoft Exchange Hosted Organizations,DC=SIMPR01A001,DC=PROD,DC=OUTLOOK,DC=COM`;
}

function casMailbox(state: TenantState, user: FixtureUser): Record<string, unknown> {
  const alias = state.alias(user);
  return {
    Identity: alias,
    Name: alias,
    DisplayName: user.displayName,
    DistinguishedName: distinguishedName(state, user),
    PrimarySmtpAddress: state.primarySmtpAddress(user),
    'EmailAddresses@odata.type': '#Collection(String)',
    EmailAddresses: state.smtpAddresses(user).map((address, index) => `${index === 0 ? 'SMTP' : 'smtp'}:${address}`),
    ExternalDirectoryObjectId: user.id,
    'Guid@odata.type': '#Guid',
    Guid: deterministicGuid(`mailbox:${user.id}`),
    ActiveSyncEnabled: true,
    OWAEnabled: true,
    PopEnabled: true,
    ImapEnabled: true,
    MAPIEnabled: true,
    EwsEnabled: true,
    SmtpClientAuthenticationDisabled: user.mailbox?.smtpClientAuthenticationDisabled ?? null,
  };
}

function noChangeWarning(identity: string): string {
  return `The command completed successfully but no settings of '${identity}' have been modified.`;
}

function limitResults(items: Record<string, unknown>[], parameters: Record<string, unknown>): CmdletOutcome {
  const resultSize = (parameters.ResultSize as number | undefined) ?? DEFAULT_RESULT_SIZE;
  if (items.length <= resultSize) return { ok: true, value: items };
  const warnings =
    parameters.ResultSize === undefined
      ? [`By default, only the first ${DEFAULT_RESULT_SIZE} items are returned. Use the ResultSize parameter to specify the number of items returned. To return all items, specify "-ResultSize Unlimited". Be aware that, depending on the actual number of items, returning all items can take a long time and consume a large amount of memory. Also, we don't recommend storing the results in a variable. Instead, pipe the results to another task or script to perform batch changes.`]
      : [];
  return { ok: true, value: items.slice(0, resultSize), warnings };
}

// OPATH filters are a language of their own; the simulator understands the one question SMTP Gate asks.
const CAS_FILTER = /^\s*SmtpClientAuthenticationDisabled\s+-(eq|ne)\s+\$(true|false|null)\s*$/i;

const RECIPIENT_READ = ['Mail Recipients', 'View-Only Recipients'];
const CONFIGURATION_READ = ['Organization Configuration', 'View-Only Configuration'];

const CMDLETS: CmdletDefinition[] = [
  {
    name: 'Get-CASMailbox',
    roles: RECIPIENT_READ,
    parameters: { Identity: 'identity', Filter: 'string', ResultSize: 'resultSize' },
    run(state, parameters) {
      if (typeof parameters.Identity === 'string') {
        const user = resolveMailbox(state, parameters.Identity);
        if (isFailure(user)) return { ok: false, failure: user };
        return { ok: true, value: [casMailbox(state, user)] };
      }
      let mailboxes = state.users.filter((user) => user.mailbox !== null);
      if (typeof parameters.Filter === 'string') {
        const match = CAS_FILTER.exec(parameters.Filter);
        if (!match) {
          return {
            ok: false,
            failure: {
              status: 400,
              code: 'BadRequest',
              errorId: '',
              exceptionType: 'Microsoft.Exchange.Management.Tasks.ThrowTerminatingErrorException',
              message: `The tenant simulator understands only -Filter "SmtpClientAuthenticationDisabled -eq|-ne $true|$false|$null"; got "${parameters.Filter}".`,
            },
          };
        }
        const wanted = { true: true, false: false, null: null }[(match[2] as string).toLowerCase() as 'true' | 'false' | 'null'];
        const equal = (match[1] as string).toLowerCase() === 'eq';
        mailboxes = mailboxes.filter((user) => (user.mailbox?.smtpClientAuthenticationDisabled === wanted) === equal);
      }
      return limitResults(
        mailboxes.map((user) => casMailbox(state, user)),
        parameters,
      );
    },
  },
  {
    name: 'Set-CASMailbox',
    roles: ['Mail Recipients'],
    parameters: { Identity: 'identity', SmtpClientAuthenticationDisabled: 'booleanOrNull', Confirm: 'common' },
    mandatory: ['Identity'],
    run(state, parameters) {
      const user = resolveMailbox(state, parameters.Identity as string);
      if (isFailure(user)) return { ok: false, failure: user };
      const before = user.mailbox?.smtpClientAuthenticationDisabled ?? null;
      if (!('SmtpClientAuthenticationDisabled' in parameters) || parameters.SmtpClientAuthenticationDisabled === before) {
        return { ok: true, value: [], warnings: [noChangeWarning(state.alias(user))] };
      }
      state.setMailboxSmtpClientAuthenticationDisabled(user, parameters.SmtpClientAuthenticationDisabled as boolean | null);
      return { ok: true, value: [] };
    },
  },
  {
    name: 'Get-Mailbox',
    roles: RECIPIENT_READ,
    parameters: { Identity: 'identity', ResultSize: 'resultSize' },
    run(state, parameters) {
      const toMailbox = (user: FixtureUser): Record<string, unknown> => ({
        Identity: state.alias(user),
        Name: state.alias(user),
        Alias: state.alias(user),
        DisplayName: user.displayName,
        DistinguishedName: distinguishedName(state, user),
        PrimarySmtpAddress: state.primarySmtpAddress(user),
        UserPrincipalName: user.userPrincipalName,
        ExternalDirectoryObjectId: user.id,
        RecipientTypeDetails: 'UserMailbox',
        'Guid@odata.type': '#Guid',
        Guid: deterministicGuid(`mailbox:${user.id}`),
      });
      if (typeof parameters.Identity === 'string') {
        const user = resolveMailbox(state, parameters.Identity);
        if (isFailure(user)) return { ok: false, failure: user };
        return { ok: true, value: [toMailbox(user)] };
      }
      return limitResults(state.users.filter((user) => user.mailbox !== null).map(toMailbox), parameters);
    },
  },
  {
    name: 'Get-User',
    roles: RECIPIENT_READ,
    parameters: { Identity: 'identity', ResultSize: 'resultSize' },
    run(state, parameters) {
      const toUser = (user: FixtureUser): Record<string, unknown> => ({
        Identity: state.alias(user),
        Name: state.alias(user),
        DisplayName: user.displayName,
        UserPrincipalName: user.userPrincipalName,
        ExternalDirectoryObjectId: user.id,
        RecipientTypeDetails: user.mailbox === null ? 'User' : 'UserMailbox',
        AccountDisabled: !user.accountEnabled,
        AuthenticationPolicy: user.authenticationPolicy ?? null,
      });
      if (typeof parameters.Identity === 'string') {
        const resolved = state.resolveRecipient(parameters.Identity, { mailboxOnly: false });
        if (resolved.kind === 'notFound') return { ok: false, failure: objectNotFound(parameters.Identity) };
        if (resolved.kind === 'ambiguous') return { ok: false, failure: objectAmbiguous(parameters.Identity) };
        return { ok: true, value: [toUser(resolved.value)] };
      }
      return limitResults(state.users.map(toUser), parameters);
    },
  },
  {
    name: 'Get-TransportConfig',
    roles: ['Organization Transport Settings', 'View-Only Configuration'],
    parameters: {},
    run(state) {
      return {
        ok: true,
        value: [
          {
            Identity: 'Transport Settings',
            Name: 'Transport Settings',
            SmtpClientAuthenticationDisabled: state.org.smtpClientAuthenticationDisabled,
            AllowLegacyTLSClients: false,
          },
        ],
      };
    },
  },
  {
    name: 'Set-TransportConfig',
    roles: ['Organization Transport Settings'],
    parameters: { SmtpClientAuthenticationDisabled: 'boolean', Confirm: 'common' },
    run(state, parameters) {
      const value = parameters.SmtpClientAuthenticationDisabled;
      if (typeof value !== 'boolean' || value === state.org.smtpClientAuthenticationDisabled) {
        return { ok: true, value: [], warnings: [noChangeWarning('Transport Settings')] };
      }
      state.setOrgSmtpClientAuthenticationDisabled(value);
      return { ok: true, value: [] };
    },
  },
  {
    name: 'Get-OrganizationConfig',
    roles: CONFIGURATION_READ,
    parameters: {},
    run(state) {
      return {
        ok: true,
        value: [
          {
            Identity: state.initialDomain,
            Name: state.initialDomain,
            DisplayName: state.tenant.displayName,
            DefaultAuthenticationPolicy: state.org.defaultAuthenticationPolicy ?? null,
          },
        ],
      };
    },
  },
  {
    name: 'Set-User',
    roles: ['Mail Recipients', 'Recipient Policies'],
    parameters: { Identity: 'identity', AuthenticationPolicy: 'stringOrNull', Confirm: 'common' },
    parameterRoles: { AuthenticationPolicy: ['Recipient Policies'] },
    mandatory: ['Identity'],
    run(state, parameters) {
      const resolved = state.resolveRecipient(parameters.Identity as string, { mailboxOnly: false });
      if (resolved.kind === 'notFound') return { ok: false, failure: objectNotFound(parameters.Identity as string) };
      if (resolved.kind === 'ambiguous') return { ok: false, failure: objectAmbiguous(parameters.Identity as string) };
      const user = resolved.value;
      const before = user.authenticationPolicy ?? null;
      if (!('AuthenticationPolicy' in parameters)) return { ok: true, value: [], warnings: [noChangeWarning(state.alias(user))] };
      const requested = parameters.AuthenticationPolicy as string | null;
      let next: string | null = null;
      if (requested !== null) {
        const policy = state.authenticationPolicyByName(requested);
        if (!policy) return { ok: false, failure: objectNotFound(requested) };
        next = policy.name;
      }
      if ((before?.toLowerCase() ?? null) === (next?.toLowerCase() ?? null)) {
        return { ok: true, value: [], warnings: [noChangeWarning(state.alias(user))] };
      }
      state.setUserAuthenticationPolicy(user, next);
      return { ok: true, value: [] };
    },
  },
  {
    name: 'Get-AuthenticationPolicy',
    roles: CONFIGURATION_READ,
    parameters: { Identity: 'identity' },
    run(state, parameters) {
      // A new policy blocks Basic authentication for every protocol unless told otherwise
      // (New-AuthenticationPolicy); a protocol the fixture leaves out stays blocked.
      const toPolicy = (policy: FixtureAuthenticationPolicy): Record<string, unknown> => ({
        Identity: policy.name,
        Name: policy.name,
        DistinguishedName: `CN=${policy.name},CN=Auth Policies,CN=${state.initialDomain},CN=ConfigurationUnits,DC=SIMPR01A001,DC=PROD,DC=OUTLOOK,DC=COM`,
        'Guid@odata.type': '#Guid',
        Guid: deterministicGuid(`authentication-policy:${policy.name.toLowerCase()}`),
        AllowBasicAuthSmtp: policy.allowBasicAuthSmtp,
        ...Object.fromEntries(OTHER_BASIC_AUTH_PROTOCOLS.map((protocol) => [`AllowBasicAuth${protocol}`, policy[`allowBasicAuth${protocol}`] ?? false])),
      });
      if (typeof parameters.Identity === 'string') {
        const policy = state.authenticationPolicyByName(parameters.Identity);
        if (!policy) return { ok: false, failure: objectNotFound(parameters.Identity) };
        return { ok: true, value: [toPolicy(policy)] };
      }
      return { ok: true, value: state.authenticationPolicies.map(toPolicy) };
    },
  },
];

function findCmdlet(name: string): CmdletDefinition | undefined {
  return CMDLETS.find((definition) => definition.name.toLowerCase() === name.toLowerCase());
}

// ----- request handling ----------------------------------------------------------------------

const INVOKE_COMMAND = /^\/adminapi\/beta\/([^/]+)\/InvokeCommand\/?$/i;

export function isExchangePath(path: string): boolean {
  return /^\/adminapi(\/|$)/i.test(path);
}

type ParsedInvocation = { ok: true; cmdlet: string; parameters: Record<string, unknown> } | { ok: false };

function parseInvocation(request: SimRequest): ParsedInvocation {
  const body = readJson(request);
  if (!body.ok) return { ok: false };
  const input = (body.value as { CmdletInput?: { CmdletName?: unknown; Parameters?: unknown } } | null)?.CmdletInput;
  if (typeof input?.CmdletName !== 'string') return { ok: false };
  const parameters = input.Parameters ?? {};
  if (parameters === null || typeof parameters !== 'object' || Array.isArray(parameters)) return { ok: false };
  return { ok: true, cmdlet: input.CmdletName, parameters: parameters as Record<string, unknown> };
}

/** The cmdlet and parameters a request carries, read before authentication for the call log and fault rules. */
export function peekInvocation(request: SimRequest): CmdletInvocation {
  if (request.method !== 'POST' || !INVOKE_COMMAND.test(request.url.pathname)) return { cmdlet: null, parameters: null };
  const parsed = parseInvocation(request);
  return parsed.ok ? { cmdlet: parsed.cmdlet, parameters: parsed.parameters } : { cmdlet: null, parameters: null };
}

const TOKEN_DIAGNOSTICS: Record<TokenRejection, string> = {
  empty: 'No authorization header found in the request',
  malformed: 'The token is not a well-formed JWT',
  signature: 'The token signature could not be validated',
  expired: 'The token has expired',
  notYetValid: 'The token is not yet valid',
  audience: 'The audience claim value is invalid',
  tenant: "The token's tenant does not match the tenant in the request URL",
};

function unauthorized(reason: string): SimResponse {
  // Exchange Online answers 401 with an empty body and explains itself in these headers.
  return {
    status: 401,
    headers: {
      'WWW-Authenticate':
        'Bearer client_id="00000002-0000-0ff1-ce00-000000000000", trusted_issuers="00000001-0000-0000-c000-000000000000@*", token_types="app_asserted_user_v1 service_asserted_app_v1", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="invalid_token"',
      'x-ms-diagnostics': `2000001;reason="${reason}";error_category="invalid_token"`,
    },
  };
}

function withExchangeHeaders(response: SimResponse, context: ExchangeContext): SimResponse {
  return {
    ...response,
    headers: {
      ...(response.json !== undefined ? { 'Content-Type': ODATA_CONTENT_TYPE } : {}),
      'request-id': context.requestId,
      'client-request-id': context.clientRequestId,
      ...response.headers,
    },
  };
}

export async function handleExchange(request: SimRequest, context: ExchangeContext): Promise<SimResponse> {
  return withExchangeHeaders(await routeExchange(request, context), context);
}

async function routeExchange(request: SimRequest, context: ExchangeContext): Promise<SimResponse> {
  const { state } = context;
  const route = INVOKE_COMMAND.exec(request.url.pathname);
  if (!route) {
    return jsonResponse(501, {
      error: {
        code: 'NotImplemented',
        message: `The tenant simulator implements only POST /adminapi/beta/{tenantId}/InvokeCommand, not ${request.method} ${request.url.pathname}.`,
      },
    });
  }
  if (request.method !== 'POST') {
    return jsonResponse(405, { error: { code: 'MethodNotAllowed', message: 'The HTTP verb is not allowed for InvokeCommand; use POST.' } });
  }

  const check = await context.authority.check(bearerToken(header(request, 'authorization')), {
    audience: EXCHANGE_RESOURCE,
    tenantId: state.tenant.id,
    now: context.now,
  });
  if (!check.ok) return unauthorized(TOKEN_DIAGNOSTICS[check.reason]);
  const tenantInPath = decodeURIComponent(route[1] as string);
  if (!state.isThisTenant(tenantInPath)) return unauthorized(TOKEN_DIAGNOSTICS.tenant);

  const invocation = parseInvocation(request);
  if (!invocation.ok) {
    return jsonResponse(400, {
      error: {
        code: 'BadRequest',
        message: 'The request body must be {"CmdletInput":{"CmdletName":"<cmdlet>","Parameters":{…}}}.',
      },
    });
  }
  const definition = findCmdlet(invocation.cmdlet);
  if (!definition) {
    return failureResponse({
      status: 400,
      code: 'BadRequest',
      errorId: '',
      exceptionType: 'System.Management.Automation.CommandNotFoundException',
      message: `The term '${invocation.cmdlet}' is not recognized as a name of a cmdlet, function, script file, or executable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.`,
    });
  }
  const tokenRoles = Array.isArray(check.claims.roles) ? (check.claims.roles as unknown[]) : [];
  if (!tokenRoles.includes('Exchange.ManageAsApp')) {
    return jsonResponse(403, {
      error: {
        code: 'Forbidden',
        message: `The application ${String(check.claims.appid ?? '')} has not been granted the Exchange.ManageAsApp application permission of Office 365 Exchange Online.`,
      },
    });
  }
  // RBAC decides which cmdlets exist for the caller; the REST endpoint says so with a 401.
  if (!definition.roles.some((role) => context.app.exchangeManagementRoles.some((held) => held.toLowerCase() === role.toLowerCase()))) {
    const message = `User is not allowed to call ${definition.name}`;
    return jsonResponse(401, { error: { code: 'Unauthorized', message, innererror: { message, type: 'Microsoft.Exchange.Admin.OData.Core.ODataServiceException' } } });
  }
  const hidden = Object.keys(invocation.parameters).find((name) => {
    const entry = Object.entries(definition.parameterRoles ?? {}).find(([parameter]) => parameter.toLowerCase() === name.toLowerCase());
    return entry !== undefined && !entry[1].some((role) => context.app.exchangeManagementRoles.some((held) => held.toLowerCase() === role.toLowerCase()));
  });
  if (hidden !== undefined) return failureResponse(bindingFailure(`A parameter cannot be found that matches parameter name '${hidden}'.`));
  const bound = bindParameters(definition, invocation.parameters);
  if (!bound.ok) return failureResponse(bound.failure);
  const outcome = definition.run(state, bound.values);
  if (!outcome.ok) return failureResponse(outcome.failure);
  return resultPage(request, context, outcome.value, outcome.warnings ?? []);
}

/** Multi-object results page like the PowerShell module expects: `Prefer: odata.maxpagesize` and `@odata.nextLink`. */
function resultPage(request: SimRequest, context: ExchangeContext, items: Record<string, unknown>[], warnings: string[]): SimResponse {
  const query = request.url.searchParams;
  const preferred = /odata\.maxpagesize=(\d+)/i.exec(header(request, 'prefer') ?? '');
  const pageSize = preferred ? Math.max(1, Number(preferred[1])) : DEFAULT_PAGE_SIZE;
  const offset = Math.max(0, Number(query.get('$skiptoken') ?? '0') || 0);
  const select = query.get('$select');
  const properties = select ? select.split(',').map((name) => name.trim()).filter((name) => name !== '') : null;
  const page = items.slice(offset, offset + pageSize).map((item) => {
    if (!properties) return item;
    const projected: Record<string, unknown> = {};
    for (const name of properties) {
      const key = Object.keys(item).find((candidate) => candidate.toLowerCase() === name.toLowerCase());
      if (key) projected[key] = item[key];
    }
    return projected;
  });
  const body: Record<string, unknown> = {
    '@odata.context': `https://outlook.office365.com/adminapi/beta/${context.state.tenant.id}/$metadata#Collection(Exchange.GenericHashTable)`,
    'adminapi.warnings@odata.type': '#Collection(String)',
    '@adminapi.warnings': warnings,
  };
  if (offset + pageSize < items.length) {
    const next = new URLSearchParams();
    if (select) next.set('$select', select);
    next.set('$skiptoken', String(offset + pageSize));
    body['@odata.nextLink'] = `${request.origin}${request.url.pathname}?${[...next].map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('&')}`;
  }
  body.value = page;
  return jsonResponse(200, body);
}

const TRANSIENT_MESSAGES: Record<string, string> = {
  ServerBusyException: 'The server is busy. Please try again later.',
  TransientException: 'A transient error occurred while the command was running. Please try again.',
  BackendCommunicationException: 'The proxy server could not communicate with the mailbox server. Please try again.',
  CmdletProxyNotAvailableFailure: 'The cmdlet could not be proxied to the mailbox server. Please try again.',
};

export function exchangeFault(rule: FaultRule, context: ExchangeContext): SimResponse {
  const status = rule.status ?? (rule.exchangeError ? 500 : 503);
  let response: SimResponse;
  if (rule.exchangeError) {
    const name = rule.exchangeError;
    response = failureResponse({
      status,
      code: status === 503 ? 'ServiceUnavailable' : status === 429 ? 'TooManyRequests' : 'InternalServerError',
      errorId: '',
      exceptionType: name.includes('.') ? name : `Microsoft.Exchange.Data.${name}`,
      message: TRANSIENT_MESSAGES[name] ?? `${name}: simulated failure injected through /_simulator/faults.`,
    });
  } else if (status === 429) {
    response = jsonResponse(429, {
      error: { code: 'TooManyRequests', message: 'You have reached the maximum number of concurrent requests per tenant. Please wait and try again.' },
    });
  } else if (status === 503) {
    response = jsonResponse(503, { error: { code: 'ServiceUnavailable', message: 'The service is temporarily unavailable. Please try again later.' } });
  } else {
    response = jsonResponse(status, { error: { code: status >= 500 ? 'InternalServerError' : 'BadRequest', message: 'Simulated failure injected through /_simulator/faults.' } });
  }
  response.headers = { ...response.headers, ...retryAfterHeader(rule, context.now) };
  return withExchangeHeaders(response, context);
}
