/**
 * Reads the security settings' files at start-up: the cluster secret (a file, or the secret
 * itself in GOSSAMER_CLUSTER_SECRET; never a command-line argument, which `ps` would show), the
 * TLS certificate, key and CA, and the API tokens. Throws an Error naming the setting and file.
 */
import { readFileSync, statSync } from 'node:fs';
import { ClusterAuth, parseClusterSecrets } from '../../adapters/transport-auth.js';
import type { TransportTls } from '../../adapters/transport-auth.js';
import { parseTokens } from './tokens.js';
import type { TokenAuth } from './tokens.js';

export const CLUSTER_SECRET_ENV = 'GOSSAMER_CLUSTER_SECRET';
/** Secret, certificate and token files above this size are refused (bounded input). */
const SECURITY_FILE_BYTES_MAX = 4 * 1024 * 1024;

export interface SecuritySettings {
  clusterSecretFile?: string;
  tls?: { cert?: string; key?: string; ca?: string; mutual?: boolean };
  tokensFile?: string;
}

export interface SecurityMaterial {
  clusterAuth?: ClusterAuth;
  tls?: TransportTls;
  tokens?: TokenAuth;
}

function readSmall(file: string, setting: string): string {
  try {
    const size = statSync(file).size;
    if (size > SECURITY_FILE_BYTES_MAX) throw new Error(`larger than ${SECURITY_FILE_BYTES_MAX} bytes`);
    return readFileSync(file, 'utf8');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new Error(`invalid setting "${setting}": cannot read ${file}: ${why}`);
  }
}

export function loadSecurity(settings: SecuritySettings, env: Record<string, string | undefined>): SecurityMaterial {
  const out: SecurityMaterial = {};
  const envSecret = env[CLUSTER_SECRET_ENV];
  let secretText: string | undefined;
  let where = '';
  if (settings.clusterSecretFile !== undefined) {
    secretText = readSmall(settings.clusterSecretFile, 'clusterSecretFile');
    where = settings.clusterSecretFile;
  } else if (envSecret !== undefined && envSecret !== '') {
    secretText = envSecret;
    where = CLUSTER_SECRET_ENV;
  }
  if (secretText !== undefined) {
    try {
      out.clusterAuth = new ClusterAuth(parseClusterSecrets(secretText));
    } catch (e) {
      throw new Error(`invalid setting "clusterSecretFile" (${where}): ${(e as Error).message}`);
    }
  }
  if (settings.tls) {
    const { cert, key, ca, mutual } = settings.tls;
    if (cert === undefined || key === undefined) throw new Error('invalid setting "tls": needs both a certificate and a key (--tls-cert, --tls-key)');
    if (mutual && ca === undefined) throw new Error('invalid setting "tls": mutual TLS needs a CA (--tls-ca)');
    out.tls = {
      cert: readSmall(cert, 'tls.cert'), key: readSmall(key, 'tls.key'),
      ...(ca !== undefined ? { ca: readSmall(ca, 'tls.ca') } : {}), mutual: mutual ?? false,
    };
  }
  if (settings.tokensFile !== undefined) {
    try {
      out.tokens = parseTokens(readSmall(settings.tokensFile, 'tokensFile'));
    } catch (e) {
      const msg = (e as Error).message;
      throw new Error(msg.startsWith('invalid setting') ? msg : `invalid setting "tokensFile" (${settings.tokensFile}): ${msg}`);
    }
  }
  return out;
}

/** The start-up warning of a node reachable off loopback without a secret or TLS; undefined when none is due. */
export function exposureWarning(hosts: readonly string[], material: SecurityMaterial): string | undefined {
  const exposed = hosts.filter((h) => !isLoopback(h));
  if (exposed.length === 0) return undefined;
  const missing = [
    ...(material.clusterAuth ? [] : ['no cluster secret (anyone who reaches the inter-node port can join)']),
    ...(material.tls ? [] : ['no TLS (traffic in clear text)']),
    ...(material.tokens ? [] : ['no API tokens (anyone can read and write)']),
  ];
  if (missing.length === 0) return undefined;
  return `listening on ${exposed.join(', ')} beyond loopback with ${missing.join(', ')}; see docs/security.md`;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
