import type { Compressor } from '../../ports/compressor.js';
import type { FileHandle, FileSystem } from '../../ports/file-system.js';
import { compareKeys, compareRange } from '../bytes.js';
import { crc32 } from '../checksum.js';
import { StorageError } from '../engine.js';
import { BloomFilter } from './bloom.js';
import { BlockCache } from './block-cache.js';
import type { ParsedBlock } from './block-cache.js';
import { BlockIndex, BlockIndexBuilder } from './block-index.js';
import {
  FOOTER_BYTES, FRAME_OVERHEAD, KIND_DATA, KIND_FILTER, KIND_INDEX, KIND_META, TABLE_MAGIC,
  checkFrame, decodeFrame, parseBlock,
} from './frame.js';
import type { TableMeta } from './frame.js';

export { tableFileName } from './frame.js';
export type { TableMeta } from './frame.js';

export interface CorruptionReport {
  file: string;
  offset?: number;
  what: string;
}

/** An open SSTable: index and filter in memory, data blocks through the cache or `readSync`. */
export class Table {
  /** Per data block: last key, frame offset and frame length. */
  private index: BlockIndex = BlockIndex.empty;
  private filter: BloomFilter | null = null;
  minKey!: Buffer;
  maxKey!: Buffer;
  meta!: TableMeta;
  /** Set when part of the table could not be read; compaction leaves such tables alone. */
  damaged = false;
  refs = 0;
  obsolete = false;

  private constructor(
    private readonly fs: FileSystem,
    readonly path: string,
    readonly num: number,
    private readonly handle: FileHandle,
    private readonly cache: BlockCache,
  ) {}

  get blockCount(): number {
    return this.index.count;
  }

  /** Up to `n` keys spread over the table (last keys of evenly spaced blocks), for estimates. */
  sampleKeys(n: number): Buffer[] {
    const count = this.index.count;
    const step = Math.max(1, Math.floor(count / n));
    const out: Buffer[] = [];
    for (let i = 0; i < count && out.length < n; i += step) out.push(this.index.lastKey(i));
    return out;
  }

  get fileBytes(): number {
    return this.meta.fileBytes;
  }

  /**
   * Opens a table. Damage to the footer, index, meta or filter is reported through `report` and
   * repaired in memory where possible (the filter is skipped; the index and meta are rebuilt from
   * the data frames). `hint` is what the manifest knows about the table.
   */
  static async open(
    fs: FileSystem, path: string, num: number, cache: BlockCache,
    report: (r: CorruptionReport) => void, hint?: TableMeta,
  ): Promise<Table> {
    const handle = await fs.openRead(path);
    const t = new Table(fs, path, num, handle, cache);
    try {
      t.load(report, hint);
    } catch (err) {
      await fs.close(handle).catch(() => undefined);
      throw err;
    }
    return t;
  }

  /**
   * A table this process has just written and synced, with the index and filter its writer
   * built (TableWriter.finished): nothing is read back, so opening it costs no disk read and no
   * decode on the event loop.
   */
  static async adopt(
    fs: FileSystem, path: string, num: number, cache: BlockCache, meta: TableMeta, built: { index: BlockIndex; filter: BloomFilter },
  ): Promise<Table> {
    const handle = await fs.openRead(path);
    const t = new Table(fs, path, num, handle, cache);
    t.index = built.index;
    t.filter = built.filter;
    t.meta = meta;
    t.minKey = Buffer.from(meta.minKey, 'hex');
    t.maxKey = Buffer.from(meta.maxKey, 'hex');
    return t;
  }

  private readAt(offset: number, length: number): Buffer {
    const buf = Buffer.allocUnsafe(length);
    let n: number;
    try {
      n = this.fs.readSync(this.handle, buf, offset, length);
    } catch (err) {
      throw new StorageError('io', `read of ${this.path} at ${offset} failed: ${(err as Error).message}`, this.path);
    }
    if (n !== length) throw new Error(`short read at ${offset}`);
    return buf;
  }

