import { BTree } from '../btree.js';

/**
 * A sorted in-memory table keyed by the latin1 string of the key (string order = byte order).
 * `null` marks a delete. Values are views into the batch's log record, so one batch is one
 * allocation. Once frozen it is never mutated again, which lets scans and the flush read it
 * without copying.
 */
export class Memtable {
  readonly tree = new BTree<string, Buffer | null>();
  bytes = 0;
  /** Commit-log segments holding this memtable's writes. */
  minSeq: number;
  maxSeq: number;

  constructor(seq: number) {
    this.minSeq = seq;
    this.maxSeq = seq;
  }

  put(key: string, value: Buffer | null): void {
    this.tree.set(key, value);
    this.bytes += key.length + (value === null ? 0 : value.length) + 64;
  }

  get size(): number {
    return this.tree.size;
  }
}
