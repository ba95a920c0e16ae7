/**
 * The cluster secret's challenge–response, run inside the transport's hello.
 *
 * A node with a secret puts a fresh random nonce in each hello it writes. Once it has the peer's
 * hello (with the peer's nonce), it writes one auth frame carrying
 *   proof = HMAC-SHA256(secret, "gossamer-cluster-auth-v1" | proverId | verifierId | verifierNonce | proverNonce)
 * (each field length-prefixed). The verifier recomputes it from its own fresh nonce, so a proof
 * cannot be replayed on another connection, and the ids' order keeps a proof from being reflected
 * back. The secret itself never crosses the wire. During a rotation a node accepts any of its
 * secrets and proves with the first one, so nodes can be moved to a new secret one at a time.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** PEM contents (not paths) of the inter-node TLS settings. */
export interface TransportTls {
  cert: string | Buffer;
  key: string | Buffer;
  ca?: string | Buffer;
  /** Require and verify a client certificate on inbound connections. */
  mutual?: boolean;
}

const AUTH_LABEL = 'gossamer-cluster-auth-v1';
export const AUTH_NONCE_BYTES = 32;

export class ClusterAuth {
  private readonly secrets: readonly Uint8Array[];

  /** `secrets[0]` proves; all of them are accepted. At least one, none empty. */
  constructor(secrets: readonly Uint8Array[]) {
    if (secrets.length === 0 || secrets.some((s) => s.length === 0)) throw new Error('cluster secret must not be empty');
    this.secrets = secrets;
  }

  newNonce(): Uint8Array {
    return randomBytes(AUTH_NONCE_BYTES);
  }

  /** This node's proof to `verifierId`, answering the verifier's nonce. */
  prove(proverId: string, verifierId: string, verifierNonce: Uint8Array, proverNonce: Uint8Array): Uint8Array {
    return proof(this.secrets[0]!, proverId, verifierId, verifierNonce, proverNonce);
  }

  /** Whether `peerProof` shows that `proverId` holds one of this node's secrets. */
  verify(proverId: string, verifierId: string, verifierNonce: Uint8Array, proverNonce: Uint8Array, peerProof: Uint8Array): boolean {
    let ok = false;
    for (const secret of this.secrets) {
      const expected = proof(secret, proverId, verifierId, verifierNonce, proverNonce);
      // Every secret is tried (no early exit), in constant time for equal lengths.
      if (expected.length === peerProof.length && timingSafeEqual(expected, peerProof)) ok = true;
    }
    return ok;
  }
}

function proof(secret: Uint8Array, proverId: string, verifierId: string, verifierNonce: Uint8Array, proverNonce: Uint8Array): Uint8Array {
  const mac = createHmac('sha256', secret);
  for (const field of [Buffer.from(AUTH_LABEL), Buffer.from(proverId), Buffer.from(verifierId), verifierNonce, proverNonce]) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(field.length, 0);
    mac.update(len);
    mac.update(field);
  }
  return mac.digest();
}

/**
 * Parses a secret file's text: one secret per non-empty line (surrounding blanks trimmed), the
 * first one current, the others still accepted (rotation). Each at least 16 bytes.
 */
export function parseClusterSecrets(text: string): Uint8Array[] {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0 && !l.startsWith('#'));
  if (lines.length === 0) throw new Error('the cluster secret is empty');
  if (lines.length > 8) throw new Error('at most 8 cluster secrets (one per line)');
  for (const l of lines) {
    if (Buffer.byteLength(l) < 16) throw new Error('a cluster secret must be at least 16 bytes');
  }
  return lines.map((l) => Buffer.from(l, 'utf8'));
}