  private load(report: (r: CorruptionReport) => void, hint?: TableMeta): void {
    const size = this.fs.sizeSync(this.handle);
    let footer: { filterOff: number; filterLen: number; indexOff: number; indexLen: number; metaOff: number; metaLen: number } | undefined;
    try {
      if (size < FOOTER_BYTES) throw new Error('file too short for a footer');
      const f = this.readAt(size - FOOTER_BYTES, FOOTER_BYTES);
      if (f.readUInt32LE(36) !== TABLE_MAGIC || crc32(f.subarray(0, 40)) !== f.readUInt32LE(40)) throw new Error('bad footer');
      footer = {
        filterOff: f.readUIntLE(0, 6), filterLen: f.readUInt32LE(8),
        indexOff: f.readUIntLE(12, 6), indexLen: f.readUInt32LE(20),
        metaOff: f.readUIntLE(24, 6), metaLen: f.readUInt32LE(32),
      };
    } catch (err) {
      if (err instanceof StorageError) throw err;
      report({ file: this.path, offset: Math.max(0, size - FOOTER_BYTES), what: `footer: ${(err as Error).message}` });
    }
    let meta: TableMeta | undefined;
    let indexOk = false;
    if (footer) {
      try {
        meta = JSON.parse(decodeFrame(this.readAt(footer.metaOff, footer.metaLen), KIND_META).toString()) as TableMeta;
      } catch (err) {
        if (err instanceof StorageError) throw err;
        report({ file: this.path, offset: footer.metaOff, what: `meta block: ${(err as Error).message}` });
      }
      try {
        this.decodeIndex(decodeFrame(this.readAt(footer.indexOff, footer.indexLen), KIND_INDEX));
        indexOk = true;
      } catch (err) {
        if (err instanceof StorageError) throw err;
        report({ file: this.path, offset: footer.indexOff, what: `index block: ${(err as Error).message}` });
      }
      try {
        this.filter = BloomFilter.decode(decodeFrame(this.readAt(footer.filterOff, footer.filterLen), KIND_FILTER));
      } catch (err) {
        if (err instanceof StorageError) throw err;
        report({ file: this.path, offset: footer.filterOff, what: `bloom filter: ${(err as Error).message} (reads go without it)` });
      }
    }
    if (!indexOk) this.rebuildIndex(footer?.filterOff ?? size, report);
    if (!meta) meta = this.rebuildMeta(size, hint);
    meta.fileBytes = size;
    this.meta = meta;
    this.minKey = Buffer.from(meta.minKey, 'hex');
    this.maxKey = Buffer.from(meta.maxKey, 'hex');
  }

  private decodeIndex(data: Buffer): void {
    const b = new BlockIndexBuilder();
    let p = 0;
    while (p < data.length) {
      const kl = data.readUInt32LE(p);
      if (p + 4 + kl + 10 > data.length) throw new Error('index entry overruns');
      b.push(data.subarray(p + 4, p + 4 + kl), data.readUIntLE(p + 4 + kl, 6), data.readUInt32LE(p + 10 + kl));
      p += 14 + kl;
    }
    this.index = b.build();
  }

  /** Walks the data frames from the start to rebuild the block index. */
  private rebuildIndex(end: number, report: (r: CorruptionReport) => void): void {
    const b = new BlockIndexBuilder();
    let p = 0;
    while (p + FRAME_OVERHEAD <= end) {
      let frameLen: number;
      let block: ParsedBlock;
      try {
        const head = this.readAt(p, 6);
        if (head[4] !== KIND_DATA) break;
        frameLen = head.readUInt32LE(0) + FRAME_OVERHEAD;
        if (p + frameLen > end) throw new Error('frame overruns the data region');
        block = parseBlock(decodeFrame(this.readAt(p, frameLen), KIND_DATA));
      } catch (err) {
        if (err instanceof StorageError) throw err;
        // The rest of the data region cannot be delimited: the table is only partly readable.
        report({ file: this.path, offset: p, what: `data block while rebuilding the index: ${(err as Error).message}` });
        this.damaged = true;
        break;
      }
      if (block.count > 0) {
        const e = block.entries;
        const i = (block.count - 1) * 4;
        b.push(block.data.subarray(e[i]!, e[i]! + e[i + 1]!), p, frameLen);
      }
      p += frameLen;
    }
    this.index = b.build();
  }

  private rebuildMeta(size: number, hint?: TableMeta): TableMeta {
    if (hint) return { ...hint, fileBytes: size };
    this.damaged = true;
    let minKey = '';
    if (this.index.count > 0) {
      try {
        const b = this.loadBlock(0);
        minKey = b.data.subarray(b.entries[0]!, b.entries[0]! + b.entries[1]!).toString('hex');
      } catch {
        minKey = '';
      }
    }
    const last = this.index.count > 0 ? this.index.lastKey(this.index.count - 1) : undefined;
    return {
      num: this.num, count: 0, tombstones: 0, minKey, maxKey: last ? last.toString('hex') : '',
      minSeq: 0, maxSeq: 0, createdMs: 0, blocks: this.index.count, rawBytes: 0, fileBytes: size,
    };
  }

  /** A data block, from the cache or the file. Throws StorageError('corruption') naming the file. */
  loadBlock(i: number, fillCache = true): ParsedBlock {
    const key = BlockCache.key(this.num, i);
    const cached = this.cache.get(key);
    if (cached) return cached;
    const off = this.index.offset(i);
    let block: ParsedBlock;
    try {
      block = parseBlock(decodeFrame(this.readAt(off, this.index.length(i)), KIND_DATA));
    } catch (err) {
      if (err instanceof StorageError) throw err;
      throw new StorageError('corruption', `corrupt data block in ${this.path} at offset ${off}: ${(err as Error).message}`, this.path);
    }
    if (fillCache) this.cache.set(key, block);
    return block;
  }

