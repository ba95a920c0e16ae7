import { CORE_LIMITS } from '../../../src/core/constants.js';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { CausalContext, Dot, KeyState } from '../../../src/core/clock/index.js';
import {
  EMPTY_CONTEXT, EMPTY_STATE, applyWrite, contextCovers, decodeState, dotKey, encodeState, isDeleted, statesEqual,
  syncStates,
} from '../../../src/core/clock/index.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const values = (s: KeyState): string[] => s.siblings.map((v) => (v.value === null ? '<deleted>' : new TextDecoder().decode(v.value))).sort();

function write(local: KeyState, coordinator: string, value: string | null, context: CausalContext = EMPTY_CONTEXT) {
  return applyWrite(local, { coordinator, context, value: value === null ? null : enc(value), contentType: 'text/plain', tsMs: 1 });
}

describe('sibling reconciliation', () => {
  it('two blind writes through the same coordinator become two siblings', () => {
    const w1 = write(EMPTY_STATE, 'x', 'one');
    const w2 = write(w1.state, 'x', 'two');
    assert.deepEqual(values(w2.state), ['one', 'two']);
  });

  it('a write with the read context replaces exactly the versions read', () => {
    const w1 = write(EMPTY_STATE, 'x', 'one');
    const w2 = write(w1.state, 'y', 'two');
    const read = w2.state.context;
    const w3 = write(w2.state, 'x', 'merged', read);
    assert.deepEqual(values(w3.state), ['merged']);
  });

  it('a PUT answer context supersedes only that write, not siblings the client never saw', () => {
    const a = write(EMPTY_STATE, 'x', 'from-a');
    const b = write(a.state, 'x', 'from-b'); // a concurrent blind write through the same node
    // Client A writes again with the context its own PUT returned.
    const a2 = write(b.state, 'x', 'from-a-again', a.clientContext);
    assert.deepEqual(values(a2.state), ['from-a-again', 'from-b']);
  });

  it('a PUT answer covers what the client sent and its new version, never an earlier sibling it did not send', () => {
    const a = write(EMPTY_STATE, 'x', 'from-a');
    const b = write(a.state, 'x', 'from-b'); // blind, after a, through the same node
    assert.ok(contextCovers(b.clientContext, b.dot));
    assert.ok(!contextCovers(b.clientContext, a.dot), 'the answer to b claims a, which b never saw');
    const b2 = write(b.state, 'x', 'from-b-again', b.clientContext);
    assert.deepEqual(values(b2.state), ['from-a', 'from-b-again']);
    // The broken build that over-claims is what this test exists to catch.
    const bad = applyWrite(a.state, { coordinator: 'x', context: EMPTY_CONTEXT, value: enc('from-b'), contentType: 'text/plain', tsMs: 1 }, 'overclaim-put');
    assert.ok(contextCovers(bad.clientContext, a.dot));
  });

  it('a delete is a tombstone sibling; the key reads as deleted when only tombstones remain', () => {
    const w1 = write(EMPTY_STATE, 'x', 'one');
    const d = write(w1.state, 'x', null, w1.state.context);
    assert.equal(d.state.siblings.length, 1);
    assert.ok(isDeleted(d.state));
    const concurrent = write(w1.state, 'y', 'two'); // a replica that had not seen the delete
    const merged = syncStates(d.state, concurrent.state);
    assert.deepEqual(values(merged), ['<deleted>', 'two']);
    assert.ok(!isDeleted(merged));
  });

  it('sync drops a version the other side superseded, keeps one it never saw', () => {
    const base = write(EMPTY_STATE, 'x', 'v1');
    const replicaA = base.state;
    const replicaB = write(base.state, 'x', 'v2', base.state.context).state; // supersedes v1
    assert.deepEqual(values(syncStates(replicaA, replicaB)), ['v2']);
    const other = write(EMPTY_STATE, 'y', 'w1').state;
    assert.deepEqual(values(syncStates(replicaB, other)), ['v2', 'w1']);
  });

  it('encodes deterministically and decodes to an equal state', () => {
    const w1 = write(EMPTY_STATE, 'x', 'one');
    const w2 = write(w1.state, 'y', null);
    const bytes = encodeState(w2.state);
    assert.ok(statesEqual(decodeState(bytes), w2.state));
    assert.deepEqual(encodeState(decodeState(bytes)), bytes);
    assert.throws(() => decodeState(bytes.subarray(0, bytes.length - 1)));
    assert.throws(() => decodeState(new Uint8Array([9, 0, 0, 0])));
  });

  it('a superseded version does not come back from a replica that missed the newer write while the entries are young', () => {
    // Replica A holds X (n0's dot, the oldest entry) in a context of 20 entries; at B a client
    // that read X writes Y. Dynamo's rule (past 10, drop the oldest) dropped n0's entry at B, and
    // merging A back brought X back beside Y: the crash loop's false sibling.
    const clock = Array.from({ length: 20 }, (_, i) => ({ node: `n${String(i).padStart(2, '0')}`, counter: 1, tsMs: 1000 + i }));
    const x = { dot: { node: 'n00', counter: 1 }, value: enc('X'), contentType: 't', tsMs: 1000 };
    const replicaA: KeyState = { context: { clock, cloud: [] }, siblings: [x] };
    const atB = applyWrite(replicaA, { coordinator: 'n20', context: replicaA.context, value: enc('Y'), contentType: 't', tsMs: 2000 });
    assert.deepEqual(values(atB.state), ['Y']);
    assert.deepEqual(values(syncStates(replicaA, atB.state)), ['Y']);
    assert.deepEqual(values(syncStates(atB.state, replicaA)), ['Y']);
  });

  it('a PUT answer\'s new dot is young: a write through a replica that missed it still supersedes it (session 4 CI trace)', () => {
    // The crash loop's second false sibling: a forwarded write X got dot F:4; its PUT answer
    // folded F:4 into the clock with time 0. The client wrote Y over X through replica B, which
    // had missed X (it knew F:3). B joined the context, the clock had 30 entries (past the soft
    // bound), F:4's time 0 read as "idle for an hour", pruning dropped it, and A's X came back.
    const T = Date.UTC(2026, 11, 1); // wall-clock times: an hour ago is past 0
    const others = Array.from({ length: 28 }, (_, i) => ({ node: `n${String(i).padStart(2, '0')}`, counter: 1, tsMs: T + i }));
    const base = [...others, { node: 'F^a', counter: 3, tsMs: T }].sort((a, b) => (a.node < b.node ? -1 : 1));
    const older = { dot: { node: 'F^a', counter: 3 }, value: enc('W'), contentType: 't', tsMs: T };
    const replicaB: KeyState = { context: { clock: base, cloud: [] }, siblings: [older] };
    const x = applyWrite(replicaB, {
      coordinator: 'A', dot: { node: 'F^a', counter: 4 }, context: replicaB.context, value: enc('X'), contentType: 't', tsMs: T + 100,
    });
    const replicaA = x.state;
    assert.equal(x.clientContext.clock.find((e) => e.node === 'F^a')?.tsMs, T + 100, 'the answer\'s new dot folds with its own time');
    const y = applyWrite(replicaB, { coordinator: 'B', context: x.clientContext, value: enc('Y'), contentType: 't', tsMs: T + 200 });
    assert.ok(contextCovers(y.state.context, { node: 'F^a', counter: 4 }), 'the write claims less than its client saw');
    assert.deepEqual(values(syncStates(replicaA, y.state)), ['Y']);
    // Tokens handed out before this fix carry time 0 on such entries: a write still keeps them.
    const stale = { clock: x.clientContext.clock.map((e) => (e.node === 'F^a' ? { ...e, tsMs: 0 } : e)), cloud: x.clientContext.cloud };
    const y2 = applyWrite(replicaB, { coordinator: 'B', context: stale, value: enc('Y'), contentType: 't', tsMs: T + 200 });
    assert.deepEqual(values(syncStates(replicaA, y2.state)), ['Y']);
  });

  it('young clock entries are kept up to the hard bound; old ones go past the soft bound; no live sibling is dropped', () => {
    const chain = (count: number, tsOf: (i: number) => number): KeyState => {
      let s = EMPTY_STATE;
      for (let i = 0; i < count; i++) s = applyWrite(s, { coordinator: `n${i}`, context: s.context, value: enc(`v${i}`), contentType: 't', tsMs: tsOf(i) }).state;
      return s;
    };
    const soft = CORE_LIMITS.clockEntriesSoftMax;
    const hard = CORE_LIMITS.clockEntriesMax;
    // All within the young window: nothing pruned below the hard bound.
    assert.equal(chain(soft + 4, (i) => i).context.clock.length, soft + 4);
    assert.equal(chain(hard + 6, (i) => i).context.clock.length, hard);
    // The first writes long ago, the last one now: the old entries go down to the soft bound.
    const young = CORE_LIMITS.clockYoungMs;
    const s = chain(soft + 4, (i) => (i === soft + 3 ? 2 * young : i));
    assert.equal(s.context.clock.length, soft);
    assert.deepEqual(values(s), [`v${soft + 3}`]);
    const blind = write(s, 'n0', 'blind');
    assert.deepEqual(values(blind.state), ['blind', `v${soft + 3}`]);
  });
});

