import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join, resolve } from 'node:path';
import { ensureSimulatorCertificates } from './simulator/certificates';
import { FixtureError, loadFixture, type TenantFixture } from './simulator/fixture';

/**
 * Local mode, which `npm start` (scripts/start.cjs) runs through tsx when there is no `.env`: the
 * tenant simulator, the bot wired to it, and the Microsoft 365 Agents Playground, as one process tree
 * that Ctrl-C stops as a whole. With a `.env`, `npm start` runs the compiled bot (dist/main.js) instead;
 * run directly with a `.env`, this launcher starts the bot from src/ alone.
 */

const root = resolve(__dirname, '..');
const tsxImport = ['--import', 'tsx'];
const children: { name: string; child: ChildProcess }[] = [];
let stopping = false;

function run(name: string, args: string[], env: NodeJS.ProcessEnv, cwd = root): ChildProcess {
  // A pipe we never close: the Playground exits when its standard input ends.
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['pipe', 'inherit', 'inherit'] });
  children.push({ name, child });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      process.stderr.write(`${name} exited (${signal ?? code}); stopping everything.\n`);
      void stopAll(1);
    }
  });
  return child;
}

async function stopAll(exitCode: number): Promise<never> {
  stopping = true;
  await Promise.all(children.map(({ child }) => new Promise<void>((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    const force = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => { clearTimeout(force); done(); });
    child.kill('SIGTERM');
  })));
  process.exit(exitCode);
}

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (stopping) return;
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  process.stderr.write(`${what} did not become ready within ${timeoutMs / 1000} s.\n`);
  await stopAll(1);
}

function httpsOk(url: string, ca: string): Promise<boolean> {
  return new Promise((resolveOk) => {
    const req = request(url, { ca, method: 'GET', timeout: 2000 }, (res) => { res.resume(); resolveOk(res.statusCode === 200); });
    req.on('error', () => resolveOk(false));
    req.end();
  });
}

async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return res.status === 200;
}

function roleMembers(fixture: TenantFixture, groupId: string | undefined): TenantFixture['users'] {
  const members = new Set(fixture.groups?.find((g) => g.id === groupId)?.members ?? []);
  return fixture.users.filter((u) => members.has(u.id));
}

/** The Playground's `.m365agentsplayground.yml`: its tenant and users are the fixture's. */
function playgroundConfig(fixture: TenantFixture, me: TenantFixture['users'][number]): string {
  const q = JSON.stringify;
  const user = (u: TenantFixture['users'][number], indent: string) => [
    `${indent}id: ${q(`user-${u.id}`)}`, `${indent}name: ${q(u.displayName)}`,
    `${indent}userPrincipleName: ${q(u.userPrincipalName)}`, `${indent}aadObjectId: ${q(u.id)}`,
    `${indent}givenName: ${q(u.givenName ?? '')}`, `${indent}surname: ${q(u.surname ?? '')}`, `${indent}email: ${q(u.mail ?? u.userPrincipalName)}`,
  ].join('\n');
  // The Playground's schema wants exactly five other users.
  const others = fixture.users.filter((u) => u.id !== me.id).slice(0, 5);
  return [
    'version: "0.1.1"',
    `tenantId: ${q(fixture.tenant.id)}`,
    'bot:', '  id: "00000000-0000-0000-0000-00000000b075"', '  name: "SMTP Gate"',
    'currentUser:', user(me, '  '),
    'users:', ...others.map((u) => user(u, '    ').replace(/^ {4}/, '  - ')),
    'personalChat:', `  id: ${q(`personal-${me.id}`)}`,
    'groupChat:', '  id: "group-chat-it"', '  name: "IT"',
    'team:', '  id: "team-it"', '  name: "IT"', '  aadGroupId: "00000000-0000-0000-0000-000000000031"',
    '  channels:', '    - id: "channel-approvals"', '      name: "Approvals"',
    '',
  ].join('\n');
}

