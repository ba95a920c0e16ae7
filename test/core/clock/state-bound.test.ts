/**
 * Issue 8, defect 2: no sequence of accepted writes may make a key unreadable or unrepairable.
 * Whole states cross the wire in one frame (8 MiB), so every state a replica can come to hold —
 * by a write, a replica merge, a read repair — must fit one. The scenario of the issue: ten
 * concurrent blind 1 MB writes through two nodes, none of which has seen the others'.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Harness } from '../harness.js';
import type { InFlight } from '../harness.js';
import { FRAME_PAYLOAD_BYTES_MAX } from '../../../src/adapters/transport-constants.js';
import { DEFAULT_MAX_STATE_BYTES } from '../../../src/core/node.js';
import { coordinatorStateBudget, largestValueBytes } from '../../../src/core/clock/state-budget.js';
import { encodeState } from '../../../src/core/clock/state.js';

const MB = 1_000_000;
/** Room for the message around a state in a frame (key, ids, msgpack framing). */
const ENVELOPE_BYTES = 64 * 1024;

function stateBytesOf(m: InFlight): number {
  const msg = m.msg;
  if ((msg.type === 'replica-put' || msg.type === 'replica-get-reply') && msg.state) return msg.state.length;
  return 0;
}

describe('a key stays readable and repairable whatever writes were accepted', () => {
  it('ten concurrent blind 1 MB writes through two nodes: every accepted one readable at R=all, replicas repaired, every message within a frame', () => {
    const h = new Harness(['a', 'b', 'c']);
    const accepted: string[] = [];
    const refused: string[] = [];
    // All ten are issued before any replication message is delivered: no node has seen another's.
    for (let i = 0; i < 10; i++) {
      const via = i % 2 === 0 ? 'a' : 'b';
      const value = new Uint8Array(MB).fill(i + 1);
      h.request(`w${i}`, via, { op: 'put', key: 'big', value, contentType: `v${i}`, w: 1 });
      const r = h.replies.get(`w${i}`)!;
      if (r.ok) accepted.push(`v${i}`);
      else {
        assert.equal(r.error, 'value_too_large', JSON.stringify(r));
        refused.push(`v${i}`);
      }
    }
    assert.ok(accepted.length >= 2, `only ${accepted.length} accepted`);
    // Deliver everything, watching the size of every state that crosses the wire.
    let largest = 0;
    const deliverAll = (): void => {
      for (let round = 0; round < 50 && h.inflight.length > 0; round++) {
        for (const m of h.inflight) largest = Math.max(largest, stateBytesOf(m));
        h.deliver();
      }
    };
    deliverAll();
    h.request('read', 'c', { op: 'get', key: 'big', r: 'all' });
    deliverAll();
    for (let i = 0; i < 3; i++) h.tick(20); // the read's timeout ends its coordination: read repair goes out
    deliverAll();
    const read = h.replies.get('read')!;
    assert.ok(read.ok && read.op === 'get', `the R=all read failed: ${JSON.stringify(read)}`);
    assert.deepEqual(read.siblings.map((v) => v.contentType).sort(), [...accepted].sort(), 'every accepted write is read back');
    assert.ok(largest + ENVELOPE_BYTES <= FRAME_PAYLOAD_BYTES_MAX, `a ${largest}-byte state crossed the wire (frame limit ${FRAME_PAYLOAD_BYTES_MAX})`);
    const states = ['a', 'b', 'c'].map((id) => encodeState(h.node(id).localState('big')));
    for (const s of states) assert.ok(s.length <= DEFAULT_MAX_STATE_BYTES, `a replica holds a ${s.length}-byte state`);
    assert.ok(states.every((s) => Buffer.compare(Buffer.from(s), Buffer.from(states[0]!)) === 0), 'the replicas were repaired to one state');
    // And the key can be resolved: a write with the read's context replaces every sibling.
    h.request('resolve', 'a', { op: 'put', key: 'big', value: new Uint8Array(MB), context: read.context, w: 'all' });
    deliverAll();
    assert.equal(h.replies.get('resolve')?.ok, true);
    assert.equal(h.node('c').localState('big').siblings.length, 1);
  });

  it('the per-coordinator budget times N never exceeds the state bound, and a largest value always fits it', () => {
    for (let n = 1; n <= 16; n++) {
      assert.ok(coordinatorStateBudget(DEFAULT_MAX_STATE_BYTES, n) * n <= DEFAULT_MAX_STATE_BYTES);
      assert.ok(largestValueBytes(n) > 0 && largestValueBytes(n) < coordinatorStateBudget(DEFAULT_MAX_STATE_BYTES, n));
    }
    assert.ok(largestValueBytes(3) >= 2 * 1024 * 1024, 'N=3 keeps room for a 2 MiB value');
    assert.ok(largestValueBytes(6) >= 1024 * 1024, 'the default 1 MiB value fits up to N=6');
  });
});
