import type { FileSystem } from '../../ports/file-system.js';
import type { Logger } from '../../ports/index.js';
import { toLatin1 } from '../bytes.js';
import { StorageError } from '../engine.js';
import { joinPath } from '../fs/file-system.js';
import type { BlockCache } from './block-cache.js';
import { replaySegment, segmentFileName } from './commit-log.js';
import { MANIFEST_TMP, readManifest } from './manifest.js';
import type { ManifestData } from './manifest.js';
import { Memtable } from './memtable.js';
import type { LsmEvent } from './options.js';
import { Table, tableFileName } from './sstable.js';
import type { CorruptionReport } from './sstable.js';

export function fileNumber(name: string, ext: string): number | undefined {
  if (!name.endsWith(ext)) return undefined;
  const n = Number(name.slice(0, -ext.length));
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

export interface RecoveryContext {
  fs: FileSystem;
  dir: string;
  cache: BlockCache;
  maxRecordBytes: number;
  salvage: boolean;
  logger: Logger;
  report: (r: CorruptionReport) => void;
  emit: (e: LsmEvent) => void;
}

export interface Recovered {
  /** Live tables, newest first. */
  tables: Table[];
  logNumber: number;
  nextFileNumber: number;
  /** The commit log replayed (its segments are deleted once it is in a table). */
  replayed: Memtable;
  replayedSegments: number[];
}

/** No trustworthy manifest: every table describes itself (its segment range says its age). */
async function rebuildFromDirectory(ctx: RecoveryContext, tableNums: number[]): Promise<Table[]> {
  const found: Table[] = [];
  for (const num of tableNums) {
    const path = joinPath(ctx.dir, tableFileName(num));
    try {
      found.push(await Table.open(ctx.fs, path, num, ctx.cache, ctx.report));
    } catch (err) {
      ctx.report({ file: path, what: `unreadable table: ${(err as Error).message}` });
    }
  }
  // Intact tables first, widest range first: a complete compaction output replaces its
  // inputs (tables whose range lies inside its own); a damaged (torn) one is dropped when the
  // inputs at both ends of its range exist.
  found.sort((a, b) => Number(a.damaged) - Number(b.damaged) || (b.meta.maxSeq - b.meta.minSeq) - (a.meta.maxSeq - a.meta.minSeq));
  const tables: Table[] = [];
  for (const t of found) {
    const covered = tables.some((o) => o.meta.minSeq <= t.meta.minSeq && o.meta.maxSeq >= t.meta.maxSeq);
    const replaced = t.damaged
      && tables.some((o) => o.meta.minSeq === t.meta.minSeq)
      && tables.some((o) => o.meta.maxSeq === t.meta.maxSeq);
    if (covered || replaced) await t.close();
    else tables.push(t);
  }
  return tables.sort((a, b) => b.meta.maxSeq - a.meta.maxSeq);
}

async function openListed(ctx: RecoveryContext, manifest: ManifestData): Promise<Table[]> {
  const tables: Table[] = [];
  for (const meta of manifest.tables) {
    const path = joinPath(ctx.dir, tableFileName(meta.num));
    if (!(await ctx.fs.exists(path))) {
      throw new StorageError('corruption', `table ${path} listed in the manifest is missing`, path);
    }
    tables.push(await Table.open(ctx.fs, path, meta.num, ctx.cache, ctx.report, meta));
  }
  return tables;
}

async function readManifestOrRebuild(ctx: RecoveryContext): Promise<{ manifest?: ManifestData; rebuild: boolean }> {
  try {
    const manifest = await readManifest(ctx.fs, ctx.dir);
    return manifest ? { manifest, rebuild: false } : { rebuild: false };
  } catch (err) {
    if (!(err instanceof StorageError) || err.code !== 'corruption') throw err;
    ctx.report({ file: err.file ?? joinPath(ctx.dir, 'MANIFEST'), what: `${err.message}; rebuilding the table set from the directory` });
    return { rebuild: true };
  }
}

/** Replays the live segments into one memtable (only the last written one may end torn). */
async function replayLog(ctx: RecoveryContext, replay: number[], firstFree: number): Promise<Memtable> {
  const { fs, dir } = ctx;
  const mt = new Memtable(replay[0] ?? firstFree);
  // Later segments than the last written one are spares, created ahead of use and never
  // written; every earlier one was synced whole before the log moved on.
  let lastWritten = -1;
  for (let i = 0; i < replay.length; i++) {
    const h = await fs.openRead(joinPath(dir, segmentFileName(replay[i]!)));
    if (fs.sizeSync(h) > 0) lastWritten = i;
    await fs.close(h);
  }
  for (let i = 0; i < replay.length; i++) {
    const path = joinPath(dir, segmentFileName(replay[i]!));
    const r = await replaySegment(fs, path, i >= lastWritten, ctx.maxRecordBytes, (k, v) => {
      mt.put(toLatin1(k), v);
    }, ctx.salvage);
    for (const sk of r.skipped) ctx.report({ file: path, offset: sk.offset, what: `${sk.what}; skipped ${sk.bytes} bytes (salvage)` });
    mt.maxSeq = replay[i]!;
    if (r.tornBytes > 0) {
      ctx.logger.warn('discarded a torn commit-log tail', { file: path, offset: r.tornOffset, bytes: r.tornBytes });
      ctx.emit({ type: 'log-tail-discarded', file: path, offset: r.tornOffset ?? 0, bytes: r.tornBytes });
    }
  }
  return mt;
}

/**
 * Reads the manifest (or rebuilds the table set from the directory when it is damaged),
 * deletes files no live state refers to (a crashed flush's or compaction's output, old
 * segments) and replays the commit log into a memtable.
 */
export async function recoverState(ctx: RecoveryContext): Promise<Recovered> {
  const { fs, dir } = ctx;
  await fs.mkdir(dir);
  const { manifest, rebuild } = await readManifestOrRebuild(ctx);
  const names = await fs.readdir(dir);
  const tableNums = names.map((n) => fileNumber(n, '.sst')).filter((n): n is number => n !== undefined);
  const logNums = names.map((n) => fileNumber(n, '.log')).filter((n): n is number => n !== undefined).sort((a, b) => a - b);
  let maxSeen = Math.max(0, ...tableNums, ...logNums);
  let tables: Table[] = [];
  let logNumber = 0;
  if (manifest) {
    logNumber = manifest.logNumber;
    maxSeen = Math.max(maxSeen, manifest.nextFileNumber - 1);
    tables = await openListed(ctx, manifest);
  } else if (rebuild || tableNums.length > 0) {
    tables = await rebuildFromDirectory(ctx, tableNums);
    logNumber = tables.reduce((m, t) => Math.max(m, t.meta.maxSeq + 1), 0);
  }
  const nextFileNumber = maxSeen + 1;
  const live = new Set(tables.map((t) => t.num));
  for (const name of names) {
    const t = fileNumber(name, '.sst');
    const l = fileNumber(name, '.log');
    if ((t !== undefined && !live.has(t)) || (l !== undefined && l < logNumber) || name === MANIFEST_TMP) {
      await fs.unlink(joinPath(dir, name));
    }
  }
  const replayedSegments = logNums.filter((n) => n >= logNumber);
  const replayed = await replayLog(ctx, replayedSegments, nextFileNumber);
  return { tables, logNumber, nextFileNumber, replayed, replayedSegments };
}
