/**
 * Shape checks for messages that arrive from the network: a peer (or an attacker on the
 * inter-node port) must not be able to crash a node with a well-framed but ill-typed message.
 */
import type { Message } from '../core/types.js';

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
    && (o['supersede'] === undefined || o['supersede'] === 'local') && isConsistency(o['w']) && isOptNum(o['timeoutMs']);
}

function isWireReply(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Obj;
  if (o['ok'] === true) return o['op'] === 'put' && isStr(o['context']);
  return o['ok'] === false && isStr(o['error']) && isStr(o['message']);
}

export function isValidMessage(v: unknown): v is Message {
  if (typeof v !== 'object' || v === null) return false;
  const m = v as Obj;
  if (!isId(m['id'])) return false;
  switch (m['type']) {
    case 'replica-put': return isStr(m['key']) && isBytes(m['state']);
    case 'replica-put-ack': return isStr(m['key']);
    case 'replica-get': return isStr(m['key']);
    case 'replica-get-reply': return isStr(m['key']) && (m['state'] === null || isBytes(m['state']));
    case 'forward': return isWireOp(m['op']);
    case 'forward-accepted': return true;
    case 'forward-reply': return isWireReply(m['reply']);
    default: return false;
  }
}
