/**
 * The key-value protocol's messages and their validator. The validator is the one shape check of
 * these messages: the runtime runs it on everything that arrives from the network (through
 * `isValidMessage` in ../messages.ts), so a well-framed but ill-typed message from a peer (or an
 * attacker on the inter-node port) is dropped, never handled.
 */
import { CORE_LIMITS } from '../constants.js';
import type { Consistency, ErrorResult, QuorumMode } from '../types.js';

/** `id` matches a reply to its request at the sender; replies also name their key. */
export type KvMessage =
  /** `hintFor`: the receiver is a stand-in for that node and keeps the state as a hint for it. */
  | { readonly type: 'replica-put'; readonly id: number; readonly key: string; readonly state: Uint8Array; readonly hintFor?: string }
  | { readonly type: 'replica-put-ack'; readonly id: number; readonly key: string }
  | { readonly type: 'replica-get'; readonly id: number; readonly key: string }
  | { readonly type: 'replica-get-reply'; readonly id: number; readonly key: string; readonly state: Uint8Array | null }
  | { readonly type: 'forward'; readonly id: number; readonly op: WireOp }
  /** The replica took the forwarded write on: the forwarder stops trying others and waits. */
  | { readonly type: 'forward-accepted'; readonly id: number }
  | { readonly type: 'forward-reply'; readonly id: number; readonly reply: WireReply };

export type KvMessageType = KvMessage['type'];

/** A client op as it crosses the wire (contexts as tokens). */
export type WireOp =
  | { readonly op: 'get'; readonly key: string; readonly r?: Consistency; readonly quorum?: QuorumMode; readonly timeoutMs?: number }
  | {
    readonly op: 'put'; readonly key: string; readonly value: Uint8Array | null; readonly contentType?: string;
    readonly context?: string; readonly supersede?: 'local'; readonly w?: Consistency; readonly quorum?: QuorumMode;
    readonly timeoutMs?: number;
    /**
     * A forwarded write's identity: the dot its forwarder minted and the time it stamps, so that
     * every replica coordinating this forward makes the same version (forward-coordinator.ts).
     */
    readonly dot?: ForwardDot; readonly tsMs?: number;
  };

/** A dot minted by a forwarder: its actor is `<node>^<run-unique id>` (`^` is in no node id). */
export interface ForwardDot {
  readonly node: string;
  readonly counter: number;
}

/** Longest forward actor accepted: a node id (64) plus `^` and a base-36 id. */
const FORWARD_ACTOR_CHARS_MAX = 96;

function isOptForwardDot(v: unknown): boolean {
  if (v === undefined) return true;
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Obj;
  const node = o['node'];
  const counter = o['counter'];
  return typeof node === 'string' && node.length <= FORWARD_ACTOR_CHARS_MAX && node.indexOf('^') > 0
    && typeof counter === 'number' && Number.isSafeInteger(counter) && counter >= 1 && counter <= CORE_LIMITS.clientCounterMax;
}

export type WireReply =
  | { readonly ok: true; readonly op: 'put'; readonly context: string }
  | ErrorResult;

type Obj = Record<string, unknown>;

const isId = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isStr = (v: unknown): boolean => typeof v === 'string';
const isBytes = (v: unknown): boolean => v instanceof Uint8Array;
const isConsistency = (v: unknown): boolean =>
  v === undefined || v === 'one' || v === 'quorum' || v === 'all' || (typeof v === 'number' && Number.isInteger(v));
const isOptStr = (v: unknown): boolean => v === undefined || typeof v === 'string';
const isOptNum = (v: unknown): boolean => v === undefined || (typeof v === 'number' && Number.isFinite(v));

function isWireOp(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Obj;
  if (!isStr(o['key'])) return false;
  if (o['op'] === 'get') return isConsistency(o['r']) && isOptNum(o['timeoutMs']);
  if (o['op'] !== 'put') return false;
  return (o['value'] === null || isBytes(o['value'])) && isOptStr(o['contentType']) && isOptStr(o['context'])
    && (o['supersede'] === undefined || o['supersede'] === 'local') && isConsistency(o['w']) && isOptNum(o['timeoutMs'])
    && isOptForwardDot(o['dot']) && (o['tsMs'] === undefined || (isId(o['tsMs']) && (o['dot'] !== undefined)));
}

function isWireReply(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Obj;
  if (o['ok'] === true) return o['op'] === 'put' && isStr(o['context']);
  return o['ok'] === false && isStr(o['error']) && isStr(o['message']);
}

/**
 * The check of each message type's fields (beyond `type`). The mapped type makes it exhaustive:
 * a new message type without a check fails the type check.
 */
export const KV_VALIDATORS: { readonly [K in KvMessageType]: (m: Obj) => boolean } = {
  'replica-put': (m) => isId(m['id']) && isStr(m['key']) && isBytes(m['state']) && isOptStr(m['hintFor']),
  'replica-put-ack': (m) => isId(m['id']) && isStr(m['key']),
  'replica-get': (m) => isId(m['id']) && isStr(m['key']),
  'replica-get-reply': (m) => isId(m['id']) && isStr(m['key']) && (m['state'] === null || isBytes(m['state'])),
  'forward': (m) => isId(m['id']) && isWireOp(m['op']),
  'forward-accepted': (m) => isId(m['id']),
  'forward-reply': (m) => isId(m['id']) && isWireReply(m['reply']),
};

/** Whether `v` is a well-formed key-value message. */
export function isKvMessage(v: unknown): v is KvMessage {
  if (typeof v !== 'object' || v === null) return false;
  const m = v as Obj;
  const type = m['type'];
  if (typeof type !== 'string' || !Object.hasOwn(KV_VALIDATORS, type)) return false;
  return KV_VALIDATORS[type as KvMessageType](m);
}
