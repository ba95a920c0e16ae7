/**
 * How the core lays keys out in the storage engine: one keyspace per kind of durable state, told
 * apart by the first byte of the storage key.
 *
 * - `meta` (`0x00 | name`): node-local cluster metadata (the ring's members and settings).
 * - `data` (`0x01 | keyHash (4 bytes, big-endian) | key (UTF-8)`): key states. The keys of one
 *   ring partition — a contiguous range of the hash — form one contiguous range of storage keys,
 *   which handoff, streaming and Merkle trees scan.
 * - `hint` (`0x02 | target | seq`): hinted handoff's records, writes held for another node
 *   (src/core/handoff/records.ts).
 *
 * Every write the core asks for names its keyspace (`StorageWrite.space`), and the builders below
 * are the only way to make one, so a write's keyspace always matches its key's first byte.
 */
import { fromUtf8, utf8 } from './bytes.js';
import { keyHash } from './ring/index.js';
import { assert } from './errors.js';
import type { StoreReader } from './types.js';

export const META_PREFIX = 0x00;
export const DATA_PREFIX = 0x01;
export const HINT_PREFIX = 0x02;

/** The kinds of durable state; each has a keyspace of its own. */
export type Keyspace = 'meta' | 'data' | 'hint';

const PREFIX_OF: { readonly [K in Keyspace]: number } = { meta: META_PREFIX, data: DATA_PREFIX, hint: HINT_PREFIX };

/** One durable write, typed by keyspace. `value: null` deletes. */
export interface StorageWrite {
  readonly space: Keyspace;
  readonly key: Uint8Array;
  readonly value: Uint8Array | null;
}

/** The keyspace a storage key belongs to, or `undefined` for a key no keyspace owns. */
export function keyspaceOf(key: Uint8Array): Keyspace | undefined {
  switch (key[0]) {
    case META_PREFIX: return 'meta';
    case DATA_PREFIX: return 'data';
    case HINT_PREFIX: return 'hint';
    default: return undefined;
  }
}

/** A write of `value` under `key` in `space`; the key must belong to that keyspace. */
export function storageWrite(space: Keyspace, key: Uint8Array, value: Uint8Array | null): StorageWrite {
  assert(key[0] === PREFIX_OF[space], () => `a ${space} write to a key with prefix ${key[0]}`);
  return { space, key, value };
}

export function dataKey(key: string): Uint8Array {
  const k = utf8(key);
  return dataKeyFromBytes(k, keyHash(k));
}

export function dataKeyFromBytes(k: Uint8Array, hash: number): Uint8Array {
  const out = new Uint8Array(5 + k.length);
  out[0] = DATA_PREFIX;
  out[1] = hash >>> 24;
  out[2] = (hash >>> 16) & 0xff;
  out[3] = (hash >>> 8) & 0xff;
  out[4] = hash & 0xff;
  out.set(k, 5);
  return out;
}

/** The storage-key range [gte, lt) holding the hashes [start, endExclusive). */
export function dataRange(start: number, endExclusive: number): { gte: Uint8Array; lt: Uint8Array } {
  const enc = (h: number): Uint8Array =>
    new Uint8Array([DATA_PREFIX, h >>> 24, (h >>> 16) & 0xff, (h >>> 8) & 0xff, h & 0xff]);
  return {
    gte: enc(start),
    lt: endExclusive >= 2 ** 32 ? new Uint8Array([DATA_PREFIX + 1]) : enc(endExclusive),
  };
}

export function metaKey(name: string): Uint8Array {
  const k = utf8(name);
  const out = new Uint8Array(1 + k.length);
  out[0] = META_PREFIX;
  out.set(k, 1);
  return out;
}

/** Bytes before the key's own bytes in a data storage key (`0x01 | ring hash (4 bytes) | key`). */
export const DATA_KEY_OFFSET = 5;

/**
 * The names of the data keys stored in [gte, lt) of ring hashes, read from `reader` page by page
 * (anti-entropy's trees keep no key names; a leaf is such a range).
 */
export function* dataKeysIn(reader: Pick<StoreReader, 'scanPage'>, gte: number, lt: number): Generator<string> {
  const range = dataRange(gte, lt);
  let after: Uint8Array | undefined;
  do {
    const page = reader.scanPage({ ...range, ...(after ? { after } : {}), countMax: 1024, bytesMax: 1024 * 1024 });
    for (const [k] of page.entries) yield fromUtf8(k.subarray(DATA_KEY_OFFSET));
    after = page.resumeAfter;
  } while (after);
}
