import type { Compressor } from '../../ports/compressor.js';
import type { FileSystem } from '../../ports/file-system.js';
import { joinPath } from '../fs/file-system.js';
import type { BlockCache, ParsedBlock } from './block-cache.js';
import { keyHash1, keyHash2 } from './bloom.js';
import { tableFileName } from './frame.js';
import { mergeSources } from './merge.js';
import { Table } from './sstable.js';
import type { CorruptionReport } from './sstable.js';
import { TableWriter } from './table-writer.js';
import type { CompressionHint } from './table-writer.js';

export class CompactionAborted extends Error {
  constructor() {
    super('compaction aborted by close');
  }
}

/**
 * Reads one input table for a compaction with read-ahead: `fill` reads the next blocks with one
 * asynchronous read and decodes them through the Compressor (both off the event loop) before the
 * synchronous merge consumes them; should the merge outrun the read-ahead, the next block is read
 * synchronously instead.
 */
class TableCursor {
  private readonly ready: ParsedBlock[] = [];
  private readyBytes = 0;
  private next = 0;
  /** Bytes of entries the merge took from this input (shadowed ones too). */
  read = 0;

  constructor(private readonly table: Table, private readonly compressor: Compressor) {}

  async fill(bytesWanted: number): Promise<void> {
    const from = this.next;
    let planned = this.readyBytes;
    while (planned < bytesWanted && this.next < this.table.blockCount) {
      this.next++;
      planned += this.table.meta.rawBytes / Math.max(1, this.table.blockCount);
    }
    for (const b of await this.table.loadBlocksAsync(from, this.next, this.compressor)) {
      this.ready.push(b);
      this.readyBytes += b.data.length;
    }
  }

  *entries(): Generator<[Buffer, Buffer | null]> {
    while (true) {
      let b = this.ready.shift();
      if (b) this.readyBytes -= b.data.length;
      else if (this.next < this.table.blockCount) b = this.table.loadBlock(this.next++, false);
      else break;
      const e = b.entries;
      for (let j = 0; j < b.count; j++) {
        const ko = e[j * 4]!;
        const vl = e[j * 4 + 3]!;
        const vo = e[j * 4 + 2]!;
        this.read += e[j * 4 + 1]! + (vl < 0 ? 0 : vl) + 8;
        yield [b.data.subarray(ko, ko + e[j * 4 + 1]!), vl < 0 ? null : b.data.subarray(vo, vo + vl)];
      }
    }
    if (this.table.tailUnreadable) {
      // Same failure as a scan of a damaged table: the compaction stops and leaves it alone.
      for (const _ of this.table.entries(this.table.maxKey, false)) break;
    }
  }
}

export interface CompactionContext {
  fs: FileSystem;
  dir: string;
  compressor: Compressor;
  compressionHint?: CompressionHint;
  cache: BlockCache;
  blockBytes: number;
  bloomFpRate: number;
  chunkBytes: number;
  sliceBytes: number;
  canPurge: ((key: Uint8Array, value: Uint8Array) => boolean) | undefined;
  report: (r: CorruptionReport) => void;
  nowMs: () => number;
  wait: (ms: number) => Promise<void>;
  closing: () => boolean;
  /** Bytes per second to pace at now (Infinity: unpaced); asked at every slice. */
  paceBytesPerSec: () => number;
}

export interface CompactionOutcome {
  output: Table | undefined;
  dropped: number;
  bytesRead: number;
}

/**
 * Merges `inputs` (adjacent, newest first) into table `num`. Entries of the newest input win;
 * at the bottom, engine tombstones and `canPurge` entries are dropped; so are entries that a
 * table in `newer` (durable tables newer than every input, pinned by the caller) shadows. Yields to the event loop
 * every `sliceBytes` of work and sleeps when ahead of the pace. The caller installs the output.
 */
export async function runCompaction(
  ctx: CompactionContext, inputs: Table[], num: number, bottom: boolean, newer: readonly Table[] = [],
): Promise<CompactionOutcome> {
  const shadowed = (k: Buffer): boolean => {
    if (newer.length === 0) return false;
    const h1 = keyHash1(k);
    const h2 = keyHash2(k);
    return newer.some((t) => t.get(k, h1, h2) !== undefined);
  };
  const path = joinPath(ctx.dir, tableFileName(num));
  // A damaged input's meta may not know its count: then the filter is built at the end.
  const expectedKeys = inputs.some((t) => t.meta.count === 0 && t.blockCount > 0) ? undefined : inputs.reduce((s, t) => s + t.meta.count, 0);
  const w = new TableWriter(ctx.fs, path, ctx.blockBytes, ctx.bloomFpRate, ctx.compressor, expectedKeys, ctx.compressionHint);
  let installed = false;
  try {
    await w.open();
    const cursors = inputs.map((t) => new TableCursor(t, ctx.compressor));
    await Promise.all(cursors.map((c) => c.fill(ctx.sliceBytes)));
    const readBytes = (): number => cursors.reduce((s, c) => s + c.read, 0);
    let dropped = 0;
    let sliceStart = 0;
    let paceStartMs = ctx.nowMs();
    let pacedBytes = 0;
    for (const [k, v] of mergeSources(cursors.map((c) => c.entries()))) {
      if (bottom && (v === null || (ctx.canPurge !== undefined && ctx.canPurge(k, v)))) dropped++;
      else if (shadowed(k)) dropped++;
      else w.add(k, v);
      if (w.pendingBytes >= ctx.chunkBytes) await w.drain();
      const work = readBytes() + w.rawBytes;
      if (work - sliceStart < ctx.sliceBytes) continue;
      if (ctx.closing()) throw new CompactionAborted();
      pacedBytes += work - sliceStart;
      sliceStart = work;
      const pace = ctx.paceBytesPerSec();
      const dueMs = Number.isFinite(pace) ? (pacedBytes / pace) * 1000 - (ctx.nowMs() - paceStartMs) : 0;
      if (!Number.isFinite(pace)) {
        pacedBytes = 0;
        paceStartMs = ctx.nowMs();
      }
      await ctx.wait(dueMs > 1 ? dueMs : 0);
      await Promise.all(cursors.map((c) => c.fill(ctx.sliceBytes)));
    }
    let output: Table | undefined;
    if (w.count > 0) {
      const meta = await w.finish({
        num,
        minSeq: Math.min(...inputs.map((t) => t.meta.minSeq)),
        maxSeq: Math.max(...inputs.map((t) => t.meta.maxSeq)),
        createdMs: ctx.nowMs(),
      });
      output = await Table.adopt(ctx.fs, path, num, ctx.cache, meta, w.finished);
    } else {
      await w.abort();
      await ctx.fs.unlink(path);
    }
    installed = true;
    return { output, dropped, bytesRead: readBytes() };
  } finally {
    if (!installed) {
      await w.abort();
      await ctx.fs.unlink(path).catch(() => undefined);
    }
  }
}
