// `npm run bench`: SMTP Gate against same-run baselines, loopback only, bounded in time (a few minutes).
// Prints one line per figure with its ratio to its baseline and writes bench/results.json
// (bench/readme.ts turns that into the README's performance table).
//   BENCH_SECONDS       measured seconds per load run (default 6)
//   BENCH_CONNECTIONS   concurrent connections (default 16)
//   BENCH_REQUESTS      requests for the size trend (default 10000)
//   BENCH_CLICKS        approve clicks per latency (default 8)
//   BENCH_ONLY          comma-separated figure numbers to run (default all)
//   BENCH_CPU_PROF      a directory: the bot writes a CPU profile of figures 1–3 there
//   BENCH_SIM_PROF      a directory: the tenant simulator writes a CPU profile there when it stops
//   BENCH_BOT_NODE_ARGS extra node flags for the bot
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../src/config';
import { loadFixture, type TenantFixture } from '../src/simulator/fixture';
import { connectTenant, setSmtpForGroup } from '../src/tenant';
import { cardText, FakeConnector, isApprovalCard, requestIdOf, type ConnectorCall } from '../test/support/fake-connector';
import { TeamsClient } from '../test/support/teams';
import {
  processEntry, cpuMs, loadAverage, machine, percentile, round, rssMb, root, startChild, startSimulatorProcess, waitHealthy, type Child,
} from './support';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (options: Record<string, unknown>, done?: (error: unknown, result: CannonResult) => void) => CannonInstance;
interface CannonResult { requests: { average: number; total: number }; latency: { p50: number; p99: number; average: number }; non2xx: number; errors: number; timeouts: number; duration: number }
interface CannonInstance { on(event: 'response', listener: () => void): void; stop(): void }

const seconds = Number(process.env.BENCH_SECONDS ?? 6);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);
const trendRequests = Number(process.env.BENCH_REQUESTS ?? 10_000);
const clicks = Number(process.env.BENCH_CLICKS ?? 8);
const only = new Set((process.env.BENCH_ONLY ?? '1,2,3,4,5').split(',').map((s) => Number(s.trim())));

const fixture: TenantFixture = loadFixture(path.join(root, 'fixtures', 'demo-tenant.json'));
const person = (name: string) => {
  const user = fixture.users.find((u) => u.displayName === name)!;
  return { id: user.id, name: user.displayName };
};
const alex = person('Alex Wilber'); // IT staff
const megan = person('Megan Bowen'); // approver
const target = 'bob@contoso.com';

export interface Figure {
  id: string;
  figure: number;
  label: string;
  value: number;
  unit: string;
  baseline: number | null;
  baselineLabel: string;
  ratio: number | null;
  goal: string;
  met: boolean | null;
  /** 1-minute load average when the figure was taken (2 shared cores). */
  load: number;
  detail?: Record<string, unknown>;
}

const figures: Figure[] = [];
function record(f: Omit<Figure, 'ratio' | 'load'> & { ratio?: number | null }): void {
  const ratio = f.ratio !== undefined ? f.ratio : f.baseline ? round(f.value / f.baseline, 2) : null;
  const figure: Figure = { ...f, ratio, load: loadAverage() };
  figures.push(figure);
  const mark = figure.met === null ? '' : figure.met ? ' ✓' : ' ✗';
  const base = figure.baseline === null ? '' : ` vs ${figure.baselineLabel} ${figure.baseline} ${figure.unit} = ${figure.ratio}×`;
  console.log(`[${figure.figure}] ${figure.label}: ${figure.value} ${figure.unit}${base} (goal ${figure.goal})${mark}  load ${figure.load}`);
}

function messageActivity(connector: FakeConnector, text: string) {
  return {
    type: 'message', id: randomUUID(), channelId: 'msteams', serviceUrl: connector.url, timestamp: new Date().toISOString(), locale: 'en-US',
    from: { id: `29:${alex.id}`, name: alex.name, aadObjectId: alex.id }, recipient: { id: '28:smtp-gate', name: 'SMTP Gate' },
    conversation: { id: `a:${alex.id}`, conversationType: 'personal', tenantId: fixture.tenant.id }, channelData: { tenant: { id: fixture.tenant.id } }, text,
  };
}

