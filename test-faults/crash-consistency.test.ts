/**
 * Crash consistency of real processes: five `gossamer start` nodes (N=3, group commit, sloppy
 * quorum: the default) under six concurrent clients racing on a few hot keys, while a nemesis
 * SIGKILLs two of the five at a time and restarts them on the same data and ports, or SIGSTOPs
 * two at a time for a moment. Then the cluster heals, reads at R=all from every node repair the
 * replicas, hinted handoff empties every stand-in (pending hints 0), and the checker of check.ts
 * runs on the views of each key's own replicas: no acknowledged write lost (present, or
 * superseded by a write whose context covered it), the replicas' local views equal, no 5xx other
 * than 503, and every node still running stops cleanly on SIGTERM (exit 0).
 *
 * GOSSAMER_FAULT_SEED=<n> repeats a run's choices (the timing of a real cluster still varies).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { addDotToContext, EMPTY_CONTEXT, encodeContextToken, normalizeContext } from '../src/core/clock/context.js';
import { request } from '../test/api/http-client.js';
import { sleep } from '../test/cluster/helpers.js';
import type { LocalView, OpRecord, Outcome } from './check.js';
import { checkHistory, excerpt, newDot, prng } from './check.js';
import { FaultCluster } from './fault-cluster.js';

const CTX = 'x-gossamer-context';
const CLIENTS = 6;
/** Five nodes, N=3: two of them down at once still leaves every key a replica and stand-ins (sloppy quorum). */
const SIZE = 5;
const KEYS = 4;
const MAX_OPS_PER_CLIENT = 2_000;
const WORKLOAD_MS = 20_000;
const CLIENT_TIMEOUT_MS = 4_000;

const tok = (clock: [string, number][], cloud: [string, number][] = []): string =>
  encodeContextToken(normalizeContext(clock.map(([node, counter]) => ({ node, counter, tsMs: 0 })), cloud.map(([node, counter]) => ({ node, counter }))));

