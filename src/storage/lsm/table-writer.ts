import type { CompressedBlock, Compressor } from '../../ports/compressor.js';
import type { FileHandle, FileSystem } from '../../ports/file-system.js';
import { crc32 } from '../checksum.js';
import { CODEC_NONE } from '../compress.js';
import { BlockIndexBuilder } from './block-index.js';
import type { BlockIndex } from './block-index.js';
import { BloomFilter } from './bloom.js';
import { FOOTER_BYTES, FRAME_OVERHEAD, KIND_DATA, KIND_FILTER, KIND_INDEX, KIND_META, TABLE_MAGIC, TOMBSTONE, encodeFrame, writeFrame } from './frame.js';
import type { TableMeta } from './frame.js';

const SYNC_EVERY_BYTES = 512 * 1024;
/**
 * Blocks are built in arenas of this size (one allocation for ~64 blocks, not one each): fewer
 * ArrayBuffers means fewer garbage collections started by external-memory pressure, each of
 * which stops the event loop for a few milliseconds.
 */
const ARENA_BYTES = 256 * 1024;
/** After a run of incompressible blocks, one block in this many tries compression again. */
const RETRY_EVERY_BLOCKS = 64;

/**
 * Whether recent blocks compressed, shared by every table writer of one engine: a new table
 * starts from what the last ones saw, rather than trying every block of its first chunk (64
 * blocks before its first drain) on data that has not compressed for a long time.
 */
export interface CompressionHint {
  /** Consecutive blocks that did not compress (capped in effect at the retry threshold). */
  incompressible: number;
}

interface PendingBlock {
  coded: Promise<CompressedBlock>;
  lastKey: Buffer;
  rawBytes: number;
}

/**
 * Writes one SSTable front to back. Finished blocks are handed to the Compressor at once (the
 * real one compresses on the thread pool, several blocks in parallel); `drain` awaits them in
 * order, frames them and appends them, so the file and its index stay in block order.
 */
export class TableWriter {
  private handle: FileHandle | undefined;
  private pending: PendingBlock[] = [];
  private pendingRaw = 0;
  private unsynced = 0;
  private offset = 0;
  /** The current arena; the block being built starts at `blockStart` and runs `blockLen` bytes. */
  private block: Buffer;
  private blockStart = 0;
  private blockLen = 0;
  /** A view of the last key added (callers never change a key they handed over). */
  private lastKey: Buffer | undefined;
  private readonly indexParts: Buffer[] = [];
  /** The in-memory index, built block by block, handed to the Table (no read-back). */
  private readonly indexBuilder = new BlockIndexBuilder();
  private built: { index: BlockIndex; filter: BloomFilter } | undefined;
  private readonly hashes: number[] = [];
  /** Built along the way when the entry count is known up front (see BloomFilter.sized). */
  private readonly filter: BloomFilter | undefined;
  private firstKey: Buffer | undefined;
  count = 0;
  tombstones = 0;
  rawBytes = 0;
  blocks = 0;
  /** Bytes appended to the file so far. */
  written = 0;

  constructor(
    private readonly fs: FileSystem,
    readonly path: string,
    private readonly blockBytes: number,
    private readonly bloomFpRate: number,
    private readonly compressor: Compressor,
    /** How many entries the table will hold, at most, when known (a memtable's, a merge's inputs'). */
    expectedKeys?: number,
    private readonly hint: CompressionHint = { incompressible: 0 },
  ) {
    this.block = Buffer.allocUnsafe(Math.max(ARENA_BYTES, blockBytes * 2));
    if (expectedKeys !== undefined && expectedKeys > 0) this.filter = BloomFilter.sized(expectedKeys, bloomFpRate);
  }

  async open(): Promise<void> {
    this.handle = await this.fs.create(this.path);
  }

  /** Adds the next entry (keys strictly ascending). */
  add(key: Uint8Array, value: Uint8Array | null): void {
    const need = 8 + key.length + (value === null ? 0 : value.length);
    if (this.blockStart + this.blockLen + need > this.block.length) {
      // A new arena (earlier blocks stay referenced by their pending writes), this block moved in.
      const grown = Buffer.allocUnsafe(Math.max(ARENA_BYTES, (this.blockLen + need) * 2));
      this.block.copy(grown, 0, this.blockStart, this.blockStart + this.blockLen);
      this.block = grown;
      this.blockStart = 0;
    }
    const b = this.block;
    let p = this.blockStart + this.blockLen;
    b.writeUInt32LE(key.length, p);
    b.writeUInt32LE(value === null ? TOMBSTONE : value.length, p + 4);
    p += 8;
    b.set(key, p);
    p += key.length;
    if (value !== null) {
      b.set(value, p);
      p += value.length;
    } else {
      this.tombstones++;
    }
    this.blockLen = p - this.blockStart;
    if (this.firstKey === undefined) this.firstKey = Buffer.from(key);
    this.lastKey = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
    if (this.filter) this.filter.addKey(key);
    else BloomFilter.hashes(key, this.hashes);
    this.count++;
    if (this.blockLen >= this.blockBytes) this.finishBlock();
  }

  /** Raw bytes of finished blocks not yet appended; the caller drains past its chunk size. */
  get pendingBytes(): number {
    return this.pendingRaw;
  }