async function localMode(): Promise<void> {
  const dataDir = resolve(process.env.DATA_DIR ?? join(root, '.data'));
  const botPort = Number(process.env.PORT ?? 3978);
  const simulatorPort = Number(process.env.SIMULATOR_PORT ?? 3979);
  const fixturePath = resolve(process.env.SIMULATOR_FIXTURE ?? join(root, 'fixtures', 'demo-tenant.json'));
  let fixture: TenantFixture;
  try {
    fixture = loadFixture(fixturePath);
  } catch (error) {
    process.stderr.write(`${error instanceof FixtureError ? error.message : String(error)}\n`);
    process.exit(1);
  }
  if (!fixture.localMode) {
    process.stderr.write(`${fixturePath}: localMode.itStaffGroupId and localMode.approverGroupId are needed to run locally.\n`);
    process.exit(1);
  }
  const certificates = await ensureSimulatorCertificates(join(dataDir, 'simulator-ca'));
  const simulatorUrl = `https://localhost:${simulatorPort}`;
  const common = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' };

  run('simulator', [...tsxImport, 'src/simulator/main.ts'], { ...common, SIMULATOR_PORT: String(simulatorPort), SIMULATOR_FIXTURE: fixturePath });
  await waitFor('The tenant simulator', () => httpsOk(`${simulatorUrl}/_simulator/state`, certificates.caPem));

  run('bot', [...tsxImport, 'src/main.ts'], {
    ...common,
    PORT: String(botPort),
    // With a bot registration set, local mode checks every activity's token too (the Bot Framework
    // endpoint settings, ToBotFromChannelOpenIdMetadataUrl and the rest, come from the environment).
    MicrosoftAppId: process.env.MicrosoftAppId ?? '',
    MicrosoftAppPassword: process.env.MicrosoftAppPassword ?? '',
    TENANT_ID: fixture.tenant.id,
    // The simulator accepts any client credential; these are placeholders, not secrets.
    TENANT_CLIENT_ID: '00000000-0000-4000-8000-00000000a11c',
    TENANT_CLIENT_SECRET: 'local-simulator',
    AUTHORITY_HOST: simulatorUrl,
    GRAPH_BASE_URL: simulatorUrl,
    EXCHANGE_BASE_URL: simulatorUrl,
    TENANT_CA_FILE: certificates.caCertPath,
    NODE_EXTRA_CA_CERTS: certificates.caCertPath,
    IT_STAFF_GROUP_ID: fixture.localMode.itStaffGroupId,
    APPROVER_GROUP_ID: fixture.localMode.approverGroupId,
    // The Playground has no user-specific card views, so approvers would never see their buttons.
    APPROVAL_CARD_VIEW: process.env.APPROVAL_CARD_VIEW ?? 'shared',
  });
  await waitFor('The bot', () => httpOk(`http://127.0.0.1:${botPort}/healthz`));

  const itStaff = roleMembers(fixture, fixture.localMode.itStaffGroupId);
  const approvers = roleMembers(fixture, fixture.localMode.approverGroupId);
  const staffUser = itStaff.find((u) => !approvers.some((a) => a.id === u.id)) ?? itStaff[0];
  // An approver who is also IT staff can say "approvals here" in their own Playground chat.
  const approverUser = approvers.find((u) => u.id !== staffUser?.id && itStaff.includes(u)) ?? approvers.find((u) => u.id !== staffUser?.id);
  const endUser = fixture.users.find((u) => !itStaff.includes(u) && !approvers.includes(u) && u.mailbox);
  const lines = [
    '',
    'SMTP Gate is running in local mode (tenant simulator, no Microsoft 365 needed).',
    `  Bot:        http://localhost:${botPort}/api/messages (${process.env.MicrosoftAppId ? `Bot Framework tokens for ${process.env.MicrosoftAppId} checked` : 'ANONYMOUS auth: loopback only'})`,
    `  Simulator:  ${simulatorUrl} (fixture ${fixturePath}; calls at ${simulatorUrl}/_simulator/calls)`,
    `  Audit tab:  http://localhost:${botPort}/tab (signs in through the simulator; trust ${certificates.caCertPath})`,
  ];

  if ((process.env.PLAYGROUND ?? '').toLowerCase() !== 'off') {
    const firstPort = Number(process.env.PLAYGROUND_PORT ?? 56150);
    const playgrounds: { label: string; user: TenantFixture['users'][number]; port: number }[] = [];
    if (staffUser) playgrounds.push({ label: 'IT staff', user: staffUser, port: firstPort });
    if (approverUser) playgrounds.push({ label: 'approver', user: approverUser, port: firstPort + 1 });
    if (endUser) playgrounds.push({ label: 'end user', user: endUser, port: firstPort + 2 });
    // High and critical changes need two approvers: the second one gets a Playground of their own.
    const secondApprover = approvers.find((u) => u.id !== staffUser?.id && u.id !== approverUser?.id);
    if (secondApprover) playgrounds.push({ label: 'approver 2', user: secondApprover, port: firstPort + 3 });
    const playgroundCli = require.resolve('@microsoft/m365agentsplayground/cli.js');
    // The Playground has no host option: the preload makes it listen on 127.0.0.1 and ::1 only.
    const loopbackOnly = join(__dirname, 'loopback-only.cjs');
    for (const p of playgrounds) {
      const dir = join(dataDir, 'playground', String(p.port));
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, '.m365agentsplayground.yml'), playgroundConfig(fixture, p.user));
      run(`playground (${p.label})`, ['--require', loopbackOnly, playgroundCli, '-e', `http://127.0.0.1:${botPort}/api/messages`, '-c', 'msteams', '-p', String(p.port), '--disable-telemetry'], { ...common, TEAMSAPPTESTER_BROWSER: 'none' }, dir);
      lines.push(`  Playground as ${p.label.padEnd(10)} ${p.user.displayName} <${p.user.userPrincipalName}>: http://localhost:${p.port}`);
    }
  } else {
    lines.push('  Playground: off (PLAYGROUND=off)');
  }
  lines.push(
    '',
    'Roles in the demo tenant:',
    `  IT staff:  ${itStaff.map((u) => u.displayName).join(', ')}`,
    `  Approvers: ${approvers.map((u) => u.displayName).join(', ')}`,
    `  End users: everyone else, e.g. ${endUser?.displayName ?? '—'}`,
    '',
    'Try it:',
    `  1. As the approver${approverUser ? ` (${approverUser.displayName})` : ''}, type "approvals here" so approval cards come to that chat.`,
    `  2. As IT staff${staffUser ? ` (${staffUser.displayName})` : ''}, type "enable SMTP for bob for the floor 2 scanner" and press Confirm.`,
    '  3. As the approver, press Approve: the change runs once, is read back, and both cards say so.',
    '  Also: "smtp status bob", "exceptions", "help", or the same in Spanish, Portuguese, Chinese or Romanian.',
    'Ctrl-C stops everything.',
    '',
  );
  process.stdout.write(lines.join('\n'));
}

async function main(): Promise<void> {
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  const configured = existsSync(join(root, '.env')) || Boolean(process.env.TENANT_ID);
  if (configured) {
    run('bot', [...tsxImport, 'src/main.ts'], process.env);
    return;
  }
  await localMode();
}

void main();
