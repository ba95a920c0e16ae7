/**
 * Throw-away certificates for `gossamer dev --secure` and the tests: a local CA (self-signed) and
 * one leaf certificate it signs, valid for the given host names and IP addresses, usable as a TLS
 * server and as a client (mutual TLS between nodes). Keys come from node:crypto (RSA 2048); the
 * X.509 structures from node-forge (pure JS): no openssl, no compiler.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

export interface DevCertificates {
  /** PEM of the CA certificate (what clients pass as `--cacert`). */
  caCert: string;
  /** PEM of the leaf certificate and its private key. */
  cert: string;
  key: string;
}

const DAY_MS = 86_400_000;

function keyPair(): { publicKey: forge.pki.PublicKey; privateKey: forge.pki.PrivateKey; privatePem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  return { publicKey: forge.pki.publicKeyFromPem(publicKey), privateKey: forge.pki.privateKeyFromPem(privateKey), privatePem: privateKey };
}

function newCert(publicKey: forge.pki.PublicKey, days: number): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // A positive serial: the first hex digit below 8.
  cert.serialNumber = `1${randomBytes(15).toString('hex')}`;
  cert.validity.notBefore = new Date(Date.now() - 3_600_000);
  cert.validity.notAfter = new Date(Date.now() + days * DAY_MS);
  return cert;
}

/** A CA and one leaf for `names` (DNS) and `ips`, valid from an hour ago for `days` days. */
export function generateDevCertificates(opts: { names?: string[]; ips?: string[]; days?: number } = {}): DevCertificates {
  const names = opts.names ?? ['localhost'];
  const ips = opts.ips ?? ['127.0.0.1', '::1'];
  const days = opts.days ?? 30;
  const caKeys = keyPair();
  const ca = newCert(caKeys.publicKey, days);
  const caName = [{ name: 'commonName', value: 'Gossamer dev CA' }];
  ca.setSubject(caName);
  ca.setIssuer(caName);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  ca.sign(caKeys.privateKey as forge.pki.rsa.PrivateKey, forge.md.sha256.create());

  const leafKeys = keyPair();
  const leaf = newCert(leafKeys.publicKey, days);
  leaf.setSubject([{ name: 'commonName', value: names[0] ?? 'gossamer' }]);
  leaf.setIssuer(caName);
  leaf.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    { name: 'subjectAltName', altNames: [...names.map((value) => ({ type: 2, value })), ...ips.map((ip) => ({ type: 7, ip }))] },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() },
  ]);
  leaf.sign(caKeys.privateKey as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return { caCert: forge.pki.certificateToPem(ca), cert: forge.pki.certificateToPem(leaf), key: leafKeys.privatePem };
}
