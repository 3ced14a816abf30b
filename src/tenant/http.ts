import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import { AppError, type ErrorCode } from '../errors';

export type TenantService = 'graph' | 'exchange';

/** Retry behaviour as plain data (STYLE.md, after ky): which answers are retried, how often, how long. */
export interface RetryPolicy {
  retryStatuses: readonly number[];
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** No attempt starts after this much time has passed since the first. */
  deadlineMs: number;
  attemptTimeoutMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  retryStatuses: [429, 502, 503, 504],
  maxRetries: 4,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  deadlineMs: 60_000,
  attemptTimeoutMs: 10_000,
};

export type FailureKind = 'status' | 'timeout' | 'network';

/** A failed call to Microsoft 365, with what Microsoft said; never carries a token. */
export class TenantHttpError extends Error {
  constructor(
    readonly service: TenantService,
    readonly operation: string,
    readonly kind: FailureKind,
    readonly status: number | undefined,
    readonly microsoftCode: string | undefined,
    readonly microsoftMessage: string | undefined,
    readonly requestId: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(`${service} ${operation} failed: ${kind === 'status' ? `HTTP ${status} ${microsoftCode ?? ''} ${microsoftMessage ?? ''}`.trim() : kind}`, options);
    this.name = kind === 'status' ? 'TenantHttpError' : kind === 'timeout' ? 'TenantTimeoutError' : 'TenantNetworkError';
  }

  toAppError(): AppError {
    const code: ErrorCode = this.kind === 'timeout' ? 'TENANT_TIMEOUT'
      : this.kind === 'network' ? 'TENANT_UNAVAILABLE'
      : this.status === 401 ? 'TENANT_AUTH_FAILED'
      : this.status === 403 ? 'TENANT_PERMISSION_DENIED'
      : this.status === 429 ? 'TENANT_THROTTLED'
      : this.status !== undefined && this.status >= 500 ? 'TENANT_UNAVAILABLE'
      : 'TENANT_BAD_REQUEST';
    return new AppError(code, { service: this.service, operation: this.operation, status: this.status ?? 0 }, { cause: this });
  }
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
}

export interface SendOptions {
  operation: string;
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** Only idempotent calls are retried after a timeout, a dropped connection or a transient error. */
  idempotent: boolean;
  /** Service-specific: does this answer mean "try again later" (e.g. Exchange's ServerBusyException)? */
  isTransient?: (response: HttpResponse) => boolean;
}

export interface TenantHttpOptions {
  service: TenantService;
  caFile?: string;
  policy?: Partial<RetryPolicy>;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
}

/** One HTTP layer per Microsoft API: retries by policy, then answers or throws a TenantHttpError. */
export class TenantHttp {
  readonly policy: RetryPolicy;
  private readonly dispatcher: Agent;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => number;

  constructor(private readonly options: TenantHttpOptions) {
    this.policy = { ...defaultRetryPolicy, ...options.policy };
    this.dispatcher = new Agent({
      connect: options.caFile ? { ca: readFileSync(options.caFile, 'utf8') } : {},
      headersTimeout: this.policy.attemptTimeoutMs,
      bodyTimeout: this.policy.attemptTimeoutMs,
    });
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
  }

  async send(o: SendOptions): Promise<HttpResponse> {
    const started = this.now();
    for (let attempt = 0; ; attempt++) {
      let response: HttpResponse | undefined;
      let failure: TenantHttpError | undefined;
      try {
        response = await this.attempt(o);
      } catch (error) {
        failure = this.transportError(o, error);
      }
      const retryable = response
        ? (this.policy.retryStatuses.includes(response.status) && (o.idempotent || response.status === 429))
          || (o.idempotent && (o.isTransient?.(response) ?? false))
        : o.idempotent;
      const delay = this.delayFor(attempt, response);
      if (!retryable || attempt >= this.policy.maxRetries || this.now() - started + delay > this.policy.deadlineMs) {
        if (failure) throw failure;
        return response!;
      }
      await this.sleep(delay);
    }
  }

  private async attempt(o: SendOptions): Promise<HttpResponse> {
    const res = await request(o.url, {
      method: o.method,
      headers: o.headers,
      body: o.body,
      dispatcher: this.dispatcher,
      signal: AbortSignal.timeout(this.policy.attemptTimeoutMs),
    });
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
    return { status: res.statusCode, headers, text: await res.body.text() };
  }

  /** Retry-After (seconds or an HTTP date) wins; otherwise exponential backoff with full jitter, capped. */
  private delayFor(attempt: number, response: HttpResponse | undefined): number {
    const retryAfter = response?.headers['retry-after'];
    if (retryAfter) {
      const seconds = Number(retryAfter);
      const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - this.now();
      if (Number.isFinite(ms)) return Math.min(Math.max(ms, 0), this.policy.maxDelayMs);
    }
    return Math.round(this.random() * Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** attempt));
  }

  private transportError(o: SendOptions, error: unknown): TenantHttpError {
    const name = (error as { name?: string; code?: string })?.name ?? '';
    const code = (error as { code?: string })?.code ?? '';
    const timedOut = name === 'TimeoutError' || name === 'AbortError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
    return new TenantHttpError(this.options.service, o.operation, timedOut ? 'timeout' : 'network', undefined, undefined, undefined, undefined, { cause: error });
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }
}

/** Reads Microsoft's error body (`{ error: { code, message } }`) from a failed answer. */
export function errorFromResponse(service: TenantService, operation: string, response: HttpResponse): TenantHttpError {
  let code: string | undefined;
  let message: string | undefined;
  try {
    const body = JSON.parse(response.text) as { error?: { code?: string; message?: string } };
    code = body.error?.code;
    message = body.error?.message;
  } catch {
    message = response.text.slice(0, 200);
  }
  return new TenantHttpError(service, operation, 'status', response.status, code, message, response.headers['request-id'] ?? response.headers['x-ms-request-id']);
}
