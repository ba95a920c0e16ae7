/**
 * One simulation run: a safety phase (workload under faults), then a liveness phase (faults
 * stop, crashed nodes restart, reads at R=all repair every replica), then the checkers.
 */
import { createHash } from 'node:crypto';
import type { KeyState } from '../core/clock/state.js';
import { encodeState } from '../core/clock/state.js';
import type { ReconcileBug } from '../core/clock/state.js';
import { utf8 } from '../core/bytes.js';
import { preferenceListForKey } from '../core/ring/index.js';
import { SimCluster } from './cluster.js';
import type { SimEngineKind } from './cluster.js';
import type { CreatedVersion, Violation } from './checker.js';
import { checkInvariants } from './checker.js';
import { Prng } from './prng.js';
import { drainMicrotasks } from './virtual-time.js';
import type { WorkloadOptions } from './workload.js';
import { Workload } from './workload.js';

export interface SimOptions {
  seed: number;
  nodes?: number;
  faults?: boolean;
  bug?: ReconcileBug;
  workload?: Partial<WorkloadOptions>;
  /** Check that no key ends with more siblings than writers (for workloads without blind writes). */
  checkSiblingBound?: boolean;
  /** The storage engine the nodes run (default: the simulated-fsync map). */
  engine?: SimEngineKind;
}

export interface SimResult {
  seed: number;
  digest: string;
  violations: Violation[];
  ops: number;
  acknowledged: number;
  events: number;
  virtualMs: number;
  converged: boolean;
  faults: { crashes: number; partitions: number; dropped: number };
  storage: { flushes: number; compactions: number; corruptions: number };
}

const SETTINGS = {
  n: 3, partitions: 64, tickMs: 10, requestTimeoutMs: 300, r: 'quorum' as const, w: 'quorum' as const,
  maxValueBytes: 1 << 20,
};

/** Upper bound on virtual time for the safety phase: a stuck run fails instead of spinning. */
const MAX_VIRTUAL_MS = 120_000;