// ---- a model of replicas exchanging states, for property tests --------------------------------

interface Created {
  dot: Dot;
  context: CausalContext;
}

type Cmd =
  | { t: 'write'; writer: number; coord: number; ctx: 'none' | 'latest' | 'read'; del: boolean }
  | { t: 'sync'; from: number; to: number };

const REPLICAS = 3;
const cmdArb = (writers: number): fc.Arbitrary<Cmd> => fc.oneof(
  fc.record({
    t: fc.constant('write' as const), writer: fc.integer({ min: 0, max: writers - 1 }),
    coord: fc.integer({ min: 0, max: REPLICAS - 1 }), ctx: fc.constantFrom('none' as const, 'latest' as const, 'read' as const),
    del: fc.boolean(),
  }),
  fc.record({ t: fc.constant('sync' as const), from: fc.integer({ min: 0, max: REPLICAS - 1 }), to: fc.integer({ min: 0, max: REPLICAS - 1 }) }),
);

function converge(replicas: KeyState[]): KeyState {
  let all = EMPTY_STATE;
  for (const r of replicas) all = syncStates(all, r);
  return all;
}

function survives(dot: Dot, final: KeyState, created: readonly Created[]): boolean {
  if (final.siblings.some((v) => dotKey(v.dot) === dotKey(dot))) return true;
  return created.some((c) => dotKey(c.dot) !== dotKey(dot) && contextCovers(c.context, dot) && survives(c.dot, final, created));
}

