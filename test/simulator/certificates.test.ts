import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureSimulatorCertificates } from '../../src/simulator/certificates';

describe('simulator certificates', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'smtp-gate-certs-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test('creates a CA and a localhost server certificate it signed, with a private key only the owner can read', async () => {
    const dir = path.join(root, 'nested', 'simulator-ca');
    const certificates = await ensureSimulatorCertificates(dir);

    const ca = new X509Certificate(certificates.caPem);
    const server = new X509Certificate(certificates.certPem);
    expect(certificates.caCertPath).toBe(path.join(dir, 'ca.pem'));
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
    const first = await ensureSimulatorCertificates(root);
    const second = await ensureSimulatorCertificates(root);
    expect(second).toEqual(first);
  });

  test('processes starting together end up with one consistent set', async () => {
    const results = await Promise.all(Array.from({ length: 4 }, () => ensureSimulatorCertificates(root)));
    const final = await ensureSimulatorCertificates(root);
    for (const result of results) expect(result).toEqual(final);
    expect(new X509Certificate(final.certPem).verify(new X509Certificate(final.caPem).publicKey)).toBe(true);
  });

  test('replaces a set whose server certificate was not signed by its CA', async () => {
    const original = await ensureSimulatorCertificates(root);
    const other = await ensureSimulatorCertificates(path.join(root, 'other'));
    writeFileSync(path.join(root, 'ca.pem'), other.caPem);
    const repaired = await ensureSimulatorCertificates(root);
    expect(repaired.caPem).not.toBe(original.caPem);
    expect(new X509Certificate(repaired.certPem).verify(new X509Certificate(repaired.caPem).publicKey)).toBe(true);
  });
});
