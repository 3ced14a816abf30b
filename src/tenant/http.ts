import { AsyncLocalStorage } from 'node:async_hooks';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import { AppError, type ErrorCode } from '../errors';

export type TenantService = 'graph' | 'exchange';

/** Retry behaviour as plain data (STYLE.md, after ky): which answers are retried, how often, how long. */
export interface RetryPolicy {
  /** Answers that mean "try again later". 429 is retried for every call (the service did not run it); the rest only for idempotent ones. */
  retryStatuses: readonly number[];
  maxRetries: number;
  /** Exponential backoff when the answer has no Retry-After: base × 2^attempt, capped, with jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Share of each backoff that is random (0 = none, 1 = full jitter), so parallel callers spread out. */
  jitter: number;
  /** No attempt starts after this much time has passed since the first; a Retry-After beyond it ends the call. */
  deadlineMs: number;
  attemptTimeoutMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  retryStatuses: [429, 502, 503, 504],
  maxRetries: 4,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  jitter: 0.5,
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
    options?: { cause?: unknown; requiredPermission?: string },
  ) {
    super(
      `${service} ${operation} failed: ${kind === 'status' ? `HTTP ${status} ${microsoftCode ?? ''} ${microsoftMessage ?? ''}`.trim() : kind}${options?.requiredPermission ? ` (needs ${options.requiredPermission})` : ''}`,
      options,
    );
    this.name = kind === 'status' ? 'TenantHttpError' : kind === 'timeout' ? 'TenantTimeoutError' : 'TenantNetworkError';
    this.requiredPermission = options?.requiredPermission;
  }

  /**
   * Set when Microsoft refused the call for want of a permission: the Graph application
   * permission or Exchange management role (docs/permissions.md) that would allow it.
   */
  readonly requiredPermission: string | undefined;

  /** The same failure, now known to be a missing permission. */
  withRequiredPermission(permission: string): TenantHttpError {
    return new TenantHttpError(this.service, this.operation, this.kind, this.status, this.microsoftCode, this.microsoftMessage, this.requestId, {
      cause: this.cause,
      requiredPermission: permission,
    });
  }

  toAppError(): AppError {
    // Entra's refusal to turn security defaults on while Conditional Access policies exist: its own words, nothing written.
    if (this.operation === 'PATCH /policies/identitySecurityDefaultsEnforcementPolicy' && this.status === 400 && /conditional access/i.test(this.microsoftMessage ?? '')) {
      return new AppError('SECURITY_DEFAULTS_REFUSED', { message: this.microsoftMessage ?? '' }, { cause: this });
    }
    const code: ErrorCode = this.requiredPermission ? 'TENANT_PERMISSION_DENIED'
      : this.kind === 'timeout' ? 'TENANT_TIMEOUT'
      : this.kind === 'network' ? 'TENANT_UNAVAILABLE'
      : this.status === 401 ? 'TENANT_AUTH_FAILED'
      : this.status === 403 ? 'TENANT_PERMISSION_DENIED'
      : this.status === 429 ? 'TENANT_THROTTLED'
      : this.status !== undefined && this.status >= 500 ? 'TENANT_UNAVAILABLE'
      : 'TENANT_BAD_REQUEST';
    const params: Record<string, string | number> = { service: this.service, operation: this.operation, status: this.status ?? 0 };
    if (this.requiredPermission) params.permission = this.requiredPermission;
    return new AppError(code, params, { cause: this });
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
  /** A POST that only reads (a Get-* cmdlet, checkMemberGroups, a batch of GETs); anything else that is not a GET counts as a write. */
  readOnly?: boolean;
}

export interface RetryEvent {
  operation: string;
  /** 1 for the first retry. */
  attempt: number;
  delayMs: number;
  status?: number;
  failure?: FailureKind;
}

/** One attempt of a write, as it ended: answered (with its status), timed out, or cut off. */
export interface WriteAttempt {
  service: TenantService;
  operation: string;
  /** 1 for the first attempt, 2 for the first retry. */
  attempt: number;
  outcome: 'answered' | FailureKind;
  status?: number;
  durationMs: number;
}

const writeAttemptObservers = new AsyncLocalStorage<(attempt: WriteAttempt) => void>();

/**
 * Runs `write` with every attempt of every write it sends to Microsoft 365 reported to `observer`,
 * as each attempt ends. A write retried after a timeout may have been applied by the attempt that
 * timed out as well (issue #13, hole 5), so the caller can audit each one. Reads are not reported.
 * The observer follows the call through every layer (step kind, Exchange or Graph client) without
 * each of them passing it on.
 */
