/**
 * One run of the real-process fault workload: five `gossamer start` nodes (N=3, group commit,
 * sloppy quorum: the default) under six clients racing on a few hot keys while a nemesis SIGKILLs
 * two of the five at a time and restarts them on the same data and ports, or SIGSTOPs two at a
 * time for a moment; then the cluster heals, reads at R=all from every node repair the replicas,
 * hinted handoff empties every stand-in (pending hints 0), and check.ts judges the history
 * against the final `/admin/local` views of each key's own replicas (hinted copies left out). Shared by the crash-consistency test and the
 * broken-build test (which runs it against nodes broken on purpose, `GOSSAMER_BUG`).
 */
import { sleep } from '../test/cluster/helpers.js';
import type { CheckStats, LocalView, OpRecord, Outcome, Violation } from './check.js';
import { checkHistory, prng } from './check.js';
import { FaultCluster } from './fault-cluster.js';

const CLIENTS = 6;
/** Five nodes, N=3: two of them down at once still leaves every key a replica and stand-ins (sloppy quorum). */
export const SIZE = 5;
const KEYS = 4;
const MAX_OPS_PER_CLIENT = 2_000;
const CLIENT_TIMEOUT_MS = 4_000;

export interface FaultRunOptions {
  seed: number;
  workloadMs: number;
  /** `GOSSAMER_BUG` for every node: a build broken on purpose. */
  bug?: string;
  /** Share of operations that are deletes (default 0.15; reads stay 0.4, the rest are puts). */
  deleteRate?: number;
}

export interface FaultRun {
  cluster: FaultCluster;
  history: OpRecord[];
  finals: Map<string, Map<string, LocalView | null>>;
  violations: Violation[];
  stats: CheckStats;
  healErrors: string[];
  nemesisLog: string[];
  summary: string;
  acknowledged: number;
}

/** Runs the workload and the heal; the caller destroys `run.cluster` (also when this throws: see `onCluster`). */
export async function runFaultWorkload(opts: FaultRunOptions, onCluster: (c: FaultCluster) => void): Promise<FaultRun> {
  const began = Date.now();
  const cluster = await FaultCluster.create(SIZE, ['--partitions', '64', '--request-timeout-ms', '1000'], opts.bug ? { GOSSAMER_BUG: opts.bug } : {});
  onCluster(cluster);
  for (let i = 0; i < SIZE; i++) cluster.start(i);
  for (let i = 0; i < SIZE; i++) await cluster.waitHealthy(i);

  const keys = Array.from({ length: KEYS }, (_, i) => `hot-${i}`);
  const history: OpRecord[] = [];
  const t0 = Date.now();
  const deadline = t0 + opts.workloadMs;
  const state = { workloadDone: false, nextId: 1 };
  const rand = prng(opts.seed);
  const clientSeeds = Array.from({ length: CLIENTS }, () => Math.floor(rand() * 2 ** 32));
  const nemesis = new Nemesis(cluster, t0);
  const nemesisRun = nemesis.run(prng(Math.floor(rand() * 2 ** 32)), () => state.workloadDone || Date.now() >= deadline - 1500);
  const mix = { deleteRate: opts.deleteRate ?? 0.15 };
  await Promise.all(clientSeeds.map((s, i) => client(cluster, history, keys, state, t0, deadline, mix, i, prng(s))));
  state.workloadDone = true;
  await nemesisRun;
  const workloadMs = Date.now() - t0;

  for (let i = 0; i < SIZE; i++) {
    const n = cluster.nodes[i]!;
    if (n.stopped) cluster.resume(i);
    if (!n.running) { cluster.start(i); nemesis.restarts++; nemesis.note(`restart n${i} (heal)`); }
  }
  for (let i = 0; i < SIZE; i++) await cluster.waitHealthy(i);
  const { finals, healErrors, rounds, converged } = await heal(cluster, keys);
  const stats: CheckStats = { superseded: 0, present: 0, tombstone: 0 };
  const violations = checkHistory(history, finals, stats);
  if (converged !== undefined) {
    violations.push({ invariant: 'convergence', key: '*', detail: `not converged after ${rounds} rounds of reads at R=all: ${converged}`, ops: [] });
  }

  const writes = history.filter((o) => o.kind !== 'get');
  const acknowledged = writes.filter((o) => o.outcome === 'ok').length;
  const count = (o: Outcome): number => history.filter((r) => r.outcome === o).length;
  const siblings = [...finals.values()].map((v) => [...v.values()][0]?.versions.length ?? 0);
  const summary = `seed ${opts.seed}${opts.bug ? `, GOSSAMER_BUG=${opts.bug}` : ''}, ops ${history.length} (${writes.length} writes, ${acknowledged} acknowledged; ` +
    `${stats.superseded} of them superseded, ${stats.present} puts present, ${stats.tombstone} deletes as tombstones; ${count('status')} error statuses, ${count('refused')} refused, ${count('conn-error')} connection errors, ${count('timeout')} timeouts), ` +
    `kills ${nemesis.kills}, restarts ${nemesis.restarts}, pauses ${nemesis.pauses}, keys ${keys.length} (final versions ${siblings.join('/')}), ` +
    `repair rounds ${rounds + 1}, workload ${(workloadMs / 1000).toFixed(1)} s, total ${((Date.now() - began) / 1000).toFixed(1)} s`;
  return { cluster, history, finals, violations, stats, healErrors, nemesisLog: nemesis.log, summary, acknowledged };
}

