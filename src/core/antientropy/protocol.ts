/**
 * Anti-entropy at one node: keeps a Merkle tree per partition up to date from every write of key
 * data (`noteWrite`), rebuilds them from a scan at start-up (`load`, fed in bounded pages by the
 * runtime), answers peers' exchanges, and drives its own: periodically (one partition and one
 * fellow replica at a time, round robin, jittered) and on demand (`repair`: every partition it
 * replicates with every fellow replica). See docs/antientropy.md.
 *
 * Throttling: exchanges in flight are bounded, and a token bucket of bytes (refilled each tick at
 * the current rate) must be positive before an exchange starts; every message sent draws from
 * it, so the average rate stays at or below the current rate. The rate adapts to load: the
 * runtime reports the event loop's lag each tick (`noteLag`); past `lagMsHigh` it halves, below
 * it grows back by a twentieth of the ceiling per second (AIMD).
 */
import type { KeyState } from '../clock/state.js';
import { decodeState, encodedTombstonesOnly, isEmptyEncoding } from '../clock/state.js';
import { utf8 } from '../bytes.js';
import type { Effects } from '../ready.js';
import type { Ring } from '../ring/index.js';
import { keyHash, preferenceList } from '../ring/index.js';
import type { NodeId } from '../types.js';
import { ANTIENTROPY_LIMITS } from './constants.js';
import type { AntiEntropyMessage } from './messages.js';
import { approxBytes } from './messages.js';
import type { KeysIn } from './tree.js';
import { Forest, keyIdHash, stateHash } from './tree.js';
import { Initiator } from './initiator.js';
import type { SyncEnv } from './sync.js';
import { answerSyncEntries, applySyncEntries, digestOf } from './sync.js';
import { TombstoneTracker } from './tombstones.js';
import type { AntiEntropyStats, RepairProgress } from './types.js';

export type { AntiEntropyStats, RepairProgress } from './types.js';
import type { ExchangeOutcome } from './initiator.js';

/** Past this size an encoded state holds values, not only tombstones (no 1 MiB decode per write). */
const TOMBSTONE_STATE_BYTES_MAX = 64 * 1024;

export interface AntiEntropySettings {
  intervalTicks: number;
  /** How long a tombstone every replica confirmed is kept before compaction may purge it. */
  tombstoneGraceMs: number;
  concurrentExchangesMax: number;
  bytesPerSecondMax: number;
  bytesPerSecondMin: number;
}

export interface AntiEntropyEnv {
  readonly self: NodeId;
  readonly fx: Effects;
  readonly time: { readonly tick: number; readonly nowMs: number };
  readonly tickMs: number;
  readonly settings: AntiEntropySettings;
  /** Seeds the jitter of the periodic interval (the node's incarnation). */
  readonly seed: number;
  ring(): Ring | undefined;
  nextId(): number;
  /**
   * This node's encoded state of `key` (writes not yet durable included; `null`: none): the
   * engine's bytes where durable, not decoded and encoded again.
   */
  read(key: string): Uint8Array | null;
  /**
   * Joins `state` (decoded from `bytes`) into this node's state of `key` (a normal replica
   * merge; writes if it changes, storing `bytes` as they are when the merge equals them);
   * returns the resulting state and whether it changed.
   */
  merge(key: string, state: KeyState, bytes: Uint8Array): { state: KeyState; changed: boolean };
  /** The names of the stored keys in a range of ring hashes (the trees keep no key names). */
  readonly keysIn: KeysIn;
}

interface RepairJob {
  queue: { partition: number; peer: NodeId }[];
  total: number;
  done: number;
  failed: number;
  keysRepaired: number;
  startedMs: number;
  finishedMs: number | null;
}

export class AntiEntropyProtocol {
  private forest: Forest | undefined;
  private rebuilding = false;
  private readonly touched = new Set<string>();
  private readonly exchanges = new Map<number, Initiator>();
  private bucket = 0;
  private rate: number;
  private nextPeriodicTick: number;
  private cursor = 0;
  private peerTurn = 0;
  private rng: number;
  private job: RepairJob | undefined;
  /** partition → peer → nowMs of the last exchange that ended equal. */
  private readonly equalAt = new Map<number, Map<NodeId, number>>();
  private readonly tombstones = new TombstoneTracker();
  readonly counters = { exchanges: 0, exchangesFailed: 0, keysCompared: 0, keysRepaired: 0, bytesSent: 0, tombstonesPurged: 0 };

  constructor(private readonly env: AntiEntropyEnv) {
    this.rate = env.settings.bytesPerSecondMax;
    this.rng = (env.seed ^ keyHash(utf8(env.self))) >>> 0;
    this.nextPeriodicTick = this.jittered();
  }

