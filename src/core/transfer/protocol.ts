/**
 * Partition transfer at one node: while the cluster document carries a transition, this node
 * pulls each moving partition it is a new replica of from a source, in bounded chunks, paced per
 * tick, with its cursor persisted in the same Ready as each chunk (so it resumes after a crash);
 * it serves the pulls of others from its engine; it proposes the partitions it finished
 * (done-marking, re-proposed until a winning document has them) and, once every moving partition
 * is done, the flip. See docs/membership.md, "Partition transfer".
 *
 * It also pushes the cluster document to the other members while a change is under way
 * (`xfer-doc`), and answers an older document with its own: until gossip spreads documents, this
 * is how proposals made at one node reach the others. Installing is `Membership.install`, so a
 * duplicate or an older document is a no-op.
 */
import { compareBytes, fromUtf8, utf8 } from '../bytes.js';
import type { KeyState } from '../clock/state.js';
import { decodeState } from '../clock/state.js';
import type { FailureDetector } from '../handoff/detector.js';
import { dataRange, storageWrite } from '../keys.js';
import type { ClusterMeta, Membership } from '../membership/index.js';
import { decodeClusterMeta, encodeClusterMeta, supersedes } from '../membership/index.js';
import type { Effects } from '../ready.js';
import { keyHash, partitionForKey, partitionRange } from '../ring/index.js';
import type { NodeId, StoreReader } from '../types.js';
import type { TransferSettings } from './constants.js';
import type { Cursor } from './cursor.js';
import { cursorKey, decodeCursor, encodeCursor } from './cursor.js';
import type { TransferMessage } from './messages.js';
import type { TransitionView } from './plan.js';
import { allDone, flipped, markedTransition, movingPartitions, newReplicas, sourcesFor, streamedEntry, viewOf } from './plan.js';
import { servePull } from './source.js';
import { StaleSweeper } from './sweep.js';

export interface TransferEnv {
  readonly self: NodeId;
  readonly fx: Effects;
  readonly time: { readonly tick: number };
  readonly detector: FailureDetector;
  readonly settings: TransferSettings;
  readonly reader: StoreReader;
  readonly membership: Membership;
  /** Merges a received key state into this node's own data (the kv protocol's replica merge). */
  merge(key: string, state: KeyState): void;
  /** Removes this node's copy of a key (the kv store's delete): the sweep of partitions it gave away. */
  drop(key: string): void;
  nextId(): number;
}

export type PartitionState = 'pending' | 'streaming' | 'done';

interface Task {
  readonly partition: number;
  state: PartitionState;
  after: Uint8Array | undefined;
  keys: number;
  bytes: number;
  source: NodeId | undefined;
  readonly failed: Set<NodeId>;
  inflight: { id: number; to: NodeId; deadlineTick: number } | undefined;
  /** 1: the first pass; 2: the catch-up pass, which starts a settle time after the first ended. */
  pass: 1 | 2;
  /** No pull before this tick (the wait before the catch-up pass). */
  notBeforeTick: number;
}

/** Counters since the node started (metrics). */
export interface TransferStats {
  readonly partitions: { readonly pending: number; readonly streaming: number; readonly done: number };
  readonly keysTotal: number;
  readonly bytesTotal: number;
  /** Bytes this node served to others as a source. */
  readonly bytesServedTotal: number;
  /** Chunks refused as malformed (keys outside the partition, undecodable states). */
  readonly chunksRejected: number;
  readonly sourceFailovers: number;
  /** Keys dropped from partitions this node no longer replicates (sweep.ts). */
  readonly keysDroppedTotal: number;
}

/** What this node knows of the change under way (for `GET /admin/transition`). */
export interface TransferProgress {
  /** Undefined when no change is under way. */
  readonly transition?: { readonly id: string; readonly version: number; readonly moving: number; readonly done: number };
  /** This node's place: a member, joining (in the next ring only), leaving (in the current only), left. */
  readonly role: 'member' | 'joining' | 'leaving' | 'left' | 'none';
  /** The moving partitions this node receives. */
  readonly partitions: readonly { partition: number; state: PartitionState; keys: number; bytes: number; source?: NodeId }[];
}

