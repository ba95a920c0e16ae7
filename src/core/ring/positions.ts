/** Sorted partition positions on the circle (helpers of the claim algorithms in claim.ts). */

/** Circular distance from p to the nearest element of the sorted array `pos` (q if empty). */
export function nearestDistance(pos: readonly number[], p: number, q: number): number {
  if (pos.length === 0) return q;
  let lo = 0;
  let hi = pos.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pos[mid]! < p) lo = mid + 1;
    else hi = mid;
  }
  const after = pos[lo % pos.length]!;
  const before = pos[(lo - 1 + pos.length) % pos.length]!;
  const dAfter = (after - p + q) % q;
  const dBefore = (p - before + q) % q;
  return Math.min(dAfter, dBefore);
}

/** Inserts v into the sorted array `arr`, keeping it sorted. */
export function insertSorted(arr: number[], v: number): void {
  let i = arr.length;
  arr.push(v);
  while (i > 0 && arr[i - 1]! > v) {
    arr[i] = arr[i - 1]!;
    i--;
  }
  arr[i] = v;
}
