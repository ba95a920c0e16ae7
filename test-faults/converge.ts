/**
 * Convergence after healing, judged from the nodes' own reports, with no client reads (so read
 * repair does not do anti-entropy's work): every node runs anti-entropy now (`POST /admin/repair`,
 * what `gossamer repair` does) and again whenever its last repair finished, until for every
 * partition all of its replicas report the same Merkle root (`/admin/roots`) and no node has a hint
 * pending (`/cluster`), or the limit passes.
 */
import { sleep } from '../test/cluster/helpers.js';
import type { FaultCluster } from './fault-cluster.js';
import { pendingHints } from './run.js';

export interface Convergence {
  /** Milliseconds from the call to equal roots and zero hints; undefined when not within the limit. */
  ms: number | undefined;
  /** What was still different at the end (or at the last look). */
  detail: string;
  repairs: number;
}

/** Partitions whose replicas report different roots (a node that cannot say yet counts as different). */
export async function rootDifferences(cluster: FaultCluster): Promise<{ differing: number[]; unknown: string[] }> {
  const byPartition = new Map<number, Set<number>>();
  const unknown: string[] = [];
  for (let i = 0; i < cluster.nodes.length; i++) {
    try {
      const a = await cluster.http(i, 'GET', '/admin/roots', { timeoutMs: 5000 });
      if (a.status !== 200) { unknown.push(`n${i}: ${a.status}`); continue; }
      const roots = (JSON.parse(a.text) as { roots: Record<string, number> }).roots;
      for (const [p, r] of Object.entries(roots)) {
        const set = byPartition.get(Number(p)) ?? new Set<number>();
        set.add(r);
        byPartition.set(Number(p), set);
      }
    } catch (e) {
      unknown.push(`n${i}: ${(e as Error).message}`);
    }
  }
  const differing = [...byPartition].filter(([, s]) => s.size > 1).map(([p]) => p).sort((a, b) => a - b);
  return { differing, unknown };
}

async function repairIfIdle(cluster: FaultCluster, i: number): Promise<boolean> {
  try {
    const p = await cluster.http(i, 'GET', '/admin/repair', { timeoutMs: 5000 });
    if (p.status === 200 && (JSON.parse(p.text) as { running: boolean }).running) return false;
    return (await cluster.http(i, 'POST', '/admin/repair', { timeoutMs: 5000 })).status === 202;
  } catch {
    return false;
  }
}

export async function awaitConvergence(cluster: FaultCluster, limitMs = 30_000): Promise<Convergence> {
  const t0 = Date.now();
  let repairs = 0;
  let detail = '';
  while (Date.now() - t0 < limitMs) {
    for (let i = 0; i < cluster.nodes.length; i++) if (await repairIfIdle(cluster, i)) repairs++;
    const { differing, unknown } = await rootDifferences(cluster);
    let hints = -1;
    try {
      hints = await pendingHints(cluster);
    } catch (e) {
      detail = `hints unknown: ${(e as Error).message}`;
    }
    if (differing.length === 0 && unknown.length === 0 && hints === 0) return { ms: Date.now() - t0, detail: '', repairs };
    detail = `${differing.length} partitions with differing roots${differing.length ? ` (${differing.slice(0, 8).join(', ')}${differing.length > 8 ? ', ...' : ''})` : ''}` +
      `${unknown.length ? `, roots unknown on ${unknown.join('; ')}` : ''}, ${hints < 0 ? 'hints unknown' : `${hints} hints pending`}`;
    await sleep(500);
  }
  return { ms: undefined, detail, repairs };
}
