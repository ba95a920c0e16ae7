/**
 * The autoscale policy: a small state machine on injected time. Each `decide(snapshot)` answers
 * scale out, scale in or hold, with a reason from a bounded set.
 *
 * What keeps it from flapping:
 * - hysteresis: separate out and in thresholds (in strictly below out), and scale-in is judged on
 *   the load the remaining nodes would carry (per-node figures × n/(n−1)), so removing a node
 *   cannot by itself push the cluster over the out thresholds' band;
 * - sustain: a condition must hold continuously for a while (a fault spike is not a trend);
 * - cooldowns: none within `cooldownMs` of the previous change, none the other way within
 *   `reverseCooldownMs`;
 * - one change at a time: after a change it holds until the membership shows it (or it times out).
 * What keeps it safe: never below max(minNodes, N) nodes nor below a DC's replica count, never
 * above maxNodes, and no change at all while a partition is under-replicated or a transfer runs.
 */
import type { AutoscaleConfig, ClusterSnapshot, Decision, NodeSample, Reason, Thresholds } from './types.js';

type SignalKey = keyof Thresholds;

const OUT_SIGNALS: readonly [SignalKey, Reason][] = [
  ['requestsPerSecPerNode', 'requests_high'], ['eventLoopUtilization', 'event_loop_high'],
  ['p99LatencyMs', 'p99_high'], ['storedBytesPerNode', 'bytes_high'], ['stallsPerSec', 'stalls_high'],
];

/** The cluster's figures as the thresholds read them. */
export interface Aggregate {
  readonly requestsPerSecPerNode: number;
  readonly eventLoopUtilization: number;
  readonly p99LatencyMs: number;
  readonly storedBytesPerNode: number;
  readonly stallsPerSec: number;
}

/** Means of what divides by node count; the worst node for latency and stalls. */
export function aggregate(samples: readonly NodeSample[]): Aggregate {
  const count = Math.max(1, samples.length);
  let rps = 0;
  let elu = 0;
  let bytes = 0;
  let p99 = 0;
  let stalls = 0;
  for (const s of samples) {
    rps += s.requestsPerSec;
    elu += s.eventLoopUtilization;
    bytes += s.storedBytes;
    p99 = Math.max(p99, s.p99LatencyMs);
    stalls = Math.max(stalls, s.stallsPerSec);
  }
  return { requestsPerSecPerNode: rps / count, eventLoopUtilization: elu / count, p99LatencyMs: p99, storedBytesPerNode: bytes / count, stallsPerSec: stalls };
}

/** The figures the remaining nodes would carry with one node fewer (what divides, scaled up). */
export function projectedWithOneFewer(a: Aggregate, nodes: number): Aggregate {
  const f = nodes > 1 ? nodes / (nodes - 1) : Infinity;
  return { ...a, requestsPerSecPerNode: a.requestsPerSecPerNode * f, eventLoopUtilization: a.eventLoopUtilization * f, storedBytesPerNode: a.storedBytesPerNode * f };
}

/** The problems of a configuration, one line each (empty when it is usable). */
export function configProblems(c: AutoscaleConfig): string[] {
  const out: string[] = [];
  const whole = (name: string, v: number, min: number): void => {
    if (!Number.isInteger(v) || v < min) out.push(`${name} must be a whole number ≥ ${min} (got ${v})`);
  };
  whole('minNodes', c.minNodes, 1);
  whole('maxNodes', c.maxNodes, 1);
  whole('n', c.n, 1);
  if (c.maxNodes < c.minNodes) out.push(`maxNodes (${c.maxNodes}) is below minNodes (${c.minNodes})`);
  if (c.maxNodes < c.n) out.push(`maxNodes (${c.maxNodes}) is below N (${c.n}): the cluster cannot have N replicas`);
  const dcTotal = Object.values(c.perDcMin ?? {}).reduce((a, b) => a + b, 0);
  if (dcTotal > c.maxNodes) out.push(`the per-DC minimums sum to ${dcTotal}, above maxNodes (${c.maxNodes})`);
  for (const [k, v] of [['scaleOutSustainMs', c.scaleOutSustainMs], ['scaleInSustainMs', c.scaleInSustainMs], ['cooldownMs', c.cooldownMs],
    ['reverseCooldownMs', c.reverseCooldownMs], ['changeTimeoutMs', c.changeTimeoutMs]] as const) {
    if (!Number.isFinite(v) || v < 0) out.push(`${k} must be a duration ≥ 0 ms (got ${v})`);
  }
  if (c.reverseCooldownMs < c.cooldownMs) out.push(`reverseCooldownMs (${c.reverseCooldownMs}) is below cooldownMs (${c.cooldownMs})`);
  for (const [key] of OUT_SIGNALS) {
    const hi = c.scaleOut[key];
    const lo = c.scaleIn[key];
    if (hi !== undefined && !(hi >= 0)) out.push(`scaleOut.${key} must be ≥ 0`);
    if (lo !== undefined && !(lo >= 0)) out.push(`scaleIn.${key} must be ≥ 0`);
    if (hi !== undefined && lo !== undefined && !(lo < hi)) out.push(`scaleIn.${key} (${lo}) must be below scaleOut.${key} (${hi}): hysteresis`);
  }
  return out;
}

