/** A whole cluster in one process: the real core and runtime on simulated ports. */
import type { PeerInfo } from '../ports/index.js';
import { NodeRuntime } from '../runtime/node-runtime.js';
import type { RuntimeSettings } from '../runtime/node-runtime.js';
import type { NodeEvent } from '../core/node.js';
import type { ReconcileBug } from '../core/clock/state.js';
import type { Message } from '../core/types.js';
import type { AntiEntropySettings } from '../core/antientropy/index.js';
import { EventQueue, SimClock, SIM_EPOCH_MS } from './virtual-time.js';
import { SimNetwork } from './network.js';
import type { TransportLimits } from '../adapters/transport-common.js';
import { SimDisk, SimDiskEngine } from './sim-disk.js';
import type { Prng } from './prng.js';
import { MemoryDisk } from '../storage/fs/memory-fs.js';
import { openLsmEngine, syncCompressor } from '../storage/lsm/index.js';
import type { StorageEngine } from '../ports/storage.js';
import type { SimEngineKind } from './options.js';
import type { GossipSettings } from '../core/membership/gossip-constants.js';
import type { TransferOptions } from '../core/transfer/index.js';

export type { SimEngineKind } from './options.js';

export interface SimNode {
  info: PeerInfo;
  disk: SimDisk;
  lsmDisk: MemoryDisk;
  up: boolean;
  /** An LSM engine is opening (recovering) on this node's disk. */
  starting: boolean;
  runtime?: NodeRuntime;
  engine?: StorageEngine & { crash?: () => void };
  clock?: SimClock;
  restarts: number;
  /** How far this node's clock is off the virtual time (ms, either sign). */
  clockOffsetMs: number;
  /** Started at least once (a spare is not until it joins). */
  started?: boolean;
}

export interface SimClusterOptions {
  nodes: number;
  settings: Omit<RuntimeSettings, 'seeds'>;
  bug?: ReconcileBug;
  observer?: (nodeId: string, event: NodeEvent) => void;
  engine?: SimEngineKind;
  /** Each node's clock is off by a random amount up to this, either way. */
  clockSkewMs?: number;
  /** How long a simulated fsync takes (default 0.2–2 ms). */
  fsyncMs?: { min: number; max: number };
  /** Transport limits of every node (default: the real ones). */
  transportLimits?: Partial<TransportLimits>;
  /** Node i's DC and rack (default: dc1, rack i % 2). */
  placement?: (i: number) => { dc: string; rack: string };
  /** Gossip and failure-detector settings of every node (tests; the interval is `settings.gossipIntervalMs`). */
  gossip?: Partial<GossipSettings>;
  /** Anti-entropy settings of every node (e.g. a short tombstone grace). */
  antiEntropy?: Partial<AntiEntropySettings>;
  /**
   * With `engine: 'lsm'`: compactions ask the node whether a stored tombstone may be purged, as
   * `gossamer start` wires it (off by default: the corpus's digests predate it).
   */
  purgeTombstones?: boolean;
  /**
   * The last `spares` nodes are not in the first ring and do not start with the others: a
   * spare started later learns the cluster from its documents (a joiner).
   */
  spares?: number;
  /** Partition transfer's settings (the core's defaults otherwise). */
  transfer?: Partial<TransferOptions>;
}

export class SimCluster {
  readonly queue = new EventQueue();
  readonly network: SimNetwork;
  readonly nodes: SimNode[] = [];
  /** What the LSM engines did (with `engine: 'lsm'`). */
  readonly storageEvents = { flushes: 0, compactions: 0, corruptions: 0 };
  private readonly diskRng: Prng;
  /** Nodes that stay down whatever the nemesis or the liveness phase does (removed as dead). */
  readonly keepDown = new Set<number>();

  constructor(readonly rng: Prng, private readonly opts: SimClusterOptions) {
    this.network = new SimNetwork(this.queue, rng.fork(), opts.transportLimits);
    this.diskRng = rng.fork();
    for (let i = 0; i < opts.nodes; i++) {
      const { dc, rack } = opts.placement?.(i) ?? { dc: 'dc1', rack: `rack${i % 2}` };
      const info: PeerInfo = { nodeId: `n${i}`, address: `sim:${7000 + i}`, dc, rack, weight: 1 };
      const diskRng = this.diskRng;
      const queue = this.queue;
      const lsmDisk = new MemoryDisk({
        seed: rng.u32(),
        schedule: (complete) => queue.schedule(0.02 + diskRng.next() * 0.3, complete),
      });
      const skew = opts.clockSkewMs ?? 0;
      const clockOffsetMs = skew > 0 ? rng.int(2 * skew + 1) - skew : 0;
      this.nodes.push({ info, disk: new SimDisk(), lsmDisk, up: false, starting: false, restarts: 0, clockOffsetMs });
    }
  }

  get ids(): string[] {
    return this.nodes.map((n) => n.info.nodeId);
  }

