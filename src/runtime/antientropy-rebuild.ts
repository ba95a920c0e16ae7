/**
 * Rebuilds anti-entropy's trees from the stored key data at start-up, in bounded pages: each tick
 * scans at most `rebuildKeysPerTick` keys of the `data` keyspace, resuming just past the last key
 * seen, so a restartable scan never holds an iterator across writes and never stalls the loop.
 */
import type { StorageEngine } from '../ports/index.js';
import type { AntiEntropyControl, Node } from '../core/node.js';
import { preferenceList } from '../core/ring/index.js';
import { ANTIENTROPY_LIMITS } from '../core/antientropy/index.js';
import { DATA_PREFIX } from '../core/keys.js';
import { fromUtf8 } from '../core/bytes.js';

export class TreeRebuild {
  private next: Uint8Array = new Uint8Array([DATA_PREFIX]);
  private done = false;
  loaded = 0;

  constructor(private readonly engine: StorageEngine, private readonly ae: AntiEntropyControl) {
    ae.beginLoad();
  }

  get finished(): boolean {
    return this.done;
  }

  /** Loads the next page; returns true once every stored key has been seen. */
  step(keysMax: number = ANTIENTROPY_LIMITS.rebuildKeysPerTick): boolean {
    if (this.done) return true;
    let n = 0;
    let last: Uint8Array | undefined;
    for (const [k, v] of this.engine.scan({ gte: this.next, lt: new Uint8Array([DATA_PREFIX + 1]), limit: keysMax })) {
      n++;
      last = k;
      if (k.length < 5) continue;
      const hash = ((k[1]! << 24) | (k[2]! << 16) | (k[3]! << 8) | k[4]!) >>> 0;
      this.ae.load(fromUtf8(k.subarray(5)), hash, v);
    }
    this.loaded += n;
    if (n < keysMax || !last) {
      this.done = true;
      this.ae.finishLoad();
      return true;
    }
    // The smallest key after `last`: `last` followed by a zero byte.
    const after = new Uint8Array(last.length + 1);
    after.set(last);
    this.next = after;
    return false;
  }
}

/** The root of each partition `nodeId` replicates; undefined while its trees are rebuilt. */
export function treeRootsOf(node: Node, nodeId: string): Record<number, number> | undefined {
  if (node.antiEntropy.isRebuilding) return undefined;
  const ring = node.currentRing;
  const out: Record<number, number> = {};
  for (let p = 0; p < ring.partitionCount; p++) {
    if (preferenceList(ring, p).includes(nodeId)) out[p] = node.antiEntropy.root(p);
  }
  return out;
}

/** Asks the core whether a stored `data` entry is a tombstone every replica confirmed (never other keyspaces). */
export function canPurgeEntry(node: Node, key: Uint8Array, value: Uint8Array): boolean {
  if (key[0] !== DATA_PREFIX || key.length < 5) return false;
  const hash = ((key[1]! << 24) | (key[2]! << 16) | (key[3]! << 8) | key[4]!) >>> 0;
  return node.antiEntropy.canPurge(fromUtf8(key.subarray(5)), hash, value);
}
