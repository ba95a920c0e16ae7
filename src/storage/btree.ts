import sortedBtree from 'sorted-btree';
import type { ScanOptions } from '../ports/storage.js';
import { toLatin1 } from './bytes.js';

/**
 * sorted-btree is CommonJS with an `exports.default`: under Node's ESM loader (and TypeScript's
 * NodeNext view of it) the default import is the whole `module.exports`, whose `default` is the
 * class.
 */
type BTreeCtor = typeof sortedBtree.default;
const mod = sortedBtree as unknown as { default?: BTreeCtor };
export const BTree: BTreeCtor = mod.default ?? (sortedBtree as unknown as BTreeCtor);
export type BTree<K, V> = sortedBtree.default<K, V>;

/**
 * The entries of a tree keyed by latin1 strings (string order is unsigned byte order) in
 * [gte, lt), ascending, at most `limit`. It walks an O(1) copy-on-write clone, so writes made
 * while the caller iterates do not disturb it.
 */
export function* latin1Range<V>(tree: BTree<string, V>, options: ScanOptions): Generator<[string, V]> {
  const limit = options.limit ?? Infinity;
  if (limit <= 0) return;
  const lo = options.gte ? toLatin1(options.gte) : undefined;
  const hi = options.lt ? toLatin1(options.lt) : undefined;
  let n = 0;
  for (const entry of tree.clone().entries(lo)) {
    if (hi !== undefined && entry[0] >= hi) return;
    yield entry;
    if (++n >= limit) return;
  }
}