describe('reconciliation properties over random interleavings', () => {
  it('sync is commutative, associative and idempotent on reachable states', () => {
    fc.assert(fc.property(fc.array(cmdArb(3), { maxLength: 30 }), (cmds) => {
      const replicas: KeyState[] = Array.from({ length: REPLICAS }, () => EMPTY_STATE);
      const latest: CausalContext[] = [EMPTY_CONTEXT, EMPTY_CONTEXT, EMPTY_CONTEXT];
      for (const c of cmds) {
        if (c.t === 'sync') replicas[c.to] = syncStates(replicas[c.to]!, replicas[c.from]!);
        else {
          const r = write(replicas[c.coord]!, `r${c.coord}`, 'v', c.ctx === 'none' ? EMPTY_CONTEXT : latest[c.writer]!);
          replicas[c.coord] = r.state;
          latest[c.writer] = r.clientContext;
        }
      }
      const [a, b, c] = replicas as [KeyState, KeyState, KeyState];
      assert.ok(statesEqual(syncStates(a, b), syncStates(b, a)));
      assert.ok(statesEqual(syncStates(syncStates(a, b), c), syncStates(a, syncStates(b, c))));
      assert.ok(statesEqual(syncStates(a, a), a));
    }), { numRuns: 300 });
  });

  it('no write is lost and the siblings left are exactly the concurrent ones', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 4 }).chain((w) => fc.array(cmdArb(w), { maxLength: 60 })), (cmds) => {
      const replicas: KeyState[] = Array.from({ length: REPLICAS }, () => EMPTY_STATE);
      const latest = new Map<number, CausalContext>();
      const created: Created[] = [];
      let n = 0;
      for (const c of cmds) {
        if (c.t === 'sync') {
          replicas[c.to] = syncStates(replicas[c.to]!, replicas[c.from]!);
          continue;
        }
        const ctx = c.ctx === 'none' ? EMPTY_CONTEXT
          : c.ctx === 'read' ? replicas[(c.coord + 1) % REPLICAS]!.context // a read from another, maybe stale, replica
          : latest.get(c.writer) ?? EMPTY_CONTEXT;
        const r = write(replicas[c.coord]!, `r${c.coord}`, c.del ? null : `w${n++}`, ctx);
        replicas[c.coord] = r.state;
        latest.set(c.writer, r.clientContext);
        created.push({ dot: r.dot, context: ctx });
      }
      const final = converge(replicas);
      for (const c of created) assert.ok(survives(c.dot, final, created), `write ${dotKey(c.dot)} lost`);
      const ctxOf = new Map(created.map((c) => [dotKey(c.dot), c.context]));
      for (const s of final.siblings) {
        for (const t of final.siblings) {
          if (s !== t) assert.ok(!contextCovers(ctxOf.get(dotKey(t.dot))!, s.dot), `${dotKey(t.dot)} supersedes ${dotKey(s.dot)} yet both remain`);
        }
      }
    }), { numRuns: 500 });
  });

  it('K writers racing with stale or empty contexts leave at most K siblings beyond what none of them saw', () => {
    fc.assert(fc.property(
      fc.array(cmdArb(2), { maxLength: 25 }),
      fc.integer({ min: 1, max: 6 }).chain((k) => fc.tuple(
        fc.array(fc.record({ coord: fc.integer({ min: 0, max: REPLICAS - 1 }), ctxFrom: fc.integer({ min: -1, max: 25 }) }), { minLength: k, maxLength: k }),
        fc.array(fc.record({ from: fc.integer({ min: 0, max: REPLICAS - 1 }), to: fc.integer({ min: 0, max: REPLICAS - 1 }), after: fc.integer({ min: 0, max: k }) }), { maxLength: 10 }),
      )),
      (history, [writers, syncs]) => {
        // Phase 1: some history, remembering every context a reader could have taken.
        const replicas: KeyState[] = Array.from({ length: REPLICAS }, () => EMPTY_STATE);
        const snapshots: CausalContext[] = [];
        for (const c of history) {
          if (c.t === 'sync') replicas[c.to] = syncStates(replicas[c.to]!, replicas[c.from]!);
          else replicas[c.coord] = write(replicas[c.coord]!, `r${c.coord}`, 'old', c.ctx === 'none' ? EMPTY_CONTEXT : replicas[c.coord]!.context).state;
          snapshots.push(replicas[snapshots.length % REPLICAS]!.context);
        }
        const before = converge(replicas);
        // Phase 2: K writers race, each with a stale context (or none), through any replica.
        const contexts = writers.map((w) => (w.ctxFrom < 0 || snapshots.length === 0 ? EMPTY_CONTEXT : snapshots[w.ctxFrom % snapshots.length]!));
        const raced: Dot[] = [];
        writers.forEach((w, i) => {
          for (const s of syncs) if (s.after === i) replicas[s.to] = syncStates(replicas[s.to]!, replicas[s.from]!);
          const r = write(replicas[w.coord]!, `r${w.coord}`, `new${i}`, contexts[i]!);
          replicas[w.coord] = r.state;
          raced.push(r.dot);
        });
        const after = converge(replicas);
        const uncovered = before.siblings.filter((v) => !contexts.some((c) => contextCovers(c, v.dot)));
        const expected = new Set([...raced.map(dotKey), ...uncovered.map((v) => dotKey(v.dot))]);
        assert.deepEqual(new Set(after.siblings.map((v) => dotKey(v.dot))), expected);
        assert.ok(after.siblings.length <= writers.length + uncovered.length);
      },
    ), { numRuns: 400 });
  });
});
