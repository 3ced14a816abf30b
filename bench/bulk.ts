// Bulk throughput: setSmtpForGroup at concurrency 8 vs. a sequential baseline (concurrency 1), same run, same simulator
// with 20 ms latency per call. Prints the ratio. Run: node --import tsx bench/bulk.ts
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../src/config';
import { loadFixture } from '../src/simulator/fixture';
import { startSimulator } from '../src/simulator/server';
import { connectTenant, setSmtpForGroup } from '../src/tenant';

async function main(): Promise<void> {
  const size = Number(process.env.BENCH_MAILBOXES ?? 200);
  const fixture = loadFixture(path.join(__dirname, '..', 'fixtures', 'demo-tenant.json'));
  const members: string[] = [];
  for (let i = 0; i < size; i++) {
    const id = `20000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
    members.push(id);
    fixture.users.push({ id, displayName: `Printer ${i}`, userPrincipalName: `printer${i}@contoso.com`, mail: null, givenName: null, surname: null,
      preferredLanguage: null, accountEnabled: true, mailbox: { smtpClientAuthenticationDisabled: true }, perUserMfaState: 'disabled' });
  }
  const groupId = '30000000-0000-4000-8000-000000000001';
  fixture.groups!.push({ id: groupId, displayName: 'Printers', mailNickname: 'printers', members });
  const certDir = mkdtempSync(path.join(os.tmpdir(), 'smtp-gate-bench-'));
  const sim = await startSimulator({ fixture, port: 0, certDir });
  const control = async (method: string, p: string, body?: unknown) => {
    const { request, Agent } = await import('undici');
    const res = await request(`${sim.url}${p}`, { method: method as 'POST', body: body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': 'application/json' }, dispatcher: new Agent({ connect: { ca: readFileSync(sim.caCertPath, 'utf8') } }) });
    await res.body.text();
  };
  const tenant = connectTenant(loadConfig({
    TENANT_ID: fixture.tenant.id, TENANT_CLIENT_ID: '5c1f0d7a-3b2e-4f6a-9d8c-1e2f3a4b5c6d', TENANT_CLIENT_SECRET: 'bench',
    AUTHORITY_HOST: sim.url, GRAPH_BASE_URL: sim.url, EXCHANGE_BASE_URL: sim.url, TENANT_CA_FILE: sim.caCertPath,
    IT_STAFF_GROUP_ID: fixture.localMode!.itStaffGroupId, APPROVER_GROUP_ID: fixture.localMode!.approverGroupId,
  }));
  const run = async (concurrency: number): Promise<number> => {
    await control('POST', '/_simulator/reset');
    await control('POST', '/_simulator/faults', { latencyMs: 20 });
    const started = performance.now();
    await setSmtpForGroup(tenant, groupId, false, { concurrency });
    return performance.now() - started;
  };
  await run(8); // warm-up: tokens, TLS sessions
  const sequential = await run(1);
  const parallel = await run(8);
  console.log(JSON.stringify({ mailboxes: size, latencyMs: 20, sequentialMs: Math.round(sequential), concurrency8Ms: Math.round(parallel), speedup: Number((sequential / parallel).toFixed(2)) }));
  await tenant.close();
  await sim.close();
  rmSync(certDir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
