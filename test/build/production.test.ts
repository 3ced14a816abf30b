import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { botSettings, SimulatorHandle } from '../support/harness';

/**
 * The production build as it is deployed: `npm run build` once, then a directory holding only what
 * a deployment ships (dist/, locales/, scripts/start.cjs, package.json, node_modules without tsx).
 * No TypeScript file and no TypeScript loader exists there, so the bot that answers /healthz is
 * the compiled one, finding its locales and SQL migrations from dist/.
 */

const root = join(__dirname, '..', '..');
const packageJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

let deployDir: string;
let simulator: SimulatorHandle;
let bot: ChildProcess | undefined;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

beforeAll(async () => {
  deployDir = mkdtempSync(join(tmpdir(), 'smtp-gate-deploy-'));
  execFileSync(process.execPath, [join(root, 'scripts', 'build.cjs'), '--out', join(deployDir, 'dist')], { cwd: root, stdio: 'pipe' });
  cpSync(join(root, 'locales'), join(deployDir, 'locales'), { recursive: true });
  mkdirSync(join(deployDir, 'scripts'));
  cpSync(join(root, 'scripts', 'start.cjs'), join(deployDir, 'scripts', 'start.cjs'));
  cpSync(join(root, 'package.json'), join(deployDir, 'package.json'));
  // The installed packages, minus the TypeScript loader.
  mkdirSync(join(deployDir, 'node_modules'));
  for (const name of readdirSync(join(root, 'node_modules'))) {
    if (name === 'tsx' || name === '.bin' || name.startsWith('.')) continue;
    symlinkSync(join(root, 'node_modules', name), join(deployDir, 'node_modules', name));
  }
  simulator = await SimulatorHandle.start();
}, 240_000);

afterAll(async () => {
  if (bot && bot.exitCode === null && bot.signalCode === null) {
    const exited = new Promise((resolve) => bot!.once('exit', resolve));
    bot.kill('SIGKILL');
    await exited;
  }
  await simulator?.close();
  if (deployDir) rmSync(deployDir, { recursive: true, force: true });
});

test('npm run build and npm start are the build script and the start script this test runs', () => {
  expect(packageJson.scripts.build).toBe('node scripts/build.cjs');
  expect(packageJson.scripts.start).toBe('node scripts/start.cjs');
});

test('the build holds compiled JavaScript and the SQL migrations, no TypeScript', () => {
  const built = filesUnder(join(deployDir, 'dist')).map((f) => f.slice(deployDir.length + 1));
  expect(built).toContain('dist/main.js');
  expect(built).toContain('dist/server.js');
  expect(built).toEqual(expect.arrayContaining(['dist/tab/static/index.html', 'dist/tab/static/tab.js', 'dist/tab/static/tab.css']));
  expect(built.filter((f) => f.endsWith('.ts'))).toEqual([]);
  const migrations = readdirSync(join(root, 'src', 'store', 'migrations')).filter((f) => f.endsWith('.sql'));
  expect(migrations.length).toBeGreaterThan(0);
  for (const m of migrations) expect(built).toContain(`dist/store/migrations/${m}`);
  expect(existsSync(join(deployDir, 'node_modules', 'tsx'))).toBe(false);
});

test('dist/main.js is one bundled file: it loads none of our modules from beside it, only the packages left out of the bundle', () => {
  const main = readFileSync(join(deployDir, 'dist', 'main.js'), 'utf8');
  const required = [...main.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]!);
  expect(required.filter((r) => r.startsWith('.'))).toEqual([]);
  expect(required).toEqual(expect.arrayContaining(['@electric-sql/pglite']));
  expect(required).not.toContain('botbuilder');
});

test('with a .env, npm start runs the compiled bot, which migrates its store and answers /healthz', async () => {
  const dataDir = join(deployDir, 'data');
  const settings = botSettings(simulator, { PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'info', JOB_INTERVAL_MS: '3600000' });
  writeFileSync(join(deployDir, '.env'), Object.entries(settings).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  const logs: string[] = [];
  bot = spawn(process.execPath, ['scripts/start.cjs'], {
    cwd: deployDir,
    // Nothing but the .env configures it; NODE_OPTIONS cannot slip a loader in.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_EXTRA_CA_CERTS: simulator.caCertPath },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the built bot did not start:\n${logs.join('')}`)), 60_000);
    bot!.stdout!.on('data', (chunk: Buffer) => {
      logs.push(chunk.toString('utf8'));
      const line = logs.join('').split('\n').find((l) => l.includes('bot listening'));
      if (line) { clearTimeout(timer); resolve((JSON.parse(line) as { url: string }).url.replace('/api/messages', '').replace('localhost', '127.0.0.1')); }
    });
    bot!.stderr!.on('data', (chunk: Buffer) => logs.push(chunk.toString('utf8')));
    bot!.once('exit', (code) => { clearTimeout(timer); reject(new Error(`the built bot exited with ${code}:\n${logs.join('')}`)); });
  });
  const res = await fetch(`${url}/healthz`);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ store: 'ok', tenant: 'ok' });
  // The audit tab's page, script and teams-js come from dist/tab/static and the installed packages.
  const tab = await fetch(`${url}/tab`);
  expect(tab.status).toBe(200);
  expect(await tab.text()).toContain('/tab/tab.js');
  for (const asset of ['/tab/tab.js', '/tab/tab.css', '/tab/teams-js.js']) expect({ asset, status: (await fetch(`${url}${asset}`)).status }).toEqual({ asset, status: 200 });
  // The process that answered is plain node on compiled files: no loader flag, no .ts module loaded.
  const args = execFileSync('ps', ['-o', 'args=', '-p', String(bot.pid)], { encoding: 'utf8' }).trim();
  expect(args).toBe(`${process.execPath} scripts/start.cjs`);
  // Its PGlite store was migrated from dist/store/migrations.
  expect(existsSync(join(dataDir, 'pglite'))).toBe(true);

  bot.removeAllListeners('exit');
  const exited = new Promise<number | null>((resolve) => bot!.once('exit', (code) => resolve(code)));
  bot.kill('SIGTERM');
  expect(await exited).toBe(0);
}, 90_000);

test('the compiled bot finds the locale files from dist/', () => {
  const script = "const { translator, languages } = require('./dist/i18n'); process.stdout.write(JSON.stringify(languages.map((l) => translator(l)('card.ref', { code: 'X' }))))";
  const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: deployDir, env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8' })) as string[];
  const expected = ['en', 'es', 'pt', 'zh-CN', 'ro'].map((l) => (JSON.parse(readFileSync(join(root, 'locales', `${l}.json`), 'utf8')) as { card: { ref: string } }).card.ref.replace('{{code}}', 'X'));
  expect(out).toEqual(expected);
  expect(out[4]).toBe('Referință: X');
});

test('without a build, production npm start says to build first instead of running TypeScript', () => {
  const empty = mkdtempSync(join(tmpdir(), 'smtp-gate-nobuild-'));
  try {
    mkdirSync(join(empty, 'scripts'));
    cpSync(join(root, 'scripts', 'start.cjs'), join(empty, 'scripts', 'start.cjs'));
    writeFileSync(join(empty, '.env'), 'TENANT_ID=00000000-0000-0000-0000-000000000000\n');
    let stderr = '';
    try {
      execFileSync(process.execPath, ['scripts/start.cjs'], { cwd: empty, env: { PATH: process.env.PATH ?? '' }, stdio: 'pipe' });
    } catch (error) {
      stderr = String((error as { stderr?: Buffer }).stderr ?? '');
      expect((error as { status?: number }).status).toBe(1);
    }
    expect(stderr).toContain('npm run build');
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});
