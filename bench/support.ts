// Shared pieces of `npm run bench`: processes, /proc readings, load generation. Loopback only.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Agent, request } from 'undici';

export const root = path.join(__dirname, '..');

/**
 * How each process of the bench is run. The bot: compiled JavaScript from `npm run build` (dist/main.js)
 * when there is one, as in production, else through the tsx loader. The echo bot and PGlite's footprint
 * are plain JavaScript; the simulator runs through tsx (its CPU is reported beside the bot's, not judged).
 */
export function processEntry(script: 'main' | 'echo-bot' | 'tenant-echo-bot' | 'simulator' | 'pglite-footprint'): { args: string[]; compiled: boolean } {
  if (script === 'main') {
    const compiled = path.join(root, 'dist', 'main.js');
    return existsSync(compiled) ? { args: [compiled], compiled: true } : { args: ['--import', 'tsx', path.join(root, 'src', 'main.ts')], compiled: false };
  }
  if (script === 'simulator') return { args: ['--import', 'tsx', path.join(root, 'bench', 'simulator.ts')], compiled: false };
  return { args: [path.join(root, 'bench', `${script}.cjs`)], compiled: true };
}

export interface Child {
  child: ChildProcess;
  pid: number;
  output: string[];
  /** Resolves with the first line of output matching `pattern`. */
  line(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

export function startChild(args: string[], env: Record<string, string>, nodeArgs: string[] = []): Child {
  const child = spawn(process.execPath, [...nodeArgs, ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  let buffered = '';
  const onData = (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      if (output.length < 200) output.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.pattern.test(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  return {
    child,
    pid: child.pid!,
    output,
    line: (pattern, timeoutMs = 60_000) => new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms:\n${output.join('\n')}`)), timeoutMs);
      const exit = (code: number | null) => { clearTimeout(timer); reject(new Error(`process exited (${code}) before ${pattern}:\n${output.join('\n')}`)); };
      child.once('exit', exit);
      waiters.push({ pattern, resolve: (line) => { clearTimeout(timer); child.off('exit', exit); resolve(line); } });
    }),
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => { clearTimeout(force); resolve(); });
      child.kill('SIGTERM');
    }),
  };
}

/** CPU time (user + system) a process has used, in ms. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

/** Resident set size of a process, in MB. */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round((kb / 1024) * 10) / 10;
}

export function loadAverage(): number {
  return Math.round(os.loadavg()[0]! * 100) / 100;
}

export function machine(): string {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model.trim() ?? 'CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GB, Linux ${os.release()}, Node ${process.version}`;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** The tenant simulator in its own process (so its CPU is not the bot's nor the load generator's). */
export async function startSimulatorProcess(certDir: string): Promise<{ url: string; caCertPath: string; pid: number; control: <T = unknown>(method: 'GET' | 'POST' | 'DELETE', p: string, body?: unknown) => Promise<T>; stop: () => Promise<void> }> {
  const sim = startChild(processEntry('simulator').args, { BENCH_CERT_DIR: certDir }, process.env.BENCH_SIM_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_SIM_PROF] : []);
  const ready = JSON.parse((await sim.line(/^\{"simulator"/)).trim()) as { simulator: { url: string; caCertPath: string } };
  const dispatcher = new Agent({ connect: { ca: readFileSync(ready.simulator.caCertPath, 'utf8') } });
  return {
    ...ready.simulator,
    pid: sim.pid,
    control: async <T>(method: 'GET' | 'POST' | 'DELETE', p: string, body?: unknown) => {
      const res = await request(`${ready.simulator.url}${p}`, {
        method, dispatcher, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.body.text();
      if (res.statusCode >= 400) throw new Error(`simulator ${method} ${p}: ${res.statusCode} ${text}`);
      return (text ? JSON.parse(text) : undefined) as T;
    },
    stop: async () => { await dispatcher.close(); await sim.stop(); },
  };
}

/** Polls until `url` answers 200; returns the ms it took. */
export async function waitHealthy(url: string, timeoutMs = 60_000): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.text();
      if (res.status === 200) return performance.now() - started;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
}