describe('the fault checker itself', () => {
  it('newDot finds the one event a write added, folded into the clock or not', () => {
    assert.deepEqual(newDot(undefined, tok([['n0', 1]])), { node: 'n0', counter: 1 });
    assert.deepEqual(newDot(tok([['n0', 3]]), tok([['n0', 4]])), { node: 'n0', counter: 4 });
    // Sent n0:2, the coordinator n1 already had n1:1..4 from blind writes: the new dot stays apart.
    const sent = encodeContextToken(normalizeContext([{ node: 'n0', counter: 2, tsMs: 0 }], []));
    const returned = encodeContextToken(addDotToContext(normalizeContext([{ node: 'n0', counter: 2, tsMs: 0 }], []), { node: 'n1', counter: 5 }));
    assert.deepEqual(newDot(sent, returned), { node: 'n1', counter: 5 });
    // A dot that closes a gap folds the cloud into the clock: still exactly one new event.
    assert.deepEqual(newDot(tok([['n2', 1]], [['n2', 3]]), tok([['n2', 3]])), { node: 'n2', counter: 2 });
    assert.throws(() => newDot(tok([['n0', 1]]), tok([['n0', 3]])), /expected one new dot, found 2/);
    assert.throws(() => newDot(tok([['n0', 1]]), tok([['n0', 1]])), /found 0/);
  });

  const op = (id: number, kind: OpRecord['kind'], tag: string, sent: string | undefined, outcome: Outcome, returned?: string): OpRecord =>
    ({ id, client: 0, node: 0, kind, key: 'k', tag, sent, outcome, status: outcome === 'ok' ? 204 : undefined, returned, startMs: 0, endMs: 0 });
  const view = (...values: (string | null)[]): LocalView =>
    ({ versions: values.map((v) => ({ value: v === null ? null : Buffer.from(v).toString('base64'), context: tok([['n0', 2]]) })) });
  const finals = (v: LocalView | null, w: LocalView | null = v): Map<string, Map<string, LocalView | null>> =>
    new Map([['k', new Map([['n0', v], ['n1', w], ['n2', v]])]]);

  it('reports an acknowledged write that is absent and covered by nothing', () => {
    // Two blind puts through n0; only B is left. B's answer holds its own dot alone (n0,2).
    const history = [op(1, 'put', 'A', undefined, 'ok', tok([['n0', 1]])),
      op(2, 'put', 'B', undefined, 'ok', encodeContextToken(addDotToContext(EMPTY_CONTEXT, { node: 'n0', counter: 2 })))];
    const v = checkHistory(history, finals(view('B')));
    assert.equal(v.length, 1, JSON.stringify(v));
    assert.equal(v[0]!.invariant, 'lost-write');
    assert.match(v[0]!.detail, /put #1 A \(dot n0:1\)/);
  });

  it('accepts it when present, or superseded by a write (of any possible outcome) that saw it', () => {
    const a = op(1, 'put', 'A', undefined, 'ok', tok([['n0', 1]]));
    assert.deepEqual(checkHistory([a], finals(view('A'))), []);
    const b = op(2, 'put', 'B', tok([['n0', 1]]), 'timeout');
    assert.deepEqual(checkHistory([a, b], finals(view('B'))), []);
    const refused = op(2, 'put', 'B', tok([['n0', 1]]), 'refused');
    assert.equal(checkHistory([a, refused], finals(view('B'))).filter((x) => x.invariant === 'lost-write').length, 1,
      'a refused connection never ran, so it supersedes nothing');
    // An acknowledged superseder must survive in turn.
    const c = op(2, 'put', 'C', tok([['n0', 1]]), 'ok', tok([['n0', 2]]));
    assert.deepEqual(checkHistory([a, c], finals(view('C'))), []);
    assert.equal(checkHistory([a, c], finals(view())).filter((x) => x.invariant === 'lost-write').length, 2);
    // A delete that saw A: a tombstone remains.
    const d = op(2, 'delete', 'D', tok([['n0', 1]]), 'ok', tok([['n0', 2]]));
    assert.deepEqual(checkHistory([a, d], finals(view(null))), []);
  });

  it('reports divergence, phantom values, false siblings and 5xx', () => {
    const a = op(1, 'put', 'A', undefined, 'ok', tok([['n0', 1]]));
    assert.deepEqual(checkHistory([a], finals(view('A'), view('A', 'A'))).map((x) => x.invariant), ['divergence']);
    assert.deepEqual(checkHistory([a], finals(view('A', 'Z'))).map((x) => x.invariant), ['phantom-value']);
    const b = op(2, 'put', 'B', tok([['n0', 1]]), 'ok', tok([['n0', 2]]));
    assert.deepEqual(checkHistory([a, b], finals(view('A', 'B'))).map((x) => x.invariant), ['false-sibling']);
    const e = { ...op(3, 'get', '', undefined, 'status'), status: 500 };
    assert.deepEqual(checkHistory([a, e], finals(view('A'))).map((x) => x.invariant), ['server-error']);
  });
});

describe(`crash consistency of ${SIZE} real nodes under SIGKILL, restarts and SIGSTOP of two at a time`, { timeout: 180_000 }, () => {
  let c: FaultCluster | undefined;
  let failed = true;
  after(async () => {
    if (failed && c) process.stderr.write(`node logs (tails):\n${c.logs()}\n`);
    await c?.destroy();
  });

  it('loses no acknowledged write, converges, never answers 500, and stops cleanly', async () => {
    const seed = process.env.GOSSAMER_FAULT_SEED ? Number(process.env.GOSSAMER_FAULT_SEED) : (Date.now() ^ (process.pid << 12)) >>> 0;
    console.log(`# seed ${seed} (GOSSAMER_FAULT_SEED=${seed} repeats its choices)`);
    const began = Date.now();
    const cluster = c = await FaultCluster.create(SIZE, ['--partitions', '64', '--request-timeout-ms', '1000']);
    for (let i = 0; i < SIZE; i++) cluster.start(i);
    for (let i = 0; i < SIZE; i++) await cluster.waitHealthy(i);

    const keys = Array.from({ length: KEYS }, (_, i) => `hot-${i}`);
    const history: OpRecord[] = [];
    let nextId = 1;
    const t0 = Date.now();
    const deadline = t0 + WORKLOAD_MS;
    let workloadDone = false;

    async function send(client: number, node: number, kind: OpRecord['kind'], key: string, tag: string | undefined, sent: string | undefined): Promise<OpRecord> {
      const rec: OpRecord = { id: nextId++, client, node, kind, key, outcome: 'ok', startMs: Date.now() - t0, endMs: 0 };
      if (tag !== undefined) rec.tag = tag;
      if (sent !== undefined) rec.sent = sent;
      history.push(rec);
      const headers: Record<string, string> = sent ? { 'X-Gossamer-Context': sent } : {};
      const method = kind === 'get' ? 'GET' : kind === 'put' ? 'PUT' : 'DELETE';
      try {
        const a = await request(cluster.nodes[node]!.httpPort, method, `/kv/${key}`,
          { headers, body: kind === 'put' ? tag : undefined, timeoutMs: CLIENT_TIMEOUT_MS });
        rec.status = a.status;
        const ctx = a.headers[CTX];
        if (typeof ctx === 'string') rec.returned = ctx;
        const okStatus = kind === 'get' ? [200, 300, 404].includes(a.status) : a.status === 204;
        rec.outcome = okStatus ? 'ok' : 'status';
        if (!okStatus) rec.error = a.text.slice(0, 200);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        rec.outcome = err.code === 'ECONNREFUSED' ? 'refused' : /^timeout:/.test(err.message) ? 'timeout' : 'conn-error';
        rec.error = err.code ?? err.message;
      }
      rec.endMs = Date.now() - t0;
      return rec;
    }

    async function client(id: number, rand: () => number): Promise<void> {
      const seen = new Map<string, string>(); // key → the latest context this client got
      for (let n = 0; n < MAX_OPS_PER_CLIENT && Date.now() < deadline; n++) {
        const key = keys[Math.floor(rand() * keys.length)]!;
        const node = Math.floor(rand() * SIZE);
        const p = rand();
        const kind: OpRecord['kind'] = p < 0.4 ? 'get' : p < 0.85 ? 'put' : 'delete';
        const ctx = seen.get(key);
        const sent = kind === 'get' ? undefined : kind === 'put' && rand() < 0.2 ? undefined : ctx;
        const rec = await send(id, node, kind, key, kind === 'get' ? undefined : `c${id}-${n}-${kind}`, sent);
        if (rec.outcome === 'ok' && rec.returned) seen.set(key, rec.returned);
        if (rec.outcome === 'refused') await sleep(20 + rand() * 50);
        else await sleep(rand() * 15);
      }
    }

    let kills = 0;
    let restarts = 0;
    let pauses = 0;
    const nemesisLog: string[] = [];
    const note = (s: string): void => { nemesisLog.push(`${Date.now() - t0}ms ${s}`); };
    async function nemesis(rand: () => number): Promise<void> {
      await sleep(500 + rand() * 1000);
      while (!workloadDone && Date.now() < deadline - 1500) {
        const p = rand();
        // Two of the five at a time: both paused (SIGSTOP) or both killed (SIGKILL), then back.
        const victims = Array.from({ length: SIZE }, (_, i) => i).sort(() => rand() - 0.5).slice(0, 2);
        if (p < 0.35) {
          for (const v of victims) {
            cluster.pause(v);
            pauses++;
            note(`SIGSTOP n${v}`);
          }
          await sleep(300 + rand() * 1500);
          for (const v of victims) {
            cluster.resume(v);
            note(`SIGCONT n${v}`);
          }
        } else {
          for (const v of victims) {
            const e = await cluster.stop(v, 'SIGKILL');
            kills++;
            note(`SIGKILL n${v} → ${e.signal ?? e.code}`);
          }
          await sleep(200 + rand() * (victims.length > 1 ? 1200 : 2000));
          for (const v of victims) {
            cluster.start(v);
            restarts++;
            note(`restart n${v}`);
          }
        }
        await sleep(400 + rand() * 2000);
      }
    }

    const rand = prng(seed);
    const clientSeeds = Array.from({ length: CLIENTS }, () => Math.floor(rand() * 2 ** 32));
    const nemesisRun = nemesis(prng(Math.floor(rand() * 2 ** 32)));
    await Promise.all(clientSeeds.map((s, i) => client(i, prng(s))));
    workloadDone = true;
    await nemesisRun;
    const workloadMs = Date.now() - t0;

    // Heal: every node up and healthy, then R=all reads from each node until the local views agree.
    for (let i = 0; i < SIZE; i++) {
      const n = cluster.nodes[i]!;
      if (n.stopped) cluster.resume(i);
      if (!n.running) { cluster.start(i); restarts++; note(`restart n${i} (heal)`); }
    }
    for (let i = 0; i < SIZE; i++) await cluster.waitHealthy(i);
    const unexpected = cluster.exits.filter((e) => !e.expected);
    assert.deepEqual(unexpected, [], `nodes exited without being killed\n${cluster.logs()}`);

    const healErrors: string[] = [];
    let finals = new Map<string, Map<string, LocalView | null>>();
    let rounds = 0;
    for (; rounds < 30; rounds++) {
      for (const key of keys) {
        for (let i = 0; i < SIZE; i++) {
          try {
            const a = await request(cluster.nodes[i]!.httpPort, 'GET', `/kv/${key}?r=all`, { timeoutMs: 5000 });
            if (a.status >= 500 && a.status !== 503) healErrors.push(`GET ${key} r=all via n${i}: ${a.status} ${a.text}`);
          } catch (e) {
            healErrors.push(`GET ${key} r=all via n${i}: ${(e as Error).message}`);
          }
        }
      }
      finals = new Map();
      for (const key of keys) {
        // The key's own replicas (stand-ins hold hints only until they are delivered).
        const owners = ((await request(cluster.nodes[0]!.httpPort, 'GET', `/ring?key=${key}`)).json() as { preferenceList: string[] }).preferenceList;
        const views = new Map<string, LocalView | null>();
        for (const owner of owners) {
          const i = Number(owner.slice(1));
          const a = await request(cluster.nodes[i]!.httpPort, 'GET', `/admin/local/${key}`);
          assert.ok(a.status === 200 || a.status === 404, `admin/local ${key} on n${i}: ${a.status} ${a.text}`);
          const own = a.status === 404 ? [] : (a.json() as { versions: (LocalView['versions'][number] & { hintFor: string | null })[] }).versions.filter((v) => v.hintFor === null);
          views.set(owner, own.length === 0 ? null : { versions: own.map((v) => ({ value: v.value, context: v.context })) });
        }
        finals.set(key, views);
      }
      const agree = [...finals.values()].every((views) => new Set([...views.values()].map((v) => JSON.stringify(v))).size === 1);
      let pendingHints = 0;
      for (let i = 0; i < SIZE; i++) {
        pendingHints += ((await request(cluster.nodes[i]!.httpPort, 'GET', '/cluster')).json() as { hints?: { pendingTotal: number } }).hints?.pendingTotal ?? 0;
      }
      if (agree && pendingHints === 0) break;
      await sleep(300);
    }
    assert.deepEqual(healErrors, [], 'read repair requests failed');

    const stats = { superseded: 0, present: 0, tombstone: 0 };
    const violations = checkHistory(history, finals, stats);

    // Every node still running stops cleanly.
    const exits = await Promise.all(cluster.nodes.map((_, i) => cluster.stop(i, 'SIGTERM')));
    const unclean = exits.filter((e) => e.code !== 0 || e.signal !== null);

    const writes = history.filter((o) => o.kind !== 'get');
    const acked = writes.filter((o) => o.outcome === 'ok').length;
    const count = (o: Outcome): number => history.filter((r) => r.outcome === o).length;
    const siblings = [...finals.values()].map((v) => [...v.values()][0]?.versions.length ?? 0);
    console.log(`# crash-consistency: seed ${seed}, ops ${history.length} (${writes.length} writes, ${acked} acknowledged; ` +
      `${stats.superseded} of them superseded, ${stats.present} puts present, ${stats.tombstone} deletes as tombstones; ${count('status')} error statuses, ${count('refused')} refused, ${count('conn-error')} connection errors, ${count('timeout')} timeouts), ` +
      `kills ${kills}, restarts ${restarts}, pauses ${pauses}, keys ${keys.length} (final versions ${siblings.join('/')}), ` +
      `repair rounds ${rounds + 1}, workload ${(workloadMs / 1000).toFixed(1)} s, total ${((Date.now() - began) / 1000).toFixed(1)} s`);

    const report = violations.map((v) => `${v.invariant} on ${v.key}: ${v.detail}\n${excerpt(history, v)}`).join('\n\n');
    assert.deepEqual(violations.map((v) => `${v.invariant} ${v.key}: ${v.detail}`), [],
      `seed ${seed}\n${report}\nfinal views: ${JSON.stringify([...finals].map(([k, v]) => [k, [...v]]))}\nnemesis:\n${nemesisLog.join('\n')}`);
    assert.deepEqual(unclean, [], `SIGTERM must be a clean exit\n${cluster.logs()}`);
    assert.ok(acked > 50, `too few acknowledged writes (${acked}) for the run to mean much`);
    failed = false;
  });
});
