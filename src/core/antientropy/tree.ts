/**
 * Merkle trees of one node's key states, one per ring partition.
 *
 * A key's hash is a 52-bit digest of the key and its encoded state (`encodeState` is
 * canonical: equal states, equal bytes). Keys fall into leaves by the bits of their ring hash just
 * below the partition bits, so a leaf is a contiguous hash range. A leaf's hash is the SUM (mod
 * 2^52) of its keys' hashes, and an inner node's is the sum of its children's, i.e. of every key
 * below it. A sum (like XOR) is order-independent and updatable in O(1) per write: subtract the
 * old hash, add the new. Unlike XOR it does not cancel two equal terms, so two keys whose hashes
 * happen to be equal do not vanish from their leaf. Any inner node is a range sum over the leaves,
 * so only the leaves are stored; inner hashes are computed on demand (at most 2^16 additions).
 *
 * Each leaf keeps its keys' own hashes, so differing leaves are reconciled key by key (as
 * ScyllaDB's row-level repair does): a scattered difference costs the keys of its leaf's hash
 * list, never a whole leaf's data.
 */
import { utf8 } from '../bytes.js';
import { murmur3x86_32 } from '../ring/hash.js';
import { log2PartitionCount } from '../ring/hash.js';
import { ANTIENTROPY_LIMITS } from './constants.js';

const MOD = 2 ** 52;
const SEED_A = 0x9747b28c;
const SEED_B = 0x5bd1e995;

