/**
 * When a tombstone may be forgotten. A key whose state holds only tombstones is purged by the
 * storage engine's compaction (its `canPurge` predicate asks `mayPurge`) only if:
 * - the stored value is this node's current state of the key (its hash is the tree's), so a newer
 *   write above it in the engine is never lost from the tree;
 * - this node has held that state since `since`, and after `since` an exchange with EVERY fellow
 *   replica of the partition found their roots equal to this node's: each of them held it too;
 * - a grace period has passed since `since` (longer than hints live, so no hint of an older
 *   version can arrive after the purge and bring the value back).
 * Never on a timer alone: without confirmations nothing is purged, however old.
 *
 * A replica that purged before a fellow did may get the tombstone back from it in a later
 * exchange (a join with nothing is the tombstone); it purges it again later. That costs bytes,
 * never a resurrection: the fellow still holds the tombstone, not the value.
 */
import type { NodeId } from '../types.js';

export class TombstoneTracker {
  /** Tombstone-only keys → nowMs since when this node holds their current state. */
  private readonly since = new Map<string, number>();

  /** A key's state changed (or was loaded at start-up, `nowMs` then: later than true, so safe). */
  /** `key` was written; `deleted`: its new state holds versions, all tombstones. */
  note(key: string, deleted: boolean, nowMs: number): void {
    if (deleted) this.since.set(key, nowMs);
    else this.since.delete(key);
  }

  forget(key: string): void {
    this.since.delete(key);
  }

  get size(): number {
    return this.since.size;
  }

  /** Whether `key`'s tombstones are confirmed at every fellow (`equalAt`) and past the grace. */
  mayPurge(key: string, fellows: readonly NodeId[], equalAt: ReadonlyMap<NodeId, number> | undefined, nowMs: number, graceMs: number): boolean {
    const since = this.since.get(key);
    if (since === undefined || fellows.length === 0 || !equalAt) return false;
    if (nowMs - since < graceMs) return false;
    return fellows.every((f) => (equalAt.get(f) ?? -Infinity) > since);
  }
}
