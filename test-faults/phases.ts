/**
 * One phase of the separate-hosts suite: a fresh set of keys, concurrent clients on them while one
 * nemesis strikes for a bounded time and is healed, then convergence (anti-entropy and hints alone,
 * converge.ts) and the checkers on that phase's history: check.ts's rules against the keys' own
 * replicas, strict quorum's promise (`checkStrict`), and convergence within the limit.
 */
import { sleep } from '../test/cluster/helpers.js';
import type { OpRecord, Violation } from './check.js';
import { checkHistory, checkStrict, mayHaveApplied, prng } from './check.js';
import { awaitConvergence } from './converge.js';
import type { FaultCluster } from './fault-cluster.js';
import type { Nemesis, NemesisContext } from './nemeses.js';
import type { NetHosts } from './netns.js';
import { client, ownViews, send } from './run.js';

export const CONVERGENCE_LIMIT_MS = 30_000;
const CLIENTS = 5;
const KEYS = 4;
const STRICT_KEYS = 2;
const STRICT_Q = '?r=quorum&w=quorum&quorum=strict';

export interface PhaseOptions {
  seed: number;
  workloadMs: number;
  /** When the nemesis strikes, from the start of the workload, and for how long. */
  faultAtMs: number;
  faultMs: number;
}

export interface PhaseResult {
  nemesis: string;
  what: string;
  skipped?: string;
  ops: number;
  writes: number;
  acknowledged: number;
  lost: number;
  unknown: number;
  strictPairs: number;
  convergenceMs: number | undefined;
  violations: Violation[];
  history: OpRecord[];
  log: string[];
}

/**
 * A strict client: reads a strict key at R=quorum through one node, then writes it at W=quorum
 * through another (with the context read, or blind one time in five), over and over.
 */
async function strictClient(cluster: FaultCluster, history: OpRecord[], keys: string[], state: { nextId: number }, t0: number,
  deadline: number, id: number, rand: () => number): Promise<void> {
  const size = cluster.nodes.length;
  for (let n = 0; Date.now() < deadline; n++) {
    const key = keys[Math.floor(rand() * keys.length)]!;
    const a = Math.floor(rand() * size);
    const read = await send(cluster, history, state, t0, id, a, 'get', key, undefined, undefined, [], STRICT_Q);
    const b = (a + 1 + Math.floor(rand() * (size - 1))) % size;
    const held = read.outcome === 'ok' && read.returned && rand() >= 0.2 ? read : undefined;
    await send(cluster, history, state, t0, id, b, 'put', key, `s${id}-${n}`, held?.returned, held?.observed ?? [], STRICT_Q);
    await sleep(rand() * 20);
  }
}

export async function runPhase(cluster: FaultCluster, net: NetHosts, nemesis: Nemesis, opts: PhaseOptions, state: { nextId: number }): Promise<PhaseResult> {
  const base = { nemesis: nemesis.name, what: nemesis.what, ops: 0, writes: 0, acknowledged: 0, lost: 0, unknown: 0, strictPairs: 0, convergenceMs: undefined, violations: [], history: [], log: [] };
  const why = nemesis.unavailable?.();
  if (why) return { ...base, skipped: why };
  const rand = prng(opts.seed);
  const keys = Array.from({ length: KEYS }, (_, i) => `${nemesis.name}-${opts.seed}-${i}`);
  const strictKeys = Array.from({ length: STRICT_KEYS }, (_, i) => `${nemesis.name}-${opts.seed}-s${i}`);
  const history: OpRecord[] = [];
  const log: string[] = [];
  const t0 = Date.now();
  const ctx: NemesisContext = { cluster, net, rand: prng(Math.floor(rand() * 2 ** 32)), note: (s) => log.push(`${Date.now() - t0}ms ${s}`) };
  const deadline = t0 + opts.workloadMs;
  const mix = { deleteRate: 0.15 };
  const clients = Array.from({ length: CLIENTS }, (_, i) => client(cluster, history, keys, state, t0, deadline, mix, i, prng(Math.floor(rand() * 2 ** 32))));
  clients.push(strictClient(cluster, history, strictKeys, state, t0, deadline, CLIENTS, prng(Math.floor(rand() * 2 ** 32))));
  const strike = (async () => {
    await sleep(opts.faultAtMs);
    await nemesis.start(ctx);
    await sleep(opts.faultMs);
    await nemesis.heal(ctx);
  })();
  await Promise.all([...clients, strike]);
  for (let i = 0; i < cluster.nodes.length; i++) {
    const n = cluster.nodes[i]!;
    if (n.stopped) cluster.resume(i);
    if (!n.running) { cluster.start(i); ctx.note(`restart n${i} (heal)`); }
  }
  for (let i = 0; i < cluster.nodes.length; i++) await cluster.waitHealthy(i);
  const conv = await awaitConvergence(cluster, CONVERGENCE_LIMIT_MS);
  ctx.note(conv.ms === undefined ? `not converged within ${CONVERGENCE_LIMIT_MS} ms: ${conv.detail}` : `converged in ${conv.ms} ms (${conv.repairs} repairs started)`);
  const finals = await ownViews(cluster, [...keys, ...strictKeys]);
  const violations = checkHistory(history, finals);
  const checked = { pairs: 0 };
  if (nemesis.strictHolds) violations.push(...checkStrict(history, 3, checked));
  if (conv.ms === undefined) violations.push({ invariant: 'convergence', key: '*', detail: `not converged within ${CONVERGENCE_LIMIT_MS} ms: ${conv.detail}`, ops: [] });
  const writes = history.filter((o) => o.kind !== 'get');
  return {
    ...base, ops: history.length, writes: writes.length,
    acknowledged: writes.filter((o) => o.outcome === 'ok').length,
    lost: violations.filter((v) => v.invariant === 'lost-write').length,
    unknown: writes.filter((o) => o.outcome !== 'ok' && mayHaveApplied(o)).length,
    strictPairs: checked.pairs, convergenceMs: conv.ms, violations, history, log,
  };
}

/** The per-nemesis table (Markdown), as the test prints it and docs/reliability.md keeps it. */
export function summaryTable(rows: readonly PhaseResult[]): string {
  const lines = [
    '| nemesis | operations | writes | acknowledged | lost | unknown | other violations | strict pairs checked | convergence |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    if (r.skipped) { lines.push(`| ${r.nemesis} | skipped: ${r.skipped} | | | | | | | |`); continue; }
    const other = r.violations.length - r.lost;
    const conv = r.convergenceMs === undefined ? `not within ${CONVERGENCE_LIMIT_MS / 1000} s` : `${(r.convergenceMs / 1000).toFixed(1)} s`;
    lines.push(`| ${r.nemesis} | ${r.ops} | ${r.writes} | ${r.acknowledged} | ${r.lost} | ${r.unknown} | ${other} | ${r.strictPairs} | ${conv} |`);
  }
  return lines.join('\n');
}