  /** The trees of the ring in force (made when the ring is first seen). */
  private trees(): Forest | undefined {
    const ring = this.env.ring();
    if (!ring) return undefined;
    if (!this.forest || this.forest.partitionCount !== ring.partitionCount) this.forest = new Forest(ring.partitionCount, this.env.keysIn);
    return this.forest;
  }

  /** A write of key data at this node (the hook sees every one): `null` means the key is gone. */
  noteWrite(key: string, ringHash: number, state: Uint8Array | null): void {
    if (this.rebuilding) this.touched.add(key);
    const gone = state === null || isEmptyEncoding(state);
    this.trees()?.update(key, ringHash, gone ? null : state);
    this.noteTombstone(key, gone ? null : state);
  }

  private noteTombstone(key: string, state: Uint8Array | null): void {
    // A state holding only tombstones is small; a large one holds values (not even walked).
    const deleted = state !== null && state.length <= TOMBSTONE_STATE_BYTES_MAX && encodedTombstonesOnly(state);
    this.tombstones.note(key, deleted, this.env.time.nowMs);
  }

  /**
   * The storage engine's compaction asks whether a stored key state may be dropped. True only
   * for a tombstone-only state that is this node's current one, confirmed at every fellow replica
   * by an exchange since this node has held it, and older than the grace period (tombstones.ts).
   * A true answer is the purge: the key leaves the tree at once.
   */
  canPurge(key: string, ringHash: number, state: Uint8Array): boolean {
    const forest = this.trees();
    const ring = this.env.ring();
    if (!forest || !ring || this.rebuilding) return false;
    const p = forest.partitionOf(ringHash);
    const tree = forest.tree(p);
    if (tree.hashOf(key, ringHash) !== stateHash(utf8(key), state)) return false;
    if (!this.tombstones.mayPurge(key, this.fellows(ring, p), this.equalAt.get(p), this.env.time.nowMs, this.env.settings.tombstoneGraceMs)) return false;
    tree.set(ringHash, keyIdHash(utf8(key)), undefined);
    this.tombstones.forget(key);
    this.counters.tombstonesPurged++;
    return true;
  }

  /** The start-up rebuild begins: trees are not compared until `finishLoad`. */
  beginLoad(): void {
    this.rebuilding = true;
    this.touched.clear();
  }

  /** Stored key states found by the rebuild's scan (a key written since the rebuild began wins). */
  load(key: string, ringHash: number, state: Uint8Array): void {
    if (this.touched.has(key)) return;
    const gone = isEmptyEncoding(state);
    this.trees()?.update(key, ringHash, gone ? null : state);
    this.noteTombstone(key, gone ? null : state);
  }

  finishLoad(): void {
    this.rebuilding = false;
    this.touched.clear();
  }

  get isRebuilding(): boolean {
    return this.rebuilding;
  }

  /** The root hash of `partition` at this node (0 when it holds none of its keys). */
  root(partition: number): number {
    return this.trees()?.root(partition) ?? 0;
  }

  /** The event loop's lag measured at this tick, in ms. */
  noteLag(lagMs: number): void {
    const s = this.env.settings;
    if (lagMs > ANTIENTROPY_LIMITS.lagMsHigh) this.rate = Math.max(s.bytesPerSecondMin, this.rate / 2);
    else this.rate = Math.min(s.bytesPerSecondMax, this.rate + (s.bytesPerSecondMax / 20) * (this.env.tickMs / 1000));
  }

  tick(): void {
    const now = this.env.time.tick;
    this.bucket = Math.min(this.rate, this.bucket + this.rate * (this.env.tickMs / 1000));
    for (const [id, x] of this.exchanges) {
      if (now >= x.deadlineTick) this.finish(id, x, 'failed');
    }
    if (this.rebuilding || !this.trees()) return;
    this.startRepairs();
    if (now >= this.nextPeriodicTick && !this.job) {
      this.nextPeriodicTick = now + this.jittered();
      this.startPeriodic();
    }
  }

  /** Starts a repair of `partition` (every partition this node replicates when omitted). */
  repair(partition?: number): RepairProgress {
    const ring = this.env.ring();
    if (!ring) return this.progress();
    const queue: RepairJob['queue'] = [];
    const parts = partition === undefined ? Array.from({ length: ring.partitionCount }, (_, i) => i) : [partition];
    for (const p of parts) {
      if (p < 0 || p >= ring.partitionCount) continue;
      for (const peer of this.fellows(ring, p)) queue.push({ partition: p, peer });
    }
    this.job = { queue, total: queue.length, done: 0, failed: 0, keysRepaired: 0, startedMs: this.env.time.nowMs, finishedMs: null };
    if (queue.length === 0) this.job.finishedMs = this.env.time.nowMs;
    return this.progress();
  }

