/**
 * Hint records in the `hint` keyspace. One record per hinted write:
 *
 *   key   = 0x02 | targetLen (1 byte) | target (UTF-8) | seq (8 bytes, big-endian)
 *   value = crc32 (4 bytes, of everything after it) | version 1 (1 byte) | tsMs (8 bytes, float64 BE)
 *           | keyLen (2 bytes) | key (UTF-8) | encoded key state
 *
 * Records of one target form one contiguous, seq-ordered range of storage keys, so a scan
 * returns them in the order they were accepted. A record is written once and deleted once
 * delivered (never updated in place): append-only, and checksummed on its own besides the
 * commit log's checksums, so a record damaged anywhere is recognised and dropped, never replayed.
 */
import { fromUtf8, utf8 } from '../bytes.js';
import { HINT_PREFIX } from '../keys.js';

const RECORD_VERSION = 1;
const HEADER_BYTES = 4 + 1 + 8 + 2;

/**
 * Slicing-by-8 tables: T[0] is the classic byte table; T[k][n] is the CRC of byte n followed by
 * k zero bytes, so eight input bytes are folded with eight lookups and no per-byte loop-carried
 * shift (about 4× the byte-at-a-time loop in V8, which showed in replay profiles).
 */
const CRC_TABLES = ((): Uint32Array => {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) {
      const prev = t[(k - 1) * 256 + n]!;
      t[k * 256 + n] = (t[prev & 0xff]! ^ (prev >>> 8)) >>> 0;
    }
  }
  return t;
})();

/** IEEE CRC-32 of `b` from `start` (the core is pure: no node:zlib). */
export function crc32(b: Uint8Array, start = 0): number {
  const T = CRC_TABLES;
  let c = 0xffffffff;
  let i = start;
  const end8 = start + ((b.length - start) & ~7);
  for (; i < end8; i += 8) {
    const lo = (c ^ (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24))) >>> 0;
    const hi = b[i + 4]! | (b[i + 5]! << 8) | (b[i + 6]! << 16) | (b[i + 7]! << 24);
    c = T[1792 + (lo & 0xff)]! ^ T[1536 + ((lo >>> 8) & 0xff)]! ^ T[1280 + ((lo >>> 16) & 0xff)]! ^ T[1024 + (lo >>> 24)]!
      ^ T[768 + (hi & 0xff)]! ^ T[512 + ((hi >>> 8) & 0xff)]! ^ T[256 + ((hi >>> 16) & 0xff)]! ^ T[(hi >>> 24) & 0xff]!;
  }
  for (; i < b.length; i++) c = T[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function hintKey(target: string, seq: number): Uint8Array {
  const t = utf8(target);
  const out = new Uint8Array(2 + t.length + 8);
  out[0] = HINT_PREFIX;
  out[1] = t.length;
  out.set(t, 2);
  const dv = new DataView(out.buffer, out.byteOffset + 2 + t.length, 8);
  dv.setUint32(0, Math.floor(seq / 2 ** 32));
  dv.setUint32(4, seq >>> 0);
  return out;
}

/** The first storage key of the hint keyspace and the first one past it (for a scan). */
export const HINT_RANGE = { gte: new Uint8Array([HINT_PREFIX]), lt: new Uint8Array([HINT_PREFIX + 1]) } as const;

export function parseHintKey(k: Uint8Array): { target: string; seq: number } | undefined {
  const seq = hintSeqOf(k);
  return seq === undefined ? undefined : { target: fromUtf8(k.subarray(2, 2 + k[1]!)), seq };
}

/**
 * The seq of a hint key, without decoding its target (replay reads keys of one target's range,
 * thousands a second); `undefined` when `k` is not a well-formed hint key.
 */
export function hintSeqOf(k: Uint8Array): number | undefined {
  if (k.length < 3 || k[0] !== HINT_PREFIX || k.length !== 2 + k[1]! + 8) return undefined;
  const at = 2 + k[1]!;
  const hi = ((k[at]! << 24) | (k[at + 1]! << 16) | (k[at + 2]! << 8) | k[at + 3]!) >>> 0;
  const lo = ((k[at + 4]! << 24) | (k[at + 5]! << 16) | (k[at + 6]! << 8) | k[at + 7]!) >>> 0;
  return hi * 2 ** 32 + lo;
}

export interface HintRecord {
  readonly key: string;
  readonly tsMs: number;
  readonly state: Uint8Array;
}

export function encodeHintRecord(r: HintRecord): Uint8Array {
  const k = utf8(r.key);
  const out = new Uint8Array(HEADER_BYTES + k.length + r.state.length);
  const dv = new DataView(out.buffer, out.byteOffset, out.length);
  dv.setUint8(4, RECORD_VERSION);
  dv.setFloat64(5, r.tsMs);
  dv.setUint16(13, k.length);
  out.set(k, HEADER_BYTES);
  out.set(r.state, HEADER_BYTES + k.length);
  dv.setUint32(0, crc32(out, 4));
  return out;
}

/** The record, or `undefined` when it is damaged (bad checksum, version or lengths). */
export function decodeHintRecord(b: Uint8Array): HintRecord | undefined {
  if (b.length < HEADER_BYTES) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  if (dv.getUint32(0) !== crc32(b, 4) || dv.getUint8(4) !== RECORD_VERSION) return undefined;
  const keyLen = dv.getUint16(13);
  if (HEADER_BYTES + keyLen > b.length) return undefined;
  const tsMs = dv.getFloat64(5);
  if (!Number.isFinite(tsMs)) return undefined;
  return {
    key: fromUtf8(b.subarray(HEADER_BYTES, HEADER_BYTES + keyLen)),
    tsMs,
    state: b.subarray(HEADER_BYTES + keyLen),
  };
}