  /**
   * Data blocks `from` to `to` (exclusive) for a compaction: one read of the whole range
   * (asynchronous when the FileSystem has `read`, so the event loop does not wait on the disk),
   * decompressed through the Compressor (off the event loop with the real one), not cached.
   * A damaged block fails the whole range with StorageError('corruption') naming the file.
   */
  async loadBlocksAsync(from: number, to: number, compressor: Compressor): Promise<ParsedBlock[]> {
    if (to <= from) return [];
    const start = this.index.offset(from);
    const length = this.index.offset(to - 1) + this.index.length(to - 1) - start;
    let at = start;
    const fail = (err: unknown): never => {
      if (err instanceof StorageError) throw err;
      throw new StorageError('corruption', `corrupt data block in ${this.path} at offset ${at}: ${(err as Error).message}`, this.path);
    };
    const buf = this.fs.read ? await this.readAtAsync(start, length) : this.readAt(start, length);
    const coded: Promise<Uint8Array>[] = [];
    try {
      for (let i = from; i < to; i++) {
        at = this.index.offset(i);
        const { codec, payload } = checkFrame(buf.subarray(at - start, at - start + this.index.length(i)), KIND_DATA);
        const p = compressor.decompress(codec, payload);
        p.catch(() => undefined);
        coded.push(p);
      }
    } catch (err) {
      return fail(err);
    }
    const out: ParsedBlock[] = [];
    for (let i = 0; i < coded.length; i++) {
      at = this.index.offset(from + i);
      try {
        const data = await coded[i]!;
        out.push(parseBlock(Buffer.from(data.buffer, data.byteOffset, data.byteLength)));
      } catch (err) {
        return fail(err);
      }
    }
    return out;
  }

  private async readAtAsync(offset: number, length: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(length);
    let n: number;
    try {
      n = await this.fs.read!(this.handle, buf, offset, length);
    } catch (err) {
      throw new StorageError('io', `read of ${this.path} at ${offset} failed: ${(err as Error).message}`, this.path);
    }
    if (n !== length) throw new StorageError('corruption', `short read of ${this.path} at ${offset}`, this.path);
    return buf;
  }

  /** True when the end of a damaged table cannot be read (a scan of it must fail there). */
  get tailUnreadable(): boolean {
    return this.damaged && this.index.count > 0 && Buffer.compare(this.index.lastKey(this.index.count - 1), this.maxKey) < 0;
  }

  /** Index of the first block whose last key is >= key (blockCount when none). */
  private findBlock(key: Uint8Array): number {
    return this.index.find(key);
  }

  /**
   * A copy of the value (null: tombstone), or undefined when the table does not hold the key.
   * `h1`, `h2` are the key's bloom hashes (keyHash1/keyHash2), computed once per lookup. With
   * `copy` false, a view into the cached block instead (StorageEngine.peek).
   */
  get(key: Uint8Array, h1: number, h2: number, copy = true): Uint8Array | null | undefined {
    if (compareKeys(key, this.minKey) < 0 || compareKeys(key, this.maxKey) > 0) return undefined;
    if (this.filter !== null && !this.filter.mayContainHashes(h1, h2)) return undefined;
    const bi = this.findBlock(key);
    if (bi >= this.index.count) {
      if (this.damaged) throw new StorageError('corruption', `key may be in an unreadable part of ${this.path}`, this.path);
      return undefined;
    }
    const b = this.loadBlock(bi);
    const e = b.entries;
    let lo = 0;
    let hi = b.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const ko = e[mid * 4]!;
      const c = -compareRange(key, b.data, ko, ko + e[mid * 4 + 1]!);
      if (c === 0) {
        const vl = e[mid * 4 + 3]!;
        if (vl < 0) return null;
        const vo = e[mid * 4 + 2]!;
        // By default a copy: the caller owns it, and it does not pin the cached block.
        const view = new Uint8Array(b.data.buffer, b.data.byteOffset + vo, vl);
        return copy ? view.slice() : view;
      }
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /** Entries with key >= gte in order; `fillCache` false for compaction (no cache pollution). */
  *entries(gte?: Buffer, fillCache = true): Generator<[Buffer, Buffer | null]> {
    let bi = gte ? this.findBlock(gte) : 0;
    for (; bi < this.index.count; bi++) {
      const b = this.loadBlock(bi, fillCache);
      const e = b.entries;
      for (let j = 0; j < b.count; j++) {
        const ko = e[j * 4]!;
        const key = b.data.subarray(ko, ko + e[j * 4 + 1]!);
        if (gte && compareKeys(key, gte) < 0) continue;
        const vl = e[j * 4 + 3]!;
        const vo = e[j * 4 + 2]!;
        yield [key, vl < 0 ? null : b.data.subarray(vo, vo + vl)];
      }
    }
    if (this.tailUnreadable) {
      throw new StorageError('corruption', `the end of ${this.path} is unreadable`, this.path);
    }
  }

  async close(): Promise<void> {
    this.cache.dropTable(this.num, this.index.count);
    await this.fs.close(this.handle);
  }
}
