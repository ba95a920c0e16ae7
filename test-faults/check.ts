/**
 * The checker of the real-process fault suite: the simulator's invariants (src/sim/checker.ts)
 * restated over what a black-box client can see — the HTTP history (contexts sent and returned,
 * statuses and error codes) and each node's `/admin/local/{key}` view after the cluster healed,
 * which gives every version its own context (its dot alone).
 *
 * - An acknowledged write's dot is the one event its returned context covers and the context it
 *   sent does not (`newDot`); a final version's dot is the one event its own context covers.
 * - A put is *present* when its unique value is among the final versions; a delete is present only
 *   when a final tombstone carries *its* dot (a tombstone stands for the delete that wrote it,
 *   not for every delete).
 * - A write is *superseded* when another write on the key that may have taken effect sent a
 *   context covering its dot *and its client had observed it* (read it, or wrote it: `basis`,
 *   from the history, never from the contexts under test; a tombstone read counts for any
 *   delete, as reads show tombstones without tags) — and, when that other write was
 *   acknowledged, it is present or superseded in turn. "May have taken effect": acknowledged, or of unknown outcome (a timeout,
 *   a reset connection, `503 insufficient_replicas`, another 5xx). A refused connection, a 4xx
 *   and a `503 unavailable` (the node was starting or stopping and did not take the request) did
 *   not happen.
 * - No final version may be one that an acknowledged write superseded (its sent context covered
 *   the version's dot): beside a version written over it, a false sibling; with every version
 *   written over it gone, a resurrection. An acknowledged delete whose tombstone is gone while a
 *   value it removed is back is that resurrection (reported once, not also as a lost delete).
 * - Phantom value: no read, and no final version, may show a value that no put on its key sent.
 * - A write that did not happen leaves no trace: its value is never among the final versions.
 */
import { seededRandom } from '../src/sim/prng.js';
import type { CausalContext } from '../src/core/clock/context.js';
import { EMPTY_CONTEXT, contextCovers, decodeContextToken } from '../src/core/clock/context.js';
import type { Dot } from '../src/core/clock/vclock.js';

/** How a request ended. `refused`: the connection was refused, so nothing was sent. */
export type Outcome = 'ok' | 'status' | 'refused' | 'conn-error' | 'timeout';

export interface OpRecord {
  id: number;
  client: number;
  /** The node (index) the request went through. */
  node: number;
  kind: 'get' | 'put' | 'delete';
  key: string;
  /** Puts: the unique value written. Deletes: a unique label (not stored anywhere). */
  tag?: string;
  /** The context token sent, if any. */
  sent?: string;
  /** The query string sent, if any (e.g. `?r=quorum&quorum=strict`). */
  query?: string;
  outcome: Outcome;
  status?: number;
  error?: string;
  /** The X-Gossamer-Context returned, if any. */
  returned?: string;
  /** For an error status: the `error` code of its JSON body. */
  code?: string;
  /** Gets: the tags the answer showed (`~` for any tombstone: they carry no tag). */
  observed?: string[];
  /**
   * Writes: the tags the client observed through the context it sent (what its read showed, its
   * own acknowledged writes; `~` for any tombstone). When given, a write supersedes only these.
   */
  basis?: string[];
  startMs: number;
  endMs: number;
}

/** One node's `/admin/local/{key}` view; `null` when it answered 404 (holds nothing). */
export interface LocalView {
  versions: { value: string | null; context: string }[];
}

export interface Violation {
  invariant: 'lost-write' | 'undeterminable-dot' | 'divergence' | 'phantom-value' | 'false-sibling' | 'server-error'
    | 'resurrection' | 'failed-write-present' | 'convergence' | 'strict-stale-read';
  key: string;
  detail: string;
  /** Ids of the history records that matter for it. */
  ops: number[];
}

/** How the acknowledged writes that passed did so: superseded; else present (puts) or left a tombstone (deletes). */
export interface CheckStats { superseded: number; present: number; tombstone: number }

/** A seeded PRNG (the simulator's): the same seed gives the same choices. */
export const prng = seededRandom;

const decode = (token: string | undefined): CausalContext => (token ? decodeContextToken(token) : EMPTY_CONTEXT);

/**
 * The dot a write created: the single event its returned context covers that the sent context
 * does not (a PUT/DELETE answers with what was sent plus the new dot). Throws when there is not
 * exactly one.
 */
