import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import forge from 'node-forge';
import { createLogger } from '../../src/log';
import { startServer } from '../../src/server';
import { TenantHttpError } from '../../src/tenant/http';
import type { Tenant } from '../../src/tenant';
import { connect, startTestSimulator, tenantConfig, type TestSimulator } from './tenantHarness';

/** A self-signed certificate and its key in one PEM file, as an admin would export it for the app registration. */
function makeCertificate(dir: string, name: string): { path: string; certPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 86_400_000);
  const attrs = [{ name: 'commonName', value: name }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(cert);
  const file = path.join(dir, `${name}.pem`);
  writeFileSync(file, `${keyPem}\n${certPem}`);
  return { path: file, certPem };
}

describe('credentials from configuration: client secret, certificate, and a bad one named by its setting', () => {
  let sim: TestSimulator;
  let dir: string;
  let registered: { path: string; certPem: string };
  let stranger: { path: string; certPem: string };

  beforeAll(async () => {
    sim = await startTestSimulator();
    dir = mkdtempSync(path.join(os.tmpdir(), 'smtp-gate-cert-'));
    registered = makeCertificate(dir, 'smtp-gate');
    stranger = makeCertificate(dir, 'someone-else');
  });
  afterAll(async () => {
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await sim.call('POST', '/_simulator/reset');
    await sim.call('POST', '/_simulator/app', { json: { clientSecrets: ['the-right-secret'], certificates: [registered.certPem] } });
  });

  test('a certificate registered on the app signs the client assertion, and Graph and Exchange calls work', async () => {
    const tenant = connect(sim, { config: { TENANT_CLIENT_SECRET: '', TENANT_CERTIFICATE_PATH: registered.path } });
    try {
      expect(await tenant.checkCredential()).toEqual({ ok: true });
      expect((await tenant.directory.getUser('bob@contoso.com'))?.displayName).toBe('Bob Smith');
      expect((await tenant.exchange.getCasMailbox('bob'))?.smtpClientAuthenticationDisabled).toBe(true);
    } finally {
      await tenant.close();
    }
  });

  test('a certificate the app does not know is refused, naming TENANT_CERTIFICATE_PATH', async () => {
    const tenant = connect(sim, { config: { TENANT_CREDENTIAL: 'certificate', TENANT_CERTIFICATE_PATH: stranger.path } });
    try {
      const check = await tenant.checkCredential();
      expect(check).toMatchObject({ ok: false, setting: 'TENANT_CERTIFICATE_PATH', reason: expect.stringContaining('AADSTS700027') });
    } finally {
      await tenant.close();
    }
    const missing = connect(sim, { config: { TENANT_CERTIFICATE_PATH: path.join(dir, 'no-such.pem') } });
    try {
      expect(await missing.checkCredential()).toMatchObject({ ok: false, setting: 'TENANT_CERTIFICATE_PATH' });
    } finally {
      await missing.close();
    }
  });

  test('a wrong client secret names TENANT_CLIENT_SECRET, and calls fail as an authentication problem', async () => {
    const right = connect(sim, { config: { TENANT_CLIENT_SECRET: 'the-right-secret' } });
    const wrong = connect(sim, { config: { TENANT_CLIENT_SECRET: 'an-old-secret' } });
    try {
      expect(await right.checkCredential()).toEqual({ ok: true });
      expect(await wrong.checkCredential()).toMatchObject({ ok: false, setting: 'TENANT_CLIENT_SECRET', reason: expect.stringContaining('AADSTS7000215') });
      const error = await wrong.exchange.getTransportConfig().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TenantHttpError);
      expect((error as TenantHttpError).toAppError().code).toBe('TENANT_AUTH_FAILED');
    } finally {
      await right.close();
      await wrong.close();
    }
  });

  test('/healthz answers 503 naming the setting to fix while the credential is rejected', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'smtp-gate-health-'));
    const config = tenantConfig(sim, { TENANT_CLIENT_SECRET: 'an-old-secret', PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
    const server = await startServer(config, createLogger('silent', 'test'));
    try {
      const res = await fetch(`${server.url}/healthz`);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ store: 'ok', tenant: 'credential-rejected', credential: { setting: 'TENANT_CLIENT_SECRET' } });
    } finally {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('managed identity the way App Service and Container Apps provide it (IDENTITY_ENDPOINT, IDENTITY_HEADER)', () => {
  let sim: TestSimulator;
  beforeAll(async () => {
    sim = await startTestSimulator();
  });
  afterAll(async () => {
    await sim.stop();
  });

  /**
   * MSAL reads IDENTITY_ENDPOINT and IDENTITY_HEADER from process.env only, and keeps the managed
   * identity source it picks on first use (endpoint, header, HTTP client) and its token cache in
   * module-level statics for the life of the process. Each scenario therefore loads the tenant
   * adapters, @azure/identity and MSAL afresh, with the environment set and restored around it.
   */
  async function withManagedIdentity(identityHeader: string, config: Record<string, string>, run: (tenant: Tenant) => Promise<void>): Promise<void> {
    const names = ['IDENTITY_ENDPOINT', 'IDENTITY_HEADER', 'IDENTITY_SERVER_THUMBPRINT', 'MSI_ENDPOINT', 'MSI_SECRET', 'AZURE_FEDERATED_TOKEN_FILE'];
    const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
    for (const name of names) delete process.env[name];
    process.env.IDENTITY_ENDPOINT = sim.simulator.identityEndpoint;
    process.env.IDENTITY_HEADER = identityHeader;
    let fresh!: typeof import('../../src/tenant');
    jest.isolateModules(() => {
      fresh = require('../../src/tenant') as typeof import('../../src/tenant');
    });
    const tenant = fresh.connectTenant(tenantConfig(sim, { TENANT_CREDENTIAL: 'managed-identity', TENANT_CLIENT_SECRET: '', ...config }));
    try {
      await run(tenant);
    } finally {
      await tenant.close();
      for (const name of names) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
    }
  }

  test('the identity endpoint issues Graph and Exchange tokens over HTTPS trusted through TENANT_CA_FILE, and calls work', async () => {
    await sim.call('DELETE', '/_simulator/calls');
    await withManagedIdentity(sim.simulator.identityHeader, {}, async (tenant) => {
      expect(await tenant.checkCredential()).toEqual({ ok: true });
      expect((await tenant.directory.getUser('bob@contoso.com'))?.displayName).toBe('Bob Smith');
      expect((await tenant.exchange.getCasMailbox('bob'))?.smtpClientAuthenticationDisabled).toBe(true);
    });
    const tokenCalls = (await sim.call('GET', '/_simulator/calls')).json.filter((call: { service: string }) => call.service === 'token');
    expect(tokenCalls.map((call: { method: string; path: string; status: number }) => [call.method, call.path, call.status])).toEqual([
      ['GET', '/msi/token?api-version=2019-08-01&resource=https%3A%2F%2Fgraph.microsoft.com', 200],
      ['GET', '/msi/token?api-version=2019-08-01&resource=https%3A%2F%2Foutlook.office365.com', 200],
    ]);
  });

  test('without TENANT_CA_FILE the simulator certificate is not trusted: certificate checks stay on', async () => {
    await sim.call('DELETE', '/_simulator/calls');
    await withManagedIdentity(sim.simulator.identityHeader, { TENANT_CA_FILE: '' }, async (tenant) => {
      // MSAL reports any transport failure as network_error; the TLS handshake failed, so no request arrived.
      expect(await tenant.checkCredential()).toMatchObject({ ok: false, unreachable: true, reason: expect.stringContaining('network_error') });
    });
    expect((await sim.call('GET', '/_simulator/calls')).json).toEqual([]);
  });

  test('a user-assigned identity is asked for by TENANT_MANAGED_IDENTITY_CLIENT_ID', async () => {
    const clientId = '0f4a5b6c-7d8e-4f90-a1b2-c3d4e5f6a7b8';
    await sim.call('DELETE', '/_simulator/calls');
    await withManagedIdentity(sim.simulator.identityHeader, { TENANT_MANAGED_IDENTITY_CLIENT_ID: clientId }, async (tenant) => {
      expect((await tenant.exchange.getCasMailbox('bob'))?.smtpClientAuthenticationDisabled).toBe(true);
    });
    const tokenCalls = (await sim.call('GET', '/_simulator/calls')).json.filter((call: { service: string }) => call.service === 'token');
    expect(tokenCalls.map((call: { path: string }) => new URL(call.path, sim.simulator.url).searchParams.get('client_id'))).toEqual([clientId]);
  });

  test('an identity endpoint that refuses the IDENTITY_HEADER names TENANT_CREDENTIAL, and calls fail as an authentication problem', async () => {
    await withManagedIdentity('not-this-process-header', {}, async (tenant) => {
      const check = await tenant.checkCredential();
      expect(check).toMatchObject({ ok: false, unreachable: false, setting: 'TENANT_CREDENTIAL', reason: expect.stringContaining('X-IDENTITY-HEADER') });
      const error = await tenant.directory.getUser('bob@contoso.com').catch((e: unknown) => e);
      expect((error as { toAppError?: () => { code: string } }).toAppError?.().code).toBe('TENANT_AUTH_FAILED');
    });
  });
});
