/**
 * The autoscale driver over the simulator's real nodes: `ScalableCluster` implemented with the
 * simulator's own join and leave (src/sim/ring-change.ts). Scale out starts a spare and commits its
 * join once it runs (partition transfer streams its share to it); scale in commits a member's leave
 * and stops its process once no serving node's ring names it. Meanwhile the simulator's workload
 * (real clients, real contexts) reads and writes through the nodes, and faults come and go: nodes
 * crash and restart, the network drops and delays messages. At the end the liveness phase and the
 * checkers of `runSimulation` judge the run (no acknowledged write lost, replicas converged).
 *
 * What the policy reads: the members, the transfer and under-replication flags from the nodes'
 * own documents and gossip; the request rate from a load profile (requests/s for the whole
 * cluster, divided over the serving members, ±noise), since the simulated clients cannot offer
 * thousands of requests per second. Only the load figure is modelled.
 */
import type { ClusterSnapshot, NodeSample } from '../../core/autoscale/index.js';
import type { ClusterMeta } from '../../core/membership/index.js';
import { SimCluster } from '../cluster.js';
import type { CreatedVersion } from '../checker.js';
import { Prng } from '../prng.js';
import { commitWhenReady } from '../ring-change.js';
import type { RingChangeRecord } from '../ring-change.js';
import { SETTINGS, SIM_TRANSFER, runFor, runUntil } from '../run.js';
import { Workload } from '../workload.js';
import type { WorkloadOptions } from '../workload.js';
import type { LoadProfile } from './model.js';
import type { AsyncScalableCluster } from './scalable.js';

export interface SimScalableOptions {
  seed: number;
  /** Nodes of the first ring. */
  initialNodes: number;
  /** Every node that may ever run (the rest are spares, started by scale-outs). */
  maxNodes: number;
  profile: LoadProfile;
  /** Relative noise on the request figure (0.1 = ±10%). */
  noise: number;
  /** Faults: every `everyMs` (±50%) a serving member crashes for `downMs` (±50%); messages dropped at up to `dropRateMax`. */
  faults?: { everyMs: number; downMs: number; dropRateMax: number };
  workload?: Partial<WorkloadOptions>;
}

export interface FaultRecord { atMs: number; node: string; downMs: number }

export class SimScalableCluster implements AsyncScalableCluster {
  readonly cluster: SimCluster;
  readonly workload: Workload;
  readonly created: CreatedVersion[] = [];
  readonly changes: RingChangeRecord[] = [];
  readonly faults: FaultRecord[] = [];
  private readonly rng: Prng;
  /** Virtual time of the driver's t = 0 (once the first ring has formed). */
  private t0 = 0;
  /** Members asked to leave, stopped once no ring names them. */
  private readonly leaving = new Set<number>();
  private faultsOn = false;
  /** Keys received by partition transfer, per node and incarnation (the nodes' counters restart with them). */
  private readonly streamed = new Map<string, number>();

  constructor(private readonly o: SimScalableOptions) {
    this.rng = new Prng(o.seed);
    this.cluster = new SimCluster(this.rng.fork(), {
      nodes: o.maxNodes, spares: o.maxNodes - o.initialNodes, transfer: SIM_TRANSFER, settings: { ...SETTINGS, r: 'quorum', w: 'quorum' }, engine: 'sim-disk',
      observer: (_node, ev) => {
        if (ev.type === 'version-created') this.created.push({ key: ev.key, tag: ev.contentType, dot: ev.dot, context: ev.context });
      },
    });
    this.workload = new Workload(this.cluster, this.rng.fork(), {
      clients: 4, opsPerClient: 600, keys: 24, blindRate: 0.2, deleteRate: 0.15, readRate: 0.4, clientTimeoutMs: 800, maxThinkMs: 400,
      ...o.workload,
    });
  }

  /** Forms the first ring, then starts the workload and the faults; resolves when the workload has finished. */
  async start(): Promise<{ finished: Promise<void> }> {
    this.cluster.startAll();
    await runUntil(this.cluster, () => this.cluster.allUp);
    this.t0 = this.cluster.queue.now;
    const finished = this.workload.start();
    if (this.o.faults) {
      this.faultsOn = true;
      this.scheduleFault();
    }
    return { finished };
  }

  /** No new faults; the network heals (the liveness phase restarts what is down). */
  stopFaults(): void {
    this.faultsOn = false;
    this.cluster.network.heal();
  }

  async advanceTo(nowMs: number): Promise<void> {
    const until = this.t0 + nowMs;
    if (until > this.cluster.queue.now) await runFor(this.cluster, until - this.cluster.queue.now);
    this.noteStreamed();
    this.stopLeft();
  }

