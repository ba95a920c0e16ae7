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
 * Each key's own hash is kept too, so differing leaves are reconciled key by key (as ScyllaDB's
 * row-level repair does): a scattered difference costs the keys of its leaf's hash list, never a
 * whole leaf's data. The per-key hashes live in one open-addressing table per partition of typed
 * arrays, 16 bytes a slot — the key's ring hash and a second 32-bit hash of it (together its
 * identity: two keys of one node share both with odds of about n²/2^65), and its state hash —
 * not in a map of strings: no key is held in memory, and the garbage collector has nothing to
 * walk (a `Map<string, number>` per leaf cost ~200 bytes a key and slowed a node under a long
 * write load, issue 16). A leaf's key *names* come from the store when an exchange asks for them
 * (`KeysIn`: a leaf is a contiguous range of ring hashes, and data keys are stored in ring-hash
 * order).
 */
import { utf8 } from '../bytes.js';
import { keyHash, log2PartitionCount, murmur3x86_32 } from '../ring/hash.js';
import { ANTIENTROPY_LIMITS } from './constants.js';

const MOD = 2 ** 52;
const SEED_A = 0x9747b28c;
const SEED_B = 0x5bd1e995;

/** The 52-bit digest of a key's encoded state (the key is part of it). */
export function stateHash(keyBytes: Uint8Array, state: Uint8Array, id = keyIdHash(keyBytes)): number {
  return murmur3Pair(state, id, murmur3x86_32(keyBytes, SEED_B));
}

