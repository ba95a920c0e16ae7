import { crc32 } from '../checksum.js';
import { decompressBlockSync } from '../compress.js';
import type { ParsedBlock } from './block-cache.js';

/**
 * SSTable layout (all integers little-endian):
 *
 *   [data frame]* [filter frame] [index frame] [meta frame] [footer: 44 bytes]
 *
 * frame  = [u32 payloadLength][u8 kind][u8 codec][payload][u32 crc32 of everything before it]
 * data   = entries [u32 keyLength][u32 valueLength, 0xFFFFFFFF = tombstone][key][value], sorted
 * index  = per data block [u32 keyLength][last key][u48 offset][u32 frameLength]
 * filter = bloom filter (see bloom.ts)
 * meta   = JSON (TableMeta)
 * footer = [u48 filterOff][u32 filterLen][u48 indexOff][u32 indexLen][u48 metaOff][u32 metaLen]
 *          (each u48 padded to 8 bytes) [u32 magic][u32 crc32 of the first 40 bytes]
 *
 * Every frame is self-describing and checksummed, so a damaged index, filter, meta or footer
 * can be rebuilt (or, for the filter, done without) by walking the data frames.
 */
export const KIND_DATA = 1;
export const KIND_FILTER = 2;
export const KIND_INDEX = 3;
export const KIND_META = 4;
export const FRAME_OVERHEAD = 10;
export const FOOTER_BYTES = 44;
export const TABLE_MAGIC = 0x47535354; // 'GSST'
export const TOMBSTONE = 0xffffffff;

export interface TableMeta {
  num: number;
  count: number;
  tombstones: number;
  /** Hex of the smallest and largest key. */
  minKey: string;
  maxKey: string;
  /** Commit-log segment numbers whose data this table holds (orders tables by age). */
  minSeq: number;
  maxSeq: number;
  createdMs: number;
  blocks: number;
  rawBytes: number;
  fileBytes: number;
}

export function tableFileName(num: number): string {
  return `${String(num).padStart(6, '0')}.sst`;
}

export function encodeFrame(kind: number, codec: number, payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(payload.length + FRAME_OVERHEAD);
  writeFrame(frame, 0, kind, codec, payload);
  return frame;
}

/** Writes one frame into `out` at `at`; returns its length (payload + FRAME_OVERHEAD). */
export function writeFrame(out: Buffer, at: number, kind: number, codec: number, payload: Uint8Array): number {
  out.writeUInt32LE(payload.length, at);
  out[at + 4] = kind;
  out[at + 5] = codec;
  out.set(payload, at + 6);
  out.writeUInt32LE(crc32(out.subarray(at, at + 6 + payload.length)), at + 6 + payload.length);
  return payload.length + FRAME_OVERHEAD;
}

/** Checks a frame's length, checksum and kind; returns its codec and (still coded) payload. */
export function checkFrame(frame: Buffer, expectKind: number): { codec: number; payload: Buffer } {
  if (frame.length < FRAME_OVERHEAD) throw new Error('short frame');
  const len = frame.readUInt32LE(0);
  if (len + FRAME_OVERHEAD !== frame.length) throw new Error('frame length mismatch');
  const stored = frame.readUInt32LE(6 + len);
  if (crc32(frame.subarray(0, 6 + len)) !== stored) throw new Error('checksum mismatch');
  if (frame[4] !== expectKind) throw new Error(`frame kind ${frame[4]} where ${expectKind} expected`);
  return { codec: frame[5]!, payload: frame.subarray(6, 6 + len) };
}

/** Checks a frame and returns its decoded payload; throws a plain Error describing the damage. */
export function decodeFrame(frame: Buffer, expectKind: number): Buffer {
  const { codec, payload } = checkFrame(frame, expectKind);
  return decompressBlockSync(codec, payload);
}

export function parseBlock(data: Buffer): ParsedBlock {
  // Two passes (count, then fill) so the offsets go straight into one typed array.
  let count = 0;
  let p = 0;
  while (p < data.length) {
    if (p + 8 > data.length) throw new Error('truncated entry');
    const kl = data.readUInt32LE(p);
    const vl = data.readUInt32LE(p + 4);
    p += 8 + kl + (vl === TOMBSTONE ? 0 : vl);
    if (p > data.length) throw new Error('entry overruns block');
    count++;
  }
  const entries = new Int32Array(count * 4);
  p = 0;
  for (let i = 0; i < count * 4; i += 4) {
    const kl = data.readUInt32LE(p);
    const vlRaw = data.readUInt32LE(p + 4);
    const ko = p + 8;
    entries[i] = ko;
    entries[i + 1] = kl;
    entries[i + 2] = ko + kl;
    entries[i + 3] = vlRaw === TOMBSTONE ? -1 : vlRaw;
    p = ko + kl + (vlRaw === TOMBSTONE ? 0 : vlRaw);
  }
  return { data, entries, count };
}
