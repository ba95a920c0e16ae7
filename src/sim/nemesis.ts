/**
 * The nemesis: every 50–300 virtual ms it picks one fault, with the seed's weights — crash a
 * node (never the last one up), restart one, partition the cluster in two, heal the cuts, change
 * the weather (latency, loss, duplication), or swizzle-clog: slow random links one by one, then
 * free them one by one in another random order (FoundationDB's swizzle-clogging, which finds
 * bugs that need a slow link to uncover a race that plain partitions hide).
 */
import type { SimCluster } from './cluster.js';
import type { NemesisRates } from './options.js';
import type { Prng } from './prng.js';

export interface NemesisCounts {
  crashes: number;
  partitions: number;
  /** Links slowed by a swizzle. */
  clogs: number;
  swizzles: number;
}

type Action = 'crash' | 'restart' | 'partition' | 'heal' | 'clog' | 'weather';
const ACTIONS: readonly Action[] = ['crash', 'restart', 'partition', 'heal', 'clog', 'weather'];

/** Fisher–Yates on the seeded generator. */
export function shuffle<T>(rng: Prng, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export class Nemesis {
  readonly counts: NemesisCounts = { crashes: 0, partitions: 0, clogs: 0, swizzles: 0 };
  private on = false;
  private swizzling = false;

  constructor(private readonly cluster: SimCluster, private readonly rng: Prng, private readonly rates: NemesisRates) {}

  start(): void {
    this.on = true;
    this.cluster.queue.schedule(this.rng.int(100), () => this.step());
  }

  /** No new faults; what is broken stays broken until the caller heals it. */
  stop(): void {
    this.on = false;
  }

  private step(): void {
    if (!this.on) return;
    this.act(this.pick());
    this.cluster.queue.schedule(50 + this.rng.int(250), () => this.step());
  }

  private pick(): Action {
    const total = ACTIONS.reduce((sum, a) => sum + this.rates[a], 0);
    let roll = this.rng.next() * total;
    for (const a of ACTIONS) {
      roll -= this.rates[a];
      if (roll < 0) return a;
    }
    return 'weather';
  }

  private act(action: Action): void {
    const { cluster, rng } = this;
    const count = cluster.nodes.length;
    switch (action) {
      case 'crash':
        if (cluster.nodes.filter((n) => !n.up).length < count - 1) {
          cluster.crash(rng.int(count));
          this.counts.crashes++;
        }
        return;
      case 'restart':
        cluster.restart(rng.int(count));
        return;
      case 'partition': {
        const shuffled = shuffle(rng, cluster.ids);
        const cut = 1 + rng.int(count - 1);
        cluster.network.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
        this.counts.partitions++;
        return;
      }
      case 'heal':
        cluster.network.partition([]);
        return;
      case 'clog':
        this.swizzle();
        return;
      case 'weather':
        cluster.network.faults = {
          minLatencyMs: 1, maxLatencyMs: 1 + rng.int(40),
          dropRate: rng.next() * this.rates.dropRateMax, duplicateRate: rng.next() * this.rates.duplicateRateMax,
        };
    }
  }

  /** Clogs a random set of directed links one by one, waits, then unclogs them in a new order. */
  private swizzle(): void {
    if (this.swizzling) return;
    const { cluster, rng } = this;
    const ids = cluster.ids;
    const links = ids.flatMap((a) => ids.filter((b) => b !== a).map((b): [string, string] => [a, b]));
    const chosen = shuffle(rng, links).slice(0, 1 + rng.int(links.length));
    this.swizzling = true;
    this.counts.swizzles++;
    let atMs = 0;
    for (const [a, b] of chosen) {
      atMs += 10 + rng.int(90);
      const extraMs = 50 + rng.int(950);
      cluster.queue.schedule(atMs, () => {
        if (!this.on) return;
        cluster.network.clog(a, b, extraMs);
        this.counts.clogs++;
      });
    }
    atMs += 100 + rng.int(400);
    for (const [a, b] of shuffle(rng, chosen)) {
      atMs += 10 + rng.int(90);
      cluster.queue.schedule(atMs, () => cluster.network.unclog(a, b));
    }
    cluster.queue.schedule(atMs, () => { this.swizzling = false; });
  }
}
