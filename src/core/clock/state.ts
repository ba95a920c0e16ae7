/**
 * The versions of one key: a set of sibling versions, each with its dot, and the causal context
 * of everything this replica has seen for the key. Every sibling's dot is covered by the context.
 *
 * `syncStates` is a lattice join (commutative, associative, idempotent): replicas exchange whole
 * states and merge them, so the order and repetition of deliveries never matter. A sibling
 * survives a merge unless the other side has seen its dot and no longer holds it — which means
 * the other side replaced it with a write whose context covered it.
 */
import { ByteReader, ByteWriter, DecodeError, bytesEqual, utf8Length, varintLength } from '../bytes.js';
import { GossamerError } from '../errors.js';
import type { CausalContext } from './context.js';
import {
  EMPTY_CONTEXT, MAX_CLOCK_ENTRIES, MAX_COUNTER, addDotToContext, contextCovers, contextSize, contextsEqual, joinContexts, normalizeContext, pruneContext, readContext,
  writeContext,
} from './context.js';
import { boundClientContext } from './client-context.js';
import type { Dot } from './vclock.js';
import { addDot, counterOf } from './vclock.js';

export interface Version {
  readonly dot: Dot;
  /** `null` for a tombstone (a delete). */
  readonly value: Uint8Array | null;
  readonly contentType: string;
  /** When the coordinating node created this version (its clock, ms since the epoch). */
  readonly tsMs: number;
}

export interface KeyState {
  readonly context: CausalContext;
  /** Sorted by dot (node, counter). */
  readonly siblings: readonly Version[];
}

export const EMPTY_STATE: KeyState = Object.freeze({ context: EMPTY_CONTEXT, siblings: Object.freeze([] as Version[]) });

function cmpDot(a: Dot, b: Dot): number {
  return a.node < b.node ? -1 : a.node > b.node ? 1 : a.counter - b.counter;
}

function hasDot(list: readonly Version[], dot: Dot): boolean {
  for (const v of list) if (v.dot.node === dot.node && v.dot.counter === dot.counter) return true;
  return false;
}

/** The lattice join of two replicas' states of one key. */
export function syncStates(a: KeyState, b: KeyState): KeyState {
  if (a === b) return a;
  const out: Version[] = [];
  for (const v of a.siblings) {
    if (hasDot(b.siblings, v.dot) || !contextCovers(b.context, v.dot)) out.push(v);
  }
  for (const v of b.siblings) {
    if (!hasDot(a.siblings, v.dot) && !contextCovers(a.context, v.dot)) out.push(v);
  }
  out.sort((x, y) => cmpDot(x.dot, y.dot));
  const context = joinContexts(a.context, b.context);
  if (context.clock.length <= MAX_CLOCK_ENTRIES) return { context, siblings: out };
  // Two replicas that each kept the hard bound may together pass it.
  return { context: pruneContext(context, new Set(out.map((v) => v.dot.node))), siblings: out };
}

export interface NewWrite {
  /** The node coordinating the write; the new dot is its. */
  readonly coordinator: string;
  /** What the client sent back: the versions it saw. Empty for a blind write. */
  readonly context: CausalContext;
  readonly value: Uint8Array | null;
  readonly contentType: string;
  readonly tsMs: number;
  /**
   * A dot minted by the node that forwarded the write (see kv/forward-coordinator.ts): every
   * replica that coordinates the same forwarded write makes the same version, so a forward
   * coordinated twice is one version, not two. Without it the coordinator makes its own dot.
   */
  readonly dot?: Dot;
}

export interface WriteResult {
  readonly state: KeyState;
  readonly dot: Dot;
  /** The context to hand the client: what it sent plus the new dot — and nothing it has not seen. */
  readonly clientContext: CausalContext;
  /** False when the write's (forwarded) dot was already known here: the state is unchanged. */
  readonly created: boolean;
}

/** Only a forged context can get a counter this far; the write is refused (a bad request). */
export class CounterExhaustedError extends GossamerError {
  constructor(node: string) {
    super('bad_request', `the version counter of ${node} for this key is exhausted (a forged context?)`);
  }
}

