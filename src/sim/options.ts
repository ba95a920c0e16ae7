/**
 * The options of one simulation run, drawn from its seed: node count, R and W, the storage
 * engine, clock skew and the nemesis' fault rates. A failure is thus reproduced from the seed
 * alone, and `describeRun` prints them on one line beside the digest.
 */
import type { Consistency } from '../core/types.js';
import type { Prng } from './prng.js';

/**
 * Which engine the simulated nodes run: `sim-disk` is a map whose writes become durable at a
 * simulated fsync; `lsm` is Gossamer's real LSM engine on the in-memory disk, whose every
 * operation completes from the event queue and whose crash loses what was not fsynced (torn
 * tails, lost renames included). Small memtables make flushes and compactions happen mid-run.
 */
export type SimEngineKind = 'sim-disk' | 'lsm';

/** How often the nemesis picks each fault (relative weights), and how hard the weather gets. */
export interface NemesisRates {
  crash: number;
  restart: number;
  partition: number;
  heal: number;
  /** Swizzle-clogging: slow random links one by one, then free them in random order. */
  clog: number;
  /** Latency, loss and duplication of every link. */
  weather: number;
  dropRateMax: number;
  duplicateRateMax: number;
}

export interface SimDrawnOptions {
  nodes: number;
  r: Consistency;
  w: Consistency;
  engine: SimEngineKind;
  /** Each node's clock is off by up to this much, either way. */
  clockSkewMs: number;
  rates: NemesisRates;
  /**
   * Data centres: 1, or (for 4–5 nodes, one run in three) 2 — nodes alternate between dc1 and
   * dc2, replication {dc1: 2, dc2: 1}, and R and W are drawn from the DC-aware levels too.
   */
  dcs: 1 | 2;
}

/** What a caller may pin instead of drawing it. */
export type SimOptionOverrides = Partial<Omit<SimDrawnOptions, 'rates'>> & { rates?: Partial<NemesisRates> };

const CONSISTENCIES: readonly Consistency[] = ['quorum', 'quorum', 'quorum', 'one', 'all', 2];
/** Levels drawn for two-DC runs: mostly the DC-aware ones. */
const DC_CONSISTENCIES: readonly Consistency[] = ['local_quorum', 'local_quorum', 'local_one', 'each_quorum', 'quorum', 'one'];

/** Where node i of a run with `dcs` data centres lives (SimCluster's `placement`). */
export function placementFor(dcs: 1 | 2): (i: number) => { dc: string; rack: string } {
  return dcs === 2 ? (i) => ({ dc: i % 2 === 0 ? 'dc1' : 'dc2', rack: `rack${(i >> 1) % 2}` }) : (i) => ({ dc: 'dc1', rack: `rack${i % 2}` });
}

/** The replication of a run with `dcs` data centres (undefined: plain N). */
export function replicationFor(dcs: 1 | 2): Record<string, number> | undefined {
  return dcs === 2 ? { dc1: 2, dc2: 1 } : undefined;
}

/** A two-decimal rate in [min, max], so the printed line is the whole truth about what was drawn. */
function rate(rng: Prng, min: number, max: number): number {
  return Math.round((min + rng.next() * (max - min)) * 100) / 100;
}

/**
 * Draws every option from `rng` (always the same number of draws, pinned or not, so pinning one
 * option does not change the others).
 */
export function drawOptions(rng: Prng, pinned: SimOptionOverrides = {}): SimDrawnOptions {
  const drawn: SimDrawnOptions = {
    nodes: 3 + rng.int(3),
    r: rng.pick(CONSISTENCIES),
    w: rng.pick(CONSISTENCIES),
    engine: rng.chance(0.25) ? 'lsm' : 'sim-disk',
    clockSkewMs: rng.pick([0, 0, 5, 50, 500]),
    rates: {
      crash: rate(rng, 0.05, 0.3),
      restart: rate(rng, 0.1, 0.4),
      partition: rate(rng, 0, 0.25),
      heal: rate(rng, 0.05, 0.25),
      clog: rate(rng, 0, 0.2),
      weather: rate(rng, 0.05, 0.35),
      dropRateMax: rate(rng, 0, 0.15),
      duplicateRateMax: rate(rng, 0, 0.08),
    },
    dcs: 1,
  };
  // Drawn last, so the options drawn before DCs existed stay what they were for every seed.
  const twoDcs = rng.chance(1 / 3);
  const dcR = rng.pick(DC_CONSISTENCIES);
  const dcW = rng.pick(DC_CONSISTENCIES);
  const nodes = pinned.nodes ?? drawn.nodes;
  if ((pinned.dcs ?? (twoDcs ? 2 : 1)) === 2 && nodes >= 4) Object.assign(drawn, { dcs: 2, r: dcR, w: dcW });
  const { rates, ...rest } = pinned;
  const out: SimDrawnOptions = { ...drawn, ...definedOnly(rest), rates: { ...drawn.rates, ...definedOnly(rates ?? {}) } };
  return out.nodes < 4 ? { ...out, dcs: 1 } : out; // two DCs of N=3 need at least four nodes
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** One line: `seed=7 nodes=4 r=quorum w=one engine=lsm skew-ms=50 nemesis=crash:0.12,... digest: <hex>`. */
export function describeRun(seed: number, o: SimDrawnOptions, digest: string): string {
  const r = o.rates;
  const nemesis = [
    `crash:${r.crash}`, `restart:${r.restart}`, `partition:${r.partition}`, `heal:${r.heal}`, `clog:${r.clog}`,
    `weather:${r.weather}`, `drop:${r.dropRateMax}`, `dup:${r.duplicateRateMax}`,
  ].join(',');
  return `seed=${seed} nodes=${o.nodes}${o.dcs === 2 ? ' dcs=2' : ''} r=${o.r} w=${o.w} engine=${o.engine} skew-ms=${o.clockSkewMs} ` +
    `nemesis=${nemesis} digest: ${digest}`;
}
