/**
 * Causal contexts: a vector clock of contiguous knowledge plus a "dot cloud" of single events
 * known beyond it (as in delta-CRDTs and Riak's ORSWOT). `X: m` in the clock means every event
 * of X for this key up to m has been seen; a dot `(X, c)` in the cloud means exactly that one
 * event has been seen.
 *
 * Why the cloud: a PUT answers with the context of the *new* version — what the client sent plus
 * the new dot. The client has not seen the other siblings the coordinator may hold (for example
 * an earlier blind write through the same node, with a smaller counter), so folding the new dot
 * into the clock would claim them as seen, and the client's next write would erase them. Keeping
 * the dot apart makes that next write supersede exactly what the client saw.
 */
import { ByteReader, ByteWriter, DecodeError, fromBase64Url, toBase64Url, utf8Length, varintLength } from '../bytes.js';
import { CORE_LIMITS } from '../constants.js';
import { GossamerError } from '../errors.js';
import type { Dot, VClock } from './vclock.js';
import { EMPTY_CLOCK, counterOf, mergeClocks, pruneClock } from './vclock.js';

export interface CausalContext {
  readonly clock: VClock;
  /** Dots known beyond the clock, sorted by (node, counter), none covered by the clock. */
  readonly cloud: readonly Dot[];
}

export const EMPTY_CONTEXT: CausalContext = Object.freeze({ clock: EMPTY_CLOCK, cloud: Object.freeze([] as Dot[]) });

/** The bounds live in src/core/constants.ts; these names stay for the code that uses them. */
export const MAX_CLOUD_DOTS = CORE_LIMITS.cloudDotsMax;
export const MAX_COUNTER = CORE_LIMITS.counterMax;
export const MAX_CLOCK_ENTRIES = CORE_LIMITS.clockEntriesMax;

/**
 * Bounds on a context a *client* sends (states on disk and on the wire keep the wider bounds
 * above). A counter this near `MAX_COUNTER` is refused: a client context's counters are also
 * clamped when a write joins them (see client-context.ts), so real counters never get here.
 */
export const MAX_CLIENT_COUNTER = CORE_LIMITS.clientCounterMax;
/** Node ids are at most 64 characters and actor ids add a short suffix; anything longer is forged. */
export const MAX_CLIENT_NODE_BYTES = 128;
/** A real context has about ten clock entries (pruning) plus one per live sibling's node. */
export const MAX_CLIENT_CLOCK_ENTRIES = 64;
/** Entry timestamps are wall-clock ms; past this (the year 10889) one is forged. */
export const MAX_CLIENT_TS_MS = 2 ** 48 - 1;

export function contextCovers(ctx: CausalContext, dot: Dot): boolean {
  if (counterOf(ctx.clock, dot.node) >= dot.counter) return true;
  for (const d of ctx.cloud) if (d.node === dot.node && d.counter === dot.counter) return true;
  return false;
}

function cmpDot(a: Dot, b: Dot): number {
  return a.node < b.node ? -1 : a.node > b.node ? 1 : a.counter - b.counter;
}

/** Drops cloud dots the clock covers and folds dots that extend the clock contiguously. */
export function normalizeContext(clock: VClock, cloud: readonly Dot[], tsMs = 0, keep?: Dot): CausalContext {
  if (cloud.length === 0) return { clock, cloud: EMPTY_CONTEXT.cloud };
  // Ascending (node, counter) order lets one pass fold chains like X:1 + (X,2),(X,3) → X:3.
  const sorted = [...cloud].sort(cmpDot);
  let c = clock;
  const deduped: Dot[] = [];
  for (const d of sorted) {
    const have = counterOf(c, d.node);
    if (d.counter <= have) continue;
    if (d.counter === have + 1) {
      c = mergeClocks(c, [{ node: d.node, counter: d.counter, tsMs }]);
      continue;
    }
    const last = deduped[deduped.length - 1];
    if (!last || cmpDot(last, d) !== 0) deduped.push(d);
  }
  let capped = deduped;
  if (deduped.length > MAX_CLOUD_DOTS) {
    const kept = keep ? deduped.filter((d) => d.node === keep.node && d.counter === keep.counter) : [];
    const others = deduped.filter((d) => !kept.includes(d));
    capped = [...others.slice(others.length - (MAX_CLOUD_DOTS - kept.length)), ...kept].sort(cmpDot);
  }
  return { clock: c, cloud: capped };
}

