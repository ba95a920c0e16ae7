import { deflateRawSync, inflateRawSync } from 'node:zlib';

/**
 * Block codecs. Measured on this machine (docs/storage.md, `node --import tsx bench/storage.ts
 * --codecs`): raw deflate level 1 decompresses 1.5–1.7× faster than brotli quality 1 at about
 * the same ratio; brotli compresses faster. Decompression sits on the synchronous read path
 * (every block-cache miss), compression on the background flush, so deflate wins.
 * A block that does not shrink by a quarter is stored raw: inflating a 4 KiB block costs
 * 5–15 µs on every cache miss, too much for a 10–20% saving.
 */
export const CODEC_NONE = 0;
export const CODEC_DEFLATE = 1;

/**
 * zlib's defaults apart from the level: a smaller window or hash table (tried: windowBits 13,
 * memLevel 6) measured no faster on 4 KiB blocks, and inflate got slower.
 */
const DEFLATE_OPTIONS = { level: 1 } as const;

export function compressBlock(raw: Uint8Array): { codec: number; data: Uint8Array } {
  if (raw.length < 64) return { codec: CODEC_NONE, data: raw };
  const packed = deflateRawSync(raw, DEFLATE_OPTIONS);
  if (packed.length > raw.length - (raw.length >> 2)) return { codec: CODEC_NONE, data: raw };
  return { codec: CODEC_DEFLATE, data: packed };
}

export function decompressBlock(codec: number, data: Uint8Array): Buffer {
  if (codec === CODEC_NONE) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (codec === CODEC_DEFLATE) return inflateRawSync(data);
  throw new Error(`unknown codec ${codec}`);
}