/** The 52-bit digest of a key's encoded state (the key is part of it). */
export function stateHash(keyBytes: Uint8Array, state: Uint8Array): number {
  return murmur3Pair(state, murmur3x86_32(keyBytes, SEED_A), murmur3x86_32(keyBytes, SEED_B));
}

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function fmix(h: number, len: number): number {
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * MurmurHash3-32 of `data` under two seeds in one pass, combined into 52 bits:
 * `(murmur3(data, seedA) & 0xfffff) * 2^32 + murmur3(data, seedB)`. A block's mixing does not
 * depend on the seed, so each 4-byte block is read and mixed once for both lanes: about half the
 * work of two separate runs, and bit for bit the same result (tree.test.ts checks it).
 */
export function murmur3Pair(data: Uint8Array, seedA: number, seedB: number): number {
  const len = data.length;
  const blocksEnd = len & ~3;
  let a = seedA | 0;
  let b = seedB | 0;
  let i = 0;
  for (; i < blocksEnd; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    a ^= k;
    a = (a << 13) | (a >>> 19);
    a = (Math.imul(a, 5) + 0xe6546b64) | 0;
    b ^= k;
    b = (b << 13) | (b >>> 19);
    b = (Math.imul(b, 5) + 0xe6546b64) | 0;
  }
  const tail = len & 3;
  if (tail !== 0) {
    let k = 0;
    if (tail === 3) k ^= data[i + 2]! << 16;
    if (tail >= 2) k ^= data[i + 1]! << 8;
    k ^= data[i]!;
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    a ^= k;
    b ^= k;
  }
  return (fmix(a, len) & 0xfffff) * 2 ** 32 + fmix(b, len);
}

export function addHash(a: number, b: number): number {
  return (a + b) % MOD;
}

export function subHash(a: number, b: number): number {
  return (a - b + MOD) % MOD;
}

/** Leaves per partition, as bits: about 2^totalLeafBits in all, a whole number of levels. */
export function leafBitsFor(partitionCount: number): number {
  const { fanoutBits, totalLeafBits, leafBitsMax } = ANTIENTROPY_LIMITS;
  const want = Math.max(fanoutBits, totalLeafBits - log2PartitionCount(partitionCount));
  const capped = Math.min(leafBitsMax, want, 32 - log2PartitionCount(partitionCount));
  return Math.max(fanoutBits, Math.floor(capped / fanoutBits) * fanoutBits);
}

/** One partition's tree: the leaves' sums and each leaf's keys with their hashes. */
export class PartitionTree {
  readonly leafBits: number;
  readonly depth: number;
  private readonly leafSums: Float64Array;
  private readonly leafKeys = new Map<number, Map<string, number>>();
  private total = 0;
  private keys = 0;

  constructor(private readonly partitionBits: number, leafBits: number) {
    this.leafBits = leafBits;
    this.depth = leafBits / ANTIENTROPY_LIMITS.fanoutBits;
    this.leafSums = new Float64Array(1 << leafBits);
  }

  get root(): number {
    return this.total;
  }

  get size(): number {
    return this.keys;
  }

  leafOf(ringHash: number): number {
    const shifted = this.partitionBits === 0 ? ringHash >>> 0 : (ringHash << this.partitionBits) >>> 0;
    return shifted >>> (32 - this.leafBits);
  }

  /** Sets `key`'s hash (`undefined` removes it); returns whether anything changed. */
  set(key: string, ringHash: number, hash: number | undefined): boolean {
    const leaf = this.leafOf(ringHash);
    let m = this.leafKeys.get(leaf);
    const old = m?.get(key);
    if (old === hash) return false;
    let sum = this.leafSums[leaf]!;
    if (old !== undefined) {
      sum = subHash(sum, old);
      this.total = subHash(this.total, old);
      m!.delete(key);
      this.keys--;
    }
    if (hash !== undefined) {
      if (!m) {
        m = new Map();
        this.leafKeys.set(leaf, m);
      }
      m.set(key, hash);
      sum = addHash(sum, hash);
      this.total = addHash(this.total, hash);
      this.keys++;
    } else if (m && m.size === 0) {
      this.leafKeys.delete(leaf);
    }
    this.leafSums[leaf] = sum;
    return true;
  }

  hashOf(key: string, ringHash: number): number | undefined {
    return this.leafKeys.get(this.leafOf(ringHash))?.get(key);
  }

  /** The hash of node `index` at `level` (0 = the root, `depth` = the leaves). */
  nodeHash(level: number, index: number): number {
    if (level === 0) return this.total;
    const span = 1 << ((this.depth - level) * ANTIENTROPY_LIMITS.fanoutBits);
    let sum = 0;
    for (let i = index * span; i < (index + 1) * span; i++) sum = addHash(sum, this.leafSums[i]!);
    return sum;
  }

  /** The indices of the children of `index` at `level` (on level + 1). */
  children(index: number): number[] {
    const f = 1 << ANTIENTROPY_LIMITS.fanoutBits;
    return Array.from({ length: f }, (_, i) => index * f + i);
  }

  /** The keys of `leaf` with their hashes. */
  leafEntries(leaf: number): ReadonlyMap<string, number> {
    return this.leafKeys.get(leaf) ?? EMPTY;
  }

  /** Every key of the tree (for the tombstone sweep). */
  *allKeys(): IterableIterator<string> {
    for (const m of this.leafKeys.values()) yield* m.keys();
  }
}

const EMPTY: ReadonlyMap<string, number> = new Map();

/** The trees of every partition this node holds keys of (created on first use). */
export class Forest {
  readonly partitionBits: number;
  readonly leafBits: number;
  private readonly trees = new Map<number, PartitionTree>();

  constructor(readonly partitionCount: number) {
    this.partitionBits = log2PartitionCount(partitionCount);
    this.leafBits = leafBitsFor(partitionCount);
  }

  partitionOf(ringHash: number): number {
    return this.partitionBits === 0 ? 0 : (ringHash >>> 0) >>> (32 - this.partitionBits);
  }

  tree(partition: number): PartitionTree {
    let t = this.trees.get(partition);
    if (!t) {
      t = new PartitionTree(this.partitionBits, this.leafBits);
      this.trees.set(partition, t);
    }
    return t;
  }

  peek(partition: number): PartitionTree | undefined {
    return this.trees.get(partition);
  }

  /** Records `key`'s encoded state (`null`: the key is gone); returns whether its hash changed. */
  update(key: string, ringHash: number, state: Uint8Array | null): boolean {
    const hash = state === null ? undefined : stateHash(utf8(key), state);
    return this.tree(this.partitionOf(ringHash)).set(key, ringHash, hash);
  }

  root(partition: number): number {
    return this.trees.get(partition)?.root ?? 0;
  }

  keyCount(): number {
    let n = 0;
    for (const t of this.trees.values()) n += t.size;
    return n;
  }
}