export function joinContexts(a: CausalContext, b: CausalContext): CausalContext {
  if (a.clock.length === 0 && a.cloud.length === 0) return b;
  if (b.clock.length === 0 && b.cloud.length === 0) return a;
  const clock = mergeClocks(a.clock, b.clock);
  if (a.cloud.length === 0 && b.cloud.length === 0) return { clock, cloud: EMPTY_CONTEXT.cloud };
  // A dot that folds here gets the newest time the clock knows, not 0: pruning takes an entry's
  // time for its age, and an entry folded now is not old. Replicas that fold the same dot at
  // different moments converge on the later time (mergeClocks keeps the newer of equal counters).
  return normalizeContext(clock, [...a.cloud, ...b.cloud], newestTime(clock));
}

function newestTime(clock: VClock): number {
  let max = 0;
  for (const e of clock) if (e.tsMs > max) max = e.tsMs;
  return max;
}

/**
 * Adds one dot as a single known event (not contiguous knowledge). `tsMs` is the dot's own time:
 * if the dot extends its actor's clock entry it folds there with that time, because pruning reads
 * an entry's time as its age (a dot folded with time 0 would read as idle for decades and could be
 * pruned at the next write — the crash loop's false sibling of session 4).
 */
export function addDotToContext(ctx: CausalContext, dot: Dot, tsMs: number): CausalContext {
  return normalizeContext(ctx.clock, [...ctx.cloud, dot], tsMs, dot);
}

/**
 * Prunes a context's clock (see `pruneClock`): a write passes its own time, so entries older than
 * `clockYoungMs` may go past the soft bound; a merge passes none, so only the hard bound applies
 * (the result stays a function of the merged states alone).
 */
export function pruneContext(ctx: CausalContext, keep: ReadonlySet<string>, nowMs = Number.NEGATIVE_INFINITY): CausalContext {
  const bounds = { softMax: CORE_LIMITS.clockEntriesSoftMax, hardMax: MAX_CLOCK_ENTRIES, nowMs, youngMs: CORE_LIMITS.clockYoungMs };
  const clock = pruneClock(ctx.clock, bounds, keep);
  return clock === ctx.clock ? ctx : normalizeContext(clock, ctx.cloud);
}

export function writeContext(w: ByteWriter, ctx: CausalContext): void {
  w.varint(ctx.clock.length);
  for (const e of ctx.clock) w.string(e.node).varint(e.counter).varint(e.tsMs);
  w.varint(ctx.cloud.length);
  for (const d of ctx.cloud) w.string(d.node).varint(d.counter);
}

/** The length of what `writeContext` writes. */
export function contextSize(ctx: CausalContext): number {
  let size = varintLength(ctx.clock.length) + varintLength(ctx.cloud.length);
  for (const e of ctx.clock) size += stringSize(e.node) + varintLength(e.counter) + varintLength(e.tsMs);
  for (const d of ctx.cloud) size += stringSize(d.node) + varintLength(d.counter);
  return size;
}

function stringSize(s: string): number {
  const n = utf8Length(s);
  return varintLength(n) + n;
}

/** Whether `writeContext` writes the same bytes for both. */
export function contextsEqual(a: CausalContext, b: CausalContext): boolean {
  if (a === b) return true;
  if (a.clock.length !== b.clock.length || a.cloud.length !== b.cloud.length) return false;
  for (let i = 0; i < a.clock.length; i++) {
    const x = a.clock[i]!;
    const y = b.clock[i]!;
    if (x !== y && (x.node !== y.node || x.counter !== y.counter || x.tsMs !== y.tsMs)) return false;
  }
  for (let i = 0; i < a.cloud.length; i++) {
    const x = a.cloud[i]!;
    const y = b.cloud[i]!;
    if (x !== y && (x.node !== y.node || x.counter !== y.counter)) return false;
  }
  return true;
}

