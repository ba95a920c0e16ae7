/**
 * A scripted loopback run for the rule "no deleted value returns": the textbook resurrection.
 * Three nodes (N=3: each holds every key). Each key is written through n0 at W=all, so all three
 * hold the value; n2 is SIGKILLed; each key is deleted through n0 with the context of its write
 * (acknowledged at W=quorum by n0 and n1; with three nodes there is no stand-in, so no hint
 * carries the delete to n2); n0 is SIGKILLed too, so the frames it queued for n2 are gone; both
 * restart on their data, n2 still holding the values; then the cluster
 * heals as in run.ts (reads at R=all from every node, until the replicas agree and no hint is
 * pending) and check.ts judges the history.
 *
 * The correct build keeps each tombstone (with its context) until every replica holds it, so the
 * heal carries the delete to n2. A build that purges tombstones at once
 * (GOSSAMER_BUG=purge-unconfirmed) has nothing left at n0 and n1 to cover n2's stale value, and
 * the heal spreads the deleted value back: a resurrection on each key, and nothing else.
 */
import type { CheckStats, LocalView, OpRecord, Violation } from './check.js';
import { checkHistory } from './check.js';
import { FaultCluster } from './fault-cluster.js';
import { heal, send } from './run.js';

const NODES = 3;
const KEYS = 3;

export interface ResurrectionProbe {
  cluster: FaultCluster;
  history: OpRecord[];
  finals: Map<string, Map<string, LocalView | null>>;
  violations: Violation[];
  stats: CheckStats;
  summary: string;
}

export async function runResurrectionProbe(opts: { tag: string; bug?: string }, onCluster: (c: FaultCluster) => void): Promise<ResurrectionProbe> {
  const began = Date.now();
  const cluster = await FaultCluster.create(NODES, ['--partitions', '16', '--request-timeout-ms', '3000'], opts.bug ? { GOSSAMER_BUG: opts.bug } : {});
  onCluster(cluster);
  for (let i = 0; i < NODES; i++) cluster.start(i);
  for (let i = 0; i < NODES; i++) await cluster.waitHealthy(i);
  const keys = Array.from({ length: KEYS }, (_, k) => `undead-${opts.tag}-${k}`);
  const history: OpRecord[] = [];
  const state = { nextId: 1 };
  const t0 = Date.now();
  const written = new Map<string, OpRecord>();
  for (const key of keys) {
    const put = await send(cluster, history, state, t0, 0, 0, 'put', key, `${key}-v1`, undefined, [], '?w=all');
    if (put.outcome !== 'ok' || !put.returned) throw new Error(`the first write of ${key} at W=all failed: ${JSON.stringify(put)}`);
    written.set(key, put);
  }
  await cluster.stop(2, 'SIGKILL');
  for (const key of keys) {
    const put = written.get(key)!;
    const del = await send(cluster, history, state, t0, 0, 0, 'delete', key, `${key}-del`, put.returned, [put.tag!], '?w=quorum');
    if (del.outcome !== 'ok') throw new Error(`the delete of ${key} at W=quorum with n2 down failed: ${JSON.stringify(del)}`);
  }
  // n0 queues the delete's frames for n2 until n2 is back (the transport's per-peer queue):
  // SIGKILL n0 too (its copies are durable: a write is acknowledged after its fsync), so only the
  // replicas' stored states and the heal decide what n2 ends with.
  await cluster.stop(0, 'SIGKILL');
  cluster.start(2);
  cluster.start(0);
  await cluster.waitHealthy(2);
  await cluster.waitHealthy(0);
  const { finals, healErrors, rounds, converged } = await heal(cluster, keys);
  const stats: CheckStats = { superseded: 0, present: 0, tombstone: 0 };
  const violations = checkHistory(history, finals, stats);
  if (converged !== undefined) violations.push({ invariant: 'convergence', key: '*', detail: `not converged after ${rounds} rounds of reads at R=all: ${converged}`, ops: [] });
  for (const e of healErrors) violations.push({ invariant: 'server-error', key: '*', detail: `during the heal: ${e}`, ops: [] });
  const held = [...finals.values()].map((views) => [...views.values()].map((v) => v?.versions.map((x) => (x.value === null ? '~' : 'value')).join('+') ?? '-').join('/'));
  const summary = `${opts.bug ? `GOSSAMER_BUG=${opts.bug}` : 'correct build'}: ${history.length} ops (${keys.length} puts at W=all, ${keys.length} deletes with n2 down), ` +
    `finals per key (n0/n1/n2) ${held.join(' ')}, ${stats.tombstone} deletes as tombstones, repair rounds ${rounds + 1}, ${((Date.now() - began) / 1000).toFixed(1)} s`;
  return { cluster, history, finals, violations, stats, summary };
}
