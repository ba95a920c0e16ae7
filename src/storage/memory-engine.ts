import { BTree, latin1Range } from './btree.js';
import { copyBytes, fromLatin1, toLatin1 } from './bytes.js';
import { StorageError } from './engine.js';
import type { PageOptions, ScanOptions, ScanPage, StorageEngine, WriteOp } from '../ports/storage.js';
import { pageFromScan } from './scan-page.js';

/**
 * The in-memory engine: a sorted map keyed by the latin1 string of the key bytes (string order
 * is then unsigned byte order). Nothing is durable; `write` resolves on the next microtask.
 * Used by unit tests and the simulator where the disk is not the subject.
 */
export class MemoryEngine implements StorageEngine {
  private readonly tree = new BTree<string, Uint8Array>();
  private closed = false;

  get(key: Uint8Array): Uint8Array | undefined {
    const v = this.peek(key);
    return v === undefined ? undefined : copyBytes(v);
  }

  /** The stored bytes themselves (StorageEngine.peek). */
  peek(key: Uint8Array): Uint8Array | undefined {
    this.check();
    return this.tree.get(toLatin1(key));
  }

  write(batch: readonly WriteOp[]): Promise<void> {
    try {
      this.check();
    } catch (err) {
      return Promise.reject(err);
    }
    for (const op of batch) {
      const k = toLatin1(op.key);
      if (op.value === null) this.tree.delete(k);
      else this.tree.set(k, copyBytes(op.value));
    }
    return Promise.resolve();
  }

  *scan(options: ScanOptions = {}): IterableIterator<[Uint8Array, Uint8Array]> {
    this.check();
    for (const [k, v] of latin1Range(this.tree, options)) yield [fromLatin1(k), copyBytes(v)];
  }

  scanPage(options: PageOptions): ScanPage {
    return pageFromScan((o) => this.scan(o), options);
  }

  async close(): Promise<void> {
    this.check();
    this.closed = true;
  }

  private check(): void {
    if (this.closed) throw new StorageError('closed', 'storage engine is closed');
  }
}
