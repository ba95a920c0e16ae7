/**
 * Compaction policy: bounded size-tiered compaction over one tier of tables ordered by age
 * (newest first), in the manner of RocksDB's "universal" compaction with Cassandra's
 * size-tiered cap. Only adjacent tables are merged, so the age order stays total and a merge
 * that includes the oldest table is a merge "into the bottom" (nothing older below): there
 * engine tombstones and `canPurge` entries are dropped.
 *
 * Why tiered rather than leveled, and why bounded: see docs/storage.md ("Steady state"). In
 * short, Gossamer's steady load is fresh keys spread over the whole key space (keys start with
 * their hash), where leveled compaction rewrites each byte about ten times per level and tiered
 * about once per tier; but an unbounded tier grows one merge with the data set (the old
 * size-amplification rule merged everything, every time the newer tables reached twice the
 * oldest). Here no merge takes more than `mergeBytesMax` of input: a table past half of it is
 * "settled" and leaves the tiers, so the work of one merge is bounded whatever the data size.
 */
export interface CompactionPolicy {
  minMerge: number;
  maxMerge: number;
  sizeRatioPercent: number;
  maxSizeAmpPercent: number;
  /** Most input bytes of one merge. */
  mergeBytesMax: number;
}

export interface CompactionCandidate {
  bytes: number;
  damaged: boolean;
  /** Input of a running compaction. */
  busy: boolean;
}

export interface CompactionPick {
  /** Inclusive indexes into the newest-first table list. */
  start: number;
  end: number;
  reason: 'size-amplification' | 'size-ratio' | 'run-count';
}

/** A table this large never joins a run again (any run with it would pass mergeBytesMax). */
export function isSettled(bytes: number, p: Pick<CompactionPolicy, 'mergeBytesMax'>): boolean {
  return bytes * 2 > p.mergeBytesMax;
}

/** Tables still in the tiers: what a read probes beyond the settled ones, and what stalls count. */
export function unsettledCount(tables: readonly { bytes: number }[], p: Pick<CompactionPolicy, 'mergeBytesMax'>): number {
  let n = 0;
  for (const t of tables) if (!isSettled(t.bytes, p)) n++;
  return n;
}

const free = (t: CompactionCandidate, p: CompactionPolicy): boolean => !t.damaged && !t.busy && !isSettled(t.bytes, p);

/** The newest run of at least minMerge adjacent free tables of similar size, within the cap. */
function pickRun(tables: readonly CompactionCandidate[], p: CompactionPolicy, minMerge: number): CompactionPick | undefined {
  const n = tables.length;
  for (let i = 0; i < n; i++) {
    if (!free(tables[i]!, p)) continue;
    let acc = tables[i]!.bytes;
    let j = i + 1;
    while (j < n && j - i < p.maxMerge && free(tables[j]!, p)
      && tables[j]!.bytes * 100 <= acc * (100 + p.sizeRatioPercent) && acc + tables[j]!.bytes <= p.mergeBytesMax) {
      acc += tables[j]!.bytes;
      j++;
    }
    if (j - i >= minMerge) return { start: i, end: j - 1, reason: 'size-ratio' };
  }
  return undefined;
}

/**
 * What to merge next, or undefined. `runsMax` is the number of unsettled tables past which
 * any two adjacent free ones are merged, similar in size or not (reads probe every table, and
 * the write controller slows writes as the count grows).
 */
export function pickCompaction(tables: readonly CompactionCandidate[], p: CompactionPolicy, runsMax: number): CompactionPick | undefined {
  const n = tables.length;
  if (n < 2) return undefined;
  // 1. Space, while the whole store is small enough for one bounded merge: when the newer
  //    tables outweigh the oldest by maxSizeAmpPercent, merge everything (into the bottom).
  let total = 0;
  for (const t of tables) total += t.bytes;
  if (total <= p.mergeBytesMax && n >= p.minMerge && tables.every((t) => !t.damaged && !t.busy)) {
    const oldest = tables[n - 1]!.bytes;
    if ((total - oldest) * 100 >= p.maxSizeAmpPercent * oldest) return { start: 0, end: n - 1, reason: 'size-amplification' };
  }
  // 2. Runs of similar size, newest first.
  const run = pickRun(tables, p, p.minMerge);
  if (run) return run;
  // 3. Too many unsettled tables: merge the smallest adjacent pair of free ones.
  if (unsettledCount(tables, p) > runsMax) {
    let best: CompactionPick | undefined;
    let bestBytes = Infinity;
    for (let i = 0; i + 1 < n; i++) {
      const a = tables[i]!;
      const b = tables[i + 1]!;
      if (!free(a, p) || !free(b, p) || a.bytes + b.bytes > p.mergeBytesMax) continue;
      if (a.bytes + b.bytes < bestBytes) {
        bestBytes = a.bytes + b.bytes;
        best = { start: i, end: i + 1, reason: 'run-count' };
      }
    }
    return best;
  }
  return undefined;
}

/**
 * Compaction debt: the input bytes of every merge the policy would start now if it could run
 * them all (each pick marks its tables busy, then the next is sought). What the write
 * controller and /metrics watch.
 */
export function compactionDebtBytes(tables: readonly CompactionCandidate[], p: CompactionPolicy, runsMax: number): number {
  const work = tables.map((t) => ({ ...t }));
  let debt = 0;
  for (let guard = 0; guard < work.length; guard++) {
    const pick = pickCompaction(work, p, runsMax);
    if (!pick) break;
    for (let i = pick.start; i <= pick.end; i++) {
      debt += work[i]!.bytes;
      work[i]!.busy = true;
    }
  }
  return debt;
}