export class TransferProtocol {
  private seen: ClusterMeta | undefined;
  private view: TransitionView | undefined;
  private readonly tasks = new Map<number, Task>();
  private readonly extraCache = new Map<number, NodeId[]>();
  private startTick = 0;
  private lastChangeTick = Number.NEGATIVE_INFINITY;
  private nextMarkTick = 0;
  private nextPushTick = 0;
  /** Every node named by the documents of the change under way or just finished (push recipients). */
  private readonly lately = new Set<NodeId>();
  private docBytes: { meta: ClusterMeta; bytes: Uint8Array } | undefined;
  private counters = { keysTotal: 0, bytesTotal: 0, bytesServedTotal: 0, chunksRejected: 0, sourceFailovers: 0 };
  private readonly sweeper: StaleSweeper;

  constructor(private readonly env: TransferEnv) {
    this.sweeper = new StaleSweeper(env);
    // Documents are pushed only around ring changes: a cluster whose ring never changes sees no transfer traffic.
    env.membership.onChange((next, prev) => {
      if (!next.transition && !prev?.transition) return;
      this.lastChangeTick = env.time.tick;
      // Members that leave the document still hear of it for a while (a departed node learns it left).
      for (const d of [prev, next]) for (const m of [...(d?.members ?? []), ...(d?.transition?.members ?? [])]) this.lately.add(m.nodeId);
    });
  }

  /** The replicas `key` gains in the change under way: the put path's extra copies (dual writes). */
  pendingReplicas(key: string): readonly NodeId[] {
    this.refresh();
    const view = this.view;
    if (!view || this.env.settings.bug === 'no-dual-writes') return [];
    const p = partitionForKey(view.current, utf8(key));
    let extra = this.extraCache.get(p);
    if (!extra) {
      extra = newReplicas(view, p);
      this.extraCache.set(p, extra);
    }
    return extra;
  }

  /** Whether this node takes replica traffic: it is in the ring in force or in the one it leads to. */
  acceptsReplicaTraffic(): boolean {
    const role = this.role();
    return role !== 'left';
  }

  role(): TransferProgress['role'] {
    const meta = this.env.membership.clusterMeta;
    if (!meta) return 'none';
    const self = this.env.self;
    const now = meta.members.some((m) => m.nodeId === self);
    const next = meta.transition ? meta.transition.members.some((m) => m.nodeId === self) : now;
    return now && next ? 'member' : next ? 'joining' : now ? 'leaving' : 'left';
  }

  step(from: NodeId, m: TransferMessage): void {
    switch (m.type) {
      case 'xfer-pull':
        this.counters.bytesServedTotal += servePull(this.env.self, this.env.membership.ring, this.env.reader, this.env.fx, this.env.settings, from, m);
        return;
      case 'xfer-chunk':
        this.onChunk(from, m);
        return;
      case 'xfer-refuse':
        this.onRefuse(from, m.id, m.partition);
        return;
      case 'xfer-doc':
        this.onDoc(from, m.meta);
        return;
    }
  }

  tick(): void {
    this.refresh();
    const now = this.env.time.tick;
    const s = this.env.settings;
    if (this.view && now >= this.startTick + s.settleTicks) this.pullMore();
    if (this.view && now >= this.nextMarkTick) {
      this.nextMarkTick = now + s.markEveryTicks;
      this.markAndFlip();
    }
    if (now >= this.nextPushTick && (this.view || now - this.lastChangeTick < s.docPushQuietTicks)) {
      this.nextPushTick = now + s.docPushEveryTicks;
      this.pushDoc();
    } else if (!this.view && now - this.lastChangeTick >= s.docPushQuietTicks) {
      this.lately.clear();
    }
    this.sweeper.tick();
  }

  stats(): TransferStats {
    const partitions = { pending: 0, streaming: 0, done: 0 };
    for (const t of this.tasks.values()) partitions[t.state]++;
    return { partitions, ...this.counters, keysDroppedTotal: this.sweeper.dropped };
  }

  progress(): TransferProgress {
    this.refresh();
    const meta = this.seen;
    const view = this.view;
    const partitions = [...this.tasks.values()].map((t) => ({
      partition: t.partition, state: t.state, keys: t.keys, bytes: t.bytes, ...(t.source !== undefined ? { source: t.source } : {}),
    }));
    if (!view || !meta) return { role: this.role(), partitions };
    return { transition: { id: view.id, version: meta.version, moving: movingPartitions(view).length, done: view.transition.done.length }, role: this.role(), partitions };
  }

