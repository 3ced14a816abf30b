import type { TokenCredential } from '@azure/identity';
import { exchangeScope } from './credential';
import { errorFromResponse, TenantHttp, TenantHttpError, type HttpResponse } from './http';
import { EXCHANGE_APP_PERMISSION, exchangeRoleFor, exchangeRoleForParameter } from './permissions';

/**
 * The Exchange port over the Exchange Online admin API's InvokeCommand endpoint — the one the
 * ExchangeOnlineManagement PowerShell module uses. It is undocumented, so it stays in this file.
 */

/** Exchange answers these when a backend is briefly unavailable; the same call may succeed later. */
const transientExceptions = ['ServerBusyException', 'TransientException', 'CmdletProxyNotAvailableFailure', 'BackendCommunicationException'];

interface CmdletSpec {
  /** Safe to send again after a timeout or transient error: the end state is the same. */
  idempotent: boolean;
}

// Every Set-* we send names the absolute end value, so sending it twice ends the same as once.
const cmdlets = {
  'Get-CASMailbox': { idempotent: true },
  'Set-CASMailbox': { idempotent: true },
  'Get-Mailbox': { idempotent: true },
  'Get-User': { idempotent: true },
  'Set-User': { idempotent: true },
  'Get-TransportConfig': { idempotent: true },
  'Set-TransportConfig': { idempotent: true },
  'Get-OrganizationConfig': { idempotent: true },
  'Get-AuthenticationPolicy': { idempotent: true },
} satisfies Record<string, CmdletSpec>;

export type CmdletName = keyof typeof cmdlets;

export interface CasMailbox {
  identity: string;
  smtpClientAuthenticationDisabled: boolean | null;
  /** Get-CASMailbox also answers these; listings use them to name the mailbox and find its Entra user. */
  displayName?: string;
  primarySmtpAddress?: string;
  /** The Entra object id of the mailbox's user. */
  externalDirectoryObjectId?: string;
}

export interface AuthenticationPolicy {
  name: string;
  allowBasicAuthSmtp: boolean;
  /** The other protocols the policy lets Basic authentication through for (`AllowBasicAuthPop` true → `Pop`…); empty when only SMTP or nothing. */
  otherBasicAuthProtocols?: string[];
}

/** One user's Exchange authentication policy assignment (Get-User), for counting who holds which policy. */
export interface UserAuthenticationPolicy {
  identity: string;
  userPrincipalName: string;
  /** The Entra object id. */
  externalDirectoryObjectId?: string;
  authenticationPolicy: string | null;
}

export class ExchangeAdmin {
  constructor(
    private readonly credential: TokenCredential,
    private readonly exchangeBaseUrl: string,
    private readonly tenantId: string,
    private readonly http: TenantHttp,
  ) {}

  /** undefined when the identity has no Exchange Online mailbox. */
  async getCasMailbox(identity: string): Promise<CasMailbox | undefined> {
    try {
      const rows = await this.invoke('Get-CASMailbox', { Identity: identity });
      const row = rows[0];
      if (!row) return undefined;
      return { identity: String(row.Identity ?? identity), smtpClientAuthenticationDisabled: asNullableBoolean(row.SmtpClientAuthenticationDisabled) };
    } catch (error) {
      if (isObjectNotFound(error)) return undefined;
      throw error;
    }
  }

  async setCasMailboxSmtpClientAuthenticationDisabled(identity: string, value: boolean | null): Promise<void> {
    await this.setCasMailboxSmtpClientAuthenticationDisabledReportingChange(identity, value);
  }

  /** False when Exchange answered that nothing was modified (the mailbox already had the value). */
  async setCasMailboxSmtpClientAuthenticationDisabledReportingChange(identity: string, value: boolean | null): Promise<boolean> {
    const warnings: string[] = [];
    await this.invoke('Set-CASMailbox', { Identity: identity, SmtpClientAuthenticationDisabled: value }, { warnings });
    return !warnings.some((warning) => /no settings of .* have been modified/i.test(warning));
  }

  /**
   * The organization's SMTP AUTH switch. False when Exchange answered that nothing was modified
   * (it already had the value). Exchange takes only true or false here, never $null.
   */
  async setTransportConfigSmtpClientAuthenticationDisabled(value: boolean): Promise<boolean> {
    const warnings: string[] = [];
    await this.invoke('Set-TransportConfig', { SmtpClientAuthenticationDisabled: value }, { warnings });
    return !warnings.some((warning) => /no settings of .* have been modified/i.test(warning));
  }

  /**
   * Assigns an existing authentication policy to the user (`Set-User -AuthenticationPolicy <name>`),
   * or clears the assignment with null (`-AuthenticationPolicy $null`), so the organization's
   * default applies again. False when Exchange answered that nothing was modified. Never creates a
   * policy: a name Exchange does not know fails with ManagementObjectNotFoundException.
   */
  async setUserAuthenticationPolicy(identity: string, policyName: string | null): Promise<boolean> {
    const warnings: string[] = [];
    await this.invoke('Set-User', { Identity: identity, AuthenticationPolicy: policyName }, { warnings });
    return !warnings.some((warning) => /no settings of .* have been modified/i.test(warning));
  }

