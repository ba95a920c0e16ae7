import { compareKeys, compareRange } from '../bytes.js';
import { crc32 } from '../checksum.js';
import { CODEC_NONE, compressBlock, decompressBlock } from '../compress.js';
import { StorageError } from '../engine.js';
import type { FileHandle, FileSystem } from '../fs/file-system.js';
import { BloomFilter } from './bloom.js';
import { BlockCache } from './block-cache.js';
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
const FRAME_OVERHEAD = 10;
const FOOTER_BYTES = 44;
const MAGIC = 0x47535354; // 'GSST'
const TOMBSTONE = 0xffffffff;
const SYNC_EVERY_BYTES = 512 * 1024;

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
  frame.writeUInt32LE(payload.length, 0);
  frame[4] = kind;
  frame[5] = codec;
  frame.set(payload, 6);
  frame.writeUInt32LE(crc32(frame.subarray(0, 6 + payload.length)), 6 + payload.length);
  return frame;
}

/** Checks a frame and returns its decoded payload; throws a plain Error describing the damage. */
export function decodeFrame(frame: Buffer, expectKind: number): Buffer {
  if (frame.length < FRAME_OVERHEAD) throw new Error('short frame');
  const len = frame.readUInt32LE(0);
  if (len + FRAME_OVERHEAD !== frame.length) throw new Error('frame length mismatch');
  const stored = frame.readUInt32LE(6 + len);
  if (crc32(frame.subarray(0, 6 + len)) !== stored) throw new Error('checksum mismatch');
  if (frame[4] !== expectKind) throw new Error(`frame kind ${frame[4]} where ${expectKind} expected`);
  return decompressBlock(frame[5]!, frame.subarray(6, 6 + len));
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

/** Writes one SSTable front to back, appending in chunks. */
export class TableWriter {
  private handle: FileHandle | undefined;
  private chunks: Buffer[] = [];
  private chunkBytes = 0;
  private unsynced = 0;
  private incompressible = 0;
  private offset = 0;
  private block: Buffer;
  private blockLen = 0;
  private lastKey: Buffer | undefined;
  private readonly indexParts: Buffer[] = [];
  private readonly hashes: number[] = [];
  private firstKey: Buffer | undefined;
  count = 0;
  tombstones = 0;
  rawBytes = 0;
  blocks = 0;

  constructor(
    private readonly fs: FileSystem,
    readonly path: string,
    private readonly blockBytes: number,
    private readonly bloomFpRate: number,
  ) {
    this.block = Buffer.allocUnsafe(Math.max(256, blockBytes * 2));
  }

  async open(): Promise<void> {
    this.handle = await this.fs.create(this.path);
  }

  /** Adds the next entry (keys strictly ascending). */
  add(key: Uint8Array, value: Uint8Array | null): void {
    const need = 8 + key.length + (value === null ? 0 : value.length);
    if (this.blockLen + need > this.block.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.block.length * 2, this.blockLen + need));
      this.block.copy(grown, 0, 0, this.blockLen);
      this.block = grown;
    }
    const b = this.block;
    let p = this.blockLen;
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
    this.blockLen = p;
    const keyCopy = Buffer.from(key);
    if (this.firstKey === undefined) this.firstKey = keyCopy;
    this.lastKey = keyCopy;
    BloomFilter.hashes(key, this.hashes);
    this.count++;
    if (this.blockLen >= this.blockBytes) this.finishBlock();
  }

  /** Bytes buffered and not yet appended; the caller drains past its chunk size. */
  get pendingBytes(): number {
    return this.chunkBytes;
  }

  async drain(): Promise<void> {
    if (this.chunkBytes === 0) return;
    const data = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.chunkBytes);
    this.chunks = [];
    this.chunkBytes = 0;
    await this.fs.append(this.handle!, data);
    // Sync as we go: one big fdatasync at the end would hold up the commit log's fsyncs
    // (which queue behind it in the file system journal) for tens of milliseconds.
    this.unsynced += data.length;
    if (this.unsynced >= SYNC_EVERY_BYTES) {
      this.unsynced = 0;
      await this.fs.sync(this.handle!);
    }
  }

  private push(frame: Buffer): number {
    const at = this.offset;
    this.chunks.push(frame);
    this.chunkBytes += frame.length;
    this.offset += frame.length;
    return at;
  }

  private finishBlock(): void {
    if (this.blockLen === 0) return;
    const raw = this.block.subarray(0, this.blockLen);
    this.rawBytes += raw.length;
    // Adaptive: after a run of blocks that did not compress (random or already compressed
    // values), only every 8th block tries again; deflate's per-call setup is not free.
    let codec: number = CODEC_NONE;
    let data: Uint8Array = raw;
    if (this.incompressible < 4 || this.blocks % 8 === 0) {
      ({ codec, data } = compressBlock(raw));
      this.incompressible = codec === CODEC_NONE ? this.incompressible + 1 : 0;
    }
    const frame = encodeFrame(KIND_DATA, codec, data);
    const at = this.push(frame);
    const last = this.lastKey!;
    const entry = Buffer.allocUnsafe(4 + last.length + 10);
    entry.writeUInt32LE(last.length, 0);
    entry.set(last, 4);
    entry.writeUIntLE(at, 4 + last.length, 6);
    entry.writeUInt32LE(frame.length, 10 + last.length);
    this.indexParts.push(entry);
    this.blocks++;
    this.blockLen = 0;
    // A fresh buffer: the previous one may still be referenced by `raw` (NONE codec).
    this.block = Buffer.allocUnsafe(Math.max(256, this.blockBytes * 2));
  }

  /** Writes filter, index, meta and footer, syncs and closes. Returns the table's metadata. */
  async finish(info: { num: number; minSeq: number; maxSeq: number; createdMs: number }): Promise<TableMeta> {
    this.finishBlock();
    const filter = BloomFilter.build(this.hashes, this.bloomFpRate).encode();
    const filterFrame = encodeFrame(KIND_FILTER, 0, filter);
    const filterOff = this.push(filterFrame);
    const indexFrame = encodeFrame(KIND_INDEX, 0, Buffer.concat(this.indexParts));
    const indexOff = this.push(indexFrame);
    const meta: TableMeta = {
      num: info.num,
      count: this.count,
      tombstones: this.tombstones,
      minKey: this.firstKey?.toString('hex') ?? '',
      maxKey: this.lastKey?.toString('hex') ?? '',
      minSeq: info.minSeq,
      maxSeq: info.maxSeq,
      createdMs: info.createdMs,
      blocks: this.blocks,
      rawBytes: this.rawBytes,
      fileBytes: 0,
    };
    const metaFrame = encodeFrame(KIND_META, 0, Buffer.from(JSON.stringify(meta)));
    const metaOff = this.push(metaFrame);
    const footer = Buffer.alloc(FOOTER_BYTES);
    footer.writeUIntLE(filterOff, 0, 6);
    footer.writeUInt32LE(filterFrame.length, 8);
    footer.writeUIntLE(indexOff, 12, 6);
    footer.writeUInt32LE(indexFrame.length, 20);
    footer.writeUIntLE(metaOff, 24, 6);
    footer.writeUInt32LE(metaFrame.length, 32);
    footer.writeUInt32LE(MAGIC, 36);
    footer.writeUInt32LE(crc32(footer.subarray(0, 40)), 40);
    this.push(footer);
    meta.fileBytes = this.offset;
    await this.drain();
    await this.fs.sync(this.handle!);
    await this.fs.close(this.handle!);
    return meta;
  }

  /** Abandons the file (the caller unlinks it). */
  async abort(): Promise<void> {
    if (this.handle) await this.fs.close(this.handle).catch(() => undefined);
  }
}

