import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Agent, request } from 'undici';
import { DEMO_FIXTURE_PATH } from './simulatorClient';

const ROOT = path.join(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

function run(env: Record<string, string>): { output: () => string; exited: Promise<number | null>; kill: (signal: NodeJS.Signals) => void } {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete childEnv.NODE_OPTIONS;
  const child = spawn(TSX, [path.join(ROOT, 'src', 'simulator', 'main.ts')], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return {
    output: () => output,
    exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))),
    kill: (signal) => child.kill(signal),
  };
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('npm run simulator', () => {
  // Each test starts a process through tsx; running them side by side halves the wait.
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'smtp-gate-main-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  test.concurrent('a bad fixture is reported by path and the simulator does not start', async () => {
    const broken = JSON.parse(readFileSync(DEMO_FIXTURE_PATH, 'utf8'));
    broken.users[2].mailbox = { smtpClientAuthenticationDisabled: 'maybe' };
    const fixturePath = path.join(dataDir, 'broken.json');
    writeFileSync(fixturePath, JSON.stringify(broken));

    const process = run({ SIMULATOR_FIXTURE: fixturePath, SIMULATOR_PORT: '0', DATA_DIR: dataDir });
    expect(await process.exited).toBe(1);
    expect(process.output()).toContain('users[2].mailbox.smtpClientAuthenticationDisabled: expected true, false or null');
    expect(process.output()).not.toContain('listening');
  });

  test.concurrent('starts with the demo tenant, prints its URL and CA path, and stops cleanly on SIGTERM', async () => {
    const process = run({ SIMULATOR_PORT: '0', DATA_DIR: dataDir });
    await waitFor(() => /listening on https:\/\/localhost:\d+/.test(process.output()), 15_000);
    const url = /(https:\/\/localhost:\d+)/.exec(process.output())?.[1] as string;
    const caPath = path.join(dataDir, 'simulator-ca', 'ca.pem');
    expect(process.output()).toContain(caPath);

    const dispatcher = new Agent({ connect: { ca: readFileSync(caPath) } });
    try {
      const response = await request(`${url}/_simulator/state`, { dispatcher });
      expect(response.statusCode).toBe(200);
      expect(((await response.body.json()) as { users: unknown[] }).users.length).toBeGreaterThan(5);
    } finally {
      await dispatcher.close();
    }
    process.kill('SIGTERM');
    expect(await process.exited).toBe(0);
  });
});
