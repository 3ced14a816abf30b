import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import forge from 'node-forge';
import { createLogger } from '../../src/log';
import { startServer } from '../../src/server';
import { TenantHttpError } from '../../src/tenant/http';
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