  /**
   * Every node starts with every seed's facts (as transport handshakes give them); gossip then
   * forms the first ring. With the LSM engine a node is up only once its engine has opened:
   * drive the queue meanwhile.
   */
  startAll(): void {
    for (const n of this.founders) this.start(n);
  }

  /** The nodes of the first ring (all but the spares). */
  get founders(): SimNode[] {
    return this.nodes.slice(0, this.nodes.length - (this.opts.spares ?? 0));
  }

  /**
   * Every node that should run is up and serves (it formed, loaded or adopted the ring; gossip
   * forms the first one); spares not yet started and nodes kept down aside.
   */
  get allUp(): boolean {
    return this.nodes.every((n, i) => (n.up && n.runtime?.isServing() === true) || this.keepDown.has(i) || (!n.started && i >= this.founders.length));
  }

  private start(n: SimNode): void {
    n.started = true;
    if (this.opts.engine !== 'lsm') {
      this.launch(n, new SimDiskEngine(n.disk, this.queue, this.diskRng, this.opts.fsyncMs), this.clockOf(n));
      return;
    }
    n.starting = true;
    const clock = this.clockOf(n);
    const epoch = n.lsmDisk.crashes;
    openLsmEngine({
      dir: '/data', fs: n.lsmDisk.mount(), sync: 'group',
      memtableBytes: 2 * 1024, blockBytes: 256, maxImmutableMemtables: 2,
      compaction: { minMerge: 2, maxTables: 4, bytesPerSec: 1e12 },
      clock, compressor: syncCompressor,
      ...(this.opts.purgeTombstones ? { canPurge: (k: Uint8Array, v: Uint8Array) => n.runtime?.canPurge(k, v) ?? false } : {}),
      onEvent: (e) => {
        if (e.type === 'flush-start') this.storageEvents.flushes++;
        else if (e.type === 'compaction-start') this.storageEvents.compactions++;
        else if (e.type === 'corruption') this.storageEvents.corruptions++;
      },
    }).then((engine) => {
      n.starting = false;
      if (n.lsmDisk.crashes !== epoch) return; // crashed while opening
      this.launch(n, engine, clock);
    }, () => {
      n.starting = false; // the disk crashed under the open; a later restart tries again
    });
  }

  private clockOf(n: SimNode): SimClock {
    return new SimClock(this.queue, SIM_EPOCH_MS + n.clockOffsetMs);
  }

  private launch(n: SimNode, engine: StorageEngine, clock: SimClock): void {
    const founders = this.founders;
    const spare = !founders.includes(n);
    // A spare's seeds name an address nobody has, so it never forms a ring of its own.
    const seeds = [...founders.map((m) => m.info.address), ...(spare ? ['sim:no-such-seed'] : [])];
    const transport = this.network.open<Message>(n.info, seeds.filter((a) => a !== 'sim:no-such-seed'));
    const runtime = NodeRuntime.create({
      self: n.info, settings: { ...this.opts.settings, seeds }, engine, transport, clock, incarnation: this.diskRng.int(2 ** 31),
      ...(this.opts.transfer ? { transfer: this.opts.transfer } : {}),
      // Liveness is the nodes' own business: membership gossip and its failure detector.
      ...(this.opts.gossip ? { gossip: this.opts.gossip } : {}),
      ...(this.opts.bug ? { bug: this.opts.bug } : {}),
      ...(this.opts.antiEntropy ? { antiEntropy: this.opts.antiEntropy } : {}),
      ...(this.opts.observer ? { observer: (ev: NodeEvent) => this.opts.observer!(n.info.nodeId, ev) } : {}),
    });
    runtime.start();
    // Hand every node the founders' facts as a transport handshake would; gossip forms the ring.
    for (const m of founders) runtime.notePeer(m.info);
    Object.assign(n, { runtime, engine, clock, up: true });
  }

  crash(i: number): void {
    const n = this.nodes[i]!;
    if (n.starting) n.lsmDisk.crash();
    if (!n.up) return;
    n.up = false;
    if (this.opts.engine === 'lsm') n.lsmDisk.crash();
    else n.engine?.crash?.();
    n.runtime?.halt();
    n.clock?.cancelAll();
    this.network.close(n.info.nodeId);
    delete n.runtime;
    delete n.engine;
    delete n.clock;
  }

  /** Starts a spare (or restarts a crashed node); never one kept down. */
  restart(i: number): void {
    const n = this.nodes[i]!;
    if (n.up || n.starting || this.keepDown.has(i)) return;
    n.restarts++;
    this.start(n);
  }

  /** Whether every node that is up sees every other member of its ring as alive (gossip's view). */
  allSeeAllAlive(): boolean {
    return this.nodes.every((n) => !n.up || (n.runtime?.members().every((m) => m.state === 'alive') ?? false));
  }

  upNodes(): SimNode[] {
    return this.nodes.filter((n) => n.up);
  }
}
