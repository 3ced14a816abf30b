import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { chromiumArgs, chromiumAvailable, chromiumPath } from '../support/chromium';

/**
 * What a newcomer does: `npm start` with no .env, chat in the Agents Playground as IT staff and as
 * an approver, then Ctrl-C — and nothing is left running.
 */

const root = join(__dirname, '..', '..');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function descendants(pid: number): number[] {
  let out = '';
  try {
    out = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' });
  } catch {
    return [];
  }
  const children = out.split('\n').map((s) => Number(s.trim())).filter(Boolean);
  return children.flatMap((c) => [c, ...descendants(c)]);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

let launcher: ChildProcess;
let output = '';
let dataDir: string;
let ports: { bot: number; simulator: number; playground: number };

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'smtp-gate-start-'));
  ports = { bot: await freePort(), simulator: await freePort(), playground: 0 };
  // Four consecutive free ports for the four Playgrounds (IT staff, approver, end user, second approver).
  for (let candidate = 46150 + Math.floor(Math.random() * 1000); ; candidate += 4) {
    const free = await Promise.all([0, 1, 2, 3].map((i) => new Promise<boolean>((resolve) => {
      const s = createServer().once('error', () => resolve(false)).listen(candidate + i, '127.0.0.1', () => s.close(() => resolve(true)));
    })));
    if (free.every(Boolean)) { ports.playground = candidate; break; }
  }
  launcher = spawn(process.execPath, ['--import', 'tsx', 'src/launch.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATA_DIR: dataDir, PORT: String(ports.bot), SIMULATOR_PORT: String(ports.simulator), PLAYGROUND_PORT: String(ports.playground), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  launcher.stdout!.on('data', (c: Buffer) => { output += c.toString('utf8'); });
  launcher.stderr!.on('data', (c: Buffer) => { output += c.toString('utf8'); });
  const deadline = Date.now() + 90_000;
  while (!output.includes('Ctrl-C stops everything')) {
    if (launcher.exitCode !== null || Date.now() > deadline) throw new Error(`npm start did not come up:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  // The Playgrounds print this once they listen.
  while ((output.match(/Listening on/g) ?? []).length < 4) {
    if (launcher.exitCode !== null || Date.now() > deadline) throw new Error(`the Playgrounds did not come up:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}, 120_000);

afterAll(() => {
  // Run alone (-t), the Ctrl-C test has not stopped the tree: its children would outlive a killed launcher.
  if (launcher && launcher.exitCode === null) {
    for (const pid of [launcher.pid!, ...descendants(launcher.pid!)].reverse()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  rmSync(dataDir, { recursive: true, force: true });
});

test('the console says where the Playground is and who plays which role', () => {
  expect(output).toContain(`http://localhost:${ports.bot}/api/messages`);
  expect(output).toMatch(new RegExp(`Playground as IT staff\\s+Alex Wilber <alexw@contoso.com>: http://localhost:${ports.playground}`));
  expect(output).toMatch(new RegExp(`Playground as approver\\s+Adele Vance <adelev@contoso.com>: http://localhost:${ports.playground + 1}`));
  // A high-risk change needs two approvals: the second approver has a Playground too.
  expect(output).toMatch(new RegExp(`Playground as approver 2\\s+Megan Bowen <meganb@contoso.com>: http://localhost:${ports.playground + 3}`));
  expect(output).toMatch(/IT staff: {2}Alex Wilber, Adele Vance/);
  expect(output).toMatch(/Approvers: Megan Bowen, Adele Vance/);
});

test('the bot answers /healthz once the store and the simulated tenant are up', async () => {
  const res = await fetch(`http://127.0.0.1:${ports.bot}/healthz`);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ store: 'ok', tenant: 'ok' });
  const v6 = await fetch(`http://[::1]:${ports.bot}/healthz`);
  expect(v6.status).toBe(200);
});

/** Does a TCP connection to host:port open (true) or is it refused (false)? */
function opens(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 3000 });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('timeout', () => { socket.destroy(); resolve(false); });
    socket.once('error', () => resolve(false));
  });
}

// This machine's own addresses that another machine could reach (link-local ones need a scope and are left out).
const outsideAddresses = Object.values(networkInterfaces()).flat()
  .filter((a) => a !== undefined && !a.internal && !a.address.toLowerCase().startsWith('fe80:'))
  .map((a) => a!.address);
