/**
 * One simulation run: a safety phase (workload under faults), then a liveness phase (faults
 * stop, crashed nodes restart, reads at R=all repair every replica), then the checkers.
 */
import { createHash } from 'node:crypto';
import type { KeyState } from '../core/clock/state.js';
import { EMPTY_STATE, encodeState } from '../core/clock/state.js';
import type { ReconcileBug } from '../core/clock/state.js';
import { utf8 } from '../core/bytes.js';
import { preferenceListForKey } from '../core/ring/index.js';
import { SimCluster } from './cluster.js';
import type { CreatedVersion, Violation } from './checker.js';
import { checkInvariants } from './checker.js';
import { Nemesis } from './nemesis.js';
import { describeRun, drawOptions, placementFor, replicationFor } from './options.js';
import type { SimDrawnOptions, SimEngineKind, SimOptionOverrides } from './options.js';
import { Prng } from './prng.js';
import { drainMicrotasks } from './virtual-time.js';
import type { WorkloadOptions } from './workload.js';
import { Workload } from './workload.js';
import type { RingChangeKind, RingChangeRecord } from './ring-change.js';
import { checkFinalRing, ringSettled, scheduleRingChange } from './ring-change.js';
import type { SimCluster as Cluster } from './cluster.js';
import type { TransferBug } from '../core/transfer/index.js';

export interface SimOptions {
  seed: number;
  /** Pins the node count (otherwise drawn from the seed). */
  nodes?: number;
  faults?: boolean;
  bug?: ReconcileBug;
  workload?: Partial<WorkloadOptions>;
  /** Check that no key ends with more siblings than writers (for workloads without blind writes). */
  checkSiblingBound?: boolean;
  /** Pins the storage engine the nodes run (otherwise drawn from the seed). */
  engine?: SimEngineKind;
  /** Pins any other drawn option (R, W, clock skew, the nemesis' rates). */
  options?: SimOptionOverrides;
  /** Shrinks the wire's frame bound (a test that the simulator catches what the wire refuses). */
  framePayloadBytesMax?: number;
  /**
   * Changes the ring during the workload (src/sim/ring-change.ts): `join` adds a spare node,
   * `leave` and `remove` take a member out. Partition transfer must lose no acknowledged write
   * and every node must end on the transition's ring.
   */
  ringChange?: RingChangeKind;
  /** Test-only: a transfer broken on purpose (the checkers must catch it). */
  transferBug?: TransferBug;
  /** Crash a node taking part in the transfer (a receiver or a source) while it runs, then restart it. */
  crashDuringTransfer?: boolean;
}

/** A broken invariant; `wire` is a message the frame codec could not carry. */
export type SimViolation = Violation | { invariant: 'wire'; key: string; detail: string };

export interface SimResult {
  seed: number;
  digest: string;
  /** What the seed drew. */
  options: SimDrawnOptions;
  /** The drawn options and the digest on one line (what `npm run sim -- --seed S` prints). */
  line: string;
  violations: SimViolation[];
  ops: number;
  acknowledged: number;
  events: number;
  virtualMs: number;
  converged: boolean;
  faults: { crashes: number; partitions: number; dropped: number; clogs: number; swizzles: number };
  storage: { flushes: number; compactions: number; corruptions: number };
  /** The ring change asked for, when there was one. */
  ringChange?: RingChangeRecord;
}

/** Partition transfer in the simulator: shorter waits than production's, small chunks. */
export const SIM_TRANSFER = { settleMs: 200, pullTimeoutMs: 300, markEveryMs: 50, docPushEveryMs: 200, docPushQuietMs: 120_000, chunkKeysMax: 2, sweepQuietMs: 500, sweepEveryMs: 2_000 };

export const SETTINGS = { n: 3, partitions: 64, tickMs: 10, requestTimeoutMs: 300, maxValueBytes: 1 << 20 };

/** Upper bound on virtual time for the safety phase: a stuck run fails instead of spinning. */
const MAX_VIRTUAL_MS = 120_000;

/** Virtual time the liveness phase waits at most for every node to see every member alive again. */
const LIVENESS_WAIT_MS = 20_000;

