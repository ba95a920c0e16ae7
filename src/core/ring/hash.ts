/**
 * Key hashing and the partition grid.
 *
 * ON-DISK FORMAT — DO NOT CHANGE. `keyHash` decides which partition (and so which nodes, which
 * Merkle tree, which handoff stream) every stored key belongs to. It is MurmurHash3 x86 32-bit
 * (Austin Appleby's `MurmurHash3_x86_32`), seed 0, over the key's raw bytes, read as
 * little-endian 32-bit blocks, returned as an unsigned 32-bit integer. Changing the function, the
 * seed or the byte order would silently re-home every key of every existing cluster; the test
 * vectors in test/core/ring/hash.test.ts pin it.
 *
 * Partitions are contiguous ranges of the 32-bit hash space: partition p of Q holds the hashes
 * whose top log2(Q) bits equal p, i.e. [p * 2^32/Q, (p+1) * 2^32/Q).
 */

import { CORE_LIMITS } from '../constants.js';

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** MurmurHash3 x86 32-bit, seed 0, as an unsigned 32-bit integer. See the file comment. */
export function keyHash(key: Uint8Array): number {
  return murmur3x86_32(key, 0);
}

/** MurmurHash3 x86 32-bit with an explicit seed (exported for tests and the benchmark). */
export function murmur3x86_32(key: Uint8Array, seed: number): number {
  const len = key.length;
  const blocksEnd = len & ~3;
  let h = seed | 0;
  let i = 0;
  // Byte-by-byte reads with shifts: faster in V8 than allocating a DataView per call, and
  // independent of the host's endianness.
  for (; i < blocksEnd; i += 4) {
    let k = key[i]! | (key[i + 1]! << 8) | (key[i + 2]! << 16) | (key[i + 3]! << 24);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = len & 3;
  if (tail !== 0) {
    let k = 0;
    if (tail === 3) k ^= key[i + 2]! << 16;
    if (tail >= 2) k ^= key[i + 1]! << 8;
    k ^= key[i]!;
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Largest partition count accepted: keeps per-partition tables reasonable. */
export const PARTITION_COUNT_MAX = CORE_LIMITS.partitionCountMax;

export function isValidPartitionCount(q: number): boolean {
  return Number.isInteger(q) && q >= 1 && q <= PARTITION_COUNT_MAX && (q & (q - 1)) === 0;
}

/** log2 of a power of two (the caller has validated it). */
export function log2PartitionCount(q: number): number {
  return 31 - Math.clz32(q);
}

/** The partition a 32-bit hash falls in: its top log2(Q) bits. Q must be a power of two. */
export function partitionOf(hash: number, partitionCount: number): number {
  if (!isValidPartitionCount(partitionCount)) throw new RangeError(`partitionCount must be a power of two in [1, ${PARTITION_COUNT_MAX}], got ${partitionCount}`);
  const bits = log2PartitionCount(partitionCount);
  // `>>> 32` is `>>> 0` in JavaScript, so Q = 1 needs its own branch.
  return bits === 0 ? 0 : (hash >>> 0) >>> (32 - bits);
}

export interface PartitionRange {
  /** First hash in the partition. */
  readonly start: number;
  /** One past the last hash; 2^32 for the last partition. */
  readonly endExclusive: number;
}

export function partitionRange(partition: number, partitionCount: number): PartitionRange {
  if (!isValidPartitionCount(partitionCount)) throw new RangeError(`partitionCount must be a power of two in [1, ${PARTITION_COUNT_MAX}], got ${partitionCount}`);
  if (!Number.isInteger(partition) || partition < 0 || partition >= partitionCount) {
    throw new RangeError(`partition ${partition} out of range [0, ${partitionCount})`);
  }
  const size = 2 ** 32 / partitionCount;
  return { start: partition * size, endExclusive: (partition + 1) * size };
}