  /** Every user's authentication policy assignment (Get-User, every page). */
  async listUserAuthenticationPolicies(options: { pageSize?: number } = {}): Promise<UserAuthenticationPolicy[]> {
    const rows = await this.invoke('Get-User', { ResultSize: 'Unlimited' }, { pageSize: options.pageSize ?? 1000 });
    return rows.map((row) => ({
      identity: String(row.Identity ?? ''),
      userPrincipalName: String(row.UserPrincipalName ?? ''),
      ...(typeof row.ExternalDirectoryObjectId === 'string' && row.ExternalDirectoryObjectId ? { externalDirectoryObjectId: row.ExternalDirectoryObjectId } : {}),
      authenticationPolicy: typeof row.AuthenticationPolicy === 'string' && row.AuthenticationPolicy !== '' ? row.AuthenticationPolicy : null,
    }));
  }

  async getTransportConfig(): Promise<{ smtpClientAuthenticationDisabled: boolean }> {
    const rows = await this.invoke('Get-TransportConfig', {});
    return { smtpClientAuthenticationDisabled: asNullableBoolean(rows[0]?.SmtpClientAuthenticationDisabled) ?? true };
  }

  /** The user's own Exchange authentication policy (Get-User), null when none is assigned. */
  async getUserAuthenticationPolicy(identity: string): Promise<string | null | undefined> {
    try {
      const rows = await this.invoke('Get-User', { Identity: identity });
      const policy = rows[0]?.AuthenticationPolicy;
      return typeof policy === 'string' && policy !== '' ? policy : null;
    } catch (error) {
      if (isObjectNotFound(error)) return undefined;
      throw error;
    }
  }

  /** The organization's default authentication policy (Get-OrganizationConfig), null when none. */
  async getDefaultAuthenticationPolicy(): Promise<string | null> {
    const rows = await this.invoke('Get-OrganizationConfig', {});
    const policy = rows[0]?.DefaultAuthenticationPolicy;
    return typeof policy === 'string' && policy !== '' ? policy : null;
  }

  async getAuthenticationPolicies(): Promise<AuthenticationPolicy[]> {
    const rows = await this.invoke('Get-AuthenticationPolicy', {});
    return rows.map((row) => ({
      name: String(row.Name ?? row.Identity ?? ''),
      allowBasicAuthSmtp: asNullableBoolean(row.AllowBasicAuthSmtp) ?? true,
      otherBasicAuthProtocols: Object.entries(row)
        .filter(([key, value]) => /^AllowBasicAuth/.test(key) && key !== 'AllowBasicAuthSmtp' && asNullableBoolean(value) === true)
        .map(([key]) => key.slice('AllowBasicAuth'.length)),
    }));
  }

  /**
   * How many mailboxes have SMTP AUTH explicitly on (false), explicitly off (true) or inherit the
   * organization's (null), with the Entra object ids of the explicitly-on ones: one listing, every page.
   */
  async countCasMailboxesBySetting(options: { pageSize?: number } = {}): Promise<{ on: number; off: number; inherit: number; onUserIds: string[] }> {
    const rows = await this.invoke('Get-CASMailbox', { ResultSize: 'Unlimited' }, { pageSize: options.pageSize ?? 1000 });
    const counts = { on: 0, off: 0, inherit: 0, onUserIds: [] as string[] };
    for (const row of rows) {
      const value = asNullableBoolean(row.SmtpClientAuthenticationDisabled);
      if (value === false) {
        counts.on += 1;
        if (typeof row.ExternalDirectoryObjectId === 'string' && row.ExternalDirectoryObjectId) counts.onUserIds.push(row.ExternalDirectoryObjectId);
      } else if (value === true) counts.off += 1;
      else counts.inherit += 1;
    }
    return counts;
  }

  /** Mailboxes by their SMTP AUTH setting (`-Filter`), every page followed. */
  async listCasMailboxes(smtpClientAuthenticationDisabled: boolean | null, options: { pageSize?: number } = {}): Promise<CasMailbox[]> {
    const value = smtpClientAuthenticationDisabled === null ? '$null' : smtpClientAuthenticationDisabled ? '$true' : '$false';
    const rows = await this.invoke('Get-CASMailbox', { Filter: `SmtpClientAuthenticationDisabled -eq ${value}`, ResultSize: 'Unlimited' }, { pageSize: options.pageSize ?? 1000 });
    return rows.map((row) => ({
      identity: String(row.Identity ?? ''),
      smtpClientAuthenticationDisabled: asNullableBoolean(row.SmtpClientAuthenticationDisabled),
      ...(typeof row.DisplayName === 'string' ? { displayName: row.DisplayName } : {}),
      ...(typeof row.PrimarySmtpAddress === 'string' ? { primarySmtpAddress: row.PrimarySmtpAddress } : {}),
      ...(typeof row.ExternalDirectoryObjectId === 'string' && row.ExternalDirectoryObjectId ? { externalDirectoryObjectId: row.ExternalDirectoryObjectId } : {}),
    }));
  }

