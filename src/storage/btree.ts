import sortedBtree from 'sorted-btree';

/**
 * sorted-btree is CommonJS with an `exports.default`: under Node's ESM loader (and TypeScript's
 * NodeNext view of it) the default import is the whole `module.exports`, whose `default` is the
 * class.
 */
type BTreeCtor = typeof sortedBtree.default;
const mod = sortedBtree as unknown as { default?: BTreeCtor };
export const BTree: BTreeCtor = mod.default ?? (sortedBtree as unknown as BTreeCtor);
export type BTree<K, V> = sortedBtree.default<K, V>;
