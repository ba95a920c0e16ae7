import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Harness } from './harness.js';
import type { ClientReply } from '../../src/core/types.js';
import { preferenceListForKey } from '../../src/core/ring/index.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array | null): string | null => (b === null ? null : new TextDecoder().decode(b));

function siblingValues(r: ClientReply | undefined): (string | null)[] {
  assert.ok(r && r.ok && r.op === 'get', `expected a get result, got ${JSON.stringify(r)}`);
  return r.siblings.map((v) => dec(v.value)).sort();
}

describe('coordinator scenarios (3 nodes, N=3)', () => {
  it('a W=2 put answers after one replica ack, not before', () => {
    const h = new Harness(['a', 'b', 'c']);
    h.request('p', 'a', { op: 'put', key: 'k', value: enc('v1'), w: 2 });
    assert.equal(h.replies.get('p'), undefined, 'no reply before any replica acked');
    assert.equal(h.inflight.filter((m) => m.msg.type === 'replica-put').length, 2);
    h.deliver((m) => m.to === 'b');
    h.deliver((m) => m.msg.type === 'replica-put-ack' && m.from === 'b');
    assert.equal(h.replies.get('p')?.ok, true);
  });

  it('W=1 answers at once, from the coordinator\'s persisted copy', () => {
    const h = new Harness(['a', 'b', 'c']);
    h.request('p', 'a', { op: 'put', key: 'k', value: enc('v1'), w: 'one' });
    assert.equal(h.replies.get('p')?.ok, true);
    // The reply left in the same Ready as the write, so the store already has it.
    assert.ok(h.stores.get('a')!.data.size > 0);
  });

  it('a put times out with insufficient_replicas and says how many replied', () => {
    const h = new Harness(['a', 'b', 'c']);
    h.request('p', 'a', { op: 'put', key: 'k', value: enc('v1'), w: 'all', timeoutMs: 50 });
    h.deliver((m) => m.to === 'b');
    h.deliver((m) => m.msg.type === 'replica-put-ack');
    h.drop(() => true);
    h.tick(5);
    assert.deepEqual(pick(h.replies.get('p')), { ok: false, error: 'insufficient_replicas', required: 3, received: 2 });
  });

  it('a read merges siblings from the replicas and answers after R', () => {
    const h = new Harness(['a', 'b', 'c']);
    h.request('w1', 'a', { op: 'put', key: 'k', value: enc('from-a'), w: 1 });
    h.drop(() => true); // b and c never hear of it
    h.request('w2', 'b', { op: 'put', key: 'k', value: enc('from-b'), w: 1 });
    h.drop(() => true);
    h.request('r', 'c', { op: 'get', key: 'k', r: 3 });
    h.settle();
    assert.deepEqual(siblingValues(h.replies.get('r')), ['from-a', 'from-b']);
  });

  it('read repair brings every replica that answered up to the merged state', () => {
    const h = new Harness(['a', 'b', 'c']);
    h.request('w1', 'a', { op: 'put', key: 'k', value: enc('v'), w: 1 });
    h.drop(() => true);
    assert.equal(h.node('c').localState('k').siblings.length, 0);
    h.request('r', 'b', { op: 'get', key: 'k', r: 3 });
    h.settle();
    for (const id of ['a', 'b', 'c']) assert.deepEqual(h.node(id).localState('k').siblings.map((v) => dec(v.value)), ['v'], id);
  });

  it('a put with the read context resolves siblings; a delete then reads as absent', () => {
    const h = new Harness(['a', 'b', 'c']);
    h.request('w1', 'a', { op: 'put', key: 'k', value: enc('x'), w: 3 });
    h.settle();
    h.request('w2', 'a', { op: 'put', key: 'k', value: enc('y'), w: 3 });
    h.settle();
    h.request('r1', 'b', { op: 'get', key: 'k', r: 3 });
    h.settle();
    const r1 = h.replies.get('r1');
    assert.deepEqual(siblingValues(r1), ['x', 'y'], 'blind writes through one node are siblings');
    assert.ok(r1?.ok && r1.op === 'get');
    h.request('w3', 'c', { op: 'put', key: 'k', value: enc('z'), context: r1.context, w: 3 });
    h.settle();
    h.request('r2', 'a', { op: 'get', key: 'k', r: 3 });
    h.settle();
    const r2 = h.replies.get('r2');
    assert.deepEqual(siblingValues(r2), ['z']);
    assert.ok(r2?.ok && r2.op === 'get');
    h.request('d', 'b', { op: 'put', key: 'k', value: null, context: r2.context, w: 3 });
    h.settle();
    h.request('r3', 'a', { op: 'get', key: 'k', r: 3 });
    h.settle();
    assert.deepEqual(siblingValues(h.replies.get('r3')), [null], 'only a tombstone remains');
  });

  it('refuses R or W above N, and zero', () => {
    const h = new Harness(['a', 'b', 'c']);
    h.request('r', 'a', { op: 'get', key: 'k', r: 4 });
    assert.equal(pick(h.replies.get('r')).error, 'bad_request');
    h.request('w', 'a', { op: 'put', key: 'k', value: enc('v'), w: 0 });
    assert.equal(pick(h.replies.get('w')).error, 'bad_request');
  });

  it('a read times out with required and received counts', () => {
    const h = new Harness(['a', 'b', 'c']);
    h.request('r', 'a', { op: 'get', key: 'k', r: 'all', timeoutMs: 30 });
    h.drop((m) => m.to === 'c');
    h.settle();
    h.tick(4);
    assert.deepEqual(pick(h.replies.get('r')), { ok: false, error: 'insufficient_replicas', required: 3, received: 2 });
  });
});