  /** Follows the document in force: a new change plans its tasks; progress marks finished ones; the flip clears them. */
  private refresh(): void {
    const meta = this.env.membership.clusterMeta;
    if (meta === this.seen) return;
    this.seen = meta;
    const view = meta ? viewOf(meta) : undefined;
    const prev = this.view;
    this.view = view;
    this.extraCache.clear();
    if (prev && (!view || view.id !== prev.id)) this.forget(prev.id);
    if (!view) return;
    if (!prev || view.id !== prev.id) {
      this.startTick = this.env.time.tick;
      this.plan(view);
      return;
    }
    for (const t of this.tasks.values()) if (this.recorded(view, t.partition)) t.state = 'done';
  }

  private recorded(view: TransitionView, p: number): boolean {
    return view.transition.done.includes(p) || (view.transition.streamed ?? []).includes(streamedEntry(p, this.env.self));
  }

  private plan(view: TransitionView): void {
    this.tasks.clear();
    for (const p of movingPartitions(view)) {
      if (!newReplicas(view, p).includes(this.env.self)) continue;
      const c: Cursor = decodeCursor(this.env.reader.get(cursorKey(view.id, p)));
      this.tasks.set(p, {
        partition: p, state: c.done || this.recorded(view, p) ? 'done' : c.after || c.pass === 2 ? 'streaming' : 'pending',
        after: c.after, keys: c.keys, bytes: c.bytes, source: undefined, failed: new Set(), inflight: undefined,
        pass: c.pass, notBeforeTick: 0,
      });
    }
  }

  /** The change is over (applied, or replaced): its cursors go. */
  private forget(id: string): void {
    for (const p of this.tasks.keys()) this.env.fx.write(storageWrite('meta', cursorKey(id, p), null));
    this.tasks.clear();
  }

  private pullMore(): void {
    const { settings, time } = this.env;
    let inflight = 0;
    for (const t of this.tasks.values()) {
      if (t.inflight && time.tick >= t.inflight.deadlineTick) this.failSource(t, t.inflight.to);
      if (t.inflight) inflight++;
    }
    let started = 0;
    for (const t of this.tasks.values()) {
      if (inflight >= settings.pullsInFlightMax || started >= settings.pullsPerTickMax) return;
      if (t.state === 'done' || t.inflight || time.tick < t.notBeforeTick) continue;
      const to = this.pickSource(t);
      if (to === undefined) continue;
      const id = this.env.nextId();
      t.inflight = { id, to, deadlineTick: time.tick + settings.pullTimeoutTicks };
      t.source = to;
      this.env.fx.send(to, {
        type: 'xfer-pull', id, partition: t.partition, after: t.after ?? null, bytesMax: settings.chunkBytesMax, keysMax: settings.chunkKeysMax,
      });
      inflight++;
      started++;
    }
  }

  private pickSource(t: Task): NodeId | undefined {
    const view = this.view;
    if (!view) return undefined;
    const candidates = sourcesFor(view, t.partition, this.env.self, (id) => this.env.detector.isAlive(id));
    const fresh = candidates.find((id) => !t.failed.has(id));
    if (fresh !== undefined) return fresh;
    t.failed.clear(); // every source failed once: try them again, best first
    return candidates[0];
  }

  private failSource(t: Task, from: NodeId): void {
    t.inflight = undefined;
    t.failed.add(from);
    this.counters.sourceFailovers++;
  }

  private onRefuse(from: NodeId, id: number, p: number): void {
    const t = this.tasks.get(p);
    if (t?.inflight && t.inflight.id === id && t.inflight.to === from) this.failSource(t, from);
  }

