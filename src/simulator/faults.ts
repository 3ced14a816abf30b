import { z } from 'zod';
import { formatPath } from './fixture';

export type ServiceName = 'graph' | 'exchange' | 'token';

const faultRuleSchema = z
  .strictObject({
    service: z.enum(['graph', 'exchange', 'token'], { error: "expected 'graph', 'exchange' or 'token'" }),
    /** Case-insensitive substring of the request path, or of the cmdlet name for Exchange; absent = every request. */
    match: z.string().optional(),
    status: z.number().int().min(400).max(599).optional(),
    retryAfterSeconds: z.number().int().min(0).optional(),
    /** Send Retry-After as an HTTP date (now + retryAfterSeconds) instead of delta-seconds; both forms are legal. */
    retryAfterHttpDate: z.boolean().optional(),
    /** Exchange only: answer with this exception in the cmdlet error envelope (`ServerBusyException`). */
    exchangeError: z.string().min(1).optional(),
    /** Destroy the connection without answering, as a dropped network path does. */
    drop: z.boolean().optional(),
    /** Apply to this many matching requests, then stop; absent = every time. */
    times: z.number().int().min(1).optional(),
    /** Apply to this share of matching requests (0–1), chosen pseudo-randomly from the simulator's seed. */
    probability: z.number().min(0).max(1).optional(),
  })
  .refine((rule) => rule.status !== undefined || rule.exchangeError !== undefined || rule.drop === true, {
    error: 'a rule needs status, exchangeError or drop: true',
  })
  .refine((rule) => rule.exchangeError === undefined || rule.service === 'exchange', {
    error: 'exchangeError applies to service "exchange" only',
    path: ['exchangeError'],
  });

const faultConfigSchema = z.strictObject({
  latencyMs: z.number().int().min(0).max(600_000).optional(),
  /** Per service, instead of `latencyMs` for that service (e.g. Graph 150 ms, Exchange 400 ms). */
  serviceLatencyMs: z.strictObject({
    graph: z.number().int().min(0).max(600_000).optional(),
    exchange: z.number().int().min(0).max(600_000).optional(),
    token: z.number().int().min(0).max(600_000).optional(),
  }).optional(),
  rules: z.array(faultRuleSchema).optional(),
  /**
   * The whole tenant goes down mid-request: once a call matching `after` (substring of the path or
   * cmdlet name) has been answered with success, every Graph, Exchange and token call has its
   * connection dropped, for `seconds` by the simulator's clock, or until the faults are cleared.
   */
  outage: z.strictObject({
    after: z.string().min(1),
    seconds: z.number().int().min(1).max(3600).optional(),
  }).optional(),
});

export type FaultRule = z.infer<typeof faultRuleSchema>;
export type FaultConfig = z.infer<typeof faultConfigSchema>;

export function parseFaultConfig(json: unknown): { ok: true; config: FaultConfig } | { ok: false; problems: string[] } {
  const result = faultConfigSchema.safeParse(json);
  if (result.success) return { ok: true, config: result.data };
  return { ok: false, problems: result.error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`) };
}

interface ActiveRule {
  rule: FaultRule;
  remaining: number | null;
}

/** Latency and scripted failures, set through `/_simulator/faults`. */
export class FaultInjector {
  private latency = 0;
  private serviceLatency: Partial<Record<ServiceName, number>> = {};
  private rules: ActiveRule[] = [];
  private outage: { after: string; seconds?: number; since: Date | null } | null = null;
  private random: () => number;

  constructor(private readonly seed = 1) {
    this.random = mulberry32(seed);
  }

  get latencyMs(): number {
    return this.latency;
  }

  /** The delay before answering a call to `service`. */
  latencyFor(service: ServiceName): number {
    return this.serviceLatency[service] ?? this.latency;
  }

  set(config: FaultConfig): void {
    this.random = mulberry32(this.seed);
    this.latency = config.latencyMs ?? 0;
    this.serviceLatency = { ...config.serviceLatencyMs };
    this.rules = (config.rules ?? []).map((rule) => ({ rule, remaining: rule.times ?? null }));
    this.outage = config.outage ? { ...config.outage, since: null } : null;
  }

  /** Is the tenant down now (a configured outage has begun and not yet ended)? */
  down(now: Date): boolean {
    const outage = this.outage;
    if (!outage?.since) return false;
    return outage.seconds === undefined || now.getTime() - outage.since.getTime() < outage.seconds * 1000;
  }

  /** A call was answered: the one the outage waits for starts it. */
  answered(path: string, cmdlet: string | null, status: number, now: Date): void {
    const outage = this.outage;
    if (!outage || outage.since || status < 200 || status >= 300) return;
    const needle = outage.after.toLowerCase();
    if (path.toLowerCase().includes(needle) || (cmdlet !== null && cmdlet.toLowerCase().includes(needle))) outage.since = now;
  }

  clear(): void {
    this.set({});
  }

  /** The first live rule matching this request, counted as used. */
  take(service: ServiceName, path: string, cmdlet: string | null): FaultRule | null {
    for (const active of this.rules) {
      if (active.rule.service !== service) continue;
      if (active.remaining !== null && active.remaining <= 0) continue;
      const needle = (active.rule.match ?? '').toLowerCase();
      const matches =
        needle === '' || path.toLowerCase().includes(needle) || (cmdlet !== null && cmdlet.toLowerCase().includes(needle));
      if (!matches) continue;
      if (active.rule.probability !== undefined && this.random() >= active.rule.probability) continue;
      if (active.remaining !== null) active.remaining -= 1;
      return active.rule;
    }
    return null;
  }

  describe(): { latencyMs: number; serviceLatencyMs?: Partial<Record<ServiceName, number>>; rules: (FaultRule & { remaining: number | null })[]; outage?: { after: string; seconds?: number; since: string | null } } {
    return {
      latencyMs: this.latency,
      ...(Object.keys(this.serviceLatency).length ? { serviceLatencyMs: { ...this.serviceLatency } } : {}),
      rules: this.rules.map((active) => ({ ...active.rule, remaining: active.remaining })),
      ...(this.outage ? { outage: { after: this.outage.after, ...(this.outage.seconds === undefined ? {} : { seconds: this.outage.seconds }), since: this.outage.since?.toISOString() ?? null } } : {}),
    };
  }
}

export interface CallRecord {
  at: string;
  service: ServiceName;
  method: string;
  path: string;
  cmdlet: string | null;
  parameters: Record<string, unknown> | null;
  /** What was answered, injected faults included; null when the connection was dropped. */
  status: number | null;
}

/** Every Graph, Exchange and token call, in arrival order, for tests that prove exactly-once execution. */
export class CallLog {
  private records: CallRecord[] = [];

  start(record: Omit<CallRecord, 'status'>): CallRecord {
    const entry: CallRecord = { ...record, status: null };
    this.records.push(entry);
    return entry;
  }

  list(): CallRecord[] {
    return structuredClone(this.records);
  }

  clear(): void {
    this.records = [];
  }
}

/** A small seeded PRNG, so a probabilistic fault plan repeats from run to run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The Retry-After header a fault answers with, in the form the rule asks for. */
export function retryAfterHeader(rule: FaultRule, now: Date): Record<string, string> {
  if (rule.retryAfterSeconds === undefined) return {};
  if (rule.retryAfterHttpDate) return { 'Retry-After': new Date(now.getTime() + rule.retryAfterSeconds * 1000).toUTCString() };
  return { 'Retry-After': String(rule.retryAfterSeconds) };
}
