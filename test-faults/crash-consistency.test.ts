/**
 * Crash consistency of real processes (test-faults/run.ts): five `gossamer start` nodes (N=3,
 * group commit, sloppy quorum) under six concurrent clients racing on a few hot keys, while a
 * nemesis SIGKILLs two of the five at a time and restarts them on the same data and ports, or
 * SIGSTOPs two at a time. Then the cluster heals, reads at R=all from every node repair the
 * replicas, hinted handoff empties every stand-in, and the checker of check.ts runs on each key's
 * own replicas: no acknowledged write lost, no superseded version back, no trace of
 * a write that did not happen, the replicas' local views equal, no 5xx other than 503, and every
 * node still running stops cleanly on SIGTERM (exit 0).
 *
 * GOSSAMER_FAULT_SEED=<n> repeats a run's choices (the timing of a real cluster still varies).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { addDotToContext, EMPTY_CONTEXT, encodeContextToken, normalizeContext } from '../src/core/clock/context.js';
import type { LocalView, OpRecord, Outcome } from './check.js';
import { checkHistory, checkStrict, excerpt, mayHaveApplied, newDot } from './check.js';
import type { FaultCluster } from './fault-cluster.js';
import { SIZE, runFaultWorkload } from './run.js';

const WORKLOAD_MS = 20_000;

const tok = (clock: [string, number][], cloud: [string, number][] = []): string =>
  encodeContextToken(normalizeContext(clock.map(([node, counter]) => ({ node, counter, tsMs: 0 })), cloud.map(([node, counter]) => ({ node, counter }))));
/** A version's own context, as /admin/local gives it: its dot alone. */
const own = (node: string, counter: number): string => encodeContextToken(addDotToContext(EMPTY_CONTEXT, { node, counter }, 0));

