/**
 * Ring-admin messages. `ring-push` carries a whole cluster document, encoded as it is stored, to
 * the members a new document concerns, the moment a node makes one (`Membership.propose`): an
 * operator's staging or commit reaches every node in one hop instead of waiting for gossip. The
 * validator decodes the document with the rules of stored metadata, so a peer can never make a
 * node install something it could not load from its own disk.
 */
import { CORE_LIMITS } from '../constants.js';
import { decodeClusterMeta } from './meta.js';

export type RingMessage = { readonly type: 'ring-push'; readonly meta: Uint8Array };

export type RingMessageType = RingMessage['type'];

type Obj = Record<string, unknown>;

/** Whether `bytes` is a cluster document this node could store (shape, bounds, a ring). */
export function isClusterDoc(bytes: unknown): bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array) || bytes.length > CORE_LIMITS.ringMetaBytesMax) return false;
  try {
    decodeClusterMeta(bytes);
    return true;
  } catch {
    return false;
  }
}

export const RING_VALIDATORS: { readonly [K in RingMessageType]: (m: Obj) => boolean } = {
  'ring-push': (m) => isClusterDoc(m['meta']),
};
