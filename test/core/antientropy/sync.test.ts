import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { Harness } from '../harness.js';
import type { InFlight } from '../harness.js';
import { encodeState } from '../../../src/core/clock/state.js';
import type { AntiEntropyMessage } from '../../../src/core/antientropy/index.js';
import { keyHash, partitionOf } from '../../../src/core/ring/index.js';

const te = new TextEncoder();
const IDS = ['a', 'b', 'c'];
const isAe = (m: InFlight): boolean => m.msg.type.startsWith('ae-');
const isReplicaPut = (m: InFlight): boolean => m.msg.type === 'replica-put';
type Sync = Extract<AntiEntropyMessage, { type: 'ae-sync' }>;
type SyncReply = Extract<AntiEntropyMessage, { type: 'ae-sync-reply' }>;

const big = (tag: string): Uint8Array => te.encode(tag.repeat(2048 / tag.length));

/** k written everywhere, then a second write at `at` only (the others keep the first). */
function staleEverywhereBut(h: Harness, at: string, key: string): void {
  h.request('w1', 'a', { op: 'put', key, value: big('old-'), w: 3 });
  h.settle((m) => !isAe(m));
  h.request('w2', at, { op: 'put', key, value: big('new-'), context: h.node(at).localState(key).context, w: 1 });
  h.drop(isReplicaPut);
  h.settle((m) => !isAe(m));
}

/** Runs `id`'s repair of `key`'s partition, recording every anti-entropy message. */
function repairRecorded(h: Harness, id: string, key: string): InFlight[] {
  const seen: InFlight[] = [];
  const p = partitionOf(keyHash(te.encode(key)), h.node(id).currentRing.partitionCount);
  h.node(id).antiEntropy.repair(p);
  for (let i = 0; i < 50 && h.node(id).antiEntropy.progress().running; i++) {
    h.tick();
    for (let j = 0; j < 20 && h.inflight.length > 0; j++) {
      seen.push(...h.inflight.filter(isAe));
      h.deliver();
    }
  }
  assert.equal(h.node(id).antiEntropy.progress().running, false);
  return seen;
}

const hex = (h: Harness, id: string, key: string): string => Buffer.from(encodeState(h.node(id).localState(key))).toString('hex');

describe('anti-entropy sync: digests for keys both replicas hold', () => {
  it('a stale initiator sends a digest (no values) and gets the newer state back: one state on the wire, not two', () => {
    const h = new Harness(IDS);
    staleEverywhereBut(h, 'b', 'k');
    const seen = repairRecorded(h, 'a', 'k');
    const syncs = seen.filter((m) => m.msg.type === 'ae-sync' && m.from === 'a').map((m) => m.msg as Sync);
    const entries = syncs.flatMap((s) => s.entries).filter((e) => e.key === 'k');
    assert.ok(entries.length >= 1);
    for (const e of entries) {
      assert.equal(e.state, null, 'the stale value never travels');
      assert.ok(e.digest !== undefined && e.digest.length < 200, `a digest of ${e.digest?.length} bytes`);
    }
    const replies = seen.filter((m) => m.msg.type === 'ae-sync-reply' && m.to === 'a').map((m) => m.msg as SyncReply);
    assert.ok(replies.every((r) => r.want === undefined), 'nothing wanted: b is newer');
    assert.equal(hex(h, 'a', 'k'), hex(h, 'b', 'k'));
    assert.equal(new TextDecoder().decode(h.node('a').localState('k').siblings[0]!.value!).slice(0, 4), 'new-');
  });

  it('a newer initiator: the peer wants the whole state, gets it in a second sync, and never stores a digest', () => {
    const h = new Harness(IDS);
    staleEverywhereBut(h, 'a', 'k');
    const before = hex(h, 'b', 'k');
    const p = partitionOf(keyHash(te.encode('k')), h.node('a').currentRing.partitionCount);
    h.node('a').antiEntropy.repair(p);
    h.tick();
    let wanted = false;
    for (let j = 0; j < 40 && h.inflight.length > 0; j++) {
      for (const m of h.inflight.filter((x) => x.msg.type === 'ae-sync-reply' && x.from === 'b')) {
        if ((m.msg as SyncReply).want?.includes('k')) {
          wanted = true;
          // b answered the digest without merging it: its value is intact.
          assert.equal(hex(h, 'b', 'k'), before);
        }
      }
      h.deliver();
    }
    for (let i = 0; i < 20 && h.node('a').antiEntropy.progress().running; i++) {
      h.tick();
      h.settle();
    }
    assert.ok(wanted, 'b asked for the whole state');
    assert.equal(hex(h, 'b', 'k'), hex(h, 'a', 'k'));
    const v = h.node('b').localState('k').siblings;
    assert.equal(v.length, 1);
    assert.equal(v[0]!.value!.length, 2048, 'the value, not an empty digest value');
  });

  it('concurrent versions on both sides: both survive as siblings at both, values intact', () => {
    const h = new Harness(IDS);
    h.request('w1', 'a', { op: 'put', key: 'k', value: big('base'), w: 3 });
    h.settle((m) => !isAe(m));
    const ctx = h.node('a').localState('k').context;
    h.request('wa', 'a', { op: 'put', key: 'k', value: big('aaaa'), context: ctx, w: 1 });
    h.request('wb', 'b', { op: 'put', key: 'k', value: big('bbbb'), context: ctx, w: 1 });
    h.drop(isReplicaPut);
    h.settle((m) => !isAe(m));
    repairRecorded(h, 'a', 'k');
    assert.equal(hex(h, 'a', 'k'), hex(h, 'b', 'k'));
    const vals = h.node('b').localState('k').siblings.map((s) => new TextDecoder().decode(s.value!).slice(0, 4)).sort();
    assert.deepEqual(vals, ['aaaa', 'bbbb']);
  });
});
