/** Each coordinator decides its own outcome: answered, failed early, timed out, repaired, forgotten. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Harness } from '../harness.js';
import type { ClientReply } from '../../../src/core/types.js';
import { preferenceListForKey } from '../../../src/core/ring/index.js';
import { KV_TIMING } from '../../../src/core/constants.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function failure(r: ClientReply | undefined): { error: string; required?: number; received?: number } {
  assert.ok(r && !r.ok, `expected a failure, got ${JSON.stringify(r)}`);
  return { error: r.error, ...(r.required !== undefined ? { required: r.required, received: r.received } : {}) };
}

describe('get coordination', () => {
  it('waits longer before asking spares once replica reads have been slow (no retry storm under load)', () => {
    const h = new Harness(['a', 'b', 'c']);
    const [first, spare] = preferenceListForKey(h.node('a').currentRing, enc('k')).filter((id) => id !== 'a');
    h.request('w', 'a', { op: 'put', key: 'k', value: enc('v'), w: 3 });
    h.settle();
    // 128 reads whose replicas answer 8 ticks (80 ms) late: past the 50 ms floor.
    for (let i = 0; i < 128; i++) {
      h.request(`slow${i}`, 'a', { op: 'get', key: 'k', r: 2 });
      h.tick(8);
      h.settle();
    }
    h.request('r', 'a', { op: 'get', key: 'k', r: 2 });
    h.drop((m) => m.to === first);
    h.tick(8);
    assert.equal(h.inflight.filter((m) => m.msg.type === 'replica-get').length, 0, 'no spare within the usual round trip');
    h.tick(1);
    assert.deepEqual(h.inflight.filter((m) => m.msg.type === 'replica-get').map((m) => m.to), [spare], 'the spare once the p99 has passed');
    h.settle();
    assert.ok(h.replies.get('r')?.ok);
  });

  it('a read at a plain level asks only the replicas it needs (its own copy first); all, a DC level and blocking repair ask every one', () => {
    const h = new Harness(['a', 'b', 'c']);
    const others = preferenceListForKey(h.node('a').currentRing, enc('k')).filter((id) => id !== 'a');
    const asked = (op: Parameters<Harness['request']>[2]): string[] => {
      h.drop(() => true);
      h.request(`r${JSON.stringify(op)}`, 'a', op);
      return h.inflight.filter((m) => m.msg.type === 'replica-get').map((m) => m.to);
    };
    assert.deepEqual(asked({ op: 'get', key: 'k', r: 1 }), [], 'R=1 at a replica: its own copy answers');
    assert.deepEqual(asked({ op: 'get', key: 'k', r: 'quorum' }), [others[0]], 'R=2: the next replica in the preference list');
    assert.deepEqual(asked({ op: 'get', key: 'k', r: 'all' }).sort(), [...others].sort());
    assert.deepEqual(asked({ op: 'get', key: 'k', r: 'local_quorum' }).sort(), [...others].sort(), 'DC levels ask every replica');
    assert.deepEqual(asked({ op: 'get', key: 'k', r: 1, repair: 'blocking' }).sort(), [...others].sort(), 'blocking repair asks every replica');
  });

  it('asks the spares when the replicas it asked have not all answered after readSpareAfterMs, and answers from them', () => {
    const h = new Harness(['a', 'b', 'c']);
    const [first, spare] = preferenceListForKey(h.node('a').currentRing, enc('k')).filter((id) => id !== 'a');
    h.request('w', 'a', { op: 'put', key: 'k', value: enc('v'), w: 3 });
    h.settle();
    h.request('r', 'a', { op: 'get', key: 'k', r: 2 });
    h.drop((m) => m.to === first); // the first replica asked is silent (not yet suspected)
    h.tick(KV_TIMING.readSpareAfterMs / 10 - 1); // the harness ticks every 10 ms
    assert.equal(h.inflight.filter((m) => m.msg.type === 'replica-get').length, 0, 'no spare asked before its time');
    assert.equal(h.replies.get('r'), undefined);
    h.tick(1);
    assert.deepEqual(h.inflight.filter((m) => m.msg.type === 'replica-get').map((m) => m.to), [spare]);
    h.settle();
    const reply = h.replies.get('r');
    assert.ok(reply?.ok && reply.op === 'get' && reply.siblings.length === 1, 'answered from its own copy and the spare');
    assert.equal(h.node('a').inFlight(), 1, 'still listening for the silent replica (read repair)');
    h.tick(10); // the harness's 100 ms request timeout
    assert.equal(h.node('a').inFlight(), 0, 'forgotten at its deadline');
  });

  it('fails as soon as too many replicas answer with unusable states, without waiting for the timeout', () => {
    const h = new Harness(['a', 'b', 'c']);
    h.request('r', 'a', { op: 'get', key: 'k', r: 2, timeoutMs: 10_000 });
    // R=2 at a replica: it asks one other replica; when that one fails, the last one.
    for (let round = 0; round < 2; round++) {
      const gets = h.inflight.splice(0);
      assert.equal(gets.length, 1, `round ${round}: one replica asked`);
      for (const g of gets) {
        assert.ok(g.msg.type === 'replica-get');
        h.node('a').step(g.to, { type: 'replica-get-reply', id: g.msg.id, key: 'k', state: new Uint8Array([99]) });
      }
      h.flush();
    }
    assert.deepEqual(failure(h.replies.get('r')), { error: 'insufficient_replicas', required: 2, received: 1 });
    assert.equal(h.node('a').inFlight(), 0, 'the read is forgotten once every replica has answered');
  });

  it('repairs exactly the replicas that answered with less, and nothing when all agree', () => {
    const h = new Harness(['a', 'b', 'c']);
    h.request('w', 'a', { op: 'put', key: 'k', value: enc('v'), w: 3 });
    h.settle();
    h.request('r1', 'b', { op: 'get', key: 'k', r: 3 });
    h.deliver((m) => m.msg.type === 'replica-get');
    const repairs1 = h.inflight.filter((m) => m.msg.type === 'replica-put');
    h.deliver();
    assert.equal(h.inflight.filter((m) => m.msg.type === 'replica-put').length + repairs1.length, 0, 'no repair when replicas agree');

    h.request('w2', 'a', { op: 'put', key: 'k', value: enc('v2'), w: 1 });
    h.drop(() => true); // b and c miss it
    h.request('r2', 'b', { op: 'get', key: 'k', r: 3 });
    h.deliver((m) => m.msg.type === 'replica-get');
    h.deliver((m) => m.msg.type === 'replica-get-reply');
    const repairs = h.inflight.filter((m) => m.msg.type === 'replica-put');
    assert.deepEqual(repairs.map((m) => m.to).sort(), ['c'], 'b repairs itself locally; only c is sent the merge');
    assert.ok(repairs.every((m) => m.msg.type === 'replica-put' && m.msg.id === 0), 'repairs ask for no acknowledgement');
    // w2 was blind: it is a sibling of v, and b now holds both.
    assert.deepEqual(h.node('b').localState('k').siblings.map((v) => new TextDecoder().decode(v.value!)), ['v', 'v2']);
  });
});

describe('put coordination', () => {
  it('answers once, forgets the write after every ack, and ignores late or foreign acks', () => {
    const h = new Harness(['a', 'b', 'c']);
    h.request('p', 'a', { op: 'put', key: 'k', value: enc('v'), w: 2 });
    const puts = h.inflight.filter((m) => m.msg.type === 'replica-put');
    h.deliver((m) => m.to === 'b');
    h.deliver((m) => m.from === 'b');
    assert.equal(h.replies.get('p')?.ok, true);
    assert.equal(h.node('a').inFlight(), 1, 'still listening for the last replica');
    h.settle(); // c stores it and acks
    assert.equal(h.node('a').inFlight(), 0);
    const first = puts[0]!.msg;
    assert.equal(first.type, 'replica-put');
    const id = first.type === 'replica-put' ? first.id : -1;
    h.replies.delete('p');
    h.node('a').step('b', { type: 'replica-put-ack', id, key: 'k' });
    h.flush();
    assert.equal(h.replies.get('p'), undefined, 'no second answer');
  });

  it('times out with what it received, and the timed-out write is forgotten', () => {
    const h = new Harness(['a', 'b', 'c']);
    h.request('p', 'a', { op: 'put', key: 'k', value: enc('v'), w: 3, timeoutMs: 20 });
    h.drop(() => true);
    assert.equal(h.node('a').inFlight(), 1);
    h.tick(1);
    assert.equal(h.replies.get('p'), undefined, 'not before its deadline');
    h.tick(1);
    assert.deepEqual(failure(h.replies.get('p')), { error: 'insufficient_replicas', required: 3, received: 1 });
    assert.equal(h.node('a').inFlight(), 0);
  });
});

describe('forward coordination', () => {
  it('once a replica has accepted, the forwarder waits for it instead of trying the next', () => {
    const h = new Harness(['a', 'b', 'c', 'd', 'e']);
    let key = '';
    for (let i = 0; !key; i++) if (!preferenceListForKey(h.node('a').currentRing, enc(`k${i}`)).includes('a')) key = `k${i}`;
    h.request('p', 'a', { op: 'put', key, value: enc('v'), w: 3, timeoutMs: 100 });
    const [fwd] = h.inflight.splice(0);
    assert.ok(fwd && fwd.msg.type === 'forward');
    h.node('a').step(fwd.to, { type: 'forward-accepted', id: fwd.msg.id });
    h.flush();
    h.tick(8);
    assert.equal(h.inflight.filter((m) => m.msg.type === 'forward').length, 0, 'no other replica was asked');
    h.tick(3);
    assert.deepEqual(failure(h.replies.get('p')), { error: 'insufficient_replicas', required: 3, received: 0 });
    assert.equal(h.node('a').inFlight(), 0);
  });
});