export async function runSimulation(opts: SimOptions): Promise<SimResult> {
  const rng = new Prng(opts.seed);
  const options = drawOptions(rng.fork(), {
    ...opts.options, ...(opts.nodes !== undefined ? { nodes: opts.nodes } : {}), ...(opts.engine ? { engine: opts.engine } : {}),
  });
  const created: CreatedVersion[] = [];
  const cluster = new SimCluster(rng.fork(), {
    nodes: options.nodes + spareCount(opts.ringChange, options.nodes),
    ...(opts.ringChange ? { transfer: { ...SIM_TRANSFER, ...(opts.transferBug ? { bug: opts.transferBug } : {}) }, spares: spareCount(opts.ringChange, options.nodes) } : {}),
    settings: { ...SETTINGS, r: options.r, w: options.w, ...(options.dcs === 2 ? { replication: replicationFor(2)! } : {}) },
    engine: options.engine,
    placement: placementFor(options.dcs),
    clockSkewMs: options.clockSkewMs,
    ...(opts.framePayloadBytesMax !== undefined ? { transportLimits: { framePayloadBytesMax: opts.framePayloadBytesMax } } : {}),
    ...(opts.bug ? { bug: opts.bug } : {}),
    observer: (_node, ev) => {
      if (ev.type === 'version-created') created.push({ key: ev.key, tag: ev.contentType, dot: ev.dot, context: ev.context });
    },
  });
  // A ring change moves data: more keys than the hot few, so moving partitions hold some.
  const workload = newWorkload(cluster, rng.fork(), opts.ringChange ? { keys: 24, opsPerClient: 40, ...opts.workload } : opts.workload);
  cluster.startAll();
  const formed = await runUntil(cluster, () => cluster.allUp).then(() => true, () => false);
  const nemesis = new Nemesis(cluster, rng.fork(), options.rates);
  if (!formed) {
    // The cluster never formed its ring (e.g. every gossip frame over a tiny frame bound): report
    // it, with what the wire refused, instead of running a workload against nothing.
    const wire = cluster.network.wireFailures();
    const violations: SimViolation[] = [{ invariant: 'divergence', key: '*', detail: 'the cluster never formed its ring' }];
    if (wire.tooLarge + wire.malformed > 0) violations.push({ invariant: 'wire', key: '*', detail: `${wire.tooLarge} frames too large to send, ${wire.malformed} undecodable` });
    for (const n of cluster.nodes) n.runtime?.halt();
    return {
      seed: opts.seed, digest: '', options, line: describeRun(opts.seed, options, ''), violations, ops: 0, acknowledged: 0,
      events: cluster.queue.executed, virtualMs: cluster.queue.now, converged: false,
      faults: { ...nemesis.counts, dropped: cluster.network.dropped }, storage: { ...cluster.storageEvents },
    };
  }
  const change = opts.ringChange ? startRingChange(cluster, rng.fork(), opts) : undefined;
  const finished = await safetyPhase(cluster, workload, (opts.faults ?? true) ? nemesis : undefined);
  const { converged, finalStates } = await livenessPhase(cluster, workload.keys, change !== undefined);

  const violations: SimViolation[] = checkInvariants({
    history: workload.history, created, finalStates,
    ...(opts.checkSiblingBound ? { maxSiblings: workload.opts.clients } : {}),
  });
  if (cluster.storageEvents.corruptions > 0) {
    violations.push({ invariant: 'divergence', key: '*', detail: `${cluster.storageEvents.corruptions} storage corruption reports` });
  }
  const ringProblem = change ? checkFinalRing(cluster, change) : '';
  if (ringProblem) violations.push({ invariant: 'divergence', key: '*', detail: `ring change: ${ringProblem}` });
  if (!finished) violations.push({ invariant: 'divergence', key: '*', detail: 'workload did not finish within the virtual time bound' });
  const wire = cluster.network.wireFailures();
  if (wire.tooLarge + wire.malformed > 0) {
    violations.push({ invariant: 'wire', key: '*', detail: `${wire.tooLarge} frames too large to send, ${wire.malformed} undecodable` });
  }
  const digest = digestOf(workload, finalStates);
  if (change) {
    change.streamedKeys = 0;
    change.droppedKeys = 0;
    for (const n of cluster.upNodes()) {
      change.streamedKeys += n.runtime?.stats()?.transfer.keysTotal ?? 0;
      change.droppedKeys += n.runtime?.stats()?.transfer.keysDroppedTotal ?? 0;
    }
  }
  for (const n of cluster.nodes) n.runtime?.halt();
  return {
    seed: opts.seed, digest, options, line: describeRun(opts.seed, options, digest), violations,
    ops: workload.history.length,
    acknowledged: workload.history.filter((r) => r.outcome === 'ok').length,
    events: cluster.queue.executed,
    virtualMs: cluster.queue.now,
    converged,
    faults: { ...nemesis.counts, dropped: cluster.network.dropped },
    storage: { ...cluster.storageEvents },
    ...(change ? { ringChange: change } : {}),
  };
}

/** Nodes that start outside the first ring: one joiner, or a whole new set of nodes for `replace`. */
function spareCount(kind: RingChangeKind | undefined, founders: number): number {
  return kind === 'join' ? 1 : kind === 'replace' ? founders : 0;
}

/** Commits the change early in the workload; optionally crashes one node of the transfer midway and restarts it. */
function startRingChange(cluster: Cluster, rng: Prng, opts: SimOptions): RingChangeRecord {
  const record = scheduleRingChange(cluster, rng, opts.ringChange!, 100 + rng.int(200));
  if (opts.crashDuringTransfer) {
    const at = 500 + rng.int(300);
    cluster.queue.schedule(at, () => {
      const candidates = cluster.nodes.map((n, i) => [n, i] as const).filter(([n, i]) => n.up && !cluster.keepDown.has(i));
      if (candidates.length < 2) return;
      const [, i] = rng.pick(candidates);
      cluster.crash(i);
      cluster.queue.schedule(200 + rng.int(400), () => cluster.restart(i));
    });
  }
  return record;
}