describe('the fault checker itself', () => {
  it('newDot finds the one event a write added, folded into the clock or not', () => {
    assert.deepEqual(newDot(undefined, tok([['n0', 1]])), { node: 'n0', counter: 1 });
    assert.deepEqual(newDot(tok([['n0', 3]]), tok([['n0', 4]])), { node: 'n0', counter: 4 });
    // Sent n0:2, the coordinator n1 already had n1:1..4 from blind writes: the new dot stays apart.
    const sent = encodeContextToken(normalizeContext([{ node: 'n0', counter: 2, tsMs: 0 }], []));
    const returned = encodeContextToken(addDotToContext(normalizeContext([{ node: 'n0', counter: 2, tsMs: 0 }], []), { node: 'n1', counter: 5 }, 0));
    assert.deepEqual(newDot(sent, returned), { node: 'n1', counter: 5 });
    // A dot that closes a gap folds the cloud into the clock: still exactly one new event.
    assert.deepEqual(newDot(tok([['n2', 1]], [['n2', 3]]), tok([['n2', 3]])), { node: 'n2', counter: 2 });
    assert.throws(() => newDot(tok([['n0', 1]]), tok([['n0', 3]])), /expected one new dot, found 2/);
    assert.throws(() => newDot(tok([['n0', 1]]), tok([['n0', 1]])), /found 0/);
  });

  const op = (id: number, kind: OpRecord['kind'], tag: string, sent: string | undefined, outcome: Outcome, returned?: string): OpRecord =>
    ({ id, client: 0, node: 0, kind, key: 'k', tag, sent, outcome, status: outcome === 'ok' ? 204 : undefined, returned, startMs: 0, endMs: 0 });
  /** Final versions as [value or null, node, counter] (each with its own context). */
  const view = (...vs: [string | null, string, number][]): LocalView =>
    ({ versions: vs.map(([v, node, counter]) => ({ value: v === null ? null : Buffer.from(v).toString('base64'), context: own(node, counter) })) });
  const finals = (v: LocalView | null, w: LocalView | null = v): Map<string, Map<string, LocalView | null>> =>
    new Map([['k', new Map([['n0', v], ['n1', w], ['n2', v]])]]);
  const invariants = (history: OpRecord[], v: LocalView | null): string[] => checkHistory(history, finals(v)).map((x) => x.invariant);

  it('reports an acknowledged write that is absent and covered by nothing', () => {
    // Two blind puts through n0; only B is left. B's answer holds its own dot alone (n0,2).
    const history = [op(1, 'put', 'A', undefined, 'ok', tok([['n0', 1]])), op(2, 'put', 'B', undefined, 'ok', own('n0', 2))];
    const v = checkHistory(history, finals(view(['B', 'n0', 2])));
    assert.equal(v.length, 1, JSON.stringify(v));
    assert.equal(v[0]!.invariant, 'lost-write');
    assert.match(v[0]!.detail, /put #1 A \(dot n0:1\)/);
  });

  it('accepts it when present, or superseded by a write (of any possible outcome) that saw it', () => {
    const a = op(1, 'put', 'A', undefined, 'ok', tok([['n0', 1]]));
    assert.deepEqual(invariants([a], view(['A', 'n0', 1])), []);
    const b = op(2, 'put', 'B', tok([['n0', 1]]), 'timeout');
    assert.deepEqual(invariants([a, b], view(['B', 'n0', 2])), []);
    const refused = op(2, 'put', 'B', tok([['n0', 1]]), 'refused');
    assert.deepEqual(invariants([a, refused], view()), ['lost-write'], 'a refused connection never ran, so it supersedes nothing');
    // An acknowledged superseder must survive in turn.
    const c = op(2, 'put', 'C', tok([['n0', 1]]), 'ok', tok([['n0', 2]]));
    assert.deepEqual(invariants([a, c], view(['C', 'n0', 2])), []);
    assert.deepEqual(invariants([a, c], view()), ['lost-write', 'lost-write']);
    // A delete that saw A: its tombstone remains.
    const d = op(2, 'delete', 'D', tok([['n0', 1]]), 'ok', tok([['n0', 2]]));
    assert.deepEqual(invariants([a, d], view([null, 'n0', 2])), []);
  });

  it('a write supersedes only what its client observed, whatever its context claims', () => {
    const a = op(1, 'put', 'A', undefined, 'ok', tok([['n0', 1]]));
    const b = (basis: string[]): OpRecord => ({ ...op(2, 'put', 'B', tok([['n0', 1]]), 'ok', tok([['n0', 2]])), basis });
    assert.deepEqual(invariants([a, b([])], view(['B', 'n0', 2])), ['lost-write'], 'B\'s context over-claimed A, which its client never saw');
    assert.deepEqual(invariants([a, b(['A'])], view(['B', 'n0', 2])), []);
    // Reads show tombstones without tags: a tombstone read counts for any delete.
    const d = op(1, 'delete', 'D', undefined, 'ok', tok([['n0', 1]]));
    assert.deepEqual(invariants([d, b(['~'])], view(['B', 'n0', 2])), []);
    assert.deepEqual(invariants([d, b(['X'])], view(['B', 'n0', 2])), ['lost-write']);
  });

  it('a tombstone stands only for the delete that wrote it', () => {
    // Two concurrent deletes of A (both saw it); only D1's tombstone is left: D2 is lost.
    const a = op(1, 'put', 'A', undefined, 'ok', tok([['n0', 1]]));
    const d1 = op(2, 'delete', 'D1', tok([['n0', 1]]), 'ok', tok([['n0', 2]]));
    const d2 = op(3, 'delete', 'D2', tok([['n0', 1]]), 'ok', encodeContextToken(addDotToContext(normalizeContext([{ node: 'n0', counter: 1, tsMs: 0 }], []), { node: 'n1', counter: 1 }, 0)));
    assert.deepEqual(invariants([a, d1, d2], view([null, 'n0', 2], [null, 'n1', 1])), []);
    const lost = checkHistory([a, d1, d2], finals(view([null, 'n0', 2])));
    assert.deepEqual(lost.map((x) => x.invariant), ['lost-write']);
    assert.match(lost[0]!.detail, /delete #3/);
  });

  it('reports a version an acknowledged write superseded: beside a version written over it, a false sibling; else a resurrection', () => {
    const a = op(1, 'put', 'A', undefined, 'ok', tok([['n0', 1]]));
    const d = op(2, 'delete', 'D', tok([['n0', 1]]), 'ok', tok([['n0', 2]]));
    assert.deepEqual(invariants([a, d], view(['A', 'n0', 1], [null, 'n0', 2])), ['false-sibling'], 'A beside the tombstone that covered it');
    // D's tombstone was superseded by E (which saw it and A): A beside E is a false sibling, once.
    const e = op(3, 'put', 'E', tok([['n0', 2]]), 'ok', tok([['n0', 3]]));
    assert.deepEqual(invariants([a, d, e], view(['A', 'n0', 1], ['E', 'n0', 3])), ['false-sibling']);
    // D's tombstone superseded by a blind F (which saw it, not A), A back: nothing written over A remains.
    const f = { ...op(3, 'put', 'F', tok([], [['n0', 2]]), 'ok', tok([['n1', 1]], [['n0', 2]])), basis: ['~'] };
    const found = checkHistory([a, d, f], finals(view(['A', 'n0', 1], ['F', 'n1', 1])));
    assert.deepEqual(found.map((x) => x.invariant), ['resurrection']);
    assert.match(found[0]!.detail, /acknowledged delete #2 superseded it/);
    // Superseded only by a write of unknown outcome: A may stay.
    const t = op(2, 'delete', 'T', tok([['n0', 1]]), 'timeout');
    assert.deepEqual(invariants([a, t], view(['A', 'n0', 1])), []);
  });

  it('a delete undone (its tombstone gone, the value it removed back) is one resurrection, not also a lost delete', () => {
    const a = op(1, 'put', 'A', undefined, 'ok', tok([['n0', 1]]));
    const d = op(2, 'delete', 'D', tok([['n0', 1]]), 'ok', tok([['n0', 2]]));
    const found = checkHistory([a, d], finals(view(['A', 'n0', 1])));
    assert.deepEqual(found.map((x) => x.invariant), ['resurrection']);
    assert.match(found[0]!.detail, /A \(#1\) \(n0:1\) is present, but acknowledged delete #2 superseded it/);
    // Gone with nothing back: still a lost delete (a tombstone stands for the delete that wrote
    // it), and A with it (D, which superseded A, did not survive).
    assert.deepEqual(invariants([a, d], view()), ['lost-write', 'lost-write']);
    // A value the delete did not cover (a blind put after it) does not turn a lost delete into a
    // resurrection: D is lost, and A with it (D, which superseded A, did not survive).
    const b = op(3, 'put', 'B', undefined, 'ok', own('n1', 1));
    const lost = checkHistory([a, d, b], finals(view(['B', 'n1', 1])));
    assert.deepEqual(lost.map((x) => x.invariant), ['lost-write', 'lost-write']);
    assert.match(lost[1]!.detail, /acknowledged delete #2/);
  });

  it('reports a phantom: a value no put wrote, in a read or among the final versions', () => {
    const a = op(1, 'put', 'A', undefined, 'ok', tok([['n0', 1]]));
    const read = (id: number, observed: string[]): OpRecord => ({ ...op(id, 'get', '', undefined, 'ok', tok([['n0', 1]])), tag: undefined, observed });
    assert.deepEqual(invariants([a, read(2, ['A']), read(3, ['~'])], view(['A', 'n0', 1])), []);
    const found = checkHistory([a, read(2, ['A', 'phantom-3'])], finals(view(['A', 'n0', 1])));
    assert.deepEqual(found.map((x) => x.invariant), ['phantom-value']);
    assert.match(found[0]!.detail, /get #2 through n0 read "phantom-3"/);
    // A value written to another key is a phantom here too.
    const other = { ...op(4, 'put', 'X', undefined, 'ok', own('n1', 1)), key: 'k2' };
    assert.deepEqual(invariants([a, other, read(2, ['X'])], view(['A', 'n0', 1])), ['phantom-value']);
    assert.deepEqual(invariants([a], view(['A', 'n0', 1], ['Z', 'n1', 1])), ['phantom-value']);
  });

  it('reports an undeterminable dot and a server error', () => {
    const a = op(1, 'put', 'A', undefined, 'ok', tok([['n0', 1]]));
    // A put answered with the context it sent (no new dot): its version cannot be tied to it.
    const b = op(2, 'put', 'B', tok([['n0', 1]]), 'ok', tok([['n0', 1]]));
    const found = checkHistory([a, b], finals(view(['B', 'n1', 1])));
    assert.deepEqual(found.map((x) => x.invariant), ['undeterminable-dot']);
    assert.match(found[0]!.detail, /put #2: expected one new dot, found 0/);
    const failed = { ...op(2, 'get', '', undefined, 'status'), tag: undefined, status: 500, error: '{"error":"internal_error"}' };
    assert.deepEqual(invariants([a, failed], view(['A', 'n0', 1])), ['server-error']);
  });

  it('a 503 unavailable is a write that did not happen: it supersedes nothing and leaves no value', () => {
    const unavailable = (id: number, kind: OpRecord['kind'], tag: string, sent?: string): OpRecord =>
      ({ ...op(id, kind, tag, sent, 'status'), status: 503, code: 'unavailable' });
    const insufficient = (id: number, tag: string, sent?: string): OpRecord =>
      ({ ...op(id, 'put', tag, sent, 'status'), status: 503, code: 'insufficient_replicas' });
    assert.equal(mayHaveApplied(unavailable(1, 'put', 'X')), false);
    assert.equal(mayHaveApplied(insufficient(1, 'X')), true);
    const a = op(1, 'put', 'A', undefined, 'ok', tok([['n0', 1]]));
    assert.deepEqual(invariants([a, unavailable(2, 'put', 'U', tok([['n0', 1]]))], view(['U', 'n0', 2])), ['failed-write-present', 'lost-write']);
    assert.deepEqual(invariants([a, insufficient(2, 'I', tok([['n0', 1]]))], view(['I', 'n0', 2])), [], 'a 503 insufficient_replicas may have been stored');
  });

  it('strict quorum: a strict read after a strict acknowledged write with R+W>N must see it', () => {
    const strict = (o: OpRecord, q: string, startMs: number, endMs: number): OpRecord => ({ ...o, query: q, startMs, endMs });
    const w = strict(op(1, 'put', 'A', undefined, 'ok', tok([['n0', 1]])), '?w=quorum&quorum=strict', 0, 10);
    const read = (returned: string | undefined, q = '?r=quorum&quorum=strict', startMs = 20): OpRecord =>
      strict({ ...op(2, 'get', '', undefined, 'ok', returned), status: returned ? 200 : 404 }, q, startMs, startMs + 5);
    const judge = (h: OpRecord[]): { found: string[]; pairs: number } => {
      const checked = { pairs: 0 };
      return { found: checkStrict(h, 3, checked).map((v) => v.invariant), pairs: checked.pairs };
    };
    assert.deepEqual(judge([w, read(tok([['n0', 1]]))]), { found: [], pairs: 1 });
    assert.deepEqual(judge([w, read(tok([['n0', 2]]))]), { found: [], pairs: 1 }, 'a later version written over it counts');
    assert.deepEqual(judge([w, read(undefined)]), { found: ['strict-stale-read'], pairs: 1 });
    assert.deepEqual(judge([w, read(tok([['n1', 4]]))]), { found: ['strict-stale-read'], pairs: 1 });
    assert.deepEqual(judge([w, read(undefined, '?r=quorum&quorum=strict', 5)]), { found: [], pairs: 0 }, 'a read that began before the acknowledgement may miss it');
    assert.deepEqual(judge([w, read(undefined, '?r=one&quorum=strict')]), { found: [], pairs: 0 }, 'R+W=N promises nothing');
    assert.deepEqual(judge([w, read(undefined, '?r=quorum')]), { found: [], pairs: 0 }, 'a sloppy read is not judged');
    const failedWrite = { ...w, outcome: 'timeout' as const, returned: undefined };
    assert.deepEqual(judge([failedWrite, read(undefined)]), { found: [], pairs: 0 }, 'an unacknowledged write promises nothing');
  });

  it('reports divergence, phantom values, false siblings and 5xx', () => {
    const a = op(1, 'put', 'A', undefined, 'ok', tok([['n0', 1]]));
    assert.deepEqual(checkHistory([a], finals(view(['A', 'n0', 1]), view(['A', 'n0', 1], ['A', 'n1', 1]))).map((x) => x.invariant), ['divergence']);
    assert.deepEqual(invariants([a], view(['A', 'n0', 1], ['Z', 'n1', 1])), ['phantom-value']);
    const b = op(2, 'put', 'B', tok([['n0', 1]]), 'ok', tok([['n0', 2]]));
    assert.deepEqual(invariants([a, b], view(['A', 'n0', 1], ['B', 'n0', 2])), ['false-sibling']);
    const e = { ...op(3, 'get', '', undefined, 'status'), status: 500 };
    assert.deepEqual(invariants([a, e], view(['A', 'n0', 1])), ['server-error']);
  });
});

describe(`crash consistency of ${SIZE} real nodes under SIGKILL, restarts and SIGSTOP of two at a time`, { timeout: 180_000 }, () => {
  let c: FaultCluster | undefined;
  let failed = true;
  after(async () => {
    if (failed && c) process.stderr.write(`node logs (tails):\n${c.logs()}\n`);
    await c?.destroy();
  });

  it('loses no acknowledged write, resurrects nothing, converges, never answers 500, and stops cleanly', async () => {
    const seed = process.env.GOSSAMER_FAULT_SEED ? Number(process.env.GOSSAMER_FAULT_SEED) : (Date.now() ^ (process.pid << 12)) >>> 0;
    console.log(`# seed ${seed} (GOSSAMER_FAULT_SEED=${seed} repeats its choices)`);
    const run = await runFaultWorkload({ seed, workloadMs: WORKLOAD_MS }, (cluster) => { c = cluster; });
    const cluster = run.cluster;
    const unexpected = cluster.exits.filter((e) => !e.expected);
    assert.deepEqual(unexpected, [], `nodes exited without being killed\n${cluster.logs()}`);
    assert.deepEqual(run.healErrors, [], 'read repair requests failed');
    // Every node still running stops cleanly.
    const exits = await Promise.all(cluster.nodes.map((_, i) => cluster.stop(i, 'SIGTERM')));
    const unclean = exits.filter((e) => e.code !== 0 || e.signal !== null);
    console.log(`# crash-consistency: ${run.summary}`);
    const report = run.violations.map((v) => `${v.invariant} on ${v.key}: ${v.detail}\n${excerpt(run.history, v)}`).join('\n\n');
    assert.deepEqual(run.violations.map((v) => `${v.invariant} ${v.key}: ${v.detail}`), [],
      `seed ${seed}\n${report}\nfinal views: ${JSON.stringify([...run.finals].map(([k, v]) => [k, [...v]]))}\nnemesis:\n${run.nemesisLog.join('\n')}`);
    assert.deepEqual(unclean, [], `SIGTERM must be a clean exit\n${cluster.logs()}`);
    assert.ok(run.acknowledged > 50, `too few acknowledged writes (${run.acknowledged}) for the run to mean much`);
    failed = false;
  });
});
