/**
 * How large one key's state may grow, so that it always fits one frame (issue 8, defect 2).
 *
 * Whole states cross the wire: a replica's answer to a read, a write's replication, a read
 * repair. A bound checked only where a write is coordinated does not hold at the replicas: two
 * coordinators that have not seen each other's writes each stay under it, and their merge does
 * not. So each coordinator gets a *share*: it accepts a write only when its own resulting state
 * stays within `stateBytesMax / n`.
 *
 * Why that bounds every merge: a sibling survives merges only while no context covers it, and a
 * coordinator drops its own siblings only when a context covers them. So every sibling alive
 * anywhere is still held by the coordinator (actor) that made it, and that coordinator's state —
 * which holds all its own live siblings — was within its share at its last accepted write. The
 * live siblings of a key, wherever merged, thus take at most (number of actors) × share. Only a
 * key's replicas coordinate its writes (a non-replica forwards, and a replica refuses a forwarded
 * write for a key it does not own), so with one actor per node there are at most N actors: every
 * merge, read repair or anti-entropy exchange stays within `stateBytesMax`. (A node that takes a
 * new actor id per run — `--memory`, the `periodic`/`none` commit logs, a wiped directory — brings
 * a share of its own per actor whose siblings are still alive; see docs/architecture.md.)
 */

/** Room beside one largest value for the key's context, sibling metadata and encoding. */
export const STATE_OVERHEAD_BYTES = 64 * 1024;

/** The largest state one coordinator lets a write create, out of a key's `stateBytesMax`. */
export function coordinatorStateBudget(stateBytesMax: number, n: number): number {
  return Math.floor(stateBytesMax / Math.max(1, n));
}

/** The largest value a write can always store (on a key with no other live versions). */
export function largestValueBytes(n: number, stateBytesMax = 7 * 1024 * 1024): number {
  return coordinatorStateBudget(stateBytesMax, n) - STATE_OVERHEAD_BYTES;
}