  async invoke(cmdlet: CmdletName, parameters: Record<string, unknown>, options: { pageSize?: number; warnings?: string[] } = {}): Promise<Record<string, unknown>[]> {
    const operation = cmdlet;
    const rows: Record<string, unknown>[] = [];
    let url: string | undefined = `${this.exchangeBaseUrl}/adminapi/beta/${this.tenantId}/InvokeCommand`;
    while (url) {
      let token: string;
      try {
        token = (await this.credential.getToken(exchangeScope))?.token ?? '';
      } catch (error) {
        throw new TenantHttpError('exchange', operation, 'status', 401, (error as Error).name, (error as Error).message, undefined, { cause: error });
      }
      const response = await this.http.send({
        operation,
        method: 'POST',
        url,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          // Routes the call to the tenant's system mailbox, as the PowerShell module does.
          'x-anchormailbox': `APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@${this.tenantId}`,
          ...(options.pageSize ? { prefer: `odata.maxpagesize=${options.pageSize}` } : {}),
        },
        body: JSON.stringify({ CmdletInput: { CmdletName: cmdlet, Parameters: parameters } }),
        idempotent: cmdlets[cmdlet].idempotent,
        readOnly: cmdlet.startsWith('Get-'),
        isTransient: isTransientExchangeError,
      });
      if (response.status < 200 || response.status >= 300) throw withExchangePermission(cmdlet, parameters, errorFromResponse('exchange', operation, withDetails(response)));
      const body = JSON.parse(response.text) as { value?: Record<string, unknown>[]; '@odata.nextLink'?: string; '@adminapi.warnings'?: string[] };
      rows.push(...(body.value ?? []));
      options.warnings?.push(...(body['@adminapi.warnings'] ?? []));
      // The next page is the same cmdlet posted again to the link (as the PowerShell module does).
      url = body['@odata.nextLink'];
    }
    return rows;
  }
}

/**
 * Exchange's REST endpoint refuses a cmdlet outside the service principal's RBAC roles with
 * 401 `Unauthorized` "User is not allowed to call X" (MicrosoftDocs/office-docs-powershell#7970);
 * a token without Exchange.ManageAsApp is refused outright.
 */
function withExchangePermission(cmdlet: CmdletName, parameters: Record<string, unknown>, error: TenantHttpError): TenantHttpError {
  if (/is not allowed to call/i.test(error.microsoftMessage ?? '')) return error.withRequiredPermission(exchangeRoleFor[cmdlet] ?? cmdlet);
  // RBAC hides a parameter outside the caller's roles: PowerShell then says it does not exist.
  const hidden = /parameter cannot be found that matches parameter name '([^']+)'/i.exec(error.microsoftMessage ?? '')?.[1];
  const role = hidden === undefined ? undefined : exchangeRoleForParameter[`${cmdlet} -${hidden}`];
  if (role && Object.keys(parameters).some((name) => name.toLowerCase() === hidden!.toLowerCase())) return error.withRequiredPermission(role);
  if (error.status === 403) {
    return error.withRequiredPermission(/ManageAsApp/i.test(error.microsoftMessage ?? '') ? EXCHANGE_APP_PERMISSION : exchangeRoleFor[cmdlet] ?? EXCHANGE_APP_PERMISSION);
  }
  return error;
}

function isTransientExchangeError(response: HttpResponse): boolean {
  return response.status >= 400 && transientExceptions.some((name) => response.text.includes(name));
}

/** Exchange puts the exception name in `error.details[].message`; fold it into the message we keep. */
function withDetails(response: HttpResponse): HttpResponse {
  try {
    const body = JSON.parse(response.text) as { error?: { code?: string; message?: string; details?: { message?: string }[] } };
    if (body.error?.details?.length) {
      const details = body.error.details.map((d) => d.message).filter(Boolean).join(' ');
      return { ...response, text: JSON.stringify({ error: { code: body.error.code, message: `${body.error.message ?? ''} ${details}`.trim() } }) };
    }
  } catch {
    // Not JSON: errorFromResponse keeps the raw text.
  }
  return response;
}

function isObjectNotFound(error: unknown): boolean {
  return error instanceof TenantHttpError && /ManagementObjectNotFoundException|couldn't be found/.test(error.microsoftMessage ?? '');
}

function asNullableBoolean(value: unknown): boolean | null {
  if (value === true || value === 'True' || value === 'true') return true;
  if (value === false || value === 'False' || value === 'false') return false;
  return null;
}