export function newDot(sent: string | undefined, returned: string): Dot {
  const s = decode(sent);
  const r = decodeContextToken(returned);
  const maxOf = new Map<string, number>();
  for (const e of r.clock) maxOf.set(e.node, Math.max(maxOf.get(e.node) ?? 0, e.counter));
  for (const d of r.cloud) maxOf.set(d.node, Math.max(maxOf.get(d.node) ?? 0, d.counter));
  const found: Dot[] = [];
  for (const [node, max] of maxOf) {
    for (let counter = 1; counter <= max; counter++) {
      const dot = { node, counter };
      if (contextCovers(r, dot) && !contextCovers(s, dot)) found.push(dot);
    }
  }
  if (found.length !== 1) {
    throw new Error(`expected one new dot, found ${found.length}: ${found.map((d) => `${d.node}:${d.counter}`).join(', ')}`);
  }
  return found[0]!;
}

const dotStr = (d: Dot): string => `${d.node}:${d.counter}`;
const b64text = (v: string): string => Buffer.from(v, 'base64').toString('utf8');

/** Whether a write may have taken effect (been stored by some replica). */
export function mayHaveApplied(op: OpRecord): boolean {
  if (op.outcome === 'ok' || op.outcome === 'timeout' || op.outcome === 'conn-error') return true;
  if (op.outcome === 'refused') return false;
  const status = op.status ?? 0;
  if (status === 503 && op.code === 'unavailable') return false; // refused before it was taken
  return status >= 500; // 503 insufficient_replicas: the coordinator kept its copy
}

interface FinalVersion { value: string | null; dot: Dot | undefined }

/**
 * Checks a history against the final local views (key → node id → view). Returns every
 * violation found; an empty list means the run was consistent.
 */
export function checkHistory(history: readonly OpRecord[], finals: ReadonlyMap<string, ReadonlyMap<string, LocalView | null>>,
  stats: CheckStats = { superseded: 0, present: 0, tombstone: 0 }): Violation[] {
  const violations: Violation[] = [];
  for (const op of history) {
    if (op.status !== undefined && op.status >= 500 && op.status !== 503) {
      violations.push({ invariant: 'server-error', key: op.key, detail: `${op.kind} #${op.id} answered ${op.status}: ${op.error ?? ''}`, ops: [op.id] });
    }
  }
  for (const [key, views] of finals) {
    const entries = [...views.entries()];
    const [firstNode, first] = entries[0] ?? ['?', null];
    const canon = (v: LocalView | null): string => JSON.stringify(v?.versions.map((x) => [x.value, x.context]) ?? []);
    for (const [node, v] of entries.slice(1)) {
      if (canon(v) !== canon(first)) {
        violations.push({ invariant: 'divergence', key, detail: `${node} holds ${canon(v)}, ${firstNode} holds ${canon(first)}`, ops: [] });
      }
    }
    const finalVersions: FinalVersion[] = (first?.versions ?? []).map((v) => ({ value: v.value === null ? null : b64text(v.value), dot: dotOfView(v.context) }));
    checkKey(key, history.filter((op) => op.key === key && op.kind !== 'get'), finalVersions, violations, stats);
  }
  checkReads(history, violations);
  return violations;
}

/** A read may show only values that some put on its key sent (whatever that put's outcome): anything else is a phantom. */
function checkReads(history: readonly OpRecord[], violations: Violation[]): void {
  const written = new Set(history.filter((op) => op.kind === 'put').map((op) => `${op.key}\0${op.tag ?? ''}`));
  for (const op of history) {
    if (op.kind !== 'get' || op.outcome !== 'ok') continue;
    for (const tag of op.observed ?? []) {
      if (tag !== '~' && !written.has(`${op.key}\0${tag}`)) {
        violations.push({ invariant: 'phantom-value', key: op.key, detail: `get #${op.id} through n${op.node} read ${JSON.stringify(tag.slice(0, 60))}, which no put wrote`, ops: [op.id] });
      }
    }
  }
}

/** The one dot a version's own context covers (undefined if it is not exactly one). */
function dotOfView(context: string): Dot | undefined {
  try {
    return newDot(undefined, context);
  } catch {
    return undefined;
  }
}