export interface CorruptionReport {
  file: string;
  offset?: number;
  what: string;
}

/** An open SSTable: index and filter in memory, data blocks through the cache or `readSync`. */
export class Table {
  /** Per data block: last key, frame offset and frame length. */
  private lastKeys: Buffer[] = [];
  private offsets: number[] = [];
  private lengths: number[] = [];
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
    return this.offsets.length;
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
      if (f.readUInt32LE(36) !== MAGIC || crc32(f.subarray(0, 40)) !== f.readUInt32LE(40)) throw new Error('bad footer');
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
    let p = 0;
    while (p < data.length) {
      const kl = data.readUInt32LE(p);
      if (p + 4 + kl + 10 > data.length) throw new Error('index entry overruns');
      this.lastKeys.push(data.subarray(p + 4, p + 4 + kl));
      this.offsets.push(data.readUIntLE(p + 4 + kl, 6));
      this.lengths.push(data.readUInt32LE(p + 10 + kl));
      p += 14 + kl;
    }
  }

  /** Walks the data frames from the start to rebuild the block index. */
  private rebuildIndex(end: number, report: (r: CorruptionReport) => void): void {
    this.lastKeys = [];
    this.offsets = [];
    this.lengths = [];
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
        this.lastKeys.push(Buffer.from(block.data.subarray(e[i]!, e[i]! + e[i + 1]!)));
        this.offsets.push(p);
        this.lengths.push(frameLen);
      }
      p += frameLen;
    }
  }

  private rebuildMeta(size: number, hint?: TableMeta): TableMeta {
    if (hint) return { ...hint, fileBytes: size };
    this.damaged = true;
    let minKey = '';
    if (this.offsets.length > 0) {
      try {
        const b = this.loadBlock(0);
        minKey = b.data.subarray(b.entries[0]!, b.entries[0]! + b.entries[1]!).toString('hex');
      } catch {
        minKey = '';
      }
    }
    const last = this.lastKeys[this.lastKeys.length - 1];
    return {
      num: this.num, count: 0, tombstones: 0, minKey, maxKey: last ? last.toString('hex') : '',
      minSeq: 0, maxSeq: 0, createdMs: 0, blocks: this.offsets.length, rawBytes: 0, fileBytes: size,
    };
  }

  /** A data block, from the cache or the file. Throws StorageError('corruption') naming the file. */
  loadBlock(i: number, fillCache = true): ParsedBlock {
    const key = BlockCache.key(this.num, i);
    const cached = this.cache.get(key);
    if (cached) return cached;
    const off = this.offsets[i]!;
    let block: ParsedBlock;
    try {
      block = parseBlock(decodeFrame(this.readAt(off, this.lengths[i]!), KIND_DATA));
    } catch (err) {
      if (err instanceof StorageError) throw err;
      throw new StorageError('corruption', `corrupt data block in ${this.path} at offset ${off}: ${(err as Error).message}`, this.path);
    }
    if (fillCache) this.cache.set(key, block);
    return block;
  }

  /** Index of the first block whose last key is >= key (blockCount when none). */
  private findBlock(key: Buffer): number {
    let lo = 0;
    let hi = this.lastKeys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(this.lastKeys[mid]!, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * A copy of the value (null: tombstone), or undefined when the table does not hold the key.
   * `h1`, `h2` are the key's bloom hashes (keyHash1/keyHash2), computed once per lookup.
   */
  get(key: Buffer, h1: number, h2: number): Uint8Array | null | undefined {
    if (compareKeys(key, this.minKey) < 0 || compareKeys(key, this.maxKey) > 0) return undefined;
    if (this.filter !== null && !this.filter.mayContainHashes(h1, h2)) return undefined;
    const bi = this.findBlock(key);
    if (bi >= this.lastKeys.length) {
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
        // A copy: the caller owns it, and it does not pin the cached block.
        return new Uint8Array(b.data.buffer, b.data.byteOffset + vo, vl).slice();
      }
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /** Entries with key >= gte in order; `fillCache` false for compaction (no cache pollution). */
  *entries(gte?: Buffer, fillCache = true): Generator<[Buffer, Buffer | null]> {
    let bi = gte ? this.findBlock(gte) : 0;
    for (; bi < this.lastKeys.length; bi++) {
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
    if (this.damaged && this.lastKeys.length > 0 && Buffer.compare(this.lastKeys[this.lastKeys.length - 1]!, this.maxKey) < 0) {
      throw new StorageError('corruption', `the end of ${this.path} is unreadable`, this.path);
    }
  }

  async close(): Promise<void> {
    this.cache.dropTable(this.num, this.offsets.length);
    await this.fs.close(this.handle);
  }
}
