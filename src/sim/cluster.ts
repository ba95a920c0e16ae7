/** A whole cluster in one process: the real core and runtime on simulated ports. */
import type { PeerInfo } from '../ports/index.js';
import { NodeRuntime } from '../runtime/node-runtime.js';
import type { RuntimeSettings } from '../runtime/node-runtime.js';
import type { NodeEvent } from '../core/node.js';
import type { ReconcileBug } from '../core/clock/state.js';
import type { Message } from '../core/types.js';
import { EventQueue, SimClock } from './virtual-time.js';
import { SimNetwork } from './network.js';
import { SimDisk, SimDiskEngine } from './sim-disk.js';
import type { Prng } from './prng.js';

export interface SimNode {
  info: PeerInfo;
  disk: SimDisk;
  up: boolean;
  runtime?: NodeRuntime;
  engine?: SimDiskEngine;
  clock?: SimClock;
  restarts: number;
}

export interface SimClusterOptions {
  nodes: number;
  settings: Omit<RuntimeSettings, 'seeds'>;
  bug?: ReconcileBug;
  observer?: (nodeId: string, event: NodeEvent) => void;
}

export class SimCluster {
  readonly queue = new EventQueue();
  readonly network: SimNetwork;
  readonly nodes: SimNode[] = [];
  private readonly diskRng: Prng;

  constructor(readonly rng: Prng, private readonly opts: SimClusterOptions) {
    this.network = new SimNetwork(this.queue, rng.fork());
    this.diskRng = rng.fork();
    for (let i = 0; i < opts.nodes; i++) {
      const info: PeerInfo = { nodeId: `n${i}`, address: `sim:${7000 + i}`, dc: 'dc1', rack: `rack${i % 2}`, weight: 1 };
      this.nodes.push({ info, disk: new SimDisk(), up: false, restarts: 0 });
    }
  }

  get ids(): string[] {
    return this.nodes.map((n) => n.info.nodeId);
  }

  /** Every node starts with all members known (the seeds' facts), so the first ring forms at once. */
  startAll(): void {
    for (const n of this.nodes) this.start(n);
  }

  private start(n: SimNode): void {
    const clock = new SimClock(this.queue);
    const engine = new SimDiskEngine(n.disk, this.queue, this.diskRng);
    const transport = this.network.transport<Message>(n.info.nodeId);
    const seeds = this.nodes.map((m) => m.info.address);
    const runtime = NodeRuntime.create({
      self: n.info, settings: { ...this.opts.settings, seeds }, engine, transport, clock,
      ...(this.opts.bug ? { bug: this.opts.bug } : {}),
      ...(this.opts.observer ? { observer: (ev: NodeEvent) => this.opts.observer!(n.info.nodeId, ev) } : {}),
    });
    this.network.setUp(n.info.nodeId, true);
    runtime.start();
    // Static membership: hand every node the others' facts as a transport handshake would.
    for (const m of this.nodes) runtime.notePeer(m.info);
    Object.assign(n, { runtime, engine, clock, up: true });
  }

  crash(i: number): void {
    const n = this.nodes[i]!;
    if (!n.up) return;
    n.up = false;
    n.engine?.crash();
    n.runtime?.halt();
    n.clock?.cancelAll();
    this.network.setUp(n.info.nodeId, false);
    delete n.runtime;
    delete n.engine;
    delete n.clock;
  }

  restart(i: number): void {
    const n = this.nodes[i]!;
    if (n.up) return;
    n.restarts++;
    this.start(n);
  }

  upNodes(): SimNode[] {
    return this.nodes.filter((n) => n.up);
  }
}