  /** Keys every node received by partition transfer so far (read at each evaluation and at the end). */
  streamedKeys(): number {
    this.noteStreamed();
    return [...this.streamed.values()].reduce((a, b) => a + b, 0);
  }

  private noteStreamed(): void {
    for (const n of this.cluster.nodes) {
      const keys = n.runtime?.stats()?.transfer.keysTotal;
      if (keys !== undefined) this.streamed.set(`${n.info.nodeId}#${n.restarts}`, keys);
    }
  }

  snapshot(nowMs: number): ClusterSnapshot {
    const serving = this.cluster.nodes.filter((n) => n.up && n.runtime?.isServing() === true);
    const metas = serving.map((n) => n.runtime!.clusterMeta()).filter((m): m is ClusterMeta => m !== undefined);
    const meta = metas.reduce<ClusterMeta | undefined>((a, m) => (a === undefined || m.version > a.version ? m : a), undefined);
    const members = (meta?.members ?? []).map((m) => ({ nodeId: m.nodeId, dc: m.dc }));
    const ids = new Set(members.map((m) => m.nodeId));
    const answering = serving.filter((n) => ids.has(n.info.nodeId));
    const offered = this.o.profile(nowMs);
    const samples: NodeSample[] = answering.map((n) => ({
      nodeId: n.info.nodeId, dc: n.info.dc,
      requestsPerSec: (offered / answering.length) * (1 + this.o.noise * (2 * this.rng.next() - 1)),
      eventLoopUtilization: 0, p99LatencyMs: 0, storedBytes: 0, stallsPerSec: 0,
    }));
    // A member down, or seen suspect or faulty by a serving member: its partitions lack a replica.
    const underReplicated = answering.length < members.length
      || answering.some((n) => n.runtime!.members().some((m) => ids.has(m.nodeId) && (m.state === 'suspect' || m.state === 'faulty')));
    return { nowMs, members, samples, underReplicated, transferInFlight: metas.some((m) => m.transition !== undefined) };
  }

  /** Starts the first spare never started and commits its join once it runs. */
  addNode(): void {
    const founders = this.cluster.founders.length;
    const i = this.cluster.nodes.findIndex((n, j) => j >= founders && !n.started && !this.cluster.keepDown.has(j));
    if (i < 0) return;
    const record: RingChangeRecord = { kind: 'join', node: this.cluster.nodes[i]!.info.nodeId };
    this.changes.push(record);
    this.cluster.restart(i);
    commitWhenReady(this.cluster, this.rng.fork(), i, record, 0);
  }

  /** Commits the member's leave; its process stops once no ring names it (stopLeft). */
  removeNode(nodeId: string): void {
    const i = this.cluster.nodes.findIndex((n) => n.info.nodeId === nodeId);
    if (i < 0 || this.leaving.has(i)) return;
    const record: RingChangeRecord = { kind: 'leave', node: nodeId };
    this.changes.push(record);
    this.leaving.add(i);
    commitWhenReady(this.cluster, this.rng.fork(), i, record, 0);
  }

  /** A node that left stops (as `--decommission-on-stop` does) once no serving node's ring has it or is moving. */
  private stopLeft(): void {
    for (const i of [...this.leaving]) {
      const id = this.cluster.nodes[i]!.info.nodeId;
      const others = this.cluster.nodes.filter((n, j) => j !== i && n.up && n.runtime?.clusterMeta() !== undefined);
      const gone = others.length > 0 && others.every((n) => {
        const m = n.runtime!.clusterMeta()!;
        return m.transition === undefined && !m.members.some((x) => x.nodeId === id);
      });
      if (!gone) continue;
      this.noteStreamed();
      this.leaving.delete(i);
      this.cluster.keepDown.add(i);
      this.cluster.crash(i);
    }
  }

  private scheduleFault(): void {
    const f = this.o.faults!;
    const q = this.cluster.queue;
    q.schedule(f.everyMs * (0.5 + this.rng.next()), () => {
      if (!this.faultsOn) return;
      this.cluster.network.faults = { minLatencyMs: 1, maxLatencyMs: 1 + this.rng.int(20), dropRate: this.rng.next() * f.dropRateMax, duplicateRate: 0 };
      const candidates = this.cluster.nodes.map((n, i) => [n, i] as const)
        .filter(([n, i]) => n.up && !this.cluster.keepDown.has(i) && !this.leaving.has(i));
      // Never the last two serving nodes: a crash is a fault to ride out, not an outage.
      if (candidates.length > 2) {
        const [n, i] = this.rng.pick(candidates);
        const downMs = f.downMs * (0.5 + this.rng.next());
        this.faults.push({ atMs: q.now - this.t0, node: n.info.nodeId, downMs });
        this.noteStreamed();
        this.cluster.crash(i);
        q.schedule(downMs, () => this.cluster.restart(i));
      }
      this.scheduleFault();
    });
  }
}
