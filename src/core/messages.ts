/**
 * Every message between nodes, organised by protocol. Each protocol module owns its family of
 * messages and their validator; this module only joins them. A new protocol (membership,
 * handoff, anti-entropy, transfer) adds its family to `Message`, its validators to `VALIDATORS`
 * and its case to `Node.step` — each of the three fails the type check until it is done.
 */
import type { AntiEntropyMessage } from './antientropy/messages.js';
import { ANTIENTROPY_VALIDATORS } from './antientropy/messages.js';
import type { HandoffMessage } from './handoff/messages.js';
import { HANDOFF_VALIDATORS } from './handoff/messages.js';
import type { KvMessage } from './kv/messages.js';
import { KV_VALIDATORS } from './kv/messages.js';
import type { GossipMessage } from './membership/gossip-messages.js';
import { GOSSIP_VALIDATORS } from './membership/gossip-messages.js';
import type { RingMessage } from './membership/messages.js';
import { RING_VALIDATORS } from './membership/messages.js';
import type { TransferMessage } from './transfer/messages.js';
import { TRANSFER_VALIDATORS } from './transfer/messages.js';

export type Message = KvMessage | HandoffMessage | AntiEntropyMessage | GossipMessage | RingMessage | TransferMessage;

export type MessageType = Message['type'];

/** The protocols that exchange messages. */
export type Protocol = 'kv' | 'handoff' | 'antientropy' | 'membership' | 'ring' | 'transfer';

type Validator = (m: Record<string, unknown>) => boolean;

const VALIDATORS: { readonly [K in MessageType]: Validator } = {
  ...KV_VALIDATORS, ...HANDOFF_VALIDATORS, ...ANTIENTROPY_VALIDATORS, ...GOSSIP_VALIDATORS, ...RING_VALIDATORS, ...TRANSFER_VALIDATORS,
};

/**
 * Whether a value that arrived from the network is a well-formed message of some protocol. The
 * runtime drops anything else before the core sees it; the codec may run it too.
 */
export function isValidMessage(v: unknown): v is Message {
  if (typeof v !== 'object' || v === null) return false;
  const m = v as Record<string, unknown>;
  const type = m['type'];
  if (typeof type !== 'string' || !Object.hasOwn(VALIDATORS, type)) return false;
  return VALIDATORS[type as MessageType](m);
}

/** Whether a message is membership's (gossip and probes): these flow before a node has a ring. */
export function isMembershipMessage(m: Message): m is GossipMessage {
  return m.type.startsWith('gossip-') || m.type.startsWith('probe-');
}
