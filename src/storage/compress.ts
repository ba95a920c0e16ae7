import { deflateRawSync, inflateRawSync } from 'node:zlib';

/**
 * Block codecs. Measured on this machine (docs/storage.md): raw deflate level 1 is the fastest
 * built-in codec with a useful ratio; brotli compresses better but is several times slower
 * to write. A block that does not shrink by 1/8 is stored raw.
 */
export const CODEC_NONE = 0;
export const CODEC_DEFLATE = 1;

export function compressBlock(raw: Uint8Array): { codec: number; data: Uint8Array } {
  if (raw.length < 64) return { codec: CODEC_NONE, data: raw };
  const packed = deflateRawSync(raw, { level: 1 });
  if (packed.length > raw.length - (raw.length >> 3)) return { codec: CODEC_NONE, data: raw };
  return { codec: CODEC_DEFLATE, data: packed };
}

export function decompressBlock(codec: number, data: Uint8Array): Buffer {
  if (codec === CODEC_NONE) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (codec === CODEC_DEFLATE) return inflateRawSync(data);
  throw new Error(`unknown codec ${codec}`);
}
