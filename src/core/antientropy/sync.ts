/**
 * The last step of an exchange: the states of the differing keys travel and are merged.
 *
 * A key only one side holds goes whole (its state; `null` from the side that lacks it, which the
 * other answers with its state as stored). A key BOTH hold, with different hashes, first goes as
 * a digest: the initiator's state with every value left out (dots, context, tombstones kept). The
 * peer joins it into its own state; when every version of the join is one the peer already holds
 * (the common case: the peer is newer, or they differ only in context), it needs none of the
 * initiator's values and answers with its merged state, so a stale key costs its digest and one
 * state, not two states. Otherwise it names the key in `want` and the initiator sends the whole
 * state in a second `ae-sync` (one more round trip, only for concurrent or initiator-newer keys).
 * See docs/antientropy.md, "Exchange".
 */
import type { KeyState, Version } from '../clock/state.js';
import { decodeState, encodeState, isEmptyState, statesEqual, syncStates } from '../clock/state.js';
import { contextsEqual } from '../clock/context.js';
import type { SyncEntry } from './messages.js';

const NO_BYTES = new Uint8Array(0);

export interface SyncEnv {
  /** This node's encoded state of `key` (`null`: none). */
  read(key: string): Uint8Array | null;
  /** Joins `state` (encoded as `bytes`) into this node's state of `key`. */
  merge(key: string, state: KeyState, bytes: Uint8Array): { state: KeyState; changed: boolean };
  inPartition(key: string): boolean;
  /** A key's state changed here (the node's counter). */
  noteRepaired(): void;
}

/** `state` with every value left out: what the peer needs to tell which side is newer. */
export function digestOf(state: KeyState): Uint8Array {
  return encodeState({ context: state.context, siblings: state.siblings.map((v) => (v.value === null ? v : { ...v, value: NO_BYTES })) });
}

const dotKey = (v: Version): string => `${v.dot.counter}@${v.dot.node}`;

/** Equal versions and context, values not compared (a dot names one version's value). */
function sameVersions(a: KeyState, b: KeyState): boolean {
  if (!contextsEqual(a.context, b.context) || a.siblings.length !== b.siblings.length) return false;
  return a.siblings.every((v, i) => {
    const w = b.siblings[i]!;
    return v.dot.node === w.dot.node && v.dot.counter === w.dot.counter && v.tsMs === w.tsMs
      && v.contentType === w.contentType && (v.value === null) === (w.value === null);
  });
}

function decoded(bytes: Uint8Array): KeyState | undefined {
  try {
    return decodeState(bytes);
  } catch {
    return undefined; // an undecodable state is never merged
  }
}

function merge(env: SyncEnv, key: string, incoming: KeyState, bytes: Uint8Array): { state: KeyState; changed: boolean } {
  const r = env.merge(key, incoming, bytes);
  if (r.changed) env.noteRepaired();
  return r;
}

interface Answer { back: SyncEntry[]; want: string[]; repaired: number }

/** A digest from the initiator: merge it if our values are all the join needs, else want the state. */
function answerDigest(env: SyncEnv, key: string, digest: Uint8Array, out: Answer): void {
  const d = decoded(digest);
  if (!d) return;
  const raw = env.read(key);
  const local = raw === null ? undefined : decoded(raw);
  if (!local || isEmptyState(local)) {
    out.want.push(key);
    return;
  }
  const joined = syncStates(local, d);
  const mine = new Map(local.siblings.map((v) => [dotKey(v), v]));
  if (joined.siblings.some((v) => !mine.has(dotKey(v)))) {
    out.want.push(key); // a version only the initiator holds: its value must come
    return;
  }
  // Every version of the join is ours: take our copies (with their values).
  const merged: KeyState = { context: joined.context, siblings: joined.siblings.map((v) => mine.get(dotKey(v))!) };
  let bytes = raw!;
  if (!statesEqual(merged, local)) {
    bytes = encodeState(merged);
    if (merge(env, key, merged, bytes).changed) out.repaired++;
  }
  if (!sameVersions(merged, d)) out.back.push({ key, state: bytes });
}

/** The peer's side: merges what the initiator pushed; returns what goes back. */
export function answerSyncEntries(env: SyncEnv, entries: readonly SyncEntry[]): Answer {
  const out: Answer = { back: [], want: [], repaired: 0 };
  for (const e of entries) {
    if (!env.inPartition(e.key)) continue;
    if (e.state === null && e.digest !== undefined) {
      answerDigest(env, e.key, e.digest, out);
      continue;
    }
    if (e.state === null) {
      // The initiator holds nothing: ours goes back as stored (no decode, no re-encode).
      const mine = env.read(e.key);
      if (mine !== null) out.back.push({ key: e.key, state: mine });
      continue;
    }
    const incoming = decoded(e.state);
    if (!incoming) continue;
    const r = merge(env, e.key, incoming, e.state);
    if (r.changed) out.repaired++;
    if (!isEmptyState(r.state) && !statesEqual(r.state, incoming)) out.back.push({ key: e.key, state: encodeState(r.state) });
  }
  return out;
}

/** The initiator's side: merges the peer's states; returns how many changed this node's. */
export function applySyncEntries(env: SyncEnv, entries: readonly SyncEntry[]): number {
  let changed = 0;
  for (const e of entries) {
    if (e.state === null || !env.inPartition(e.key)) continue;
    const incoming = decoded(e.state);
    if (incoming && merge(env, e.key, incoming, e.state).changed) changed++;
  }
  return changed;
}
