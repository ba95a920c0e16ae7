/**
 * One exchange, seen from the node that drives it: compare the roots, descend level by level
 * only below nodes whose hashes differ, fetch the peer's per-key hashes of the differing leaves
 * (whole leaves, in as many requests as the bound needs), then push this node's states of the
 * differing keys and merge what the peer sends back. The outcome is `equal` when the roots
 * matched at once, `repaired` when keys were exchanged, `failed` on a busy peer or a timeout.
 */
import { utf8 } from '../bytes.js';
import { keyHash } from '../ring/index.js';
import type { NodeId } from '../types.js';
import { ANTIENTROPY_LIMITS } from './constants.js';
import type { AntiEntropyMessage, SyncEntry } from './messages.js';
import type { PartitionTree } from './tree.js';

export type ExchangeOutcome = 'equal' | 'repaired' | 'failed';

export interface InitiatorDeps {
  readonly id: number;
  readonly peer: NodeId;
  readonly partition: number;
  readonly forRepair: boolean;
  readonly tree: PartitionTree;
  readonly deadlineTick: number;
  send(msg: AntiEntropyMessage): void;
  /** This node's encoded state of `key` as stored (`null`: none). */
  stateOf(key: string): Uint8Array | null;
  /** This node's state of `key` with the values left out (`null`: none; sync.ts). */
  digestOf(key: string): Uint8Array | null;
  /** Merges the peer's states; returns how many changed this node's. */
  apply(entries: readonly SyncEntry[]): number;
  readonly counters: { keysCompared: number };
}

export class Initiator {
  readonly peer: NodeId;
  readonly partition: number;
  readonly forRepair: boolean;
  readonly deadlineTick: number;
  keysRepaired = 0;
  private level = 0;
  private asked: readonly number[] = [];
  private leavesLeft: number[] = [];
  private syncsOut = 0;

  constructor(private readonly d: InitiatorDeps) {
    this.peer = d.peer;
    this.partition = d.partition;
    this.forRepair = d.forRepair;
    this.deadlineTick = d.deadlineTick;
  }

  begin(): void {
    this.level = 0;
    this.asked = [0];
    // With our root: a peer whose root differs answers with its level-1 hashes at once.
    this.d.send({ type: 'ae-hashes', id: this.d.id, partition: this.partition, level: 0, indices: [0], root: this.d.tree.root });
  }

  /** A reply of the peer; returns the outcome once the exchange is over. */
  onReply(msg: AntiEntropyMessage): ExchangeOutcome | undefined {
    switch (msg.type) {
      case 'ae-hashes-reply': {
        if (msg.busy) return 'failed';
        if (this.level === 0 && msg.level === 1 && this.d.tree.depth >= 1) {
          this.level = 1; // the roots differed and the peer went down a level at once
          this.asked = this.d.tree.children(0);
        }
        return this.onHashes(msg.hashes);
      }
      case 'ae-keys-reply': {
        if (msg.busy) return 'failed';
        if (msg.differing !== undefined) {
          // The peer compared the leaves itself (we sent ours): these differ.
          if (msg.differing.length === 0) return this.maybeDone();
          this.leavesLeft = [...msg.differing];
        }
        return this.onKeys(msg.leaves, msg.keys, msg.hashes);
      }
      case 'ae-sync-reply': {
        if (msg.busy) return 'failed';
        this.keysRepaired += this.d.apply(msg.entries) + msg.repaired;
        // Keys we sent as a digest whose versions the peer lacks: now the whole states.
        if (msg.want !== undefined && msg.want.length > 0) this.pushStates(msg.want, new Set());
        this.syncsOut--;
        return this.maybeDone();
      }
      default: return undefined;
    }
  }

