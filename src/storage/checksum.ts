import { crc32 as zcrc32 } from 'node:zlib';

/** IEEE CRC-32 (node:zlib, ≈2.4 GB/s). `init` chains a checksum over several pieces. */
export function crc32(data: Uint8Array, init = 0): number {
  return zcrc32(data, init) >>> 0;
}
