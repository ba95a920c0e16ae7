/**
 * Parsing and validation of what a client sends on `/kv/`: the key in the path, the query
 * parameters and the context header. Every failure is an HttpError (400 or 414), raised before
 * anything reaches the node, so bad input never changes stored data.
 */
import type { Consistency, QuorumMode, RepairMode } from '../../core/types.js';
import type { CausalContext } from '../../core/clock/context.js';
import { ContextError, decodeContextToken } from '../../core/clock/context.js';
import { HttpError } from './errors.js';

export const MAX_KEY_BYTES = 1024;
/** The longest `timeout` a client may ask for (10 minutes): longer is surely a mistake. */
export const MAX_TIMEOUT_MS = 600_000;
/** Longest Content-Type kept with a value. */
export const MAX_CONTENT_TYPE_CHARS = 256;

/** Decodes a percent-encoded path segment into a key and checks its size (1..1024 bytes of UTF-8). */
export function decodeKey(raw: string): string {
  let key: string;
  try {
    key = decodeURIComponent(raw);
  } catch {
    throw new HttpError('bad_request', 'the key is not valid percent-encoded UTF-8');
  }
  return checkKey(key);
}

/**
 * Every value of query parameter `name`, decoded strictly: a malformed percent-encoding is a 400
 * (URLSearchParams would keep `%ZZ` as it is, and answer about another key).
 */
export function strictParam(query: string, name: string): string[] {
  const out: string[] = [];
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    if (decodeParamPart(rawName, 'parameter name') !== name) continue;
    out.push(decodeParamPart(eq < 0 ? '' : pair.slice(eq + 1), `parameter ${name}`));
  }
  return out;
}

function decodeParamPart(raw: string, what: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    throw new HttpError('bad_request', `the ${what} is not valid percent-encoded UTF-8`);
  }
}

export function checkKey(key: string): string {
  if (key.length === 0) throw new HttpError('bad_request', 'the key is empty (keys are 1..1024 bytes)');
  // A JS string's UTF-8 size is at least its length and at most 3× it: skip the count when clear.
  const bytes = key.length * 3 <= MAX_KEY_BYTES ? key.length : Buffer.byteLength(key, 'utf8');
  if (bytes > MAX_KEY_BYTES) {
    throw new HttpError('key_too_long', `the key is ${bytes} bytes; the limit is ${MAX_KEY_BYTES}`);
  }
  return key;
}

/**
 * R or W as the API accepts it: a count, `one`, `quorum`, `all`, or a data-centre level
 * (`local_one`, `local_quorum`, `each_quorum`; src/core/quorum counts them by DC).
 */
export function parseConsistency(name: 'r' | 'w', raw: string, n: number): Consistency {
  switch (raw) {
    case 'one':
    case 'quorum':
    case 'all':
    case 'local_one':
    case 'local_quorum':
    case 'each_quorum':
      return raw;
  }
  if (!/^[0-9]{1,9}$/.test(raw)) {
    throw new HttpError('bad_request',
      `${name} must be an integer 1..${n} or one, quorum, all, local_one, local_quorum, each_quorum (got "${truncate(raw)}")`);
  }
  const v = Number(raw);
  if (v < 1) throw new HttpError('bad_request', `${name} must be at least 1 (got ${v})`);
  if (v > n) throw new HttpError('bad_request', `${name.toUpperCase()}=${v} is above N=${n}`);
  return v;
}

export function parseQuorumMode(raw: string): QuorumMode {
  if (raw === 'sloppy' || raw === 'strict') return raw;
  throw new HttpError('bad_request', `quorum must be sloppy or strict (got "${truncate(raw)}")`);
}

/** `repair=blocking` makes a read repair stale replicas before it answers; `async` (the default) after. */
export function parseRepairMode(raw: string): RepairMode {
  if (raw === 'async' || raw === 'blocking') return raw;
  throw new HttpError('bad_request', `repair must be async or blocking (got "${truncate(raw)}")`);
}

export function parseTimeoutMs(raw: string): number {
  if (!/^[0-9]{1,9}$/.test(raw)) {
    throw new HttpError('bad_request', `timeout must be a whole number of milliseconds (got "${truncate(raw)}")`);
  }
  const v = Number(raw);
  if (v < 1 || v > MAX_TIMEOUT_MS) throw new HttpError('bad_request', `timeout must be 1..${MAX_TIMEOUT_MS} ms (got ${v})`);
  return v;
}

export interface KvParams {
  r?: Consistency;
  w?: Consistency;
  quorum?: QuorumMode;
  repair?: RepairMode;
  timeoutMs?: number;
  /** `supersede=local` on a PUT: as RESP SET, the write also covers what its coordinator has seen. */
  supersede?: 'local';
}

const KNOWN_PARAMS = new Set(['r', 'w', 'quorum', 'repair', 'timeout', 'supersede']);

export function parseSupersede(raw: string): 'local' {
  if (raw === 'local') return raw;
  throw new HttpError('bad_request', `supersede must be local (got "${truncate(raw)}")`);
}

/** Parses the query string of a `/kv/` request. Unknown parameters are ignored; a repeated known one is a 400. */
export function parseKvParams(query: string, n: number): KvParams {
  const out: KvParams = {};
  if (query.length === 0) return out;
  const seen = new Set<string>();
  for (const [name, value] of new URLSearchParams(query)) {
    if (!KNOWN_PARAMS.has(name)) continue;
    if (seen.has(name)) throw new HttpError('bad_request', `the parameter ${name} is given twice`);
    seen.add(name);
    if (name === 'r') out.r = parseConsistency('r', value, n);
    else if (name === 'w') out.w = parseConsistency('w', value, n);
    else if (name === 'quorum') out.quorum = parseQuorumMode(value);
    else if (name === 'repair') out.repair = parseRepairMode(value);
    else if (name === 'supersede') out.supersede = parseSupersede(value);
    else out.timeoutMs = parseTimeoutMs(value);
  }
  return out;
}

export function parseContextHeader(raw: string | string[] | undefined): CausalContext | undefined {
  if (raw === undefined) return undefined;
  if (Array.isArray(raw)) throw new HttpError('bad_request', 'X-Gossamer-Context is given more than once');
  const token = raw.trim();
  if (token.length === 0) return undefined;
  try {
    return decodeContextToken(token);
  } catch (e) {
    if (e instanceof ContextError) throw new HttpError('bad_request', `malformed X-Gossamer-Context: ${e.message}`);
    throw e;
  }
}

export function parseContentType(raw: string | undefined): string {
  if (raw === undefined || raw.length === 0) return 'application/octet-stream';
  if (raw.length > MAX_CONTENT_TYPE_CHARS) {
    throw new HttpError('bad_request', `Content-Type is longer than ${MAX_CONTENT_TYPE_CHARS} characters`);
  }
  return raw;
}

function truncate(s: string, max = 40): string {
  return s.length <= max ? s : s.slice(0, max) + '…';
}
