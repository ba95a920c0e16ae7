/**
 * The "classic" consistent-hashing scheme (Dynamo strategy 1), kept only as the benchmark's
 * point of comparison: each node places T tokens at random points of the 32-bit circle and owns
 * the arc that ends at each of its tokens. Randomness comes from a tiny seeded PRNG, so a run is
 * reproducible; a node's tokens depend only on the seed and its nodeId, so a join or a leave
 * leaves every other node's tokens where they were (which is the point of the scheme).
 */
import { utf8 } from '../bytes.js';
import { keyHash } from './hash.js';

const CIRCLE = 2 ** 32;

/** mulberry32: a 32-bit seeded PRNG (Tommy Ettinger). Returns uint32 values. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

export interface ClassicRing {
  /** Token positions, ascending. */
  readonly tokens: readonly number[];
  /** tokenOwners[i] owns the arc (tokens[i-1], tokens[i]] (wrapping for i = 0). */
  readonly tokenOwners: readonly string[];
  readonly nodes: readonly string[];
}

export function classicTokens(nodeId: string, tokensPerNode: number, seed: number): number[] {
  const next = mulberry32((keyHash(utf8(nodeId)) ^ Math.imul(seed, 0x9e3779b1)) >>> 0);
  const out: number[] = [];
  for (let i = 0; i < tokensPerNode; i++) out.push(next());
  return out;
}

export function classicRing(nodeIds: readonly string[], tokensPerNode: number, seed: number): ClassicRing {
  if (nodeIds.length === 0) throw new RangeError('classicRing needs at least one node');
  const all: { t: number; id: string }[] = [];
  for (const id of nodeIds) for (const t of classicTokens(id, tokensPerNode, seed)) all.push({ t, id });
  all.sort((a, b) => a.t - b.t || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return {
    tokens: all.map((x) => x.t),
    tokenOwners: all.map((x) => x.id),
    nodes: [...nodeIds].sort(),
  };
}

/** Fraction of the key space each node owns (sum of its arcs / 2^32). */
export function classicOwnership(ring: ClassicRing): Map<string, number> {
  const out = new Map<string, number>();
  for (const id of ring.nodes) out.set(id, 0);
  const k = ring.tokens.length;
  for (let i = 0; i < k; i++) {
    const prev = i === 0 ? ring.tokens[k - 1]! - CIRCLE : ring.tokens[i - 1]!;
    const id = ring.tokenOwners[i]!;
    out.set(id, out.get(id)! + (ring.tokens[i]! - prev) / CIRCLE);
  }
  return out;
}

/** max and min ownership over the mean (1 / nodes). */
export function classicLoadStats(ring: ClassicRing): { maxOverMean: number; minOverMean: number } {
  const mean = 1 / ring.nodes.length;
  let max = 0;
  let min = Number.POSITIVE_INFINITY;
  for (const f of classicOwnership(ring).values()) {
    max = Math.max(max, f / mean);
    min = Math.min(min, f / mean);
  }
  return { maxOverMean: max, minOverMean: min };
}

/** Owner of hash h: the first token at or after h, wrapping. */
function ownerAt(ring: ClassicRing, h: number): string {
  let lo = 0;
  let hi = ring.tokens.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ring.tokens[mid]! < h) lo = mid + 1;
    else hi = mid;
  }
  return ring.tokenOwners[lo === ring.tokens.length ? 0 : lo]!;
}

/** Fraction of the key space whose owner differs between two token rings. */
export function classicMovedFraction(a: ClassicRing, b: ClassicRing): number {
  // Between consecutive boundaries of either ring both owners are constant; an interval (x, y]
  // has the owner of y in each ring.
  const bounds = [...new Set([...a.tokens, ...b.tokens])].sort((x, y) => x - y);
  let moved = 0;
  for (let i = 0; i < bounds.length; i++) {
    const y = bounds[i]!;
    const x = i === 0 ? bounds[bounds.length - 1]! - CIRCLE : bounds[i - 1]!;
    if (ownerAt(a, y) !== ownerAt(b, y)) moved += y - x;
  }
  return moved / CIRCLE;
}
