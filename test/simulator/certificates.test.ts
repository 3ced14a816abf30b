import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureSimulatorCertificates, type SimulatorCertificates } from '../../src/simulator/certificates';

describe('simulator certificates', () => {
  let root: string;
  let dir: string;
  let created: SimulatorCertificates;
  beforeAll(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'smtp-gate-certs-'));
    dir = path.join(root, 'nested', 'simulator-ca');
    created = await ensureSimulatorCertificates(dir);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test('creates a CA and a localhost server certificate it signed, with a private key only the owner can read', () => {
    const ca = new X509Certificate(created.caPem);
    const server = new X509Certificate(created.certPem);
    expect(created.caCertPath).toBe(path.join(dir, 'ca.pem'));
    expect(ca.ca).toBe(true);
    expect(ca.subject).toContain('CN=SMTP Gate tenant simulator CA');
    expect(new Date(ca.validTo).getFullYear()).toBeGreaterThanOrEqual(new Date().getFullYear() + 9);
    expect(server.ca).toBe(false);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.checkHost('localhost')).toBe('localhost');
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(server.checkIP('::1')).toBeDefined();
    expect(server.keyUsage).toContain('1.3.6.1.5.5.7.3.1');
    expect(statSync(path.join(dir, 'server-key.pem')).mode & 0o777).toBe(0o600);
  });

  test('reuses the files it created', async () => {
    expect(await ensureSimulatorCertificates(dir)).toEqual(created);
  });

  test('processes starting together end up with one consistent set', async () => {
    const fresh = path.join(root, 'concurrent');
    const results = await Promise.all(Array.from({ length: 4 }, () => ensureSimulatorCertificates(fresh)));
    const final = await ensureSimulatorCertificates(fresh);
    for (const result of results) expect(result).toEqual(final);
    expect(new X509Certificate(final.certPem).verify(new X509Certificate(final.caPem).publicKey)).toBe(true);
  });

  test('replaces a set whose server certificate was not signed by its CA', async () => {
    writeFileSync(path.join(dir, 'ca.pem'), created.certPem);
    const repaired = await ensureSimulatorCertificates(dir);
    expect(repaired.caPem).not.toBe(created.caPem);
    expect(new X509Certificate(repaired.certPem).verify(new X509Certificate(repaired.caPem).publicKey)).toBe(true);
  });
});
