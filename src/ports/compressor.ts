/**
 * The Compressor port: block compression for SSTables. Flushes and compactions compress (and
 * compactions decompress) through the asynchronous calls, which the real adapter runs on
 * libuv's thread pool (zlib's async API), off the event loop. The read path decompresses with
 * `decompressSync`, because reads are synchronous by design (docs/architecture.md). The
 * simulator's twin answers the asynchronous calls with an already-settled promise, so no
 * interleaving depends on the host's thread pool.
 */
export interface CompressedBlock {
  codec: number;
  data: Uint8Array;
}

export interface Compressor {
  /** Compresses a block; `codec` 0 (none, `data` the input) when compression does not pay. */
  compress(raw: Uint8Array): Promise<CompressedBlock>;
  decompress(codec: number, data: Uint8Array): Promise<Uint8Array>;
  decompressSync(codec: number, data: Uint8Array): Uint8Array;
}