  /**
   * Asks for the hashes at `level` of the children of `parents`. At the leaf level it sends its
   * own, and the peer answers with the keys of the leaves that differ: one round trip, not two.
   */
  private askHashes(level: number, parents: readonly number[]): void {
    this.level = level;
    this.asked = parents.flatMap((i) => this.d.tree.children(i));
    const leafLevel = level === this.d.tree.depth && this.asked.length <= ANTIENTROPY_LIMITS.hashesPerMessageMax;
    const mine = leafLevel ? { mine: this.asked.map((c) => this.d.tree.nodeHash(level, c)) } : {};
    this.d.send({ type: 'ae-hashes', id: this.d.id, partition: this.partition, level, indices: parents, ...mine });
  }

  private onHashes(theirs: readonly number[]): ExchangeOutcome | undefined {
    if (theirs.length !== this.asked.length) return 'failed';
    const differing = this.asked.filter((idx, i) => this.d.tree.nodeHash(this.level, idx) !== theirs[i]);
    if (differing.length === 0) return this.level === 0 ? 'equal' : 'repaired';
    if (this.level < this.d.tree.depth) {
      this.askHashes(this.level + 1, differing);
      return undefined;
    }
    this.leavesLeft = differing;
    this.askKeys();
    return undefined;
  }

  private askKeys(): void {
    const leaves = this.leavesLeft.slice(0, ANTIENTROPY_LIMITS.hashesPerMessageMax);
    this.d.send({ type: 'ae-keys', id: this.d.id, partition: this.partition, leaves });
  }

  private onKeys(leaves: readonly number[], keys: readonly string[], hashes: readonly number[]): ExchangeOutcome | undefined {
    const covered = new Set(leaves);
    if (covered.size === 0) return 'failed';
    const theirs = new Map<string, number>();
    keys.forEach((k, i) => theirs.set(k, hashes[i]!));
    const differing: string[] = [];
    const bothHold = new Set<string>();
    for (const leaf of leaves) {
      const mine = this.d.tree.leafEntries(leaf);
      this.d.counters.keysCompared += mine.size;
      for (const [k, h] of mine) {
        const t = theirs.get(k);
        if (t === h) continue;
        differing.push(k);
        if (t !== undefined) bothHold.add(k);
      }
    }
    for (const k of theirs.keys()) {
      const ringHash = keyHash(utf8(k));
      if (!covered.has(this.d.tree.leafOf(ringHash))) continue;
      // The tree holds every key this node has a state of: no store read, no decode.
      if (this.d.tree.hashOf(k, ringHash) === undefined) {
        differing.push(k);
        this.d.counters.keysCompared++;
      }
    }
    this.pushStates(differing, bothHold);
    this.leavesLeft = this.leavesLeft.filter((l) => !covered.has(l));
    if (this.leavesLeft.length > 0) this.askKeys();
    return this.maybeDone();
  }

  /**
   * Sends this node's states of `keys` in batches within the message bounds; a key in `digests`
   * (the peer holds it too) goes as a digest, its values left out (sync.ts).
   */
  private pushStates(keys: readonly string[], digests: ReadonlySet<string>): void {
    let batch: SyncEntry[] = [];
    let bytes = 0;
    const flush = (): void => {
      if (batch.length === 0) return;
      this.d.send({ type: 'ae-sync', id: this.d.id, partition: this.partition, entries: batch });
      this.syncsOut++;
      batch = [];
      bytes = 0;
    };
    for (const key of keys) {
      // A key this node lacks goes as null without a read: the tree has every key it holds.
      const held = this.d.tree.hashOf(key, keyHash(utf8(key))) !== undefined;
      const digest = held && digests.has(key) ? this.d.digestOf(key) : null;
      const state = !held || digest !== null ? null : this.d.stateOf(key);
      const size = (state?.length ?? 0) + (digest?.length ?? 0);
      if (batch.length >= ANTIENTROPY_LIMITS.keysPerMessageMax || (batch.length > 0 && bytes + size > ANTIENTROPY_LIMITS.syncBytesMax)) flush();
      batch.push(digest !== null ? { key, state: null, digest } : { key, state });
      bytes += size + key.length;
    }
    flush();
  }

  private maybeDone(): ExchangeOutcome | undefined {
    if (this.syncsOut > 0 || this.leavesLeft.length > 0) return undefined;
    return 'repaired';
  }
}