/** Closed-loop load: `connections` clients, each posting the next message as soon as the last was answered. */
function cannon(url: string, connector: FakeConnector, text: string, run: { seconds?: number; amount?: number; onResponse?: () => void }): Promise<CannonResult> {
  return new Promise((resolve, reject) => {
    const instance = autocannon({
      url: `${url}/api/messages`, connections, ...(run.amount ? { amount: run.amount } : { duration: run.seconds }), timeout: 30,
      requests: [{
        method: 'POST', headers: { 'content-type': 'application/json' },
        setupRequest: (req: Record<string, unknown>) => ({ ...req, body: JSON.stringify(messageActivity(connector, text)) }),
      }],
    }, (error, result) => (error ? reject(error) : resolve(result)));
    if (run.onResponse) instance.on('response', run.onResponse);
  });
}

/**
 * Closed-loop throughput of one bot, with the CPU each request cost: in the bot, in the tenant
 * simulator (when `simPid` is given) and in this process (the load generator and the connector
 * that receives the replies). The machine's cores are shared by all three.
 */
async function measureThroughput(name: string, pid: number, url: string, connector: FakeConnector, text: string, simPid?: number) {
  await cannon(url, connector, text, { seconds: 2 }); // warm-up: JIT, connections, tokens, caches
  connector.calls.length = 0;
  const cpuBefore = cpuMs(pid);
  const simBefore = simPid === undefined ? 0 : cpuMs(simPid);
  const ownBefore = process.cpuUsage();
  const result = await cannon(url, connector, text, { seconds });
  const cpu = cpuMs(pid) - cpuBefore;
  const simCpu = simPid === undefined ? 0 : cpuMs(simPid) - simBefore;
  const own = process.cpuUsage(ownBefore);
  const answered = result.requests.total - result.non2xx;
  if (result.non2xx || result.errors || result.timeouts) console.log(`    ${name}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`);
  const replies = connector.calls.length;
  connector.calls.length = 0;
  const per = (ms: number) => round(ms / Math.max(1, answered), 2);
  return {
    rps: round(result.requests.average, 1), p50: result.latency.p50, p99: result.latency.p99, cpuPerRequest: per(cpu), requests: result.requests.total, replies,
    simulatorCpuPerRequest: per(simCpu), loadGeneratorCpuPerRequest: per((own.user + own.system) / 1000),
  };
}

function botEnv(sim: { url: string; caCertPath: string }, dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    TENANT_ID: fixture.tenant.id, TENANT_CLIENT_ID: '00000000-0000-4000-8000-0000000007e5', TENANT_CLIENT_SECRET: 'simulator-accepts-any',
    AUTHORITY_HOST: sim.url, GRAPH_BASE_URL: sim.url, EXCHANGE_BASE_URL: sim.url, TENANT_CA_FILE: sim.caCertPath,
    IT_STAFF_GROUP_ID: fixture.localMode!.itStaffGroupId, APPROVER_GROUP_ID: fixture.localMode!.approverGroupId,
    DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'info', JOB_INTERVAL_MS: '3600000',
    // A disable needs an approver too, so the click loop can alternate enable and disable on one mailbox.
    QUORUM_LOW: '1',
    ...extra,
  };
}

/** BENCH_BOT_NODE_ARGS: extra node flags for every bot start (e.g. to try V8 heap settings). */
const botNodeArgs = (process.env.BENCH_BOT_NODE_ARGS ?? '').split(' ').filter(Boolean);

async function startGate(env: Record<string, string>, nodeArgs: string[] = []): Promise<{ bot: Child; url: string; startMs: number }> {
  const started = performance.now();
  const bot = startChild(processEntry('main').args, env, [...botNodeArgs, ...nodeArgs]);
  const line = await bot.line(/bot listening/, 120_000);
  const url = (JSON.parse(line) as { url: string }).url.replace('/api/messages', '').replace('localhost', '127.0.0.1');
  await waitHealthy(`${url}/healthz`, 120_000);
  return { bot, url, startMs: Math.round(performance.now() - started) };
}

/** Posts a message and resolves when the bot's HTTP answer came back (the reply went to the connector before it). */
async function timedMessage(url: string, connector: FakeConnector, text: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(messageActivity(connector, text)) });
  await res.text();
  if (res.status !== 200) throw new Error(`status answered ${res.status}`);
  return performance.now() - started;
}

