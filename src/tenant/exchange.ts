import type { TokenCredential } from '@azure/identity';
import { exchangeScope } from './credential';
import { errorFromResponse, TenantHttp, TenantHttpError, type HttpResponse } from './http';

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

const cmdlets = {
  'Get-CASMailbox': { idempotent: true },
  'Set-CASMailbox': { idempotent: true },
  'Get-TransportConfig': { idempotent: true },
} satisfies Record<string, CmdletSpec>;

export type CmdletName = keyof typeof cmdlets;

export interface CasMailbox {
  identity: string;
  smtpClientAuthenticationDisabled: boolean | null;
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
    await this.invoke('Set-CASMailbox', { Identity: identity, SmtpClientAuthenticationDisabled: value });
  }

  async getTransportConfig(): Promise<{ smtpClientAuthenticationDisabled: boolean }> {
    const rows = await this.invoke('Get-TransportConfig', {});
    return { smtpClientAuthenticationDisabled: asNullableBoolean(rows[0]?.SmtpClientAuthenticationDisabled) ?? true };
  }

  async invoke(cmdlet: CmdletName, parameters: Record<string, unknown>): Promise<Record<string, unknown>[]> {
    const operation = cmdlet;
    let token: string;
    try {
      token = (await this.credential.getToken(exchangeScope))?.token ?? '';
    } catch (error) {
      throw new TenantHttpError('exchange', operation, 'status', 401, (error as Error).name, undefined, undefined, { cause: error });
    }
    const response = await this.http.send({
      operation,
      method: 'POST',
      url: `${this.exchangeBaseUrl}/adminapi/beta/${this.tenantId}/InvokeCommand`,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        // Routes the call to the tenant's system mailbox, as the PowerShell module does.
        'x-anchormailbox': `APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@${this.tenantId}`,
      },
      body: JSON.stringify({ CmdletInput: { CmdletName: cmdlet, Parameters: parameters } }),
      idempotent: cmdlets[cmdlet].idempotent,
      isTransient: isTransientExchangeError,
    });
    if (response.status < 200 || response.status >= 300) throw errorFromResponse('exchange', operation, withDetails(response));
    const body = JSON.parse(response.text) as { value?: Record<string, unknown>[] };
    return body.value ?? [];
  }
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