  private onChunk(from: NodeId, m: Extract<TransferMessage, { type: 'xfer-chunk' }>): void {
    const t = this.tasks.get(m.partition);
    const view = this.view;
    if (!view || !t?.inflight || t.inflight.id !== m.id || t.inflight.to !== from) return;
    const states = this.checkChunk(view, t, m.entries);
    if (!states || (m.next !== null && states.length === 0)) {
      this.counters.chunksRejected++;
      this.failSource(t, from);
      return;
    }
    t.inflight = undefined;
    let bytes = 0;
    for (const [key, state, size] of states) {
      if (this.env.settings.bug !== 'drop-chunks') this.env.merge(key, state);
      bytes += size;
    }
    const last = m.entries[m.entries.length - 1]?.[0];
    t.after = m.next ?? last ?? t.after;
    t.keys += states.length;
    t.bytes += bytes;
    t.state = m.next === null && (t.pass === 2 || !this.env.settings.catchUpPass) ? 'done' : 'streaming';
    if (m.next === null && t.state !== 'done') {
      // The catch-up pass, a settle time later: it picks up what writes coordinated under the
      // older document left at the source after the first pass had passed their keys.
      t.pass = 2;
      t.after = undefined;
      t.notBeforeTick = this.env.time.tick + this.env.settings.settleTicks;
    }
    this.counters.keysTotal += states.length;
    this.counters.bytesTotal += bytes;
    // In the same Ready as the merges: after a crash the node resumes from what is durable.
    this.env.fx.write(storageWrite('meta', cursorKey(view.id, t.partition), encodeCursor({ after: t.after, done: t.state === 'done', keys: t.keys, bytes: t.bytes, pass: t.pass })));
  }

  /** Each entry must be a data key of the partition, past the cursor, whose hash matches, with a state that decodes. */
  private checkChunk(view: TransitionView, t: Task, entries: readonly (readonly [Uint8Array, Uint8Array])[]): [string, KeyState, number][] | undefined {
    const { start, endExclusive } = partitionRange(t.partition, view.current.partitionCount);
    const { gte, lt } = dataRange(start, endExclusive);
    const out: [string, KeyState, number][] = [];
    let prev = t.after;
    for (const [k, v] of entries) {
      if (k.length < 6 || compareBytes(k, gte) < 0 || compareBytes(k, lt) >= 0 || (prev && compareBytes(k, prev) <= 0)) return undefined;
      const hash = ((k[1]! << 24) | (k[2]! << 16) | (k[3]! << 8) | k[4]!) >>> 0;
      const keyBytes = k.subarray(5);
      if (keyHash(keyBytes) !== hash) return undefined;
      try {
        out.push([fromUtf8(keyBytes), decodeState(v), k.length + v.length]);
      } catch {
        return undefined;
      }
      prev = k;
    }
    return out;
  }

  /** Proposes the partitions this node finished, and the flip once all are done. */
  private markAndFlip(): void {
    const view = this.view;
    if (!view) return;
    const finished = [...this.tasks.values()].filter((t) => t.state === 'done' && !this.recorded(view, t.partition)).map((t) => t.partition);
    const marked = finished.length > 0 ? markedTransition(view, this.env.self, finished) : undefined;
    if (marked) {
      this.env.membership.propose((cur) => ({ ...cur, transition: marked }));
      this.refresh();
      this.pushDoc();
      return;
    }
    if (allDone(view)) {
      this.env.membership.propose((cur) => flipped(cur));
      this.refresh();
      this.pushDoc();
    }
  }

  /** Members of the ring in force and of the one it leads to, except this node. */
  private peers(): NodeId[] {
    const meta = this.env.membership.clusterMeta;
    if (!meta) return [];
    const ids = new Set([...meta.members, ...(meta.transition?.members ?? [])].map((m) => m.nodeId));
    for (const id of this.lately) ids.add(id);
    ids.delete(this.env.self);
    return [...ids].sort();
  }

  private pushDoc(to: NodeId[] = this.peers()): void {
    const bytes = this.encodedDoc();
    if (!bytes) return;
    for (const id of to) this.env.fx.send(id, { type: 'xfer-doc', id: 0, meta: bytes });
  }

  private encodedDoc(): Uint8Array | undefined {
    const meta = this.env.membership.clusterMeta;
    if (!meta) return undefined;
    if (this.docBytes?.meta !== meta) this.docBytes = { meta, bytes: encodeClusterMeta(meta) };
    return this.docBytes.bytes;
  }

  /** Installs a peer's document if it wins; answers an older one of this cluster with this node's. */
  private onDoc(from: NodeId, bytes: Uint8Array): void {
    let theirs: ClusterMeta;
    try {
      theirs = decodeClusterMeta(bytes).meta;
    } catch {
      this.counters.chunksRejected++;
      return;
    }
    if (this.env.membership.install(theirs)) return;
    const mine = this.env.membership.clusterMeta;
    if (mine && mine.clusterId === theirs.clusterId && supersedes(mine, theirs)) {
      const own = this.encodedDoc();
      if (own) this.env.fx.send(from, { type: 'xfer-doc', id: 0, meta: own });
    }
  }
}