/**
 * Test-only faults that break reconciliation on purpose, to prove the checkers can fail:
 * - `drop-siblings`: a write replaces every local sibling, covered or not;
 * - `replica-overwrites`: a replica stores what it is sent instead of merging;
 * - `overclaim-put`: a PUT answers with the context of the whole stored state, not of the new
 *   version alone (the client's next write erases siblings it never saw);
 * - `overclaim-get`: a GET answers with the newest sibling only but the context of all of them;
 * - `reuse-dots`: a coordinator numbers its dot from its own live siblings, forgetting dots it
 *   issued that were superseded (as a node restarted without its data would): two writes share
 *   a dot and replicas drop one as already seen;
 * - `delete-keeps-siblings`: a delete adds its tombstone but keeps the versions it covers, which
 *   then live on beside it (a resurrection);
 * - `one-tombstone`: a delete replaces every other tombstone, covered or not ("tombstones are all
 *   alike"), so a concurrent delete is lost;
 * - `forward-own-dots`: a replica coordinating a forwarded write ignores the forwarder's dot and
 *   makes one of its own (the old behaviour), so a forward coordinated twice is two versions.
 */
export type ReconcileBug = 'none' | 'drop-siblings' | 'replica-overwrites' | 'overclaim-put' | 'overclaim-get' | 'reuse-dots'
  | 'delete-keeps-siblings' | 'one-tombstone' | 'forward-own-dots';

/** Every `ReconcileBug`, for command-line parsing. */
export const RECONCILE_BUGS: readonly ReconcileBug[] = [
  'none', 'drop-siblings', 'replica-overwrites', 'overclaim-put', 'overclaim-get', 'reuse-dots', 'delete-keeps-siblings', 'one-tombstone',
  'forward-own-dots',
];

/**
 * A write at its coordinator: the new version replaces exactly the local siblings covered by the
 * client's context; every other sibling stays. The coordinator's local state holds all of its
 * own earlier dots for the key, so its new counter extends its clock entry contiguously.
 */
export function applyWrite(local: KeyState, sent: NewWrite, bug: ReconcileBug = 'none'): WriteResult {
  const { dot: forwarded, ...rest } = sent;
  const w: NewWrite = {
    ...rest, context: boundClientContext(sent.context, local.context, sent.tsMs),
    ...(forwarded === undefined || bug === 'forward-own-dots' ? {} : { dot: forwarded }),
  };
  if (w.dot !== undefined && (hasDot(local.siblings, w.dot) || contextCovers(local.context, w.dot))) {
    // The same forwarded write again (a retry, a duplicate, or a stale forward): it is already
    // here, or already superseded here. Making it again would change nothing.
    return { state: local, dot: w.dot, clientContext: addDotToContext(w.context, w.dot, w.tsMs), created: false };
  }
  const actor = w.dot?.node ?? w.coordinator;
  const dot: Dot = w.dot ?? { node: actor, counter: (bug === 'reuse-dots' ? ownLiveMax(local, actor) : lastCounter(local, w)) + 1 };
  if (dot.counter > MAX_COUNTER) throw new CounterExhaustedError(actor);
  const kept = keptSiblings(local, w, bug);
  const version: Version = { dot, value: w.value, contentType: w.contentType, tsMs: w.tsMs };
  const siblings = [...kept, version].sort((x, y) => cmpDot(x.dot, y.dot));
  const joined = joinContexts(local.context, w.context);
  // Normalized: a client's cloud may hold a dot of ours the new one's clock entry now covers.
  // A forwarded dot extends its actor's entry only when contiguous (its forwarder numbers the
  // key's writes 1, 2, … but they may arrive out of order): it goes to the cloud, which folds it.
  let context: CausalContext = w.dot === undefined
    ? normalizeContext(addDot(joined.clock, dot, w.tsMs), joined.cloud, w.tsMs)
    : normalizeContext(joined.clock, [...joined.cloud, dot], w.tsMs, dot);
  const keep = new Set(siblings.map((v) => v.dot.node));
  keep.add(actor);
  context = pruneContext(context, keep, w.tsMs);
  const clientContext = bug === 'overclaim-put' ? context : addDotToContext(w.context, dot, w.tsMs);
  return { state: { context, siblings }, dot, clientContext, created: true };
}

