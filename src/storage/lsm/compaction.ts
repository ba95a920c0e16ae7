/**
 * Size-tiered compaction over a single tier of tables ordered by age (newest first), in the
 * manner of RocksDB's "universal" compaction. Only adjacent tables are merged, so the age order
 * stays total and a merge that includes the oldest table is a merge "into the bottom" (nothing
 * older below): there engine tombstones and `canPurge` entries are dropped.
 *
 * Why size-tiered rather than leveled: Gossamer nodes are write-heavy (every replica write,
 * hint and read repair lands here) and reads are point gets that bloom filters make cheap, so
 * the lower write amplification of tiering buys more than leveled's smaller read fan-out; the
 * table count is capped (maxTables, and the stall bound) so a read still costs at most a few
 * `pread`s. Space amplification is bounded by the size-amplification rule, which is also what
 * regularly compacts into the bottom and purges tombstones.
 */
export interface CompactionPolicy {
  minMerge: number;
  maxMerge: number;
  sizeRatioPercent: number;
  maxSizeAmpPercent: number;
  maxTables: number;
}

export interface CompactionPick {
  /** Inclusive indexes into the newest-first table list. */
  start: number;
  end: number;
  reason: 'size-amplification' | 'size-ratio' | 'table-count';
}

export function pickCompaction(tables: readonly { bytes: number; damaged: boolean }[], p: CompactionPolicy): CompactionPick | undefined {
  const n = tables.length;
  if (n < 2) return undefined;
  const anyDamaged = tables.some((t) => t.damaged);
  // 1. Space: when the newer tables outweigh the oldest by maxSizeAmpPercent, merge everything.
  if (!anyDamaged) {
    const oldest = tables[n - 1]!.bytes;
    let newer = 0;
    for (let i = 0; i < n - 1; i++) newer += tables[i]!.bytes;
    if (n >= p.minMerge && newer * 100 >= p.maxSizeAmpPercent * oldest) {
      return { start: 0, end: n - 1, reason: 'size-amplification' };
    }
  }
  // 2. Runs of similar size, newest first.
  for (let i = 0; i < n; i++) {
    if (tables[i]!.damaged) continue;
    let acc = tables[i]!.bytes;
    let j = i + 1;
    while (j < n && j - i < p.maxMerge && !tables[j]!.damaged && tables[j]!.bytes * 100 <= acc * (100 + p.sizeRatioPercent)) {
      acc += tables[j]!.bytes;
      j++;
    }
    if (j - i >= p.minMerge) return { start: i, end: j - 1, reason: 'size-ratio' };
  }
  // 3. Too many tables: merge the newest ones.
  if (n > p.maxTables) {
    let end = 0;
    while (end + 1 < n && end + 1 < p.maxMerge && !tables[end + 1]!.damaged && end + 1 < n - p.maxTables + 1) end++;
    if (!tables[0]!.damaged && end > 0) return { start: 0, end, reason: 'table-count' };
  }
  return undefined;
}