/** The first connector call matching `probe` from `from` on, with the time it arrived. */
function nextCall(arrivals: { call: ConnectorCall; at: number }[], from: number, probe: (call: ConnectorCall) => boolean, timeoutMs = 30_000): Promise<{ call: ConnectorCall; at: number }> {
  const deadline = performance.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const poll = () => {
      const hit = arrivals.slice(from).find((a) => probe(a.call));
      if (hit) return resolve(hit);
      if (performance.now() > deadline) return reject(new Error('timed out waiting for a connector call'));
      setTimeout(poll, 2);
    };
    poll();
  });
}

type Simulator = Awaited<ReturnType<typeof startSimulatorProcess>>;

async function approveClicks(url: string, connector: FakeConnector, sim: Simulator, exchangeLatencyMs: number) {
  const teams = new TeamsClient(url, connector.url, fixture.tenant.id);
  const arrivals: { call: ConnectorCall; at: number }[] = [];
  const log = () => { while (arrivals.length < connector.calls.length) arrivals.push({ call: connector.calls[arrivals.length]!, at: performance.now() }); };
  const ticker = setInterval(log, 1);
  await sim.control('POST', '/_simulator/faults', { serviceLatencyMs: { exchange: exchangeLatencyMs } });
  const toResponse: number[] = [];
  const toCard: number[] = [];
  try {
    for (let i = 0; i < clicks; i++) {
      const enable = i % 2 === 0;
      const mark = arrivals.length;
      await teams.message(alex, enable ? `enable smtp for ${target} because the bench printer` : `disable smtp for ${target}`);
      log();
      const draft = await nextCall(arrivals, mark, (c) => c.method === 'POST' && (c.activity.attachments ?? []).some((a) => { try { requestIdOf(a.content); return true; } catch { return false; } }));
      const requestId = requestIdOf(draft.call.activity.attachments![0]!.content);
      const beforeConfirm = arrivals.length;
      await teams.press(alex, 'request.confirm', { requestId, justification: 'the bench printer' });
      const approval = await nextCall(arrivals, beforeConfirm, (c) => c.method === 'POST' && (c.activity.attachments ?? []).some((a) => isApprovalCard(a.content) && a.content.refresh?.action?.data?.requestId === requestId || JSON.stringify(a.content).includes(requestId) && isApprovalCard(a.content)));
      const approvalId = approval.call.answeredId!;
      const beforeClick = arrivals.length;
      const clicked = performance.now();
      const answer = await teams.press(megan, 'request.approve', { requestId });
      toResponse.push(performance.now() - clicked);
      if (answer.status !== 200) throw new Error(`approve answered ${answer.status}`);
      const updated = await nextCall(arrivals, beforeClick, (c) => c.method === 'PUT' && c.activityId === approvalId);
      toCard.push(updated.at - clicked);
      // Let the change finish before the next request for the same mailbox.
      await nextCall(arrivals, beforeClick, (c) => c.method === 'PUT' && c.activityId === approvalId && /Done|failed|Failed/.test(cardText(c.activity.attachments?.[0]?.content)), 60_000);
    }
  } finally {
    clearInterval(ticker);
    await sim.control('POST', '/_simulator/faults', {});
  }
  return { responseP50: round(percentile(toResponse, 50)), responseP99: round(percentile(toResponse, 99)), cardP50: round(percentile(toCard, 50)), cardP99: round(percentile(toCard, 99)) };
}