/** Bounds on what a decoder accepts, so a hostile token cannot make us allocate much. */
const MAX_DECODED_ENTRIES = CORE_LIMITS.decodedEntriesMax;

export function readContext(r: ByteReader): CausalContext {
  const n = r.varint();
  if (n > MAX_DECODED_ENTRIES) throw new DecodeError('too many clock entries');
  const clock: { node: string; counter: number; tsMs: number }[] = [];
  for (let i = 0; i < n; i++) {
    const node = r.string();
    const counter = r.varint();
    const tsMs = r.varint();
    if (counter < 1 || counter > MAX_COUNTER) throw new DecodeError('clock counter out of range');
    const prev = clock[clock.length - 1];
    if (prev && !(prev.node < node)) throw new DecodeError('clock entries not sorted');
    clock.push({ node, counter, tsMs });
  }
  const m = r.varint();
  if (m > MAX_DECODED_ENTRIES) throw new DecodeError('too many dots');
  const cloud: Dot[] = [];
  for (let i = 0; i < m; i++) {
    const node = r.string();
    const counter = r.varint();
    if (counter < 1 || counter > MAX_COUNTER) throw new DecodeError('dot counter out of range');
    cloud.push({ node, counter });
  }
  return normalizeContext(clock, cloud);
}

const TOKEN_VERSION = 1;

/** The opaque `X-Gossamer-Context` token: base64url of a versioned binary context. */
export function encodeContextToken(ctx: CausalContext): string {
  const w = new ByteWriter();
  w.u8(TOKEN_VERSION);
  writeContext(w, ctx);
  return toBase64Url(w.finish());
}

/** A context token a client sent cannot be decoded: a bad request. */
export class ContextError extends GossamerError {
  constructor(message: string) {
    super('bad_request', message);
  }
}

/** Longest token accepted (a context is small; this bounds the work a hostile header can cause). */
export const MAX_CONTEXT_TOKEN_CHARS = CORE_LIMITS.contextTokenCharsMax;

export function decodeContextToken(token: string): CausalContext {
  if (token.length === 0 || token.length > MAX_CONTEXT_TOKEN_CHARS) throw new ContextError('context token has a bad length');
  try {
    const r = new ByteReader(fromBase64Url(token));
    const version = r.u8();
    if (version !== TOKEN_VERSION) throw new ContextError(`unknown context version ${version}`);
    const ctx = readContext(r);
    if (!r.done) throw new ContextError('trailing bytes in context');
    checkClientContext(ctx);
    return ctx;
  } catch (e) {
    if (e instanceof ContextError) throw e;
    throw new ContextError(`malformed context: ${(e as Error).message}`);
  }
}

/** Refuses what no context the system hands out can hold (decoding bounded the rest). */
function checkClientContext(ctx: CausalContext): void {
  if (ctx.clock.length > MAX_CLIENT_CLOCK_ENTRIES) {
    throw new ContextError(`context has ${ctx.clock.length} clock entries, over ${MAX_CLIENT_CLOCK_ENTRIES}`);
  }
  for (const e of ctx.clock) {
    checkClientDot(e);
    if (e.tsMs > MAX_CLIENT_TS_MS) throw new ContextError(`context entry of ${JSON.stringify(e.node.slice(0, 70))} has a timestamp past ${MAX_CLIENT_TS_MS}`);
  }
  for (const d of ctx.cloud) checkClientDot(d);
}

function checkClientDot(d: Dot): void {
  if (utf8Length(d.node) > MAX_CLIENT_NODE_BYTES || d.node.length === 0) {
    throw new ContextError(`context names a node name of ${utf8Length(d.node)} bytes (1..${MAX_CLIENT_NODE_BYTES})`);
  }
  if (d.counter > MAX_CLIENT_COUNTER) {
    throw new ContextError(`context counter ${d.counter} of ${JSON.stringify(d.node.slice(0, 70))} is near the counter bound (at most ${MAX_CLIENT_COUNTER})`);
  }
}
