/**
 * `gossamer dev --secure`: throw-away security material for a local cluster, written under the
 * data root's `secure/` (owner-only files): a local CA and a node certificate it signs (for
 * localhost, 127.0.0.1 and ::1, shared by every node: mutual TLS between nodes), a cluster
 * secret, an admin token, and the config file each child starts with.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { generateDevCertificates } from '../api/auth/dev-certs.js';

export interface DevSecurity {
  dir: string;
  configFile: string;
  caFile: string;
  caCert: string;
  adminToken: string;
}

export function writeDevSecurity(dataRoot: string): DevSecurity {
  const dir = path.join(dataRoot, 'secure');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const certs = generateDevCertificates();
  const write = (name: string, text: string): string => {
    const file = path.join(dir, name);
    writeFileSync(file, text, { mode: 0o600 });
    return file;
  };
  const adminToken = `gsm_${randomBytes(24).toString('base64url')}`;
  const caFile = write('ca.pem', certs.caCert);
  const cert = write('node.pem', certs.cert);
  const key = write('node-key.pem', certs.key);
  const clusterSecretFile = write('cluster-secret', `${randomBytes(32).toString('base64url')}\n`);
  const tokensFile = write('tokens.json', `${JSON.stringify([{ token: adminToken, permissions: ['read', 'write', 'admin'], name: 'dev-admin' }], null, 2)}\n`);
  const configFile = write('secure.json', `${JSON.stringify({ clusterSecretFile, tokensFile, tls: { cert, key, ca: caFile, mutual: true } }, null, 2)}\n`);
  return { dir, configFile, caFile, caCert: certs.caCert, adminToken };
}

/** GET https://<http>/health with the dev CA: true on a 200. */
export function healthyTls(http: string, ca: string): Promise<boolean> {
  const colon = http.lastIndexOf(':');
  return new Promise((resolve) => {
    const req = https.get({ host: http.slice(0, colon), port: Number(http.slice(colon + 1)), path: '/health', ca, timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/** The banner's lines for the secure path: where the CA is, the admin token, and how to use them. */
export function secureBanner(sec: DevSecurity, http: string, respHost: string, respPort: string): string {
  return `\nSecure: TLS on every listener (mutual between nodes), a cluster secret, API tokens. Files in ${sec.dir}\n`
    + `Admin token: ${sec.adminToken}\n`
    + `Try:  curl --cacert ${sec.caFile} -H 'Authorization: Bearer ${sec.adminToken}' -X PUT --data-binary 'hello' https://${http}/kv/greeting\n`
    + `      curl --cacert ${sec.caFile} -H 'Authorization: Bearer ${sec.adminToken}' https://${http}/kv/greeting\n`
    + `      redis-cli --tls --cacert ${sec.caFile} -h ${respHost} -p ${respPort} --pass ${sec.adminToken} set a 1\n`
    + 'Press Ctrl-C to stop the cluster.\n';
}
