import { createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import forge from 'node-forge';

export interface SimulatorCertificates {
  caCertPath: string;
  caPem: string;
  certPem: string;
  keyPem: string;
}

const CA_FILE = 'ca.pem';
const CERT_FILE = 'server.pem';
const KEY_FILE = 'server-key.pem';
const LOCK_FILE = '.generate.lock';
const TOKEN_KEY_FILE = 'token-signing-key.pem';

const CA_COMMON_NAME = 'SMTP Gate tenant simulator CA';
const CA_VALIDITY_YEARS = 10;
// 825 days is the longest server-certificate lifetime macOS and iOS accept.
const SERVER_VALIDITY_DAYS = 825;
const RENEW_BEFORE_MS = 24 * 60 * 60 * 1000;
const STALE_LOCK_MS = 30_000;

/**
 * Returns the simulator's CA and server certificate, creating them in `dir` the first time.
 * Several processes may start at once (tests, the launcher): one generates under a lock file,
 * the others wait for it, and every file appears complete through a rename.
 */
export async function ensureSimulatorCertificates(dir: string): Promise<SimulatorCertificates> {
  await fs.mkdir(dir, { recursive: true });
  const existing = await readUsableCertificates(dir);
  if (existing) return existing;

  const lockPath = path.join(dir, LOCK_FILE);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const lock = await tryLock(lockPath);
    if (lock) {
      try {
        const generatedMeanwhile = await readUsableCertificates(dir);
        if (generatedMeanwhile) return generatedMeanwhile;
        return await generateAndWrite(dir);
      } finally {
        await lock.close();
        await fs.rm(lockPath, { force: true });
      }
    }
    await sleep(50);
    const ready = await readUsableCertificates(dir);
    if (ready) return ready;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${lockPath} to be released`);
  }
}

/**
 * The RSA key the token endpoint signs with. Kept next to the certificates so a restarted
 * simulator still accepts the tokens clients cached from the previous run.
 */
export async function ensureTokenSigningKey(dir: string): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  const keyPath = path.join(dir, TOKEN_KEY_FILE);
  try {
    return await fs.readFile(keyPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const temporary = `${keyPath}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await fs.writeFile(temporary, privateKey, { mode: 0o600 });
  try {
    // link() fails when the file exists, so exactly one concurrent writer wins and everyone reads its key.
    await fs.link(temporary, keyPath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await fs.rm(temporary, { force: true });
  }
  return fs.readFile(keyPath, 'utf8');
}

async function readUsableCertificates(dir: string): Promise<SimulatorCertificates | null> {
  const caCertPath = path.join(dir, CA_FILE);
  let caPem: string;
  let certPem: string;
  let keyPem: string;
  try {
    [caPem, certPem, keyPem] = await Promise.all([
      fs.readFile(caCertPath, 'utf8'),
      fs.readFile(path.join(dir, CERT_FILE), 'utf8'),
      fs.readFile(path.join(dir, KEY_FILE), 'utf8'),
    ]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    const ca = new X509Certificate(caPem);
    const cert = new X509Certificate(certPem);
    const renewBy = Date.now() + RENEW_BEFORE_MS;
    const usable =
      cert.verify(ca.publicKey) &&
      cert.checkPrivateKey(createPrivateKey(keyPem)) &&
      Date.parse(cert.validTo) > renewBy &&
      Date.parse(ca.validTo) > renewBy;
    return usable ? { caCertPath, caPem, certPem, keyPem } : null;
  } catch {
    return null;
  }
}

async function generateAndWrite(dir: string): Promise<SimulatorCertificates> {
  const now = new Date();
  const caKeys = rsaKeyPair();
  const caCert = forge.pki.createCertificate();
  caCert.publicKey = caKeys.publicKey;
  caCert.serialNumber = serialNumber();
  caCert.validity.notBefore = new Date(now.getTime() - 60 * 60 * 1000);
  caCert.validity.notAfter = new Date(now);
  caCert.validity.notAfter.setFullYear(now.getFullYear() + CA_VALIDITY_YEARS);
  const caSubject = [
    { name: 'commonName', value: CA_COMMON_NAME },
    { name: 'organizationName', value: 'SMTP Gate (local development only)' },
  ];
  caCert.setSubject(caSubject);
  caCert.setIssuer(caSubject);
  caCert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  signCertificate(caCert, caKeys.privateKeyPem);

  const serverKeys = rsaKeyPair();
  const serverCert = forge.pki.createCertificate();
  serverCert.publicKey = serverKeys.publicKey;
  serverCert.serialNumber = serialNumber();
  serverCert.validity.notBefore = new Date(now.getTime() - 60 * 60 * 1000);
  serverCert.validity.notAfter = new Date(now.getTime() + SERVER_VALIDITY_DAYS * 24 * 60 * 60 * 1000);
  serverCert.setSubject([{ name: 'commonName', value: 'localhost' }]);
  serverCert.setIssuer(caSubject);
  serverCert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        { type: 2, value: 'localhost' },
        { type: 7, ip: '127.0.0.1' },
        { type: 7, ip: '::1' },
      ],
    },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  signCertificate(serverCert, caKeys.privateKeyPem);

  const caPem = forge.pki.certificateToPem(caCert);
  const certPem = forge.pki.certificateToPem(serverCert);
  const keyPem = serverKeys.privateKeyPem;
  // The key goes last: readers treat the set as complete only once all three files exist.
  await writeAtomically(path.join(dir, CA_FILE), caPem, 0o644);
  await writeAtomically(path.join(dir, CERT_FILE), certPem, 0o644);
  await writeAtomically(path.join(dir, KEY_FILE), keyPem, 0o600);
  // The CA key is never written: nothing can sign another certificate with this CA later.
  return { caCertPath: path.join(dir, CA_FILE), caPem, certPem, keyPem };
}

// Node's native RSA is used for key generation and signing; forge's pure-JS RSA takes seconds.
function rsaKeyPair(): { publicKey: forge.pki.rsa.PublicKey; privateKeyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { publicKey: forge.pki.publicKeyFromPem(publicKey) as forge.pki.rsa.PublicKey, privateKeyPem: privateKey };
}

/** What forge's `certificate.sign(key, sha256)` does, with the RSA operation done by Node. */
function signCertificate(certificate: forge.pki.Certificate, signerKeyPem: string): void {
  const algorithm = forge.pki.oids.sha256WithRSAEncryption as string;
  certificate.signatureOid = algorithm;
  certificate.siginfo.algorithmOid = algorithm;
  // getTBSCertificate is public in node-forge but missing from its type definitions.
  const tbs = (forge.pki as unknown as { getTBSCertificate(cert: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(certificate);
  (certificate as forge.pki.Certificate & { tbsCertificate: forge.asn1.Asn1 }).tbsCertificate = tbs;
  const der = Buffer.from(forge.asn1.toDer(tbs).getBytes(), 'binary');
  certificate.signature = sign('sha256', der, signerKeyPem).toString('binary');
}

function serialNumber(): string {
  const bytes = randomBytes(16);
  // A leading zero bit keeps the DER INTEGER positive, as RFC 5280 requires.
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

async function writeAtomically(target: string, contents: string, mode: number): Promise<void> {
  const temporary = `${target}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await fs.writeFile(temporary, contents, { mode });
  await fs.chmod(temporary, mode);
  await fs.rename(temporary, target);
}

async function tryLock(lockPath: string): Promise<fs.FileHandle | null> {
  try {
    return await fs.open(lockPath, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  // A lock left behind by a crashed process must not block every later start.
  try {
    const stat = await fs.stat(lockPath);
    if (Date.now() - stat.mtimeMs > STALE_LOCK_MS) await fs.rm(lockPath, { force: true });
  } catch {
    // The holder released it between our two calls.
  }
  return null;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
