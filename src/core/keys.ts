/**
 * How the core lays keys out in the storage engine. Data keys are
 * `0x01 | keyHash (4 bytes, big-endian) | key (UTF-8)`, so the keys of one ring partition — a
 * contiguous range of the hash — form one contiguous range of storage keys, which handoff,
 * streaming and Merkle trees scan. Node-local metadata lives under `0x00`.
 */
import { utf8 } from './bytes.js';
import { keyHash } from './ring/index.js';

export const DATA_PREFIX = 0x01;
export const META_PREFIX = 0x00;

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
