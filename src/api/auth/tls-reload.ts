/**
 * Rotating TLS certificates without a restart: on SIGHUP the node reads its certificate, key and
 * CA files again and, if they make a usable set, hands them to every TLS listener (HTTP, RESP,
 * inter-node: `tls.Server#setSecureContext`) and to the transport's outgoing dials. New
 * connections see the new certificate; open ones keep the session they negotiated. A set that
 * does not read, parse or match (a key of another certificate, an expired certificate, a CA file
 * without a certificate, with mutual TLS a certificate the CA did not sign) keeps the certificates
 * in force and logs one line saying why: never a crash, never a fall-back to clear text.
 */
import { X509Certificate } from 'node:crypto';
import type net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../../ports/index.js';
import type { TransportTls } from '../../adapters/transport-auth.js';
import { loadSecurity } from './load.js';
import type { SecuritySettings } from './load.js';

/** The certificate, key and CA paths (and whether TLS is mutual), as configured. */
export type TlsFiles = NonNullable<SecuritySettings['tls']>;

/** Something serving or dialing with the certificates: a listener, the transport's dials. */
export interface TlsTarget {
  readonly name: string;
  apply(next: TransportTls): void;
}

export type TlsReload =
  | { kind: 'reloaded'; fingerprint256: string; validTo: string; targets: string[] }
  | { kind: 'invalid'; reason: string };

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

function certificates(pem: string | Buffer, what: string): X509Certificate[] {
  const blocks = pem.toString().match(PEM_CERT) ?? [];
  if (blocks.length === 0) throw new Error(`the ${what} file holds no PEM certificate`);
  return blocks.map((b, i) => {
    try {
      return new X509Certificate(b);
    } catch (e) {
      throw new Error(`the ${what} file's certificate ${i + 1} does not parse: ${(e as Error).message}`);
    }
  });
}

/**
 * Checks that `m` is a set a listener can serve with; returns its leaf certificate. Throws an
 * Error saying what is wrong. `nowMs` judges the validity period.
 */
export function checkTlsMaterial(m: TransportTls, nowMs: number): X509Certificate {
  const chain = certificates(m.cert, 'certificate');
  const leaf = chain[0]!;
  if (Date.parse(leaf.validTo) <= nowMs) throw new Error(`the certificate expired on ${leaf.validTo}`);
  if (Date.parse(leaf.validFrom) > nowMs) throw new Error(`the certificate is not valid before ${leaf.validFrom}`);
  const cas = m.ca !== undefined ? certificates(m.ca, 'CA') : [];
  try {
    tls.createSecureContext({ cert: m.cert, key: m.key, ...(m.ca !== undefined ? { ca: m.ca } : {}) });
  } catch (e) {
    throw new Error(`the certificate, key and CA do not make a TLS context: ${(e as Error).message}`);
  }
  // With mutual TLS the peers check this certificate against the same CA: one it did not sign would cut them off.
  if (m.mutual && !chain.some((c) => cas.some((ca) => c.checkIssued(ca) && c.verify(ca.publicKey)))) {
    throw new Error('with mutual TLS the certificate must be signed by a certificate of the CA file (peers would refuse it)');
  }
  return leaf;
}

/** A TLS listener as a target; a listener without TLS is none (undefined). */
export function listenerTarget(name: string, server: net.Server): TlsTarget | undefined {
  if (!(server instanceof tls.Server)) return undefined;
  return {
    name,
    apply: (next) => server.setSecureContext({ cert: next.cert, key: next.key, ...(next.ca !== undefined ? { ca: next.ca } : {}) }),
  };
}

/** Reads `files` and applies them to every target; keeps the certificates in force when it cannot. */
export function reloadTls(files: TlsFiles, targets: readonly TlsTarget[], logger: Logger, nowMs = Date.now()): TlsReload {
  let next: TransportTls;
  let leaf: X509Certificate;
  try {
    next = loadSecurity({ tls: files }, {}).tls!;
    leaf = checkTlsMaterial(next, nowMs);
  } catch (e) {
    const reason = (e as Error).message;
    logger.warn(`TLS certificates not reloaded, keeping the ones in force: ${reason}`, { cert: files.cert, key: files.key, ca: files.ca });
    return { kind: 'invalid', reason };
  }
  const applied: string[] = [];
  for (const target of targets) {
    try {
      target.apply(next);
      applied.push(target.name);
    } catch (e) {
      // Checked above with the same options, so not expected; that target keeps its certificates.
      logger.error('TLS certificates not applied to one target, it keeps the ones in force', { target: target.name, error: (e as Error).message });
    }
  }
  logger.info('TLS certificates reloaded', {
    subject: leaf.subject.replace(/\n/g, ', '), fingerprint256: leaf.fingerprint256, validTo: leaf.validTo, targets: applied.join(','),
  });
  return { kind: 'reloaded', fingerprint256: leaf.fingerprint256, validTo: leaf.validTo, targets: applied };
}

/** Reloads the TLS files on every SIGHUP of this process; returns the function that stops it. */
export function reloadTlsOnSighup(files: TlsFiles, targets: readonly TlsTarget[], logger: Logger): () => void {
  const onHup = (): void => {
    reloadTls(files, targets, logger);
  };
  process.on('SIGHUP', onHup);
  return () => {
    process.off('SIGHUP', onHup);
  };
}
