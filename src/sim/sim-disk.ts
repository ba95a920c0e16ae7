/**
 * A storage engine on a simulated disk: writes are visible at once and become durable when a
 * simulated fsync completes (in order, as group commit does). A crash keeps only what was
 * durable. The engine's promises settle from the virtual clock's queue.
 */
import type { PageOptions, ScanOptions, ScanPage, StorageEngine, WriteOp } from '../ports/storage.js';
import { BTree, latin1Range } from '../storage/btree.js';
import { pageFromScan } from '../storage/scan-page.js';
import type { EventQueue } from './virtual-time.js';
import type { Prng } from './prng.js';

const latin1 = (b: Uint8Array): string => {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
};
const fromLatin1 = (s: string): Uint8Array => {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
};

/** The durable contents of one node's disk; it outlives crashes. */
export class SimDisk {
  readonly durable = new Map<string, Uint8Array>();
  fsyncs = 0;
}

export class SimDiskEngine implements StorageEngine {
  /** Sorted (latin1 order is unsigned byte order): a range read costs its range, not the disk. */
  private readonly live = new BTree<string, Uint8Array>();
  private lastSyncAt = 0;
  private crashed = false;

  constructor(
    private readonly disk: SimDisk,
    private readonly queue: EventQueue,
    private readonly rng: Prng,
    private readonly fsyncMs: { min: number; max: number } = { min: 0.2, max: 2 },
  ) {
    for (const [k, v] of disk.durable) this.live.set(k, v);
  }

  get(key: Uint8Array): Uint8Array | undefined {
    return this.live.get(latin1(key));
  }

  write(batch: readonly WriteOp[]): Promise<void> {
    if (this.crashed) return new Promise(() => {}); // a crashed process never hears back
    const entries = batch.map((op) => [latin1(op.key), op.value] as const);
    for (const [k, v] of entries) {
      if (v === null) this.live.delete(k);
      else this.live.set(k, v);
    }
    // Durable in submission order: each fsync completes no earlier than the previous one.
    const at = Math.max(this.lastSyncAt, this.queue.now + this.fsyncMs.min + this.rng.next() * (this.fsyncMs.max - this.fsyncMs.min));
    this.lastSyncAt = at;
    return new Promise((resolve) => {
      this.queue.schedule(at - this.queue.now, () => {
        if (this.crashed) return;
        this.disk.fsyncs++;
        for (const [k, v] of entries) {
          if (v === null) this.disk.durable.delete(k);
          else this.disk.durable.set(k, v);
        }
        resolve();
      });
    });
  }

  *scan(options: ScanOptions = {}): IterableIterator<[Uint8Array, Uint8Array]> {
    for (const [k, v] of latin1Range(this.live, options)) yield [fromLatin1(k), v];
  }

  scanPage(options: PageOptions): ScanPage {
    return pageFromScan((o) => this.scan(o), options);
  }

  /** The process dies: nothing more reaches the disk. */
  crash(): void {
    this.crashed = true;
  }

  async close(): Promise<void> {
    this.crashed = true;
  }
}