/** The first out-signal over its threshold, if any. */
export function outReason(a: Aggregate, t: Thresholds): Reason | undefined {
  for (const [key, reason] of OUT_SIGNALS) {
    const limit = t[key];
    if (limit !== undefined && a[key] > limit) return reason;
  }
  return undefined;
}

/** Every in-threshold holds (and at least one is set): the cluster is idle enough to lose a node. */
export function idleEnough(projected: Aggregate, t: Thresholds): boolean {
  let any = false;
  for (const [key] of OUT_SIGNALS) {
    const limit = t[key];
    if (limit === undefined) continue;
    any = true;
    if (!(projected[key] < limit)) return false;
  }
  return any;
}

function countByDc(members: ClusterSnapshot['members']): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of members) m.set(x.dc, (m.get(x.dc) ?? 0) + 1);
  return m;
}

function dcLoad(samples: readonly NodeSample[], dc: string): number {
  const own = samples.filter((s) => s.dc === dc);
  return own.length === 0 ? 0 : own.reduce((a, s) => a + s.requestsPerSec + 1000 * s.eventLoopUtilization, 0) / own.length;
}

/** Where a new node goes: a DC below its minimum first, else the busiest DC per node. */
export function dcToGrow(s: ClusterSnapshot, perDcMin: Readonly<Record<string, number>>): string | undefined {
  const counts = countByDc(s.members);
  const short = Object.keys(perDcMin).sort().find((dc) => (counts.get(dc) ?? 0) < perDcMin[dc]!);
  if (short !== undefined) return short;
  const dcs = [...counts.keys()].sort();
  let best: string | undefined;
  for (const dc of dcs) if (best === undefined || dcLoad(s.samples, dc) > dcLoad(s.samples, best)) best = dc;
  return best;
}

/** Where a node may leave: a DC that stays at or above its minimum; the idlest per node. */
export function dcToShrink(s: ClusterSnapshot, perDcMin: Readonly<Record<string, number>>): string | undefined {
  const counts = countByDc(s.members);
  const dcs = [...counts.keys()].sort().filter((dc) => (counts.get(dc) ?? 0) - 1 >= (perDcMin[dc] ?? 0) && (counts.get(dc) ?? 0) > 0);
  let best: string | undefined;
  for (const dc of dcs) if (best === undefined || dcLoad(s.samples, dc) < dcLoad(s.samples, best)) best = dc;
  return best;
}

interface Change { readonly action: 'out' | 'in'; readonly atMs: number; readonly target: number }

/** The policy's memory between evaluations: sustain timers, the last change, the pending one. */
export class AutoscalePolicy {
  private outSinceMs: number | undefined;
  private inSinceMs: number | undefined;
  private last: Change | undefined;
  private pending: Change | undefined;
  private nowMs = -Infinity;

  constructor(readonly config: AutoscaleConfig) {
    const problems = configProblems(config);
    if (problems.length > 0) throw new RangeError(`autoscale: ${problems[0]}`);
  }