  progress(): RepairProgress {
    const j = this.job;
    if (!j) return { running: false, total: 0, done: 0, failed: 0, keysRepaired: 0, startedMs: 0, finishedMs: null };
    return { running: j.finishedMs === null, total: j.total, done: j.done, failed: j.failed, keysRepaired: j.keysRepaired, startedMs: j.startedMs, finishedMs: j.finishedMs };
  }

  stats(): AntiEntropyStats {
    const lastFullRepairMs: Record<number, number> = {};
    const ring = this.env.ring();
    if (ring) {
      for (const [p, peers] of this.equalAt) {
        const fellows = this.fellows(ring, p);
        if (fellows.length > 0 && fellows.every((f) => peers.has(f))) lastFullRepairMs[p] = Math.min(...fellows.map((f) => peers.get(f)!));
      }
    }
    return {
      ...this.counters, bytesPerSecond: Math.round(this.rate), treeKeys: this.forest?.keyCount() ?? 0,
      rebuilding: this.rebuilding, lastFullRepairMs,
    };
  }

  step(from: NodeId, msg: AntiEntropyMessage): void {
    switch (msg.type) {
      case 'ae-hashes': this.answerHashes(from, msg); return;
      case 'ae-keys': this.answerKeys(from, msg); return;
      case 'ae-sync': this.answerSync(from, msg); return;
      default: {
        const x = this.exchanges.get(msg.id);
        if (!x || x.peer !== from) return;
        const outcome = x.onReply(msg);
        if (!outcome) return;
        this.finish(msg.id, x, outcome);
        // Pipelined: a repair's next exchange starts as soon as one ends (the throttle still
        // applies), not at the next tick: Q partitions no longer take Q / concurrency ticks.
        if (x.forRepair && !this.rebuilding) this.startRepairs();
      }
    }
  }


  private fellows(ring: Ring, partition: number): NodeId[] {
    const pl = preferenceList(ring, partition);
    return pl.includes(this.env.self) ? pl.filter((n) => n !== this.env.self) : [];
  }

  private jittered(): number {
    // xorshift32: deterministic jitter of ±25% from the seed.
    let x = this.rng || 1;
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    this.rng = x >>> 0;
    const base = this.env.settings.intervalTicks;
    return Math.max(1, Math.round(base * (0.75 + 0.5 * (this.rng / 2 ** 32))));
  }

  private canStart(): boolean {
    return this.exchanges.size < this.env.settings.concurrentExchangesMax && this.bucket > 0;
  }

  private startPeriodic(): void {
    const ring = this.env.ring();
    if (!ring || !this.canStart()) return;
    for (let i = 0; i < ring.partitionCount; i++) {
      const p = (this.cursor + i) % ring.partitionCount;
      const fellows = this.fellows(ring, p);
      if (fellows.length === 0) continue;
      this.cursor = p + 1;
      const peer = fellows[this.peerTurn++ % fellows.length]!;
      this.start(p, peer, false);
      return;
    }
  }

  private startRepairs(): void {
    const j = this.job;
    if (!j || j.finishedMs !== null) return;
    while (j.queue.length > 0 && this.canStart()) {
      const next = j.queue.shift()!;
      this.start(next.partition, next.peer, true);
    }
    if (j.queue.length === 0 && j.done + j.failed >= j.total) j.finishedMs = this.env.time.nowMs;
  }

  private start(partition: number, peer: NodeId, forRepair: boolean): void {
    const forest = this.trees();
    if (!forest) return;
    const id = this.env.nextId();
    const x = new Initiator({
      id, peer, partition, forRepair, tree: forest.tree(partition),
      deadlineTick: this.env.time.tick + ANTIENTROPY_LIMITS.exchangeTimeoutTicks,
      send: (m) => this.send(peer, m),
      stateOf: (key) => this.env.read(key),
      apply: (entries) => applySyncEntries(this.syncEnv(partition), entries),
      digestOf: (key) => this.digest(key),
      counters: this.counters,
    });
    this.exchanges.set(id, x);
    x.begin();
  }

  private finish(id: number, x: Initiator, outcome: ExchangeOutcome): void {
    this.exchanges.delete(id);
    if (outcome === 'failed') this.counters.exchangesFailed++;
    else {
      this.counters.exchanges++;
      if (outcome === 'equal') {
        let m = this.equalAt.get(x.partition);
        if (!m) this.equalAt.set(x.partition, (m = new Map()));
        m.set(x.peer, this.env.time.nowMs);
      }
    }
    const j = this.job;
    if (x.forRepair && j && j.finishedMs === null) {
      if (outcome === 'failed') j.failed++;
      else j.done++;
      j.keysRepaired += x.keysRepaired;
      if (j.queue.length === 0 && j.done + j.failed >= j.total) j.finishedMs = this.env.time.nowMs;
    }
  }


