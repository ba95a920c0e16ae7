/**
 * Dropping what a node no longer replicates. After a change flips, the partitions a node gave
 * away (all of them, for a node that left) stay on its disk: never read — they are in none of
 * its preference lists — but they fill the disk, so scaling out never frees space, and a node
 * that later takes such a partition back would merge its stale copies into the fresh ones: a
 * value deleted meanwhile, whose tombstone was reclaimed once every replica held it, would
 * come back.
 *
 * So once the cluster document has carried no transition for `sweepQuietTicks` (every node has
 * had time to hear of the flip, and coordinators on the older document have finished), a node
 * walks its data keyspace in storage order, a bounded number of keys and seeks per tick. The
 * first key met in a partition tells whose it is: a partition the node replicates in the ring
 * in force is skipped whole (one seek), one it does not has its keys dropped through the kv
 * store (`drop`), so the overlay of writes not yet durable and the anti-entropy trees follow.
 * A pass that reaches the end starts again `sweepEveryTicks` later (a replica write from a
 * coordinator still on an older document may have landed meanwhile), or after the next change.
 */
import { fromUtf8 } from '../bytes.js';
import { DATA_KEY_OFFSET, dataRange } from '../keys.js';
import type { Membership } from '../membership/index.js';
import { partitionOf, partitionRange } from '../ring/index.js';
import type { NodeId, StoreReader } from '../types.js';

export interface SweepSettings {
  /** Quiet time (no transition) before a pass starts. */
  readonly sweepQuietTicks: number;
  /** Time from the end of one pass to the start of the next. */
  readonly sweepEveryTicks: number;
  /** Keys dropped per tick at most. */
  readonly sweepKeysPerTick: number;
  /** Range reads per tick at most (one per partition looked at, plus one per page dropped). */
  readonly sweepSeeksPerTick: number;
}

export interface SweepEnv {
  readonly self: NodeId;
  readonly time: { readonly tick: number };
  readonly reader: StoreReader;
  readonly membership: Membership;
  readonly settings: SweepSettings;
  /** Removes this node's copy of `key` (the kv store's delete: overlay, engine, trees). */
  drop(key: string): void;
}

const ALL = dataRange(0, 2 ** 32);
/** About this many bytes of keys and states read per page of keys to drop (the first always comes). */
const PAGE_BYTES_MAX = 1024 * 1024;

export class StaleSweeper {
  /** Where the pass goes on: from `gte`, strictly after `after` when set. */
  private gte: Uint8Array = ALL.gte;
  private after: Uint8Array | undefined;
  private passing = true;
  private nextPassTick = 0;
  private quietSinceTick: number;
  private droppedTotal = 0;

  constructor(private readonly env: SweepEnv) {
    this.quietSinceTick = env.time.tick;
    env.membership.onChange(() => this.restart());
  }

  /** Keys this node dropped since it started (a metric). */
  get dropped(): number {
    return this.droppedTotal;
  }

  private restart(): void {
    this.quietSinceTick = this.env.time.tick;
    this.gte = ALL.gte;
    this.after = undefined;
    this.passing = true;
  }

  tick(): void {
    const { time, settings, membership } = this.env;
    const meta = membership.clusterMeta;
    const ring = membership.ring;
    if (!meta || !ring || meta.transition) return;
    if (time.tick - this.quietSinceTick < settings.sweepQuietTicks) return;
    if (!this.passing) {
      if (time.tick < this.nextPassTick) return;
      this.passing = true;
      this.gte = ALL.gte;
      this.after = undefined;
    }
    let keys = settings.sweepKeysPerTick;
    for (let seeks = settings.sweepSeeksPerTick; seeks > 0 && keys > 0; seeks--) {
      const first = this.env.reader.scanPage({ gte: this.gte, lt: ALL.lt, ...(this.after ? { after: this.after } : {}), countMax: 1, bytesMax: 1 }).entries[0];
      if (!first) {
        this.passing = false;
        this.nextPassTick = time.tick + settings.sweepEveryTicks;
        return;
      }
      const k = first[0];
      const hash = ((k[1]! << 24) | (k[2]! << 16) | (k[3]! << 8) | k[4]!) >>> 0;
      const p = partitionOf(hash, ring.partitionCount);
      const { start, endExclusive } = partitionRange(p, ring.partitionCount);
      const range = dataRange(start, endExclusive);
      if (ring.preferenceList(p).includes(this.env.self)) {
        this.gte = range.lt;
        this.after = undefined;
        continue;
      }
      // Not ours: drop from this key on, within the partition.
      const page = this.env.reader.scanPage({ gte: k, lt: range.lt, countMax: keys, bytesMax: PAGE_BYTES_MAX });
      for (const [key] of page.entries) {
        this.env.drop(fromUtf8(key.subarray(DATA_KEY_OFFSET)));
        this.after = key;
        keys--;
        this.droppedTotal++;
      }
      seeks--;
    }
  }
}
