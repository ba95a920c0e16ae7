import { LsmEngine } from './engine.js';
import type { LsmOptions } from './options.js';

export { LsmEngine } from './engine.js';
export type { CompactionOptions, LsmEvent, LsmOptions, LsmStats } from './options.js';
export type { SyncPolicy } from './commit-log.js';
export type { CorruptionReport, TableMeta } from './sstable.js';
export { syncCompressor, zlibCompressor } from '../compress.js';
export { createWorkerCompressor, workerCompressor } from '../compress-worker.js';

/** Opens Gossamer's LSM engine in `options.dir` over `options.fs` (recovering after a crash). */
export function openLsmEngine(options: LsmOptions): Promise<LsmEngine> {
  return LsmEngine.open(options);
}