  /** Appends every finished block (awaiting its compression) and syncs every 512 KiB. */
  async drain(): Promise<void> {
    if (this.pending.length === 0) return;
    const blocks = this.pending;
    this.pending = [];
    this.pendingRaw = 0;
    const coded: CompressedBlock[] = [];
    let bytes = 0;
    for (const b of blocks) {
      const c = await b.coded;
      if (this.hint.incompressible < 4 || c.codec !== CODEC_NONE) this.hint.incompressible = c.codec === CODEC_NONE ? this.hint.incompressible + 1 : 0;
      coded.push(c);
      bytes += c.data.length + FRAME_OVERHEAD;
    }
    // Every frame straight into one buffer: one allocation and one copy per block.
    const out = Buffer.allocUnsafe(bytes);
    let at = 0;
    coded.forEach((c, i) => {
      const length = writeFrame(out, at, KIND_DATA, c.codec, c.data);
      this.indexEntry(blocks[i]!.lastKey, this.offset + at, length);
      at += length;
    });
    this.offset += bytes;
    await this.append(out);
  }

  private async append(data: Buffer): Promise<void> {
    await this.fs.append(this.handle!, data);
    this.written += data.length;
    // Sync as we go: one big fdatasync at the end would hold up the commit log's fsyncs
    // (which queue behind it in the file system journal) for tens of milliseconds.
    this.unsynced += data.length;
    if (this.unsynced >= SYNC_EVERY_BYTES) {
      this.unsynced = 0;
      await this.fs.sync(this.handle!);
    }
  }

  private indexEntry(last: Buffer, at: number, frameLength: number): void {
    const entry = Buffer.allocUnsafe(4 + last.length + 10);
    entry.writeUInt32LE(last.length, 0);
    entry.set(last, 4);
    entry.writeUIntLE(at, 4 + last.length, 6);
    entry.writeUInt32LE(frameLength, 10 + last.length);
    this.indexParts.push(entry);
    this.indexBuilder.push(last, at, frameLength);
  }

  private finishBlock(): void {
    if (this.blockLen === 0) return;
    const raw = this.block.subarray(this.blockStart, this.blockStart + this.blockLen);
    this.rawBytes += raw.length;
    // Adaptive: after a run of blocks that did not compress (random or already compressed
    // values), only every 64th block tries again. Off the event loop it still costs CPU, and more
    // than inline: each zlib call sets up a fresh ~256 KiB deflate state (measured under load:
    // ~250 µs of CPU per async 4 KiB call against ~70 µs sync), and 1 call in 8 took 15% of
    // the engine's main thread under a sustained incompressible load.
    const coded = this.hint.incompressible < 4 || this.blocks % RETRY_EVERY_BLOCKS === 0
      ? this.compressor.compress(raw)
      : Promise.resolve({ codec: CODEC_NONE, data: raw });
    coded.catch(() => undefined);
    this.pending.push({ coded, lastKey: Buffer.from(this.lastKey!), rawBytes: raw.length });
    this.pendingRaw += raw.length;
    this.blocks++;
    // The next block follows in the same arena; `raw` stays valid (nothing writes behind it).
    this.blockStart += this.blockLen;
    this.blockLen = 0;
  }

  /** Writes filter, index, meta and footer, syncs and closes. Returns the table's metadata. */
  async finish(info: { num: number; minSeq: number; maxSeq: number; createdMs: number }): Promise<TableMeta> {
    this.finishBlock();
    await this.drain();
    const parts: Buffer[] = [];
    const push = (b: Buffer): number => {
      const at = this.offset;
      parts.push(b);
      this.offset += b.length;
      return at;
    };
    const filter = this.filter ?? BloomFilter.build(this.hashes, this.bloomFpRate);
    const filterFrame = encodeFrame(KIND_FILTER, 0, filter.encode());
    this.built = { index: this.indexBuilder.build(), filter };
    const filterOff = push(filterFrame);
    const indexFrame = encodeFrame(KIND_INDEX, 0, Buffer.concat(this.indexParts));
    const indexOff = push(indexFrame);
    const meta: TableMeta = {
      num: info.num, count: this.count, tombstones: this.tombstones,
      minKey: this.firstKey?.toString('hex') ?? '', maxKey: this.lastKey?.toString('hex') ?? '',
      minSeq: info.minSeq, maxSeq: info.maxSeq, createdMs: info.createdMs,
      blocks: this.blocks, rawBytes: this.rawBytes, fileBytes: 0,
    };
    const metaFrame = encodeFrame(KIND_META, 0, Buffer.from(JSON.stringify(meta)));
    const metaOff = push(metaFrame);
    const footer = Buffer.alloc(FOOTER_BYTES);
    footer.writeUIntLE(filterOff, 0, 6);
    footer.writeUInt32LE(filterFrame.length, 8);
    footer.writeUIntLE(indexOff, 12, 6);
    footer.writeUInt32LE(indexFrame.length, 20);
    footer.writeUIntLE(metaOff, 24, 6);
    footer.writeUInt32LE(metaFrame.length, 32);
    footer.writeUInt32LE(TABLE_MAGIC, 36);
    footer.writeUInt32LE(crc32(footer.subarray(0, 40)), 40);
    push(footer);
    meta.fileBytes = this.offset;
    await this.append(Buffer.concat(parts));
    await this.fs.sync(this.handle!);
    await this.fs.close(this.handle!);
    return meta;
  }

  /**
   * The finished table's block index and bloom filter, as written: the engine opens the new
   * table with them (Table.adopt) instead of reading them back and decoding them synchronously —
   * 30–110 ms for the 64k-block index of a 256 MiB table on this machine.
   */
  get finished(): { index: BlockIndex; filter: BloomFilter } {
    if (!this.built) throw new Error('table not finished');
    return this.built;
  }

  /** Abandons the file (the caller unlinks it). */
  async abort(): Promise<void> {
    for (const b of this.pending) await b.coded.catch(() => undefined);
    this.pending = [];
    if (this.handle) await this.fs.close(this.handle).catch(() => undefined);
  }
}