function newWorkload(cluster: SimCluster, rng: Prng, pinned: Partial<WorkloadOptions> | undefined): Workload {
  return new Workload(cluster, rng, {
    clients: 3 + rng.int(4),
    opsPerClient: 25,
    keys: 2 + rng.int(4),
    blindRate: 0.2,
    deleteRate: 0.15,
    readRate: 0.4,
    clientTimeoutMs: 800,
    maxThinkMs: 30,
    ...pinned,
  });
}

/** Runs the workload to its end (or the virtual time bound) under the nemesis; true if it ended. */
async function safetyPhase(cluster: SimCluster, workload: Workload, nemesis: Nemesis | undefined): Promise<boolean> {
  nemesis?.start();
  let finished = false;
  void workload.start().then(() => { finished = true; });
  while (!finished && cluster.queue.now < MAX_VIRTUAL_MS) {
    if (!cluster.queue.step()) break;
    await drainMicrotasks();
  }
  nemesis?.stop();
  return finished;
}

export type FinalStates = Map<string, Map<string, KeyState>>;

/** No more faults: every node restarts, reads at R=all repair the replicas; returns what they hold. */
export async function livenessPhase(cluster: SimCluster, keys: readonly string[], ringChange: boolean): Promise<{ converged: boolean; finalStates: FinalStates }> {
  cluster.network.heal();
  for (let i = 0; i < cluster.nodes.length; i++) if (cluster.nodes[i]!.started) cluster.restart(i);
  await runUntil(cluster, () => cluster.allUp);
  await runFor(cluster, 200);
  // Members convicted during the faults are alive again once gossip brings their new generation.
  for (let waited = 0; waited < LIVENESS_WAIT_MS && !cluster.allSeeAllAlive(); waited += 100) await runFor(cluster, 100);
  // A ring change finishes once faults stop: wait (bounded) for every node to be on the flipped ring.
  for (let waited = 0; ringChange && waited < 60_000 && !ringSettled(cluster); waited += 100) await runFor(cluster, 100);

  const up = cluster.upNodes();
  const ring = (up.find((n) => n.runtime?.coreRing()?.member(n.info.nodeId)) ?? up[0]!).runtime!.coreRing()!;
  const stateAt = (id: string, key: string): KeyState => cluster.nodes.find((n) => n.info.nodeId === id)?.runtime?.localState(key) ?? EMPTY_STATE;
  const replicasOf = (key: string): readonly string[] => preferenceListForKey(ring, utf8(key));
  let converged = false;
  for (let round = 0; round < 5 && !converged; round++) {
    for (const key of keys) void up[round % up.length]!.runtime!.submit({ op: 'get', key, r: 'all' });
    await runFor(cluster, 500);
    converged = keys.every((key) => {
      const states = replicasOf(key).map((id) => encodeState(stateAt(id, key)));
      return states.every((s) => Buffer.compare(Buffer.from(s), Buffer.from(states[0]!)) === 0);
    });
  }
  const finalStates: FinalStates = new Map();
  for (const key of keys) finalStates.set(key, new Map(replicasOf(key).map((id) => [id, stateAt(id, key)])));
  return { converged, finalStates };
}

function digestOf(workload: Workload, finalStates: FinalStates): string {
  const hash = createHash('sha256');
  for (const rec of workload.history) hash.update(JSON.stringify(rec) + '\n');
  for (const [key, m] of finalStates) for (const [id, s] of m) hash.update(`${key}@${id}:`).update(encodeState(s));
  return hash.digest('hex').slice(0, 32);
}

/** Virtual time `runUntil` waits at most: a condition never met is a failure, never a hang. */
export const RUN_UNTIL_MS_MAX = 10 * 60_000;

/** Drives the queue until `done` holds (bounded by the queue running dry and by `RUN_UNTIL_MS_MAX`). */
export async function runUntil(cluster: SimCluster, done: () => boolean): Promise<void> {
  const deadline = cluster.queue.now + RUN_UNTIL_MS_MAX;
  while (!done()) {
    if (!cluster.queue.step()) throw new Error('the simulation ran out of events before it could continue');
    if (cluster.queue.now > deadline) {
      const waiting = cluster.nodes.filter((n) => !(n.up && n.runtime?.isServing())).map((n) => n.info.nodeId);
      throw new Error(`the simulation waited ${RUN_UNTIL_MS_MAX} virtual ms for a condition that never held (nodes not serving: ${waiting.join(', ') || 'none'})`);
    }
    await drainMicrotasks();
  }
}

/** Drives the queue for `ms` of virtual time. */
export async function runFor(cluster: SimCluster, ms: number): Promise<void> {
  const until = cluster.queue.now + ms;
  while ((cluster.queue.peekTime() ?? Infinity) <= until) {
    cluster.queue.step();
    await drainMicrotasks();
  }
  cluster.queue.now = until;
}