  private serves(from: NodeId, partition: number): boolean {
    const ring = this.env.ring();
    if (this.rebuilding || !ring || partition >= ring.partitionCount) return false;
    const pl = preferenceList(ring, partition);
    return pl.includes(this.env.self) && pl.includes(from);
  }

  private answerHashes(from: NodeId, msg: Extract<AntiEntropyMessage, { type: 'ae-hashes' }>): void {
    const forest = this.trees();
    if (!forest || !this.serves(from, msg.partition) || msg.level > forest.leafBits / ANTIENTROPY_LIMITS.fanoutBits) {
      this.send(from, { type: 'ae-hashes-reply', id: msg.id, busy: true, hashes: [] });
      return;
    }
    const tree = forest.tree(msg.partition);
    const depth = forest.leafBits / ANTIENTROPY_LIMITS.fanoutBits;
    if (msg.level === 0 && (msg.root === undefined || msg.root === tree.root || depth === 0)) {
      this.send(from, { type: 'ae-hashes-reply', id: msg.id, busy: false, hashes: [tree.root] });
      return;
    }
    const level = msg.level === 0 ? 1 : msg.level; // roots differ: straight to level 1
    const parentWidth = 2 ** ((level - 1) * ANTIENTROPY_LIMITS.fanoutBits);
    const fanout = 2 ** ANTIENTROPY_LIMITS.fanoutBits;
    const parents = msg.level === 0 ? [0] : msg.indices.slice(0, ANTIENTROPY_LIMITS.hashesPerMessageMax / fanout);
    const children = parents.flatMap((i) => (i < parentWidth ? tree.children(i) : []));
    if (msg.mine !== undefined && level === depth && msg.mine.length === children.length) {
      const differing = children.filter((c, i) => tree.nodeHash(level, c) !== msg.mine![i]);
      this.answerKeys(from, { type: 'ae-keys', id: msg.id, partition: msg.partition, leaves: differing }, differing);
      return;
    }
    const hashes = parents.flatMap((i) => tree.children(i).map((c) => (i < parentWidth ? tree.nodeHash(level, c) : 0)));
    this.send(from, { type: 'ae-hashes-reply', id: msg.id, busy: false, hashes, ...(msg.level === 0 ? { level } : {}) });
  }

  private answerKeys(from: NodeId, msg: Extract<AntiEntropyMessage, { type: 'ae-keys' }>, differing?: readonly number[]): void {
    const forest = this.trees();
    if (!forest || !this.serves(from, msg.partition)) {
      this.send(from, { type: 'ae-keys-reply', id: msg.id, busy: true, leaves: [], keys: [], hashes: [] });
      return;
    }
    const tree = forest.tree(msg.partition);
    const leaves: number[] = [];
    const keys: string[] = [];
    const hashes: number[] = [];
    for (const leaf of msg.leaves) {
      const entries = tree.leafEntries(leaf);
      // Whole leaves only, so the initiator knows which keys the peer lacks; at least one leaf.
      if (leaves.length > 0 && keys.length + entries.size > ANTIENTROPY_LIMITS.keysPerMessageMax) break;
      leaves.push(leaf);
      for (const [k, h] of entries) {
        keys.push(k);
        hashes.push(h);
      }
    }
    this.send(from, { type: 'ae-keys-reply', id: msg.id, busy: false, leaves, keys, hashes, ...(differing ? { differing } : {}) });
  }

  private answerSync(from: NodeId, msg: Extract<AntiEntropyMessage, { type: 'ae-sync' }>): void {
    if (!this.serves(from, msg.partition)) {
      this.send(from, { type: 'ae-sync-reply', id: msg.id, busy: true, entries: [], repaired: 0 });
      return;
    }
    const { back, want, repaired } = answerSyncEntries(this.syncEnv(msg.partition), msg.entries);
    this.send(from, { type: 'ae-sync-reply', id: msg.id, busy: false, entries: back, repaired, ...(want.length > 0 ? { want } : {}) });
  }

  private syncEnv(partition: number): SyncEnv {
    return {
      read: (key) => this.env.read(key),
      merge: (key, state, bytes) => this.env.merge(key, state, bytes),
      inPartition: (key) => {
        const f = this.trees();
        return f !== undefined && f.partitionOf(keyHash(utf8(key))) === partition;
      },
      noteRepaired: () => { this.counters.keysRepaired++; },
    };
  }

  /** This node's state of `key` with the values left out (`null`: none). */
  private digest(key: string): Uint8Array | null {
    const raw = this.env.read(key);
    if (raw === null) return null;
    try {
      return digestOf(decodeState(raw));
    } catch {
      return null;
    }
  }

  private send(to: NodeId, msg: AntiEntropyMessage): void {
    const bytes = approxBytes(msg);
    this.bucket -= bytes;
    this.counters.bytesSent += bytes;
    this.env.fx.send(to, msg);
  }
}
