import { BTree } from '../btree.js';

/**
 * What an entry costs beyond its key and value bytes, measured (node --expose-gc, 100k entries
 * of 15-byte keys and 100-byte values): ~158 bytes of V8 heap (the string key, the Buffer view,
 * its B-tree slot) and ~40 bytes of record framing and pool slack. Counting it keeps
 * `memtableBytes` a true bound on memory.
 */
const ENTRY_OVERHEAD_BYTES = 176;

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
    this.bytes += key.length + (value === null ? 0 : value.length) + ENTRY_OVERHEAD_BYTES;
  }

  get size(): number {
    return this.tree.size;
  }
}
