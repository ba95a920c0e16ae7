/** Resolving R and W, and tallying replies: pure functions in the manner of etcd's quorum package. */
import type { Consistency } from '../types.js';

export type Resolved = { ok: true; count: number } | { ok: false; message: string };

/**
 * Turns a requested consistency into a number of replies. `quorum` and `all` count against the
 * key's replicas — fewer than N when the ring has fewer than N members — while a number above
 * the cluster's N is refused.
 */
export function resolveConsistency(c: Consistency, clusterN: number, replicas: number, what: 'r' | 'w'): Resolved {
  if (c === 'one') return { ok: true, count: 1 };
  if (c === 'quorum') return { ok: true, count: Math.floor(replicas / 2) + 1 };
  if (c === 'all') return { ok: true, count: replicas };
  if (!Number.isInteger(c) || c < 1) return { ok: false, message: `${what} must be a positive integer, one, quorum or all` };
  if (c > clusterN) return { ok: false, message: `${what}=${c} is above N=${clusterN}` };
  return { ok: true, count: c };
}

export type TallyStatus = 'pending' | 'won' | 'lost';

/** Counts successes against a requirement out of a known number of voters. */
export function tally(required: number, voters: number, successes: number, failures: number): TallyStatus {
  if (successes >= required) return 'won';
  if (voters - failures < required) return 'lost';
  return 'pending';
}
