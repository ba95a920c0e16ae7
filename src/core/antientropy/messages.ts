/**
 * The anti-entropy protocol's messages. The node that drives an exchange (the initiator) asks its
 * peer for the hashes of tree nodes level by level, only below nodes that differ (`ae-hashes`);
 * at the leaves it asks for the peer's per-key hashes of the differing leaves (`ae-keys`); then it
 * pushes its states of the differing keys (`ae-sync`, a key it lacks goes as `null`) and the peer
 * answers, after merging them, with its merged states wherever they differ from what it was sent
 * (`ae-sync-reply`) — push-pull in one round trip. A peer that cannot answer yet (rebuilding its
 * trees, or not a replica of the partition) says `busy`.
 */
import { ANTIENTROPY_LIMITS } from './constants.js';

export interface SyncEntry {
  readonly key: string;
  /** The sender's encoded state of the key; `null` when it holds nothing (or sends `digest`). */
  readonly state: Uint8Array | null;
  /**
   * With `state: null`, from an initiator that holds the key, as does the peer: its state with the
   * values left out (sync.ts). The peer answers with its merged state, or names the key in `want`.
   */
  readonly digest?: Uint8Array;
}

export type AntiEntropyMessage =
  /**
   * The hashes at `level` of the children of the nodes `indices` (at level − 1); level 0 asks for
   * the root. Two shortcuts save a round trip each (docs/antientropy.md, "Bytes"):
   * - `root` (level 0): the asker's root. When it differs, the peer answers with the level-1
   *   hashes at once (`level: 1` in the reply) instead of its root.
   * - `mine` (at the leaf level): the asker's hashes of those children. The peer compares them
   *   itself and answers with an `ae-keys-reply` for the leaves that differ (`differing`).
   */
  | {
    readonly type: 'ae-hashes'; readonly id: number; readonly partition: number; readonly level: number; readonly indices: readonly number[];
    readonly root?: number; readonly mine?: readonly number[];
  }
  | { readonly type: 'ae-hashes-reply'; readonly id: number; readonly busy: boolean; readonly hashes: readonly number[]; readonly level?: number }
  | { readonly type: 'ae-keys'; readonly id: number; readonly partition: number; readonly leaves: readonly number[] }
  | {
    readonly type: 'ae-keys-reply'; readonly id: number; readonly busy: boolean;
    /** The leaves whose keys are all listed (a prefix of those asked: the rest did not fit). */
    readonly leaves: readonly number[];
    readonly keys: readonly string[];
    readonly hashes: readonly number[];
    /** In answer to `ae-hashes` with `mine`: every leaf that differs (`leaves` is a prefix of it). */
    readonly differing?: readonly number[];
  }
  | { readonly type: 'ae-sync'; readonly id: number; readonly partition: number; readonly entries: readonly SyncEntry[] }
  | {
    readonly type: 'ae-sync-reply'; readonly id: number; readonly busy: boolean; readonly entries: readonly SyncEntry[];
    /** Keys whose state at the peer the pushed states changed. */
    readonly repaired: number;
    /** Keys sent as a digest whose whole state the peer needs (a version only the initiator holds). */
    readonly want?: readonly string[];
  };

export type AntiEntropyMessageType = AntiEntropyMessage['type'];

type Obj = Record<string, unknown>;

const isId = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isIndex = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 2 ** 32;
const isHash = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 2 ** 52;
const listOf = (v: unknown, max: number, ok: (x: unknown) => boolean): boolean => Array.isArray(v) && v.length <= max && v.every(ok);
const isEntry = (v: unknown): boolean => typeof v === 'object' && v !== null && typeof (v as Obj)['key'] === 'string'
  && ((v as Obj)['state'] === null || (v as Obj)['state'] instanceof Uint8Array)
  && ((v as Obj)['digest'] === undefined || (v as Obj)['digest'] instanceof Uint8Array);
const L = ANTIENTROPY_LIMITS;

export const ANTIENTROPY_VALIDATORS: { readonly [K in AntiEntropyMessageType]: (m: Obj) => boolean } = {
  'ae-hashes': (m) => isId(m['id']) && isIndex(m['partition']) && isIndex(m['level']) && listOf(m['indices'], L.hashesPerMessageMax, isIndex)
    && (m['root'] === undefined || isHash(m['root'])) && (m['mine'] === undefined || listOf(m['mine'], L.hashesPerMessageMax, isHash)),
  'ae-hashes-reply': (m) => isId(m['id']) && typeof m['busy'] === 'boolean' && listOf(m['hashes'], L.hashesPerMessageMax, isHash)
    && (m['level'] === undefined || isIndex(m['level'])),
  'ae-keys': (m) => isId(m['id']) && isIndex(m['partition']) && listOf(m['leaves'], L.hashesPerMessageMax, isIndex),
  'ae-keys-reply': (m) => isId(m['id']) && typeof m['busy'] === 'boolean' && listOf(m['leaves'], L.hashesPerMessageMax, isIndex)
    && listOf(m['keys'], Number.MAX_SAFE_INTEGER, (k) => typeof k === 'string') && listOf(m['hashes'], Number.MAX_SAFE_INTEGER, isHash)
    && (m['keys'] as unknown[]).length === (m['hashes'] as unknown[]).length
    && (m['differing'] === undefined || listOf(m['differing'], L.hashesPerMessageMax, isIndex)),
  'ae-sync': (m) => isId(m['id']) && isIndex(m['partition']) && listOf(m['entries'], L.keysPerMessageMax, isEntry),
  'ae-sync-reply': (m) => isId(m['id']) && typeof m['busy'] === 'boolean' && listOf(m['entries'], L.keysPerMessageMax, isEntry) && isId(m['repaired'])
    && (m['want'] === undefined || listOf(m['want'], L.keysPerMessageMax, (k) => typeof k === 'string')),
};

/** About how many bytes `msg` takes on the wire (for the rate limit and the bytes-sent metric). */
export function approxBytes(msg: AntiEntropyMessage): number {
  let n = 32;
  switch (msg.type) {
    case 'ae-hashes': return n + 5 * msg.indices.length + 9 * ((msg.mine?.length ?? 0) + (msg.root === undefined ? 0 : 1));
    case 'ae-hashes-reply': return n + 9 * msg.hashes.length;
    case 'ae-keys': return n + 5 * msg.leaves.length;
    case 'ae-keys-reply':
      n += 5 * (msg.leaves.length + (msg.differing?.length ?? 0)) + 9 * msg.hashes.length;
      for (const k of msg.keys) n += k.length + 2;
      return n;
    case 'ae-sync':
    case 'ae-sync-reply':
      for (const e of msg.entries) n += e.key.length + 4 + (e.state?.length ?? 1) + (e.digest ? e.digest.length + 8 : 0);
      if (msg.type === 'ae-sync-reply') for (const k of msg.want ?? []) n += k.length + 2;
      return n;
  }
}
