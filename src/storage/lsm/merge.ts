import { compareKeys } from '../bytes.js';

/** An ordered stream of entries; `null` is a tombstone. */
export type EntryIterator = Iterator<[Buffer, Buffer | null]>;

/**
 * Merges sorted sources into one sorted stream holding, per key, only the entry of the
 * highest-priority source (index 0 = newest). Tombstones are passed through: the caller
 * decides whether to hide or keep them. Sources are few (memtables + tables), so a linear
 * pick of the smallest head beats a heap.
 */
export function* mergeSources(sources: EntryIterator[]): Generator<[Buffer, Buffer | null]> {
  const heads: ([Buffer, Buffer | null] | undefined)[] = sources.map((s) => {
    const r = s.next();
    return r.done ? undefined : r.value;
  });
  while (true) {
    let best = -1;
    let bestKey: Buffer | undefined;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      if (h === undefined) continue;
      if (bestKey === undefined || compareKeys(h[0], bestKey) < 0) {
        best = i;
        bestKey = h[0];
      }
    }
    if (best < 0 || bestKey === undefined) return;
    const winner = heads[best]!;
    // Advance every source positioned on the same key (older versions are shadowed).
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      if (h === undefined) continue;
      if (i === best || compareKeys(h[0], bestKey) === 0) {
        const r = sources[i]!.next();
        heads[i] = r.done ? undefined : r.value;
      }
    }
    yield winner;
  }
}
