/**
 * Ring-admin messages. `ring-push` carries a whole cluster document, encoded as it is stored, to
 * the members a new document concerns, the moment a node makes one (`Membership.propose`): an
 * operator's staging or commit reaches every node in one hop instead of waiting for gossip. The
 * validator decodes the document with the rules of stored metadata, so a peer can never make a
 * node install something it could not load from its own disk.
 */
import { CORE_LIMITS } from '../constants.js';
import type { ClusterMeta } from './meta.js';
import { decodeClusterMeta } from './meta.js';

export type RingMessage = { readonly type: 'ring-push'; readonly meta: Uint8Array };

export type RingMessageType = RingMessage['type'];

type Obj = Record<string, unknown>;

/**
 * Documents the validator decoded, by their bytes: the node's step takes the same message next
 * and must not pay for decoding (and building two rings) twice. Weak: nothing outlives the message.
 */
const decoded = new WeakMap<Uint8Array, ClusterMeta>();

/** The document `bytes` holds if it is one this node could store (shape, bounds, a ring), else undefined. */
export function decodedDoc(bytes: unknown): ClusterMeta | undefined {
  if (!(bytes instanceof Uint8Array) || bytes.length > CORE_LIMITS.ringMetaBytesMax) return undefined;
  const known = decoded.get(bytes);
  if (known) return known;
  try {
    const { meta } = decodeClusterMeta(bytes);
    decoded.set(bytes, meta);
    return meta;
  } catch {
    return undefined;
  }
}

/** Whether `bytes` is a cluster document this node could store. */
export function isClusterDoc(bytes: unknown): bytes is Uint8Array {
  return decodedDoc(bytes) !== undefined;
}

export const RING_VALIDATORS: { readonly [K in RingMessageType]: (m: Obj) => boolean } = {
  'ring-push': (m) => isClusterDoc(m['meta']),
};