export async function runSimulation(opts: SimOptions): Promise<SimResult> {
  const rng = new Prng(opts.seed);
  const nodeCount = opts.nodes ?? 3 + rng.int(3);
  const created: CreatedVersion[] = [];
  const cluster = new SimCluster(rng.fork(), {
    nodes: nodeCount,
    settings: SETTINGS,
    ...(opts.bug ? { bug: opts.bug } : {}),
    ...(opts.engine ? { engine: opts.engine } : {}),
    observer: (_node, ev) => {
      if (ev.type === 'version-created') created.push({ key: ev.key, tag: ev.contentType, dot: ev.dot, context: ev.context });
    },
  });
  const wlRng = rng.fork();
  const workload = new Workload(cluster, wlRng, {
    clients: 3 + wlRng.int(4),
    opsPerClient: 25,
    keys: 2 + wlRng.int(4),
    blindRate: 0.2,
    deleteRate: 0.15,
    readRate: 0.4,
    clientTimeoutMs: 800,
    maxThinkMs: 30,
    ...opts.workload,
  });
  cluster.startAll();
  await runUntil(cluster, () => cluster.allUp);
  const faults = { crashes: 0, partitions: 0, dropped: 0 };
  const nemesisRng = rng.fork();
  let nemesisOn = opts.faults ?? true;
  const nemesis = (): void => {
    if (!nemesisOn) return;
    const roll = nemesisRng.next();
    const ids = cluster.ids;
    if (roll < 0.2) {
      const down = cluster.nodes.filter((n) => !n.up).length;
      if (down < nodeCount - 1) {
        cluster.crash(nemesisRng.int(nodeCount));
        faults.crashes++;
      }
    } else if (roll < 0.45) {
      const i = nemesisRng.int(nodeCount);
      cluster.restart(i);
    } else if (roll < 0.6) {
      const shuffled = [...ids].sort(() => nemesisRng.next() - 0.5);
      const cut = 1 + nemesisRng.int(ids.length - 1);
      cluster.network.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
      faults.partitions++;
    } else if (roll < 0.75) {
      cluster.network.partition([]);
    } else {
      cluster.network.faults = {
        minLatencyMs: 1, maxLatencyMs: 1 + nemesisRng.int(40),
        dropRate: nemesisRng.next() * 0.1, duplicateRate: nemesisRng.next() * 0.05,
      };
    }
    cluster.queue.schedule(50 + nemesisRng.int(250), nemesis);
  };
  if (nemesisOn) cluster.queue.schedule(nemesisRng.int(100), nemesis);

  let finished = false;
  void workload.start().then(() => { finished = true; });
  while (!finished && cluster.queue.now < MAX_VIRTUAL_MS) {
    if (!cluster.queue.step()) break;
    await drainMicrotasks();
  }

  // Liveness phase: no more faults.
  nemesisOn = false;
  cluster.network.heal();
  for (let i = 0; i < nodeCount; i++) cluster.restart(i);
  await runUntil(cluster, () => cluster.allUp);
  await runFor(cluster, 200);

  const keys = workload.keys;
  const ring = cluster.nodes[0]!.runtime!.coreRing()!;
  const replicasOf = (key: string): readonly string[] => preferenceListForKey(ring, utf8(key));
  let converged = false;
  for (let round = 0; round < 5 && !converged; round++) {
    for (const key of keys) {
      const coordinator = cluster.nodes[round % nodeCount]!.runtime!;
      void coordinator.submit({ op: 'get', key, r: 'all' });
    }
    await runFor(cluster, 500);
    converged = keys.every((key) => {
      const states = replicasOf(key).map((id) => cluster.nodes.find((n) => n.info.nodeId === id)!.runtime!.localState(key)!);
      const first = encodeState(states[0]!);
      return states.every((s) => Buffer.compare(Buffer.from(encodeState(s)), Buffer.from(first)) === 0);
    });
  }

  const finalStates = new Map<string, Map<string, KeyState>>();
  for (const key of keys) {
    const m = new Map<string, KeyState>();
    for (const id of replicasOf(key)) m.set(id, cluster.nodes.find((n) => n.info.nodeId === id)!.runtime!.localState(key)!);
    finalStates.set(key, m);
  }
  const violations = checkInvariants({
    history: workload.history, created, finalStates,
    ...(opts.checkSiblingBound ? { maxSiblings: workload.opts.clients } : {}),
  });
  if (cluster.storageEvents.corruptions > 0) {
    violations.push({ invariant: 'divergence', key: '*', detail: `${cluster.storageEvents.corruptions} storage corruption reports` });
  }
  if (!finished) violations.push({ invariant: 'divergence', key: '*', detail: 'workload did not finish within the virtual time bound' });

  const hash = createHash('sha256');
  for (const rec of workload.history) hash.update(JSON.stringify(rec) + '\n');
  for (const [key, m] of finalStates) for (const [id, s] of m) hash.update(`${key}@${id}:`).update(encodeState(s));
  faults.dropped = cluster.network.dropped;

  for (const n of cluster.nodes) n.runtime?.halt();
  return {
    seed: opts.seed,
    digest: hash.digest('hex').slice(0, 32),
    violations,
    ops: workload.history.length,
    acknowledged: workload.history.filter((r) => r.outcome === 'ok').length,
    events: cluster.queue.executed,
    virtualMs: cluster.queue.now,
    converged,
    faults,
    storage: { ...cluster.storageEvents },
  };
}

/** Drives the queue until `done` holds (bounded by the queue running dry). */
async function runUntil(cluster: SimCluster, done: () => boolean): Promise<void> {
  while (!done()) {
    if (!cluster.queue.step()) throw new Error('the simulation ran out of events before it could continue');
    await drainMicrotasks();
  }
}

async function runFor(cluster: SimCluster, ms: number): Promise<void> {
  const until = cluster.queue.now + ms;
  while ((cluster.queue.peekTime() ?? Infinity) <= until) {
    cluster.queue.step();
    await drainMicrotasks();
  }
  cluster.queue.now = until;
}