export function observeWriteAttempts<T>(observer: (attempt: WriteAttempt) => void, write: () => Promise<T>): Promise<T> {
  return writeAttemptObservers.run(observer, write);
}

/** Clock, randomness and sleep are injected so tests assert the waits instead of sitting through them. */
export interface TenantHttpHooks {
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
  onRetry?: (event: RetryEvent) => void;
}

export interface TenantHttpOptions extends TenantHttpHooks {
  service: TenantService;
  /** Called before and after every write (cached organization-wide reads are dropped). */
  onWrite?: () => void;
  caFile?: string;
  policy?: Partial<RetryPolicy>;
}

/** `Retry-After` as milliseconds from now: delta-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function retryAfterMs(value: string | undefined, now: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}

function isRetryable(policy: RetryPolicy, o: SendOptions, response: HttpResponse): boolean {
  if (policy.retryStatuses.includes(response.status)) return o.idempotent || response.status === 429;
  return o.idempotent && (o.isTransient?.(response) ?? false);
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
      connect: { ...(options.caFile ? { ca: readFileSync(options.caFile, 'utf8') } : {}), timeout: this.policy.attemptTimeoutMs },
      headersTimeout: this.policy.attemptTimeoutMs,
      bodyTimeout: this.policy.attemptTimeoutMs,
    });
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
  }

  async send(o: SendOptions): Promise<HttpResponse> {
    if (o.method === 'GET' || o.readOnly || !this.options.onWrite) return this.sendWithRetries(o);
    this.options.onWrite();
    try {
      return await this.sendWithRetries(o);
    } finally {
      this.options.onWrite();
    }
  }

  private async sendWithRetries(o: SendOptions): Promise<HttpResponse> {
    const started = this.now();
    const observer = o.method === 'GET' || o.readOnly ? undefined : writeAttemptObservers.getStore();
    for (let attempt = 0; ; attempt++) {
      let response: HttpResponse | undefined;
      let failure: TenantHttpError | undefined;
      const attemptStarted = this.now();
      try {
        response = await this.attempt(o);
      } catch (error) {
        failure = this.transportError(o, error);
      }
      observer?.({
        service: this.options.service, operation: o.operation, attempt: attempt + 1,
        outcome: failure ? failure.kind : 'answered', ...(response ? { status: response.status } : {}), durationMs: this.now() - attemptStarted,
      });
      const retryable = response ? isRetryable(this.policy, o, response) : o.idempotent;
      const delay = this.delayFor(attempt, response);
      if (!retryable || attempt >= this.policy.maxRetries || this.now() - started + delay > this.policy.deadlineMs) {
        if (failure) throw failure;
        return response!;
      }
      this.options.onRetry?.({ operation: o.operation, attempt: attempt + 1, delayMs: delay, status: response?.status, failure: failure?.kind });
      await this.sleep(delay);
    }
  }

  /** The wait before retry number `attempt + 1` of something answered with this Retry-After (for callers that retry parts, like `$batch` items). */
  backoffMs(attempt: number, retryAfter: string | undefined): number {
    return this.delayFor(attempt, retryAfter === undefined ? undefined : { status: 429, headers: { 'retry-after': retryAfter }, text: '' });
  }

  pause(ms: number): Promise<void> {
    return this.sleep(ms);
  }

  /**
   * One attempt, bounded by the dispatcher's own connect, headers and body time-outs (each the
   * attempt time-out): an AbortSignal.timeout per call kept a timer and a signal alive for the
   * whole time-out after the answer came, which cost ~8 % of the bot's CPU per status.
   */
  private async attempt(o: SendOptions): Promise<HttpResponse> {
    const res = await request(o.url, {
      method: o.method,
      headers: o.headers,
      body: o.body,
      dispatcher: this.dispatcher,
    });
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
    return { status: res.statusCode, headers, text: await res.body.text() };
  }

  /**
   * Retry-After (seconds or an HTTP date) is obeyed as given — waiting less only earns another 429 —
   * and the deadline decides whether it is worth waiting; otherwise exponential backoff, capped, jittered.
   */
  delayFor(attempt: number, response: HttpResponse | undefined): number {
    const retryAfter = retryAfterMs(response?.headers['retry-after'], this.now());
    if (retryAfter !== undefined) return retryAfter;
    const ceiling = Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** attempt);
    return Math.round(ceiling * (1 - this.policy.jitter) + this.random() * ceiling * this.policy.jitter);
  }

  private transportError(o: SendOptions, error: unknown): TenantHttpError {
    const name = (error as { name?: string; code?: string })?.name ?? '';
    const code = (error as { code?: string })?.code ?? '';
    const timedOut = name === 'TimeoutError' || name === 'AbortError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT';
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
