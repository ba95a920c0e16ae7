import { deflateRaw, deflateRawSync, inflateRaw, inflateRawSync } from 'node:zlib';
import type { CompressedBlock, Compressor } from '../ports/compressor.js';

/**
 * Block codecs and the two Compressor adapters. Measured on this machine (docs/storage.md,
 * `node --import tsx bench/storage.ts --codecs`): raw deflate level 1 decompresses 1.5–1.7×
 * faster than brotli quality 1 at about the same ratio; decompression sits on the synchronous
 * read path (every block-cache miss), so deflate wins. A block that does not shrink by a
 * quarter is stored raw: inflating a 4 KiB block costs 5–15 µs on every cache miss, too much
 * for a 10–20% saving.
 */
export const CODEC_NONE = 0;
export const CODEC_DEFLATE = 1;

/**
 * zlib's defaults apart from the level: a smaller window or hash table (tried: windowBits 13,
 * memLevel 6) measured no faster on 4 KiB blocks, and inflate got slower.
 */
const DEFLATE_OPTIONS = { level: 1 } as const;
const MIN_BYTES = 64;

function choose(raw: Uint8Array, packed: Uint8Array): CompressedBlock {
  if (packed.length > raw.length - (raw.length >> 2)) return { codec: CODEC_NONE, data: raw };
  return { codec: CODEC_DEFLATE, data: packed };
}

export function compressBlockSync(raw: Uint8Array): CompressedBlock {
  if (raw.length < MIN_BYTES) return { codec: CODEC_NONE, data: raw };
  return choose(raw, deflateRawSync(raw, DEFLATE_OPTIONS));
}

export function decompressBlockSync(codec: number, data: Uint8Array): Buffer {
  if (codec === CODEC_NONE) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (codec === CODEC_DEFLATE) return inflateRawSync(data);
  throw new Error(`unknown codec ${codec}`);
}

/**
 * The real adapter: zlib's asynchronous calls run on libuv's thread pool, so flushes and
 * compactions do not compress (or decompress) on the event loop.
 */
export const zlibCompressor: Compressor = {
  compress(raw) {
    if (raw.length < MIN_BYTES) return Promise.resolve({ codec: CODEC_NONE, data: raw });
    return new Promise((resolve, reject) => {
      deflateRaw(raw, DEFLATE_OPTIONS, (err, packed) => (err ? reject(err) : resolve(choose(raw, packed))));
    });
  },
  decompress(codec, data) {
    if (codec !== CODEC_DEFLATE) return Promise.resolve(decompressBlockSync(codec, data));
    return new Promise((resolve, reject) => {
      inflateRaw(data, (err, out) => (err ? reject(err) : resolve(out)));
    });
  },
  decompressSync: decompressBlockSync,
};

/**
 * The deterministic twin for the simulator and the memory disk: the work is done at once and
 * the promise is already settled, so nothing depends on the host's thread pool.
 */
export const syncCompressor: Compressor = {
  compress: (raw) => Promise.resolve(compressBlockSync(raw)),
  decompress: (codec, data) => {
    try {
      return Promise.resolve(decompressBlockSync(codec, data));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  },
  decompressSync: decompressBlockSync,
};