describe('coordinator scenarios (5 nodes: forwarding)', () => {
  const ids = ['a', 'b', 'c', 'd', 'e'];
  function keyNotOn(h: Harness, id: string): { key: string; replicas: readonly string[] } {
    for (let i = 0; ; i++) {
      const key = `key-${i}`;
      const replicas = preferenceListForKey(h.node(id).currentRing, enc(key));
      if (!replicas.includes(id)) return { key, replicas };
    }
  }

  it('a write received by a non-replica is coordinated by a replica', () => {
    const h = new Harness(ids);
    const { key, replicas } = keyNotOn(h, 'a');
    h.request('p', 'a', { op: 'put', key, value: enc('v'), w: 2 });
    assert.equal(h.inflight.length, 1);
    assert.equal(h.inflight[0]!.msg.type, 'forward');
    assert.equal(h.inflight[0]!.to, replicas[0]);
    h.settle();
    assert.equal(h.replies.get('p')?.ok, true);
    assert.equal(h.node('a').localState(key).siblings.length, 0, 'the forwarder stores nothing');
    for (const r of replicas) assert.equal(h.node(r).localState(key).siblings.length, 1, r);
  });

  it('when the first replica does not answer, the forwarder tries the next', () => {
    const h = new Harness(ids);
    const { key, replicas } = keyNotOn(h, 'a');
    h.request('p', 'a', { op: 'put', key, value: enc('v'), w: 1 });
    h.drop((m) => m.to === replicas[0]);
    for (let i = 0; i < 10 && !h.inflight.some((m) => m.to === replicas[1]); i++) h.tick();
    assert.equal(h.inflight.filter((m) => m.msg.type === 'forward' && m.to === replicas[1]).length, 1);
    h.settle((m) => m.to !== replicas[0]);
    assert.equal(h.replies.get('p')?.ok, true);
  });
});

function pick(r: ClientReply | undefined): Record<string, unknown> {
  assert.ok(r);
  if (r.ok) return { ok: true };
  return { ok: r.ok, error: r.error, ...(r.required !== undefined ? { required: r.required, received: r.received } : {}) };
}