function linearSlope(points: { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const num = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const den = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

async function bulk(sim: Simulator) {
  const size = 200;
  const latencyMs = 300;
  const sample = Number(process.env.BENCH_SEQUENTIAL_SAMPLE ?? 50);
  const bulkFixture = structuredClone(fixture);
  const members: string[] = [];
  for (let i = 0; i < size; i++) {
    const id = `20000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
    members.push(id);
    bulkFixture.users.push({ id, displayName: `Printer ${i}`, userPrincipalName: `printer${i}@contoso.com`, mail: null, givenName: null, surname: null,
      preferredLanguage: null, accountEnabled: true, mailbox: { smtpClientAuthenticationDisabled: true }, perUserMfaState: 'disabled' });
  }
  const groupId = '30000000-0000-4000-8000-000000000001';
  bulkFixture.groups!.push({ id: groupId, displayName: 'Printers', mailNickname: 'printers', members });
  const faults = { serviceLatencyMs: { exchange: latencyMs }, rules: [{ service: 'exchange', match: 'Set-CASMailbox', status: 429, retryAfterSeconds: 1, probability: 0.05 }] };
  const tenant = connectTenant(loadConfig(botEnv(sim, '/nonexistent')));
  try {
    await tenant.checkCredential(); // tokens and TLS sessions before the clock starts
    await sim.control('POST', '/_simulator/reset', bulkFixture);
    await sim.control('POST', '/_simulator/faults', faults);
    let started = performance.now();
    const results = await setSmtpForGroup(tenant, groupId, false);
    const parallelMs = performance.now() - started;
    const state = await sim.control<{ users: { userPrincipalName: string; mailbox: { smtpClientAuthenticationDisabled: boolean | null } | null }[] }>('GET', '/_simulator/state');
    const calls = await sim.control<{ cmdlet: string | null; status: number | null; parameters: { Identity?: string } | null }[]>('GET', '/_simulator/calls');
    const applied = new Map<string, number>();
    for (const call of calls) if (call.cmdlet === 'Set-CASMailbox' && call.status === 200) applied.set(String(call.parameters?.Identity), (applied.get(String(call.parameters?.Identity)) ?? 0) + 1);
    const printers = state.users.filter((u) => u.userPrincipalName.startsWith('printer'));
    const exactlyOnce = printers.every((u) => u.mailbox?.smtpClientAuthenticationDisabled === false && applied.get(u.userPrincipalName) === 1);
    const throttled = calls.filter((c) => c.cmdlet === 'Set-CASMailbox' && c.status === 429).length;
    // The admin's PowerShell loop: one Set-CASMailbox after the other, the same calls through the same client.
    await sim.control('POST', '/_simulator/reset', bulkFixture);
    await sim.control('POST', '/_simulator/faults', faults);
    started = performance.now();
    for (let i = 0; i < sample; i++) await tenant.exchange.setCasMailboxSmtpClientAuthenticationDisabled(`printer${i}@contoso.com`, false);
    const sequentialMs = ((performance.now() - started) * size) / sample;
    return { size, parallelMs: Math.round(parallelMs), sequentialMs: Math.round(sequentialMs), sample, exactlyOnce, throttled, outcomes: results.filter((r) => r.outcome === 'changed').length };
  } finally {
    await sim.control('POST', '/_simulator/faults', {});
    await sim.control('POST', '/_simulator/reset');
    await tenant.close();
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const work = mkdtempSync(path.join(os.tmpdir(), 'smtp-gate-bench-'));
  const dataDir = path.join(work, 'data');
  const connector = new FakeConnector();
  await connector.start();
  const sim = await startSimulatorProcess(path.join(work, 'ca'));
  const children: Child[] = [];
  const raw: Record<string, unknown> = {};
  const compiled = processEntry('main').compiled;
  console.log(`SMTP Gate bench on ${machine()}; bot run as ${compiled ? 'compiled JavaScript' : 'TypeScript through tsx'}; load ${loadAverage()}`);
  try {
    let echo: Awaited<ReturnType<typeof measureThroughput>> | undefined;
    if (only.has(1) || only.has(2)) {
      const echoBot = startChild(processEntry('echo-bot').args, {});
      children.push(echoBot);
      const port = (JSON.parse(await echoBot.line(/^\{"echo"/)) as { echo: { port: number } }).echo.port;
      echo = await measureThroughput('echo', echoBot.pid, `http://127.0.0.1:${port}`, connector, 'smtp status bob@contoso.com');
      raw.echo = echo;
      await echoBot.stop();
    }
    // The same bot, sending the tenant the requests a status sends: the floor of a status in this machine's set-up.
    let floor: Awaited<ReturnType<typeof measureThroughput>> | undefined;
    if (only.has(1)) {
      const floorBot = startChild(processEntry('tenant-echo-bot').args, { ...botEnv(sim, dataDir), TARGET_UPN: target });
      children.push(floorBot);
      const port = (JSON.parse(await floorBot.line(/^\{"echo"/)) as { echo: { port: number } }).echo.port;
      floor = await measureThroughput('echo + tenant reads', floorBot.pid, `http://127.0.0.1:${port}`, connector, `smtp status ${target}`, sim.pid);
      raw.tenantEcho = floor;
      await floorBot.stop();
    }

    // BENCH_CPU_PROF=<dir>: the bot of figures 1–3 writes a V8 CPU profile there when it stops (bench/profile-summary.ts reads it).
    const first = await startGate(botEnv(sim, dataDir), process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : []);
    children.push(first.bot);
    raw.firstStartMs = first.startMs;
    if (only.has(1)) {
      const gate = await measureThroughput('smtp status', first.bot.pid, first.url, connector, `smtp status ${target}`, sim.pid);
      raw.status = gate;
      record({ id: 'status.throughput', figure: 1, label: 'smtp status throughput (0 ms tenant)', value: gate.rps, unit: 'req/s', baseline: echo!.rps, baselineLabel: 'echo bot', goal: '≥ 0.7× echo', met: gate.rps >= 0.7 * echo!.rps, detail: { connections, seconds } });
      record({ id: 'status.p50', figure: 1, label: 'smtp status p50', value: gate.p50, unit: 'ms', baseline: echo!.p50, baselineLabel: 'echo p50', goal: 'reported', met: null });
      record({ id: 'status.p99', figure: 1, label: 'smtp status p99', value: gate.p99, unit: 'ms', baseline: echo!.p99, baselineLabel: 'echo p99', goal: 'reported', met: null });
      record({ id: 'status.cpu', figure: 1, label: 'bot CPU per status', value: gate.cpuPerRequest, unit: 'ms', baseline: echo!.cpuPerRequest, baselineLabel: 'echo', goal: 'reported', met: null });
      // Both bots share the machine's cores with the load generator, and SMTP Gate also with the simulator
      // answering its tenant reads: what the machine spends per request bounds the throughput either can reach.
      const machineCpu = round(gate.cpuPerRequest + gate.simulatorCpuPerRequest + gate.loadGeneratorCpuPerRequest, 2);
      const echoMachineCpu = round(echo!.cpuPerRequest + echo!.loadGeneratorCpuPerRequest, 2);
      record({ id: 'status.throughput.floor', figure: 1, label: 'smtp status throughput against the echo bot that sends the same tenant requests', value: gate.rps, unit: 'req/s', baseline: floor!.rps, baselineLabel: 'echo + tenant reads', goal: 'reported', met: null });
      record({ id: 'status.cpu.floor', figure: 1, label: 'bot CPU per status against the echo bot that sends the same tenant requests', value: gate.cpuPerRequest, unit: 'ms', baseline: floor!.cpuPerRequest, baselineLabel: 'echo + tenant reads', goal: 'reported', met: null });
      record({ id: 'status.simulator-cpu', figure: 1, label: 'tenant simulator CPU per status', value: gate.simulatorCpuPerRequest, unit: 'ms', baseline: null, baselineLabel: '', goal: 'reported', met: null });
      record({ id: 'status.machine-cpu', figure: 1, label: 'machine CPU per status (bot + simulator + load generator)', value: machineCpu, unit: 'ms', baseline: echoMachineCpu, baselineLabel: 'echo bot + load generator', goal: 'reported', met: null, detail: { cores: os.cpus().length } });
    }
    if (only.has(3)) {
      await sim.control('POST', '/_simulator/faults', { serviceLatencyMs: { graph: 150, exchange: 400 } });
      await timedMessage(first.url, connector, `smtp status ${target}`); // roles looked up once, as within any minute
      const times: number[] = [];
      for (let i = 0; i < 8; i++) times.push(await timedMessage(first.url, connector, `smtp status ${target}`));
      await sim.control('POST', '/_simulator/faults', {});
      const p50 = round(percentile(times, 50), 0);
      raw.statusAtLatency = { times: times.map((t) => round(t, 0)) };
      record({ id: 'status.latency', figure: 3, label: 'smtp status at 150 ms Graph / 400 ms Exchange, p50', value: p50, unit: 'ms', baseline: 800, baselineLabel: 'two sequential round trips (2 × 400 ms)', goal: '≤ 1×', met: p50 <= 800, detail: { max: round(Math.max(...times), 0) } });
    }
    if (only.has(2)) {
      for (const latency of [0, 300]) {
        const r = await approveClicks(first.url, connector, sim, latency);
        raw[`approve${latency}`] = r;
        const limit = 2 * echo!.p99;
        record({ id: `approve.${latency}.response`, figure: 2, label: `approve click → invoke response at ${latency} ms Exchange, p99`, value: r.responseP99, unit: 'ms', baseline: echo!.p99, baselineLabel: 'echo p99', goal: '≤ 2× echo p99', met: r.responseP99 <= limit, detail: { p50: r.responseP50, clicks } });
        record({ id: `approve.${latency}.card`, figure: 2, label: `approve click → updated card at the connector at ${latency} ms Exchange, p99`, value: r.cardP99, unit: 'ms', baseline: echo!.p99, baselineLabel: 'echo p99', goal: 'reported', met: null, detail: { p50: r.cardP50 } });
      }
    }
    await first.bot.stop();

    if (only.has(5)) {
      // PGlite alone, reopening the same store with the bot's options: the floor the bot's size is judged against.
      const footprint = startChild(processEntry('pglite-footprint').args, { DATA_DIR: dataDir });
      const pglite = (JSON.parse(await footprint.line(/^\{"pglite"/)) as { pglite: { rssMb: number; openMs: number } }).pglite;
      await footprint.stop();
      const starts: number[] = [];
      let gate: Awaited<ReturnType<typeof startGate>> | undefined;
      for (let i = 0; i < 3; i++) {
        gate = await startGate(botEnv(sim, dataDir));
        starts.push(gate.startMs);
        if (i < 2) await gate.bot.stop();
      }
      children.push(gate!.bot);
      const startMs = percentile(starts, 50);
      record({ id: 'start.cold', figure: 5, label: 'start to /healthz with an existing store, median of 3', value: startMs, unit: 'ms', baseline: 2000, baselineLabel: 'goal', goal: '≤ 2000 ms', met: startMs <= 2000, detail: { starts, firstStartFreshStoreMs: raw.firstStartMs } });
      await new Promise((r) => setTimeout(r, 3000));
      const idle = rssMb(gate!.bot.pid);
      record({ id: 'rss.idle', figure: 5, label: 'RSS idle', value: idle, unit: 'MB', baseline: pglite.rssMb, baselineLabel: 'PGlite alone reopened', goal: '≤ PGlite + 120 MB', met: idle <= pglite.rssMb + 120, detail: { aboveMb: round(idle - pglite.rssMb) } });
      const samples: { x: number; y: number }[] = [];
      let answered = 0;
      const sampler = setInterval(() => samples.push({ x: answered, y: rssMb(gate!.bot.pid) }), 250);
      await cannon(gate!.url, connector, `smtp status ${target}`, { amount: trendRequests, onResponse: () => { answered++; } });
      clearInterval(sampler);
      connector.calls.length = 0;
      const peak = Math.max(...samples.map((s) => s.y));
      // Idle long enough for V8's memory reducer to give back what the load made it take.
      await new Promise((r) => setTimeout(r, 10_000));
      const after = rssMb(gate!.bot.pid);
      const slope = round(linearSlope(samples.filter((s) => s.x >= trendRequests / 2)) * 1000, 2);
      raw.rss = { pglite, idle, after, peak, samples: samples.filter((_, i) => i % Math.max(1, Math.ceil(samples.length / 40)) === 0) };
      record({ id: 'rss.after', figure: 5, label: `RSS idle after ${trendRequests} requests`, value: after, unit: 'MB', baseline: pglite.rssMb, baselineLabel: 'PGlite alone reopened', goal: '≤ PGlite + 120 MB', met: after <= pglite.rssMb + 120, detail: { peakMb: peak } });
      record({ id: 'rss.trend', figure: 5, label: `RSS trend over the second half of ${trendRequests} requests`, value: slope, unit: 'MB per 1000 requests', baseline: null, baselineLabel: '', goal: '≤ 1 (no growth)', met: slope <= 1 });
      await gate!.bot.stop();
    }

    if (only.has(4)) {
      const b = await bulk(sim);
      raw.bulk = b;
      record({ id: 'bulk.speedup', figure: 4, label: `bulk enable of ${b.size} mailboxes at 300 ms/Exchange call, 5 % 429s`, value: b.parallelMs, unit: 'ms', baseline: b.sequentialMs, baselineLabel: `sequential loop (measured on ${b.sample}, scaled)`, ratio: round(b.sequentialMs / b.parallelMs, 1), goal: '≥ 10× faster, each mailbox set once', met: b.sequentialMs / b.parallelMs >= 10 && b.exactlyOnce, detail: { exactlyOnce: b.exactlyOnce, throttled: b.throttled, changed: b.outcomes } });
    }
  } finally {
    for (const child of children) await child.stop();
    await sim.stop();
    await connector.stop();
    rmSync(work, { recursive: true, force: true });
  }
  const results = { date: new Date().toISOString(), machine: machine(), os: `${os.type()} ${os.release()}`, compiled, connections, seconds, durationS: Math.round((Date.now() - started) / 1000), figures, raw };
  if (only.size === 5) writeFileSync(path.join(__dirname, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  else console.log('(a partial run: bench/results.json left as it was)');
  console.log(`done in ${results.durationS} s`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