const loopbackAddresses = ['127.0.0.1', ...(Object.values(networkInterfaces()).flat().some((a) => a?.internal && a.address === '::1') ? ['::1'] : [])];
(outsideAddresses.length ? test : test.skip)(`local mode listens on loopback only: the bot, the simulator and every Playground refuse connections on ${outsideAddresses.length ? outsideAddresses.join(', ') : '[skipped: this machine has no non-loopback address]'} and answer on ${loopbackAddresses.join(' and ')}`, async () => {
  const listeners = { bot: ports.bot, simulator: ports.simulator, ...Object.fromEntries([0, 1, 2, 3].map((i) => [`playground ${i + 1}`, ports.playground + i])) };
  const seen: Record<string, Record<string, boolean>> = {};
  for (const [name, port] of Object.entries(listeners)) {
    seen[name] = {};
    // A Playground busy finishing its start-up opens its ::1 listener a moment after it prints "Listening on".
    for (const host of loopbackAddresses) {
      for (let i = 0; i < 60 && !(seen[name][host] = await opens(host, port)); i++) await new Promise((r) => setTimeout(r, 250));
    }
    for (const host of outsideAddresses) seen[name][host] = await opens(host, port);
  }
  const expected = Object.fromEntries(Object.keys(listeners).map((name) => [name, { ...Object.fromEntries(loopbackAddresses.map((a) => [a, true])), ...Object.fromEntries(outsideAddresses.map((a) => [a, false])) }]));
  expect(seen).toEqual(expected);
  // Still a working Playground through the loopback address: its page is served.
  const page = await fetch(`http://127.0.0.1:${ports.playground + 1}/`);
  expect(page.status).toBe(200);
}, 60_000);

async function say(page: Page, text: string): Promise<void> {
  await page.locator('[data-lexical-editor="true"]').click();
  await page.keyboard.type(text);
  await page.keyboard.press('Enter');
}

const withChromium = chromiumAvailable();
(withChromium ? test : test.skip)(`in the Playground: approvals here, enable SMTP for bob, Confirm, Approve — both cards end "Done, verified"${withChromium ? '' : ` [skipped: no Chromium at ${chromiumPath}]`}`, async () => {
  const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  try {
    const approver = await browser.newPage();
    const staff = await browser.newPage();
    await approver.goto(`http://localhost:${ports.playground + 1}`);
    await staff.goto(`http://localhost:${ports.playground}`);
    await approver.getByText('Personal Chat').click();
    await say(approver, 'approvals here');
    await approver.getByText('Approval cards will be posted here from now on.').waitFor();

    await staff.getByText('Personal Chat').click();
    await say(staff, 'enable SMTP for bob for the floor 2 scanner');
    await staff.getByText('Enable SMTP AUTH for Bob Smith').waitFor();
    await staff.getByText('Waiting for your confirmation').waitFor();
    await staff.getByRole('button', { name: 'Confirm' }).click();
    await staff.getByText('Waiting for approval', { exact: true }).waitFor();

    await approver.getByRole('button', { name: 'Approve' }).click();
    await approver.getByText('Done, verified: the setting was read back and matches.').waitFor({ timeout: 20_000 });
    await staff.getByText('Done, verified: the setting was read back and matches.').waitFor({ timeout: 20_000 });
    await staff.screenshot({ path: join(dataDir, 'requester.png') });
  } finally {
    await browser.close();
  }
}, 90_000);

test('Ctrl-C stops the whole process tree', async () => {
  const tree = descendants(launcher.pid!);
  expect(tree.length).toBeGreaterThanOrEqual(6); // simulator, bot, four Playgrounds
  const exited = new Promise<number | null>((resolve) => launcher.once('exit', (code) => resolve(code)));
  launcher.kill('SIGINT');
  expect(await exited).toBe(0);
  // An exited process lingers until it is reaped; give that a moment, no more.
  for (let i = 0; i < 30 && tree.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
  const survivors = tree.filter(alive).map((pid) => {
    try {
      return execFileSync('ps', ['-o', 'pid=,args=', '-p', String(pid)], { encoding: 'utf8' }).trim();
    } catch {
      return String(pid);
    }
  });
  expect(survivors).toEqual([]);
  await expect(fetch(`http://127.0.0.1:${ports.bot}/healthz`)).rejects.toThrow();
}, 30_000);
