/**
 * A short loopback run that puts strict quorum's promise to the test: node n0 sends every frame to
 * its peers 300 ms late (GOSSAMER_TEST_DELAY_MS), a client writes keys n0 replicates through n0
 * at W=quorum, quorum=strict (with the context it read, or blind), and as soon as a write is
 * acknowledged reads it at R=quorum, quorum=strict through another replica of the key. With
 * R+W>N the read must see the write (`checkStrict`); a build that acknowledges a strict write
 * early (GOSSAMER_BUG=strict-acks-early) is caught, as the other replicas hear of the write only
 * 300 ms later.
 */
import { sleep } from '../test/cluster/helpers.js';
import type { OpRecord, Violation } from './check.js';
import { checkStrict, prng } from './check.js';
import { FaultCluster } from './fault-cluster.js';
import { SIZE, send } from './run.js';

const Q = '?r=quorum&w=quorum&quorum=strict';
export const PROBE_DELAY_MS = 300;

export interface StrictProbe { cluster: FaultCluster; history: OpRecord[]; violations: Violation[]; pairs: number; summary: string }

export async function runStrictProbe(opts: { seed: number; workloadMs: number; bug?: string }, onCluster: (c: FaultCluster) => void): Promise<StrictProbe> {
  const cluster = await FaultCluster.create(SIZE, ['--partitions', '64', '--request-timeout-ms', '2000'], opts.bug ? { GOSSAMER_BUG: opts.bug } : {});
  onCluster(cluster);
  cluster.nodes[0]!.nextEnv = { GOSSAMER_TEST_DELAY_MS: String(PROBE_DELAY_MS) };
  for (let i = 0; i < SIZE; i++) cluster.start(i);
  for (let i = 0; i < SIZE; i++) await cluster.waitHealthy(i);
  // Keys that n0 replicates, each with another replica to read through.
  const keys: { key: string; reader: number }[] = [];
  for (let k = 0; keys.length < 3 && k < 100; k++) {
    const key = `strict-${opts.seed}-${k}`;
    const pl = (JSON.parse((await cluster.http(1, 'GET', `/ring?key=${key}`)).text) as { preferenceList: string[] }).preferenceList;
    const other = pl.find((id) => id !== 'n0');
    if (pl.includes('n0') && other) keys.push({ key, reader: Number(other.slice(1)) });
  }
  const rand = prng(opts.seed);
  const history: OpRecord[] = [];
  const state = { nextId: 1 };
  const t0 = Date.now();
  const ctx = new Map<string, { token: string; basis: string[] }>();
  let acknowledged = 0;
  for (let n = 0; Date.now() - t0 < opts.workloadMs; n++) {
    const { key, reader } = keys[n % keys.length]!;
    const held = rand() < 0.8 ? ctx.get(key) : undefined;
    const w = await send(cluster, history, state, t0, 0, 0, 'put', key, `p-${n}`, held?.token, held?.basis ?? [], Q);
    if (w.outcome !== 'ok') { await sleep(50); continue; }
    acknowledged++;
    const r = await send(cluster, history, state, t0, 0, reader, 'get', key, undefined, undefined, [], Q);
    if (r.outcome === 'ok' && r.returned) ctx.set(key, { token: r.returned, basis: r.observed ?? [] });
  }
  const checked = { pairs: 0 };
  const violations = checkStrict(history, 3, checked);
  const summary = `seed ${opts.seed}${opts.bug ? `, GOSSAMER_BUG=${opts.bug}` : ''}, ${history.length} ops, ${acknowledged} strict writes acknowledged, ` +
    `${checked.pairs} (write, later read) pairs checked, ${violations.length} stale strict reads`;
  return { cluster, history, violations, pairs: checked.pairs, summary };
}