function checkKey(key: string, writes: readonly OpRecord[], finals: readonly FinalVersion[], violations: Violation[], stats: CheckStats): void {
  const presentCount = new Map<string, number>();
  for (const v of finals) if (v.value !== null) presentCount.set(v.value, (presentCount.get(v.value) ?? 0) + 1);
  const tombstoneDots = new Set(finals.filter((v) => v.value === null && v.dot).map((v) => dotStr(v.dot!)));
  for (const v of finals) {
    if (v.value === null && !v.dot) violations.push({ invariant: 'undeterminable-dot', key, detail: 'a final tombstone has no single dot in its context', ops: [] });
  }
  const putByTag = new Map(writes.filter((w) => w.kind === 'put').map((w) => [w.tag ?? '', w]));
  for (const tag of presentCount.keys()) {
    const w = putByTag.get(tag);
    if (!w) violations.push({ invariant: 'phantom-value', key, detail: `final value ${JSON.stringify(tag)} was never written`, ops: [] });
    else if (!mayHaveApplied(w)) {
      violations.push({ invariant: 'failed-write-present', key, detail: `put #${w.id} ${tag} did not happen (${describeOutcome(w)}), yet its value is present`, ops: [w.id] });
    }
  }

  const dotOf = new Map<number, Dot>();
  for (const w of writes) {
    if (w.outcome !== 'ok') continue;
    try {
      dotOf.set(w.id, newDot(w.sent, w.returned ?? ''));
    } catch (e) {
      violations.push({ invariant: 'undeterminable-dot', key, detail: `${w.kind} #${w.id}: ${(e as Error).message}`, ops: [w.id] });
    }
  }
  const sentCtx = new Map(writes.map((w) => [w.id, decode(w.sent)]));
  const isPresent = (w: OpRecord, dot: Dot): boolean => (w.kind === 'put' ? presentCount.has(w.tag ?? '') : tombstoneDots.has(dotStr(dot)));
  const memo = new Map<number, boolean>();
  const survives = (w: OpRecord): boolean => {
    const known = memo.get(w.id);
    if (known !== undefined) return known;
    memo.set(w.id, false); // a context only covers earlier dots, so no cycles; guard anyway
    const ok = isSuperseded(w) || isPresent(w, dotOf.get(w.id)!);
    memo.set(w.id, ok);
    return ok;
  };
  const isSuperseded = (w: OpRecord): boolean => {
    const dot = dotOf.get(w.id)!;
    for (const o of writes) {
      if (o.id === w.id || !mayHaveApplied(o) || !contextCovers(sentCtx.get(o.id)!, dot) || !observedBy(o, w)) continue;
      if (o.outcome !== 'ok' || !dotOf.has(o.id) || survives(o)) return true;
    }
    return false;
  };
  for (const w of writes) {
    if (w.outcome !== 'ok' || !dotOf.has(w.id)) continue;
    if (survives(w)) {
      if (isSuperseded(w)) stats.superseded++;
      else if (w.kind === 'put') stats.present++;
      else stats.tombstone++;
    } else if (w.kind === 'delete' && finals.some((v) => v.value !== null && putByTag.has(v.value) && v.dot !== undefined && contextCovers(sentCtx.get(w.id)!, v.dot))) {
      // The delete was undone: a value it removed is back. One fact, reported once, as the
      // resurrection checkSupersededGone finds (not also as a lost delete).
    } else {
      const dot = dotOf.get(w.id)!;
      const coverers = writes.filter((o) => o.id !== w.id && contextCovers(sentCtx.get(o.id)!, dot)).map((o) => o.id);
      violations.push({
        invariant: 'lost-write', key,
        detail: `acknowledged ${w.kind} #${w.id} ${w.tag ?? ''} (dot ${dotStr(dot)}) is neither present nor superseded` +
          (coverers.length ? ` (covered only by writes that did not survive or never ran: ${coverers.slice(0, 10).join(', ')}` +
            `${coverers.length > 10 ? ` and ${coverers.length - 10} more` : ''})` : ''),
        ops: [w.id, ...coverers.slice(0, 3)],
      });
    }
  }
  checkSupersededGone(key, writes, finals, putByTag, dotOf, sentCtx, violations);
}

/**
 * No final version may be one that a write superseded: one covered by a write that is present too
 * is a false sibling (reported once per such write); one covered only by writes that are gone, a
 * resurrection when one of those was acknowledged.
 */
function checkSupersededGone(key: string, writes: readonly OpRecord[], finals: readonly FinalVersion[], putByTag: ReadonlyMap<string, OpRecord>,
  dotOf: ReadonlyMap<number, Dot>, sentCtx: ReadonlyMap<number, CausalContext>, violations: Violation[]): void {
  const deleteByDot = new Map<string, OpRecord>();
  for (const w of writes) if (w.kind === 'delete' && dotOf.has(w.id)) deleteByDot.set(dotStr(dotOf.get(w.id)!), w);
  const writerOf = (v: FinalVersion): OpRecord | undefined =>
    (v.value !== null ? putByTag.get(v.value) : v.dot ? deleteByDot.get(dotStr(v.dot)) : undefined);
  const presentWriters = new Set(finals.map(writerOf).filter((w): w is OpRecord => w !== undefined).map((w) => w.id));
  const label = (w: OpRecord): string => (w.kind === 'put' ? `${w.tag} (#${w.id})` : `the tombstone of delete #${w.id}`);
  for (const v of finals) {
    const sw = writerOf(v);
    const sDot = v.dot ?? (sw ? dotOf.get(sw.id) : undefined);
    if (!sw || !sDot) continue;
    const over = writes.filter((o) => o.id !== sw.id && contextCovers(sentCtx.get(o.id)!, sDot));
    const beside = over.filter((o) => presentWriters.has(o.id));
    // One finding per version: beside a version written over it, a false sibling; with every
    // version written over it gone, a resurrection.
    for (const o of beside) {
      violations.push({ invariant: 'false-sibling', key, detail: `${label(o)} was written over ${label(sw)} (${dotStr(sDot)}), yet both remain`, ops: [sw.id, o.id] });
    }
    if (beside.length > 0) continue;
    for (const o of over) {
      if (o.outcome !== 'ok') continue;
      violations.push({ invariant: 'resurrection', key, detail: `${label(sw)} (${dotStr(sDot)}) is present, but acknowledged ${o.kind} #${o.id} superseded it`, ops: [sw.id, o.id] });
    }
  }
}