/**
 * One request through node `node`, recorded in `history` (invocation first, outcome when it ends).
 * `query` (e.g. `?w=quorum&quorum=strict`) is kept in the record.
 */
export async function send(cluster: FaultCluster, history: OpRecord[], state: { nextId: number }, t0: number,
  client: number, node: number, kind: OpRecord['kind'], key: string, tag: string | undefined, sent: string | undefined,
  basis: string[], query = ''): Promise<OpRecord> {
  const rec: OpRecord = { id: state.nextId++, client, node, kind, key, outcome: 'ok', startMs: Date.now() - t0, endMs: 0 };
  if (tag !== undefined) rec.tag = tag;
  if (kind !== 'get') rec.basis = basis;
  if (sent !== undefined) rec.sent = sent;
  if (query !== '') rec.query = query;
  history.push(rec);
  const headers: Record<string, string> = sent ? { 'X-Gossamer-Context': sent } : {};
  const method = kind === 'get' ? 'GET' : kind === 'put' ? 'PUT' : 'DELETE';
  try {
    const a = await cluster.http(node, method, `/kv/${key}${query}`,
      { headers, ...(kind === 'put' ? { body: tag } : {}), timeoutMs: CLIENT_TIMEOUT_MS });
    rec.status = a.status;
    if (a.context !== undefined) rec.returned = a.context;
    const okStatus = kind === 'get' ? [200, 300, 404].includes(a.status) : a.status === 204;
    rec.outcome = okStatus ? 'ok' : 'status';
    if (okStatus && kind === 'get') rec.observed = observedOf(a.status, a.text, rec.returned !== undefined);
    if (!okStatus) {
      rec.error = a.text.slice(0, 200);
      rec.code = errorCode(a.text);
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    rec.outcome = err.code === 'ECONNREFUSED' ? 'refused' : /^timeout:/.test(err.message) ? 'timeout' : 'conn-error';
    rec.error = err.code ?? err.message;
  }
  rec.endMs = Date.now() - t0;
  return rec;
}

/** The tags a GET answer showed: its value, or its siblings' values; `~` for any tombstone (they carry no tag). */
function observedOf(status: number, text: string, hasContext: boolean): string[] {
  if (status === 200) return [text];
  if (status === 404) return hasContext ? ['~'] : [];
  try {
    const body = JSON.parse(text) as { siblings?: { value: string | null }[] };
    return (body.siblings ?? []).map((v) => (v.value === null ? '~' : Buffer.from(v.value, 'base64').toString('utf8')));
  } catch {
    return [];
  }
}

function errorCode(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { error?: unknown };
    return typeof body.error === 'string' ? body.error : undefined;
  } catch {
    return undefined;
  }
}

export async function client(cluster: FaultCluster, history: OpRecord[], keys: string[], state: { nextId: number }, t0: number, deadline: number,
  mix: { deleteRate: number; maxOps?: number; done?: () => boolean }, id: number, rand: () => number): Promise<void> {
  // key → the latest context this client got, and the tags it observed to get it
  const seen = new Map<string, { ctx: string; basis: string[] }>();
  for (let n = 0; n < (mix.maxOps ?? MAX_OPS_PER_CLIENT) && Date.now() < deadline && !mix.done?.(); n++) {
    const key = keys[Math.floor(rand() * keys.length)]!;
    const node = Math.floor(rand() * SIZE);
    const p = rand();
    const kind: OpRecord['kind'] = p < 0.4 ? 'get' : p < 1 - mix.deleteRate ? 'put' : 'delete';
    const held = kind === 'get' || (kind === 'put' && rand() < 0.2) ? undefined : seen.get(key);
    const tag = kind === 'get' ? undefined : `c${id}-${n}-${kind}`;
    // A delete without a context reads and supersedes what it finds (issue 8, defect 6), which the
    // checker cannot attribute: a client that has seen nothing sends the empty context (a blind delete).
    const sent = held?.ctx ?? (kind === 'delete' ? 'AQAA' : undefined);
    const rec = await send(cluster, history, state, t0, id, node, kind, key, tag, sent, held?.basis ?? []);
    if (rec.outcome === 'ok' && rec.returned) {
      seen.set(key, { ctx: rec.returned, basis: kind === 'get' ? rec.observed ?? [] : [...(held?.basis ?? []), tag!] });
    }
    if (rec.outcome === 'refused') await sleep(20 + rand() * 50);
    else await sleep(rand() * 15);
  }
}

