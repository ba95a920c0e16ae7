import type { PageOptions, ScanOptions, ScanPage } from '../ports/storage.js';
import { compareKeys } from './bytes.js';

/** The smallest key strictly greater than `key` (key + 0x00), for resuming after it. */
export function keySuccessor(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length + 1);
  out.set(key);
  return out;
}

/** Rejects nonsense bounds with a clear error rather than a silent empty page. */
export function checkPageOptions(o: PageOptions): void {
  if (!Number.isInteger(o.countMax) || o.countMax < 1) throw new RangeError(`scanPage: countMax must be an integer >= 1, got ${o.countMax}`);
  if (!(o.bytesMax >= 1)) throw new RangeError(`scanPage: bytesMax must be >= 1, got ${o.bytesMax}`);
}

/**
 * One page of a range scan, built on an engine's ordered `scan`: at most `countMax` entries
 * and about `bytesMax` bytes (the first entry always comes, so each page makes progress),
 * starting strictly after `after` when given. Every engine serves `scanPage` through this, so
 * the paging rules are the same everywhere.
 */
export function pageFromScan(
  scan: (o: ScanOptions) => Iterable<[Uint8Array, Uint8Array]>, o: PageOptions,
): ScanPage {
  checkPageOptions(o);
  let gte = o.gte;
  if (o.after !== undefined) {
    const next = keySuccessor(o.after);
    if (gte === undefined || compareKeys(next, gte) > 0) gte = next;
  }
  const entries: [Uint8Array, Uint8Array][] = [];
  let bytes = 0;
  if (o.lt !== undefined && gte !== undefined && compareKeys(gte, o.lt) >= 0) return { entries, resumeAfter: undefined, bytes };
  // One entry more than the page holds tells whether the range goes on.
  for (const [k, v] of scan({ ...(gte ? { gte } : {}), ...(o.lt ? { lt: o.lt } : {}), limit: o.countMax + 1 })) {
    const size = k.length + v.length;
    const full = entries.length >= o.countMax || (entries.length > 0 && bytes + size > o.bytesMax);
    if (full) return { entries, resumeAfter: entries[entries.length - 1]![0], bytes };
    entries.push([k, v]);
    bytes += size;
  }
  return { entries, resumeAfter: undefined, bytes };
}