/** The second 32-bit hash of a key that, with its ring hash, names it in a tree's table. */
export function keyIdHash(keyBytes: Uint8Array): number {
  return murmur3x86_32(keyBytes, SEED_A);
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

/**
 * The names of the keys this node stores whose ring hash is in [gte, lt) (`lt` may be 2^32), in
 * any order; keys without a state in the tree are skipped by the caller.
 */
export type KeysIn = (gte: number, lt: number) => Iterable<string>;

const EMPTY_SLOT = -1;

/**
 * Per-key state hashes of one partition: open addressing with linear probing over typed arrays,
 * deletion by backward shift (no tombstone slots), doubled past 3/4 full.
 */
export class KeyHashTable {
  private rings: Uint32Array;
  private ids: Uint32Array;
  private hashes: Float64Array;
  private mask: number;
  size = 0;

  constructor(capacity = 16) {
    const cap = 1 << Math.max(4, Math.ceil(Math.log2(capacity)));
    this.rings = new Uint32Array(cap);
    this.ids = new Uint32Array(cap);
    this.hashes = new Float64Array(cap).fill(EMPTY_SLOT);
    this.mask = cap - 1;
  }

  get capacity(): number {
    return this.mask + 1;
  }

  private home(ring: number, id: number): number {
    return (Math.imul(ring ^ id, 0x9e3779b1) >>> 0) & this.mask;
  }

  private slotOf(ring: number, id: number): number {
    for (let i = this.home(ring, id); ; i = (i + 1) & this.mask) {
      if (this.hashes[i] === EMPTY_SLOT) return -1;
      if (this.rings[i] === ring && this.ids[i] === id) return i;
    }
  }

  get(ring: number, id: number): number | undefined {
    const i = this.slotOf(ring >>> 0, id >>> 0);
    return i < 0 ? undefined : this.hashes[i];
  }

  /** Sets the hash (`undefined` removes the key); returns the previous one. */
  set(ring: number, id: number, hash: number | undefined): number | undefined {
    ring >>>= 0;
    id >>>= 0;
    if (hash === undefined) return this.remove(ring, id);
    let i = this.home(ring, id);
    for (; this.hashes[i] !== EMPTY_SLOT; i = (i + 1) & this.mask) {
      if (this.rings[i] === ring && this.ids[i] === id) {
        const old = this.hashes[i];
        this.hashes[i] = hash;
        return old;
      }
    }
    this.rings[i] = ring;
    this.ids[i] = id;
    this.hashes[i] = hash;
    this.size++;
    if (this.size * 4 > this.capacity * 3) this.grow();
    return undefined;
  }

  private remove(ring: number, id: number): number | undefined {
    let i = this.slotOf(ring, id);
    if (i < 0) return undefined;
    const old = this.hashes[i];
    // Backward shift: pull later entries of the probe run into the hole when their home allows.
    for (let j = (i + 1) & this.mask; this.hashes[j] !== EMPTY_SLOT; j = (j + 1) & this.mask) {
      const h = this.home(this.rings[j]!, this.ids[j]!);
      // Entry j may move to i if its home is not cyclically within (i, j].
      if ((j > i && (h <= i || h > j)) || (j < i && h <= i && h > j)) {
        this.rings[i] = this.rings[j]!;
        this.ids[i] = this.ids[j]!;
        this.hashes[i] = this.hashes[j]!;
        i = j;
      }
    }
    this.hashes[i] = EMPTY_SLOT;
    this.size--;
    return old;
  }

  private grow(): void {
    const { rings, ids, hashes } = this;
    const cap = this.capacity * 2;
    this.rings = new Uint32Array(cap);
    this.ids = new Uint32Array(cap);
    this.hashes = new Float64Array(cap).fill(EMPTY_SLOT);
    this.mask = cap - 1;
    this.size = 0;
    for (let i = 0; i < hashes.length; i++) if (hashes[i] !== EMPTY_SLOT) this.set(rings[i]!, ids[i]!, hashes[i]!);
  }

  /** Bytes held by the table's arrays. */
  get bytes(): number {
    return this.capacity * 16;
  }
}

/** One partition's tree: the leaves' sums, and each key's hash in a table. */
export class PartitionTree {
  readonly leafBits: number;
  readonly depth: number;
  private readonly leafSums: Float64Array;
  private readonly table = new KeyHashTable();
  private total = 0;

  constructor(private readonly partitionBits: number, leafBits: number, private readonly partition = 0, private readonly keysIn?: KeysIn) {
    this.leafBits = leafBits;
    this.depth = leafBits / ANTIENTROPY_LIMITS.fanoutBits;
    this.leafSums = new Float64Array(1 << leafBits);
  }

  get root(): number {
    return this.total;
  }

  get size(): number {
    return this.table.size;
  }

  /** Bytes of memory the tree holds (sums and table). */
  get bytes(): number {
    return this.leafSums.byteLength + this.table.bytes;
  }

  leafOf(ringHash: number): number {
    const shifted = this.partitionBits === 0 ? ringHash >>> 0 : (ringHash << this.partitionBits) >>> 0;
    return shifted >>> (32 - this.leafBits);
  }

  /** Sets the hash of the key named by (`ringHash`, `id`: `keyIdHash`); `undefined` removes it. Returns whether anything changed. */
  set(ringHash: number, id: number, hash: number | undefined): boolean {
    const old = this.table.get(ringHash, id);
    if (old === hash) return false;
    this.table.set(ringHash, id, hash);
    const leaf = this.leafOf(ringHash);
    let sum = this.leafSums[leaf]!;
    if (old !== undefined) {
      sum = subHash(sum, old);
      this.total = subHash(this.total, old);
    }
    if (hash !== undefined) {
      sum = addHash(sum, hash);
      this.total = addHash(this.total, hash);
    }
    this.leafSums[leaf] = sum;
    return true;
  }

  hashOf(key: string, ringHash: number): number | undefined {
    return this.table.get(ringHash, keyIdHash(utf8(key)));
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

  /** The ring hashes [gte, lt) of `leaf`. */
  leafRange(leaf: number): { gte: number; lt: number } {
    const width = 2 ** (32 - this.partitionBits - this.leafBits);
    const gte = this.partition * 2 ** (32 - this.partitionBits) + leaf * width;
    return { gte, lt: gte + width };
  }

  /**
   * The keys of `leaf` with their hashes: the names from the store (`KeysIn`), the hashes from the
   * table — a name without a hash here (a key whose state is gone) is left out.
   */
  leafEntries(leaf: number): ReadonlyMap<string, number> {
    if (this.size === 0 || !this.keysIn) return EMPTY;
    const out = new Map<string, number>();
    const { gte, lt } = this.leafRange(leaf);
    for (const key of this.keysIn(gte, lt)) {
      const bytes = utf8(key);
      const h = this.table.get(keyHash(bytes), keyIdHash(bytes));
      if (h !== undefined) out.set(key, h);
    }
    return out;
  }
}

const EMPTY: ReadonlyMap<string, number> = new Map();

/** The trees of every partition this node holds keys of (created on first use). */
export class Forest {
  readonly partitionBits: number;
  readonly leafBits: number;
  private readonly trees = new Map<number, PartitionTree>();

  constructor(readonly partitionCount: number, private readonly keysIn?: KeysIn) {
    this.partitionBits = log2PartitionCount(partitionCount);
    this.leafBits = leafBitsFor(partitionCount);
  }

  partitionOf(ringHash: number): number {
    return this.partitionBits === 0 ? 0 : (ringHash >>> 0) >>> (32 - this.partitionBits);
  }

  tree(partition: number): PartitionTree {
    let t = this.trees.get(partition);
    if (!t) {
      t = new PartitionTree(this.partitionBits, this.leafBits, partition, this.keysIn);
      this.trees.set(partition, t);
    }
    return t;
  }

  peek(partition: number): PartitionTree | undefined {
    return this.trees.get(partition);
  }

  /** Records `key`'s encoded state (`null`: the key is gone); returns whether its hash changed. */
  update(key: string, ringHash: number, state: Uint8Array | null): boolean {
    const bytes = utf8(key);
    const id = keyIdHash(bytes);
    const hash = state === null ? undefined : stateHash(bytes, state, id);
    return this.tree(this.partitionOf(ringHash)).set(ringHash, id, hash);
  }

  /** Bytes of memory all trees hold. */
  bytes(): number {
    let n = 0;
    for (const t of this.trees.values()) n += t.bytes;
    return n;
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