/** The local siblings a write leaves in place: those its context does not cover. */
function keptSiblings(local: KeyState, w: NewWrite, bug: ReconcileBug): readonly Version[] {
  if (bug === 'drop-siblings') return [];
  if (bug === 'delete-keeps-siblings' && w.value === null) return local.siblings;
  const kept = local.siblings.filter((v) => !contextCovers(w.context, v.dot));
  return bug === 'one-tombstone' && w.value === null ? kept.filter((v) => v.value !== null) : kept;
}

/** The highest counter of the coordinator's known to the local state or the client's context. */
function lastCounter(local: KeyState, w: NewWrite): number {
  let max = Math.max(counterOf(local.context.clock, w.coordinator), counterOf(w.context.clock, w.coordinator));
  for (const d of local.context.cloud) if (d.node === w.coordinator) max = Math.max(max, d.counter);
  for (const d of w.context.cloud) if (d.node === w.coordinator) max = Math.max(max, d.counter);
  return max;
}

function ownLiveMax(local: KeyState, node: string): number {
  let max = 0;
  for (const v of local.siblings) if (v.dot.node === node) max = Math.max(max, v.dot.counter);
  return max;
}

/**
 * What a read answers from the merged state of the replies: all of it — except under the test-only
 * `overclaim-get` bug, which keeps only the newest sibling but still hands out the whole context.
 */
export function readAnswer(merged: KeyState, bug: ReconcileBug = 'none'): KeyState {
  if (bug !== 'overclaim-get' || merged.siblings.length < 2) return merged;
  const newest = merged.siblings.reduce((a, b) => (b.tsMs > a.tsMs ? b : a));
  return { context: merged.context, siblings: [newest] };
}

/** True when every sibling is a tombstone (the key reads as absent). */
export function isDeleted(state: KeyState): boolean {
  return state.siblings.every((v) => v.value === null);
}

/**
 * Whether two states have the same encoding — compared field by field, without encoding them
 * (this runs on every replica write and for every reply of a read).
 */
export function statesEqual(a: KeyState, b: KeyState): boolean {
  if (a === b) return true;
  if (!contextsEqual(a.context, b.context)) return false;
  const x = a.siblings;
  const y = b.siblings;
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    const w = y[i]!;
    if (v === w) continue;
    if (v.dot.node !== w.dot.node || v.dot.counter !== w.dot.counter || v.contentType !== w.contentType || v.tsMs !== w.tsMs) return false;
    if (v.value === null || w.value === null) {
      if (v.value !== w.value) return false;
    } else if (v.value !== w.value && !bytesEqual(v.value, w.value)) return false;
  }
  return true;
}

const STATE_FORMAT = 1;
const FLAG_TOMBSTONE = 1;

/** The on-disk and on-wire form of a key's state (deterministic: equal states, equal bytes). */
export function encodeState(s: KeyState): Uint8Array {
  const w = new ByteWriter(stateSize(s));
  w.u8(STATE_FORMAT);
  writeContext(w, s.context);
  w.varint(s.siblings.length);
  for (const v of s.siblings) {
    w.string(v.dot.node).varint(v.dot.counter).u8(v.value === null ? FLAG_TOMBSTONE : 0);
    w.string(v.contentType).varint(v.tsMs);
    if (v.value !== null) w.bytes(v.value);
  }
  return w.finish();
}

/** The exact length of `encodeState(s)`, so the writer allocates once and never copies. */
function stateSize(s: KeyState): number {
  let size = 1 + contextSize(s.context) + varintLength(s.siblings.length);
  for (const v of s.siblings) {
    size += stringSize(v.dot.node) + varintLength(v.dot.counter) + 1 + stringSize(v.contentType) + varintLength(v.tsMs);
    if (v.value !== null) size += varintLength(v.value.length) + v.value.length;
  }
  return size;
}

