import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CausalContext, Dot, KeyState } from '../../../src/core/clock/index.js';
import { EMPTY_CONTEXT, EMPTY_STATE, applyWrite, contextCovers, statesEqual, syncStates } from '../../../src/core/clock/index.js';
import { isKvMessage } from '../../../src/core/kv/messages.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const values = (s: KeyState): string[] => s.siblings.map((v) => (v.value === null ? '<deleted>' : new TextDecoder().decode(v.value))).sort();

/** A write coordinated by `replica`, optionally carrying a forwarder's dot (as a forward does). */
function write(local: KeyState, replica: string, value: string, context: CausalContext = EMPTY_CONTEXT, dot?: Dot, tsMs = 5) {
  return applyWrite(local, {
    coordinator: replica, context, value: enc(value), contentType: 'text/plain', tsMs, ...(dot ? { dot } : {}),
  });
}

const F1: Dot = { node: 'n0^abc', counter: 1 };
const F2: Dot = { node: 'n0^abc', counter: 2 };

describe('forwarded writes carry their forwarder\'s dot', () => {
  it('two replicas coordinating the same forward make the same version: merged, one sibling', () => {
    const base = write(EMPTY_STATE, 'n1', 'old');
    const a = write(base.state, 'n1', 'x', EMPTY_CONTEXT, F1);
    const b = write(base.state, 'n2', 'x', EMPTY_CONTEXT, F1);
    assert.ok(statesEqual(a.state, b.state), 'both coordinations give equal states');
    const merged = syncStates(a.state, b.state);
    assert.deepEqual(values(merged), ['old', 'x']);
    assert.deepEqual(merged.siblings.map((v) => `${v.dot.node}:${v.dot.counter}`), ['n0^abc:1', 'n1:1']);
    // The version's timestamp is the forwarder's, not the replicas' clocks.
    assert.equal(merged.siblings.find((v) => v.dot.node === 'n0^abc')!.tsMs, 5);
  });

  it('without the forwarder\'s dot (the old behaviour) the same forward is two siblings', () => {
    const a = write(EMPTY_STATE, 'n1', 'x');
    const b = write(EMPTY_STATE, 'n2', 'x');
    assert.deepEqual(values(syncStates(a.state, b.state)), ['x', 'x']);
  });

  it('coordinating a forward already known changes nothing and still answers with its dot', () => {
    const a = write(EMPTY_STATE, 'n1', 'x', EMPTY_CONTEXT, F1);
    const again = write(a.state, 'n1', 'x', EMPTY_CONTEXT, F1, 99);
    assert.equal(again.created, false);
    assert.equal(again.state, a.state);
    assert.ok(contextCovers(again.clientContext, F1));
  });

  it('a stale forward coordinated after the write was superseded does not bring it back', () => {
    const first = write(EMPTY_STATE, 'n2', 'x', EMPTY_CONTEXT, F1);
    const next = write(first.state, 'n2', 'y', first.clientContext); // the client writes again with its answer
    assert.deepEqual(values(next.state), ['y']);
    const stale = write(EMPTY_STATE, 'n1', 'x', EMPTY_CONTEXT, F1); // n1 restarts; the queued forward arrives
    assert.deepEqual(values(syncStates(stale.state, next.state)), ['y']);
    assert.deepEqual(values(syncStates(next.state, stale.state)), ['y']);
    // A replica that has already seen the superseding write does not make the version at all.
    assert.equal(write(next.state, 'n3', 'x', EMPTY_CONTEXT, F1).created, false);
  });

  it('a forwarder\'s dots out of order stay single dots until contiguous, then fold into its clock entry', () => {
    const second = write(EMPTY_STATE, 'n1', 'b', EMPTY_CONTEXT, F2);
    assert.equal(second.state.context.clock.find((e) => e.node === F2.node), undefined, 'dot 2 alone claims nothing of dot 1');
    assert.ok(!contextCovers(second.state.context, F1));
    const first = write(EMPTY_STATE, 'n2', 'a', EMPTY_CONTEXT, F1);
    // Dot 1 arriving afterwards is not taken as seen: both writes survive the merge.
    const merged = syncStates(second.state, first.state);
    assert.deepEqual(values(merged), ['a', 'b']);
    assert.equal(merged.context.clock.find((e) => e.node === F1.node)?.counter, 2);
    assert.equal(merged.context.cloud.length, 0);
  });

  it('the validator takes a forwarded dot only with a forward actor and a counter in range', () => {
    const op = { op: 'put', key: 'k', value: enc('v') };
    const ok = (dot: unknown, tsMs: unknown = 1) => isKvMessage({ type: 'forward', id: 1, op: { ...op, dot, tsMs } });
    assert.ok(isKvMessage({ type: 'forward', id: 1, op }));
    assert.ok(ok({ node: 'n0^abc', counter: 3 }));
    assert.ok(!ok({ node: 'n1', counter: 3 }), 'a replica\'s own actor cannot be named by a forward');
    assert.ok(!ok({ node: 'n0^abc', counter: 0 }));
    assert.ok(!ok({ node: 'n0^abc', counter: 2 ** 50 }));
    assert.ok(!ok({ node: `${'n'.repeat(100)}^a`, counter: 1 }));
    assert.ok(!ok({ node: 'n0^abc', counter: 1 }, -1));
    assert.ok(!isKvMessage({ type: 'forward', id: 1, op: { ...op, tsMs: 1 } }), 'a time without a dot');
  });
});

describe('encodedTombstonesOnly (read without decoding)', () => {
  it('agrees with decoding on values, tombstones, mixes, empty and damaged states', async () => {
    const { encodeState, encodedTombstonesOnly, isDeleted } = await import('../../../src/core/clock/state.js');
    const put = write(EMPTY_STATE, 'n1', 'v');
    const del = applyWrite(put.state, { coordinator: 'n1', context: put.state.context, value: null, contentType: '', tsMs: 2 });
    const mixed = applyWrite(put.state, { coordinator: 'n2', context: EMPTY_CONTEXT, value: null, contentType: '', tsMs: 2 });
    const twoDeletes = applyWrite(del.state, { coordinator: 'n2', context: EMPTY_CONTEXT, value: null, contentType: '', tsMs: 3 });
    for (const [state, want] of [[put.state, false], [del.state, true], [mixed.state, false], [twoDeletes.state, true], [EMPTY_STATE, false]] as const) {
      assert.equal(encodedTombstonesOnly(encodeState(state)), want);
      assert.equal(state.siblings.length > 0 && isDeleted(state), want);
    }
    const bytes = encodeState(del.state);
    assert.equal(encodedTombstonesOnly(bytes.subarray(0, bytes.length - 1)), false, 'a truncated state');
    assert.equal(encodedTombstonesOnly(new Uint8Array([9, 0, 0, 0])), false, 'an unknown format');
  });
});