/**
 * Whether `o`'s client had observed `w` when it wrote: `w` among the tags it observed — or, for a
 * delete, any tombstone (a read shows tombstones without their tags). Histories without `basis`
 * trust the contexts.
 */
function observedBy(o: OpRecord, w: OpRecord): boolean {
  if (o.basis === undefined) return true;
  return o.basis.includes(w.tag ?? '') || (w.kind === 'delete' && o.basis.includes('~'));
}

function describeOutcome(op: OpRecord): string {
  return op.outcome === 'status' ? `${op.status ?? '?'} ${op.code ?? ''}`.trim() : op.outcome;
}

/** The history records a violation names and their neighbours on its key, one per line. */
export function excerpt(history: readonly OpRecord[], v: Violation, around = 4): string {
  const onKey = history.filter((op) => op.key === v.key);
  const ids = new Set(v.ops);
  const keep = new Set<number>();
  onKey.forEach((op, i) => {
    if (ids.has(op.id)) for (let j = Math.max(0, i - around); j <= Math.min(onKey.length - 1, i + around); j++) keep.add(j);
  });
  if (keep.size === 0) for (let j = Math.max(0, onKey.length - 2 * around); j < onKey.length; j++) keep.add(j);
  return [...keep].sort((a, b) => a - b).map((j) => JSON.stringify(onKey[j])).join('\n');
}

/** The number of replicas a level asks for (`?r=`/`?w=` value) at N; undefined when it is not one of these. */
function levelCount(level: string | null, n: number): number | undefined {
  if (level === null || level === 'quorum') return Math.floor(n / 2) + 1; // the default level is quorum
  if (level === 'all') return n;
  if (level === 'one') return 1;
  return /^\d+$/.test(level) ? Number(level) : undefined;
}

/**
 * What strict quorum promises: a strict read that began after a strict write was acknowledged,
 * with R+W > N, sees that write — the context it returned covers the write's dot (the version, or
 * a later one written over it). Reads and writes without `quorum=strict` are not judged here.
 * Returns the violations; `checked` counts the (write, read) pairs judged.
 */
export function checkStrict(history: readonly OpRecord[], n: number, checked = { pairs: 0 }): Violation[] {
  const strict = (op: OpRecord): URLSearchParams | undefined => {
    const q = new URLSearchParams(op.query ?? '');
    return q.get('quorum') === 'strict' ? q : undefined;
  };
  const violations: Violation[] = [];
  const byKey = new Map<string, OpRecord[]>();
  for (const op of history) if (strict(op)) byKey.set(op.key, [...(byKey.get(op.key) ?? []), op]);
  for (const [key, ops] of byKey) {
    const writes: { op: OpRecord; w: number; dot: Dot }[] = [];
    for (const op of ops) {
      if (op.kind === 'get' || op.outcome !== 'ok' || op.returned === undefined) continue;
      const w = levelCount(strict(op)!.get('w'), n);
      try {
        if (w !== undefined) writes.push({ op, w, dot: newDot(op.sent, op.returned) });
      } catch { /* an undeterminable dot is checkHistory's to report */ }
    }
    for (const read of ops) {
      if (read.kind !== 'get' || read.outcome !== 'ok') continue;
      const r = levelCount(strict(read)!.get('r'), n);
      if (r === undefined) continue;
      const seen = decode(read.returned);
      for (const { op, w, dot } of writes) {
        if (r + w <= n || op.endMs >= read.startMs) continue;
        checked.pairs++;
        if (!contextCovers(seen, dot)) {
          violations.push({ invariant: 'strict-stale-read', key,
            detail: `strict read #${read.id} (r=${r}, began ${read.startMs} ms) missed strict ${op.kind} #${op.id} ${op.tag ?? ''} (w=${w}, acknowledged ${op.endMs} ms, dot ${dotStr(dot)})`,
            ops: [op.id, read.id] });
          break; // one per read is enough
        }
      }
    }
  }
  return violations;
}