describe('review fixes: stale replies, impossible W, oversized states, ring disagreements', () => {
  it('replies addressed to an earlier run of a node never answer a request of this run', () => {
    const h = new Harness(['a', 'b', 'c']);
    h.request('w', 'b', { op: 'put', key: 'A', value: enc('secret-A'), w: 3 });
    h.settle();
    // a's first request of its first run; after the restart, its first request again.
    h.request('r-old', 'a', { op: 'get', key: 'A', r: 3 });
    const stale = h.inflight.splice(0); // the replies are still in flight when a restarts
    for (const m of stale) h.node(m.to).step(m.from, m.msg);
    const replies = h.flushCollect();
    // a restarts with a new incarnation and reads a key nobody wrote.
    h.restart('a', 7);
    h.request('r-new', 'a', { op: 'get', key: 'B', r: 2 });
    for (const m of replies) h.node(m.to).step(m.from, m.msg); // the old replies arrive now
    h.flush();
    h.settle();
    const r = h.replies.get('r-new');
    assert.ok(r?.ok && r.op === 'get');
    assert.deepEqual(r.siblings, [], 'nothing of key A leaked into key B');
    assert.equal(h.node('a').localState('B').siblings.length, 0);
  });

  it('a reply naming another key is ignored even when its id matches', () => {
    const h = new Harness(['a', 'b', 'c']);
    h.request('w', 'b', { op: 'put', key: 'A', value: enc('x'), w: 3 });
    h.settle();
    h.request('r', 'a', { op: 'get', key: 'B', r: 3 });
    const gets = h.inflight.filter((m) => m.msg.type === 'replica-get');
    h.drop(() => true);
    for (const g of gets) {
      assert.ok(g.msg.type === 'replica-get');
      h.node('a').step(g.to, { type: 'replica-get-reply', id: g.msg.id, key: 'A', state: null });
    }
    h.flush();
    assert.equal(h.replies.get('r'), undefined, 'no answer built from replies for another key');
  });

  it('a W above the number of ring members fails at once with insufficient_replicas, and is not left pending', () => {
    const h = new Harness(['solo']);
    h.request('p', 'solo', { op: 'put', key: 'k', value: enc('v'), w: 2 });
    assert.deepEqual(pick(h.replies.get('p')), { ok: false, error: 'insufficient_replicas', required: 2, received: 1 });
    assert.equal(h.node('solo').inFlight(), 0);
    h.request('q', 'solo', { op: 'put', key: 'k', value: enc('v'), w: 'all' });
    assert.equal(h.replies.get('q')?.ok, true, 'all = every member of a one-node ring');
  });

  it('a write that would make the key\'s state too large for one frame is refused with value_too_large', () => {
    // Each of the N=3 coordinators gets a third of the key's bound (see state-budget.ts): 3000 bytes.
    const h = new Harness(['a', 'b', 'c'], { maxStateBytes: 9000 });
    h.request('p1', 'a', { op: 'put', key: 'k', value: new Uint8Array(1200), w: 1 });
    h.request('p2', 'a', { op: 'put', key: 'k', value: new Uint8Array(1200), w: 1 });
    assert.equal(h.replies.get('p1')?.ok, true);
    assert.equal(h.replies.get('p2')?.ok, true);
    const before = h.node('a').localState('k').siblings.length;
    h.request('p3', 'a', { op: 'put', key: 'k', value: new Uint8Array(1200), w: 1 });
    assert.equal(pick(h.replies.get('p3')).error, 'value_too_large');
    assert.equal(h.node('a').localState('k').siblings.length, before, 'nothing was written');
  });

  it('a node that is not a replica refuses a forwarded write instead of coordinating it', () => {
    const h = new Harness(['a', 'b', 'c', 'd', 'e']);
    let key = '';
    let outsider = '';
    for (let i = 0; !key; i++) {
      const replicas = preferenceListForKey(h.node('a').currentRing, enc(`k${i}`));
      const out = ['a', 'b', 'c', 'd', 'e'].find((n) => !replicas.includes(n));
      if (out) { key = `k${i}`; outsider = out; }
    }
    h.node(outsider).step('a', { type: 'forward', id: 5, op: { op: 'put', key, value: enc('v') } });
    h.flush();
    const replies = h.inflight.filter((m) => m.to === 'a');
    assert.equal(replies.length, 1);
    const m = replies[0]!.msg;
    assert.ok(m.type === 'forward-reply' && !m.reply.ok && m.reply.error === 'unavailable');
    assert.equal(h.node(outsider).localState(key).siblings.length, 0);
  });

  it('a forged context with an exhausted counter cannot exhaust the key: its counters are clamped, the key stays writable', () => {
    // (A token this high is refused at decoding with a 400; a context that got past it is clamped.)
    const h = new Harness(['a', 'b', 'c']);
    const forged = { clock: [{ node: 'a', counter: 2 ** 48, tsMs: 0 }], cloud: [] };
    h.request('p', 'a', { op: 'put', key: 'k', value: enc('v'), context: forged, w: 1 });
    assert.equal(h.replies.get('p')?.ok, true);
    h.request('q', 'a', { op: 'put', key: 'k', value: enc('v'), w: 1 });
    assert.equal(h.replies.get('q')?.ok, true);
    assert.ok(h.node('a').localState('k').context.clock.every((e) => e.counter <= 2 ** 40 + 2));
  });
});

describe('actor ids per run (commit log periodic or none)', () => {
  it('a coordinator that forgot acknowledged dots in a crash makes new ones under its new actor id, so no version is shadowed', () => {
    const h = new Harness(['a', 'b', 'c']);
    h.restart('a', 1, { actorId: 'a~run1' });
    h.request('w1', 'a', { op: 'put', key: 'k', value: enc('before-crash'), w: 3 });
    h.settle();
    assert.deepEqual(h.node('b').localState('k').siblings.map((v) => v.dot.node), ['a~run1']);
    // a crashes having acknowledged w1 but not fsynced it; it comes back empty, with a new actor id.
    h.restart('a', 2, { lostWrites: true, actorId: 'a~run2' });
    h.request('w2', 'a', { op: 'put', key: 'k', value: enc('after-crash'), w: 1 });
    h.drop(() => true);
    h.request('r', 'b', { op: 'get', key: 'k', r: 3 });
    h.settle();
    assert.deepEqual(siblingValues(h.replies.get('r')), ['after-crash', 'before-crash']);
    h.settle();
    for (const id of ['a', 'b', 'c']) assert.equal(h.node(id).localState('k').siblings.length, 2, `${id} converged on both versions`);
  });
});