class Nemesis {
  kills = 0;
  restarts = 0;
  pauses = 0;
  readonly log: string[] = [];
  constructor(private readonly cluster: FaultCluster, private readonly t0: number) {}

  note(s: string): void {
    this.log.push(`${Date.now() - this.t0}ms ${s}`);
  }

  async run(rand: () => number, done: () => boolean): Promise<void> {
    const cluster = this.cluster;
    await sleep(500 + rand() * 1000);
    while (!done()) {
      const p = rand();
      // Two of the five at a time: both paused (SIGSTOP) or both killed (SIGKILL), then back.
      const victims = Array.from({ length: SIZE }, (_, i) => i).sort(() => rand() - 0.5).slice(0, 2);
      if (p < 0.35) {
        for (const v of victims) {
          cluster.pause(v);
          this.pauses++;
          this.note(`SIGSTOP n${v}`);
        }
        await sleep(300 + rand() * 1500);
        for (const v of victims) {
          cluster.resume(v);
          this.note(`SIGCONT n${v}`);
        }
      } else {
        for (const v of victims) {
          const e = await cluster.stop(v, 'SIGKILL');
          this.kills++;
          this.note(`SIGKILL n${v} → ${e.signal ?? e.code}`);
        }
        await sleep(200 + rand() * (victims.length > 1 ? 1200 : 2000));
        for (const v of victims) {
          cluster.start(v);
          this.restarts++;
          this.note(`restart n${v}`);
        }
      }
      await sleep(400 + rand() * 2000);
    }
  }
}

/** R=all reads from each node until every key's own replicas agree and no hint is pending (bounded). */
export async function heal(cluster: FaultCluster, keys: string[]): Promise<{ finals: Map<string, Map<string, LocalView | null>>; healErrors: string[]; rounds: number; converged: string | undefined }> {
  const healErrors: string[] = [];
  let finals = new Map<string, Map<string, LocalView | null>>();
  let rounds = 0;
  let converged: string | undefined = 'never checked';
  for (; rounds < 30; rounds++) {
    for (const key of keys) {
      for (let i = 0; i < cluster.nodes.length; i++) {
        try {
          const a = await cluster.http(i, 'GET', `/kv/${key}?r=all`, { timeoutMs: 5000 });
          if (a.status >= 500 && a.status !== 503) healErrors.push(`GET ${key} r=all via n${i}: ${a.status} ${a.text}`);
        } catch (e) {
          healErrors.push(`GET ${key} r=all via n${i}: ${(e as Error).message}`);
        }
      }
    }
    finals = await ownViews(cluster, keys);
    const agree = [...finals.values()].every((views) => new Set([...views.values()].map((v) => JSON.stringify(v))).size === 1);
    const hints = await pendingHints(cluster);
    converged = agree && hints === 0 ? undefined : `${agree ? 'replicas agree' : 'replicas disagree'}, ${hints} hints pending`;
    if (converged === undefined) break;
    await sleep(300);
  }
  return { finals, healErrors, rounds, converged };
}

/** Each key's own replicas' `/admin/local` views, hinted copies left out (stand-ins hold hints only until they are delivered). */
export async function ownViews(cluster: FaultCluster, keys: readonly string[]): Promise<Map<string, Map<string, LocalView | null>>> {
  const finals = new Map<string, Map<string, LocalView | null>>();
  for (const key of keys) {
    const owners = (JSON.parse((await cluster.http(0, 'GET', `/ring?key=${key}`)).text) as { preferenceList: string[] }).preferenceList;
    const views = new Map<string, LocalView | null>();
    for (const owner of owners) {
      const i = Number(owner.slice(1));
      const a = await cluster.http(i, 'GET', `/admin/local/${key}`);
      if (a.status !== 200 && a.status !== 404) throw new Error(`admin/local ${key} on n${i}: ${a.status} ${a.text}`);
      type Held = LocalView['versions'][number] & { hintFor: string | null };
      const own = a.status === 404 ? [] : (JSON.parse(a.text) as { versions: Held[] }).versions.filter((v) => v.hintFor === null);
      views.set(owner, own.length === 0 ? null : { versions: own.map((v) => ({ value: v.value, context: v.context })) });
    }
    finals.set(key, views);
  }
  return finals;
}

/** Hints pending on all nodes together (`/cluster`'s `hints.pendingTotal`). */
export async function pendingHints(cluster: FaultCluster): Promise<number> {
  let total = 0;
  for (let i = 0; i < cluster.nodes.length; i++) {
    total += (JSON.parse((await cluster.http(i, 'GET', '/cluster')).text) as { hints?: { pendingTotal: number } }).hints?.pendingTotal ?? 0;
  }
  return total;
}