function stringSize(str: string): number {
  const n = utf8Length(str);
  return varintLength(n) + n;
}

/** True for a state with no siblings and an empty context (what a never-written key reads as). */
export function isEmptyState(s: KeyState): boolean {
  return s.siblings.length === 0 && s.context.clock.length === 0 && s.context.cloud.length === 0;
}

/** True for `encodeState(EMPTY_STATE)`: format 1, no clock entries, no dots, no siblings. */
export function isEmptyEncoding(b: Uint8Array): boolean {
  return b.length === 4 && b[0] === STATE_FORMAT && b[1] === 0 && b[2] === 0 && b[3] === 0;
}

/**
 * A reader of an encoded state past its format byte and its context (skipped, not decoded): at
 * the sibling count. Throws DecodeError on another format; ByteReader throws on a short state.
 */
function readerAtSiblings(b: Uint8Array): ByteReader {
  const r = new ByteReader(b);
  if (r.u8() !== STATE_FORMAT) throw new DecodeError('unknown state format');
  const clock = r.varint();
  for (let i = 0; i < clock; i++) {
    r.bytes();
    r.varint();
    r.varint();
  }
  const cloud = r.varint();
  for (let i = 0; i < cloud; i++) {
    r.bytes();
    r.varint();
  }
  return r;
}

/**
 * What a Redis GET answers, read straight from an encoded state: the value of the newest sibling
 * by timestamp (ties: the later in order; null when there is none or it is a tombstone) — the
 * same as picking from `decodeState(b).siblings`, without building the state. The value is a view
 * into `b`. Throws DecodeError on a state that does not parse.
 */
export function newestValueOfEncoded(b: Uint8Array): Uint8Array | null {
  const r = readerAtSiblings(b);
  const n = r.varint();
  let bestTs = -1;
  let best: Uint8Array | null = null;
  for (let i = 0; i < n; i++) {
    r.bytes();
    r.varint();
    const tombstone = (r.u8() & FLAG_TOMBSTONE) !== 0;
    r.bytes();
    const tsMs = r.varint();
    const value = tombstone ? null : r.bytes();
    if (tsMs >= bestTs) {
      bestTs = tsMs;
      best = value;
    }
  }
  if (!r.done) throw new DecodeError('trailing bytes in state');
  return best;
}

/**
 * Whether an encoded state holds at least one version and only tombstones, read without decoding
 * it (no strings or values are made: anti-entropy asks this of every write). False for anything
 * that does not parse.
 */
export function encodedTombstonesOnly(b: Uint8Array): boolean {
  try {
    const r = readerAtSiblings(b);
    const n = r.varint();
    for (let i = 0; i < n; i++) {
      r.bytes();
      r.varint();
      if ((r.u8() & FLAG_TOMBSTONE) === 0) return false;
      r.bytes();
      r.varint();
    }
    return n > 0 && r.done;
  } catch {
    return false;
  }
}

/**
 * Decodes a state. Its values are copies, so a state kept does not pin the bytes it came from;
 * with `shareValues` they are views into `b` instead (a read answered and dropped at once).
 */
export function decodeState(b: Uint8Array, shareValues = false): KeyState {
  const r = new ByteReader(b);
  const format = r.u8();
  if (format !== STATE_FORMAT) throw new DecodeError(`unknown state format ${format}`);
  const context = readContext(r);
  const n = r.varint();
  const siblings: Version[] = [];
  for (let i = 0; i < n; i++) {
    const node = r.string();
    const counter = r.varint();
    if (counter < 1 || counter > MAX_COUNTER) throw new DecodeError('dot counter out of range');
    const flags = r.u8();
    const contentType = r.string();
    const tsMs = r.varint();
    const value = flags & FLAG_TOMBSTONE ? null : shareValues ? r.bytes() : r.bytes().slice();
    siblings.push({ dot: { node, counter }, value, contentType, tsMs });
  }
  if (!r.done) throw new DecodeError('trailing bytes in state');
  return { context, siblings };
}

export { EMPTY_CONTEXT };