  decide(s: ClusterSnapshot): Decision {
    this.nowMs = Math.max(this.nowMs, s.nowMs);
    const now = this.nowMs;
    const actual = s.members.length;
    const hold = (reason: Reason, detail = '', desired = actual): Decision => ({ action: 'hold', reason, desiredNodes: desired, actualNodes: actual, detail });

    if (this.pending) {
      const p = this.pending;
      if (p.action === 'out' ? actual >= p.target : actual <= p.target) this.pending = undefined;
      else if (now - p.atMs >= this.config.changeTimeoutMs) {
        this.pending = undefined;
        return hold('change_timeout', `scale ${p.action} to ${p.target} not seen after ${now - p.atMs} ms`);
      } else return hold('change_pending', `waiting for ${p.target} nodes`, p.target);
    }
    const sampled = new Set(s.samples.map((x) => x.nodeId));
    const missing = s.members.filter((m) => !sampled.has(m.nodeId)).map((m) => m.nodeId);
    if (missing.length > 0 || actual === 0) {
      this.outSinceMs = undefined;
      this.inSinceMs = undefined;
      return hold('no_data', missing.length > 0 ? `no figures from ${missing.join(',')}` : 'no members');
    }
    const own = s.samples.filter((x) => s.members.some((m) => m.nodeId === x.nodeId));
    const agg = aggregate(own);
    const detail = describe(agg, actual);
    const out = actual < this.config.minNodes ? 'below_min' : outReason(agg, this.config.scaleOut);
    const inn = out !== undefined ? undefined
      : actual > this.config.maxNodes ? 'above_max'
        : idleEnough(projectedWithOneFewer(agg, actual), this.config.scaleIn) ? 'load_low' : undefined;
    this.outSinceMs = out === undefined ? undefined : (this.outSinceMs ?? now);
    this.inSinceMs = inn === undefined ? undefined : (this.inSinceMs ?? now);
    if (out !== undefined) return this.tryOut(s, out, detail, hold);
    if (inn !== undefined) return this.tryIn(s, inn, detail, hold);
    return hold('steady', detail);
  }

  private tryOut(s: ClusterSnapshot, reason: Reason, detail: string, hold: (r: Reason, d?: string) => Decision): Decision {
    const c = this.config;
    const actual = s.members.length;
    if (actual >= c.maxNodes) return hold('at_max', `${reason}; ${detail}`);
    const blocked = this.blocked(s, 'out');
    if (blocked) return hold(blocked, `${reason}; ${detail}`);
    if (reason !== 'below_min' && this.nowMs - this.outSinceMs! < c.scaleOutSustainMs) return hold('sustaining', `${reason} for ${this.nowMs - this.outSinceMs!} ms; ${detail}`);
    const dc = dcToGrow(s, c.perDcMin ?? {});
    return this.change(s, 'out', reason, detail, dc);
  }

  private tryIn(s: ClusterSnapshot, reason: Reason, detail: string, hold: (r: Reason, d?: string) => Decision): Decision {
    const c = this.config;
    const actual = s.members.length;
    const floor = Math.max(c.minNodes, c.n);
    if (actual - 1 < floor) return hold('floor_n', `${reason} at the floor of ${floor} nodes; ${detail}`);
    const dc = dcToShrink(s, c.perDcMin ?? {});
    if (dc === undefined) return hold('floor_dc', `${reason}, but every DC is at its replica count; ${detail}`);
    const blocked = this.blocked(s, 'in');
    if (blocked) return hold(blocked, `${reason}; ${detail}`);
    if (reason !== 'above_max' && this.nowMs - this.inSinceMs! < c.scaleInSustainMs) return hold('sustaining', `${reason} for ${this.nowMs - this.inSinceMs!} ms; ${detail}`);
    return this.change(s, 'in', reason, detail, dc);
  }

  /** Why no change may start now, if something forbids it. */
  private blocked(s: ClusterSnapshot, action: 'out' | 'in'): Reason | undefined {
    if (s.transferInFlight) return 'transfer_in_flight';
    if (s.underReplicated) return 'under_replicated';
    const last = this.last;
    if (!last) return undefined;
    const since = this.nowMs - last.atMs;
    if (since < this.config.cooldownMs) return 'cooldown';
    if (last.action !== action && since < this.config.reverseCooldownMs) return 'cooldown';
    return undefined;
  }

  private change(s: ClusterSnapshot, action: 'out' | 'in', reason: Reason, detail: string, dc: string | undefined): Decision {
    const actual = s.members.length;
    const target = action === 'out' ? actual + 1 : actual - 1;
    this.last = { action, atMs: this.nowMs, target };
    this.pending = this.last;
    this.outSinceMs = undefined;
    this.inSinceMs = undefined;
    return { action, reason, desiredNodes: target, actualNodes: actual, detail, ...(dc !== undefined ? { dc } : {}) };
  }
}

function describe(a: Aggregate, nodes: number): string {
  return `nodes=${nodes} rps/node=${a.requestsPerSecPerNode.toFixed(0)} elu=${a.eventLoopUtilization.toFixed(2)} `
    + `p99=${a.p99LatencyMs.toFixed(1)}ms bytes/node=${a.storedBytesPerNode.toFixed(0)} stalls/s=${a.stallsPerSec.toFixed(2)}`;
}
