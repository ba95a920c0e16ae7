import { deflateRawSync, inflateRawSync } from 'node:zlib';

/**
 * Block codecs. Measured on this machine (docs/storage.md): raw deflate level 1 is the fastest
 * built-in codec with a useful ratio; brotli compresses better but is several times slower
 * to write. A block that does not shrink by 1/8 is stored raw.
 */
export const CODEC_NONE = 0;
export const CODEC_DEFLATE = 1;

/**
 * An 8 KiB window and a small hash table: blocks are a few KiB, and zlib's default state
 * (32 KiB window, memLevel 8: about 256 KiB set up per call) cost a third of the speed and
 * much native memory for no better ratio on such blocks.
 */
const DEFLATE_OPTIONS = { level: 1, windowBits: 13, memLevel: 6 } as const;

export function compressBlock(raw: Uint8Array): { codec: number; data: Uint8Array } {
  if (raw.length < 64) return { codec: CODEC_NONE, data: raw };
  const packed = deflateRawSync(raw, DEFLATE_OPTIONS);
  if (packed.length > raw.length - (raw.length >> 3)) return { codec: CODEC_NONE, data: raw };
  return { codec: CODEC_DEFLATE, data: packed };
}

export function decompressBlock(codec: number, data: Uint8Array): Buffer {
  if (codec === CODEC_NONE) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (codec === CODEC_DEFLATE) return inflateRawSync(data, { windowBits: DEFLATE_OPTIONS.windowBits });
  throw new Error(`unknown codec ${codec}`);
}
