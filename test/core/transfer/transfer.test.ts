import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MiniCluster } from './mini-cluster.js';
import type { Sent } from './mini-cluster.js';
import { MapStore } from '../harness.js';
import { ReadyBuilder } from '../../../src/core/ready.js';
import { dataKey, dataRange } from '../../../src/core/keys.js';
import { encodeState, applyWrite, EMPTY_STATE, statesEqual } from '../../../src/core/clock/state.js';
import { EMPTY_CONTEXT } from '../../../src/core/clock/context.js';
import { keyHash, partitionOf, partitionRange, restoreRing } from '../../../src/core/ring/index.js';
import { utf8 } from '../../../src/core/bytes.js';
import { encodeClusterMeta, ringOf } from '../../../src/core/membership/index.js';
import { flipped, markedTransition, newReplicas, sourcesFor, transferSettings, viewOf } from '../../../src/core/transfer/index.js';
import { servePull } from '../../../src/core/transfer/source.js';
import type { TransferMessage } from '../../../src/core/transfer/index.js';

const FAST = { settleMs: 30, pullTimeoutMs: 100, markEveryMs: 20, docPushEveryMs: 50, chunkKeysMax: 2 };

function stateOf(value: string): Uint8Array {
  return encodeState(applyWrite(EMPTY_STATE, { coordinator: 'x', context: EMPTY_CONTEXT, value: utf8(value), contentType: 't', tsMs: 1 }).state);
}

/** Keys whose partition (of 16) is `p`. */
function keysOf(p: number, count: number): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < count; i++) if (partitionOf(keyHash(utf8(`k${i}`)), 16) === p) out.push(`k${i}`);
  return out;
}

describe('partition transfer: chunks', () => {
  const ring = restoreRing({ partitionCount: 16, n: 1, members: [{ nodeId: 's', dc: 'dc1', rack: 'r', weight: 1 }], owners: Array(16).fill('s') });
  const store = new MapStore();
  const keys = keysOf(5, 9);
  for (const k of keys) store.data.set(Buffer.from(dataKey(k)).toString('hex'), stateOf(`v-${k}`));
  for (const k of keysOf(6, 3)) store.data.set(Buffer.from(dataKey(k)).toString('hex'), stateOf('other partition'));

  function walk(keysMax: number, bytesMax: number): { chunks: number; got: string[]; sizes: number[] } {
    const settings = transferSettings(10, { chunkKeysMax: keysMax, chunkBytesMax: bytesMax });
    let after: Uint8Array | null = null;
    const got: string[] = [];
    const sizes: number[] = [];
    for (let chunks = 1; chunks < 100; chunks++) {
      const fx = new ReadyBuilder();
      servePull('s', ring, store, fx, settings, 'r', { type: 'xfer-pull', id: chunks, partition: 5, after, bytesMax: 1 << 20, keysMax: 1000 });
      const m = fx.take().messages[0]!.msg as TransferMessage;
      assert.equal(m.type, 'xfer-chunk');
      if (m.type !== 'xfer-chunk') throw new Error('no chunk');
      sizes.push(m.entries.length);
      for (const [k] of m.entries) got.push(Buffer.from(k.subarray(5)).toString());
      if (m.next === null) return { chunks, got, sizes };
      after = m.next;
    }
    throw new Error('the walk never ended');
  }

  it('a chunk holds at most the keys asked for (the node\'s bound wins over the pull\'s) and the walk sees each key once', () => {
    const { got, sizes } = walk(2, 1 << 20);
    assert.ok(sizes.every((n) => n <= 2), `sizes ${sizes.join(',')}`);
    assert.deepEqual([...got].sort(), [...keys].sort());
    assert.equal(new Set(got).size, got.length);
  });

  it('a byte bound below one entry still makes progress, one entry per chunk', () => {
    const { sizes, got } = walk(100, 1);
    assert.ok(sizes.slice(0, -1).every((n) => n === 1));
    assert.equal(got.length, keys.length);
  });

  it('a node that is not a replica of the partition refuses', () => {
    const fx = new ReadyBuilder();
    servePull('other', ring, store, fx, transferSettings(10), 'r', { type: 'xfer-pull', id: 1, partition: 5, after: null, bytesMax: 100, keysMax: 10 });
    assert.equal(fx.take().messages[0]!.msg.type, 'xfer-refuse');
  });

  it('the scan stays inside the partition\'s key range', () => {
    const { start, endExclusive } = partitionRange(5, 16);
    const { gte, lt } = dataRange(start, endExclusive);
    const page = store.scanPage({ gte, lt, countMax: 100, bytesMax: 1 << 20 });
    assert.equal(page.entries.length, keys.length);
  });
});

/** n0..n3 form the ring; n3 leaves (so others receive its partitions). */
function leaveCluster(opts: Partial<typeof FAST & { catchUpPass: boolean }> = {}): { c: MiniCluster; keys: string[] } {
  const c = new MiniCluster(['n0', 'n1', 'n2', 'n3'], ['n0', 'n1', 'n2', 'n3'], { ...FAST, ...opts });
  const keys = Array.from({ length: 40 }, (_, i) => `key-${i}`);
  for (const k of keys) c.put('n0', k, `v-${k}`);
  c.deliverAll();
  return { c, keys };
}

describe('partition transfer: a leave, end to end in the core', () => {
  it('every new replica receives its partitions, then every node flips to the identical document', () => {
    const { c, keys } = leaveCluster();
    const doc = c.commit('n1', ['n0', 'n1', 'n2']);
    c.deliverAll();
    c.tick(300);
    const docs = ['n0', 'n1', 'n2', 'n3'].map((id) => c.node(id).clusterMeta()!);
    assert.ok(docs.every((d) => d.transition === undefined), 'the change was applied everywhere');
    const bytes = docs.map((d) => Buffer.from(encodeClusterMeta(d)).toString('hex'));
    assert.ok(bytes.every((b) => b === bytes[0]), 'the flipped document is identical at every node');
    assert.deepEqual(docs[0]!.owners, doc.transition!.owners);
    // Every key is on each of its new replicas (read locally, no repair involved).
    const ring = ringOf(docs[0]!);
    for (const k of keys) {
      for (const id of ring.preferenceList(partitionOf(keyHash(utf8(k)), 16))) {
        assert.equal(c.node(id).localState(k).siblings.length, 1, `${k} at ${id}`);
      }
    }
    assert.ok(c.node('n0').stats().transfer.keysTotal + c.node('n1').stats().transfer.keysTotal + c.node('n2').stats().transfer.keysTotal > 0);
  });

  it('a write made during the transition is on the new replica before the flip (dual writes)', () => {
    const { c } = leaveCluster({ settleMs: 100_000 }); // no streaming at all: only the put path can bring it
    const doc = c.commit('n1', ['n0', 'n1', 'n2']);
    c.tick(10); // the document reaches every node
    assert.ok(['n0', 'n2', 'n3'].every((id) => c.node(id).clusterMeta()!.transition), 'every node knows the change');
    const view = viewOf(doc)!;
    let key = '';
    let target = '';
    for (let i = 0; !key; i++) {
      const p = partitionOf(keyHash(utf8(`dw${i}`)), 16);
      const added = newReplicas(view, p);
      const coord = view.current.preferenceList(p)[0]!;
      if (added.length > 0 && coord !== 'n3') {
        key = `dw${i}`;
        target = added[0]!;
        c.put(coord, key, 'during');
      }
    }
    c.deliverAll();
    assert.equal(c.node(target).localState(key).siblings.length, 1, 'the new replica holds the write');
    assert.ok(c.node('n1').clusterMeta()!.transition, 'still before the flip');
  });

  it('after a restart a receiver resumes from its persisted cursor, not from the start', () => {
    const { c } = leaveCluster({ chunkKeysMax: 1, catchUpPass: false });
    c.commit('n1', ['n0', 'n1', 'n2']);
    c.deliverAll();
    c.tick(8); // settle passes, a few chunks arrive
    const receiver = ['n0', 'n1', 'n2'].find((id) => c.node(id).transferProgress().partitions.some((p) => p.state === 'streaming'));
    assert.ok(receiver, 'some receiver is mid-partition');
    const before = c.node(receiver).transferProgress().partitions.filter((p) => p.state !== 'pending');
    c.restart(receiver);
    const after = c.node(receiver).transferProgress().partitions;
    for (const p of before) {
      const q = after.find((x) => x.partition === p.partition)!;
      assert.equal(q.keys, p.keys, `partition ${p.partition}: keys received survive the restart`);
      assert.notEqual(q.state, 'pending');
    }
    const pulls: Sent[] = [];
    c.tick(10, (m) => {
      if (m.from === receiver && m.msg.type === 'xfer-pull') pulls.push(m);
      return true;
    });
    const resumed = pulls.find((m) => m.msg.type === 'xfer-pull' && before.some((p) => p.state === 'streaming' && m.msg.type === 'xfer-pull' && p.partition === m.msg.partition));
    assert.ok(resumed && resumed.msg.type === 'xfer-pull' && resumed.msg.after !== null, 'the first pull after the restart carries the cursor');
    c.tick(300);
    assert.ok(c.node(receiver).clusterMeta()!.transition === undefined, 'and the change completes');
  });

  it('a catch-up pass follows the first pass a settle time later: a write the first pass missed arrives', () => {
    const { c } = leaveCluster({ settleMs: 200 });
    const doc = c.commit('n1', ['n0', 'n1', 'n2']);
    const view = viewOf(doc)!;
    // A key of a moving partition written only at an old replica (as a coordinator on the older
    // document would), after the first pass is over.
    let key = '';
    let receiver = '';
    let source = '';
    for (let i = 0; !key; i++) {
      const p = partitionOf(keyHash(utf8(`late${i}`)), 16);
      const added = newReplicas(view, p);
      if (added.length === 1) [key, receiver, source] = [`late${i}`, added[0]!, view.current.preferenceList(p).find((id) => !view.next.preferenceList(p).includes(id))!];
    }
    c.tick(30, (m) => m.msg.type !== 'xfer-doc' || m.to !== source); // first pass under way, the source still on the older document
    const firstPass = c.node(receiver).transferProgress().partitions.find((p) => p.partition === partitionOf(keyHash(utf8(key)), 16))!;
    assert.equal(firstPass.state, 'streaming', 'the first pass is over, the catch-up not yet');
    c.node(source).step('n0', { type: 'replica-put', id: 0, key, state: stateOf('late') });
    c.flush();
    assert.equal(c.node(receiver).localState(key).siblings.length, 0);
    c.tick(300);
    assert.ok(c.node(receiver).clusterMeta()!.transition === undefined);
    assert.equal(c.node(receiver).localState(key).siblings.length, 1, 'the catch-up pass brought it');
  });

  it('a source that goes silent is replaced by the next one', () => {
    const { c } = leaveCluster();
    c.commit('n1', ['n0', 'n1', 'n2']);
    c.deliverAll();
    // n3 (the leaving node, everyone's first choice) never answers a pull.
    c.tick(400, (m) => !(m.to === 'n3' && m.msg.type === 'xfer-pull'));
    assert.ok(['n0', 'n1', 'n2'].every((id) => c.node(id).clusterMeta()!.transition === undefined), 'the change completed from other sources');
    assert.ok(['n0', 'n1', 'n2'].some((id) => c.node(id).stats().transfer.sourceFailovers > 0));
  });
});

describe('partition transfer: done-marking and the flip', () => {
  it('concurrent markings: the losing one is proposed again until a winning document has it', () => {
    const { c } = leaveCluster({ settleMs: 10 });
    c.commit('n1', ['n0', 'n1', 'n2']);
    c.deliverAll();
    // No document crosses the network for a while: receivers mark on their own, concurrently.
    c.tick(150, (m) => m.msg.type !== 'xfer-doc' && m.msg.type !== 'ring-push' && !m.msg.type.startsWith('gossip-'));
    const versions = ['n0', 'n1', 'n2'].map((id) => c.node(id).clusterMeta()!.version);
    assert.ok(new Set(versions).size >= 1);
    const stillMoving = ['n0', 'n1', 'n2'].some((id) => c.node(id).clusterMeta()!.transition);
    assert.ok(stillMoving, 'no node could finish alone');
    c.tick(300);
    const docs = ['n0', 'n1', 'n2', 'n3'].map((id) => c.node(id).clusterMeta()!);
    assert.ok(docs.every((d) => !d.transition), 'every marking made it in and the change was applied');
  });

  it('a partition is done only once all of its new replicas have it', () => {
    const { c } = leaveCluster();
    const doc = c.commit('n1', ['n0', 'n1', 'n2']);
    const view = viewOf(doc)!;
    const p = Array.from({ length: 16 }, (_, i) => i).find((i) => newReplicas(view, i).length > 0)!;
    const [first, ...rest] = newReplicas(view, p);
    const once = markedTransition(view, first!, [p])!;
    if (rest.length > 0) assert.ok(!once.done.includes(p) && once.streamed!.includes(`${p}:${first}`));
    else assert.ok(once.done.includes(p));
    let t = once;
    for (const id of rest) t = markedTransition(viewOf({ ...doc, transition: t })!, id, [p])!;
    assert.ok(t.done.includes(p));
    assert.ok(!(t.streamed ?? []).some((e) => e.startsWith(`${p}:`)), 'its entries leave once done');
    assert.equal(markedTransition(viewOf({ ...doc, transition: t })!, first!, [p]), undefined, 'nothing new: nothing to propose');
  });

  it('sources: the node leaving the list first, then the owner, then the others; removed and dead nodes never', () => {
    const { c } = leaveCluster();
    const doc = c.commit('n1', ['n0', 'n1', 'n2'], ['n3']);
    const view = viewOf(doc)!;
    const p = Array.from({ length: 16 }, (_, i) => i).find((i) => newReplicas(view, i).length > 0 && view.current.preferenceList(i).includes('n3'))!;
    const receiver = newReplicas(view, p)[0]!;
    const all = sourcesFor(view, p, receiver, () => true);
    assert.ok(!all.includes('n3'), 'a removed node is never a source');
    assert.ok(!all.includes(receiver));
    const leaving = viewOf({ ...doc, transition: { ...doc.transition!, removed: [] } })!;
    const ranked = sourcesFor(leaving, p, receiver, () => true);
    assert.equal(ranked[0], 'n3', 'the node leaving the list comes first');
    const owner = leaving.current.owners[p]!;
    if (owner !== 'n3' && owner !== receiver) assert.equal(ranked[1], owner, 'then the owner');
    assert.deepEqual(sourcesFor(leaving, p, receiver, (id) => id !== 'n3')[0], ranked[1], 'a dead node is skipped');
  });

  it('the flipped document is the same whoever makes it', () => {
    const { c } = leaveCluster();
    const doc = c.commit('n1', ['n0', 'n1', 'n2']);
    const a = { ...flipped({ ...doc }), version: doc.version + 1 };
    const b = { ...flipped(JSON.parse(JSON.stringify(doc)) as typeof doc), version: doc.version + 1 };
    assert.deepEqual(encodeClusterMeta(a), encodeClusterMeta(b));
    assert.equal(a.transition, undefined);
    assert.deepEqual(a.owners, doc.transition!.owners);
  });

  it('a node that left takes no replica writes', () => {
    const { c } = leaveCluster();
    c.commit('n1', ['n0', 'n1', 'n2']);
    c.deliverAll();
    c.tick(300);
    const before = c.node('n3').localState('late-key');
    c.node('n3').step('n0', { type: 'replica-put', id: 7, key: 'late-key', state: stateOf('late') });
    c.flush();
    assert.ok(statesEqual(c.node('n3').localState('late-key'), before));
    assert.equal(c.node('n3').transferProgress().role, 'left');
  });
});

/** The keys `node`'s engine holds in the data keyspace. */
function storedKeys(c: MiniCluster, id: string): string[] {
  const { gte, lt } = dataRange(0, 2 ** 32);
  return c.stores.get(id)!.scanPage({ gte, lt, countMax: 1_000_000, bytesMax: Number.MAX_SAFE_INTEGER }).entries
    .map(([k]) => Buffer.from(k.subarray(5)).toString('utf8'));
}

describe('partition transfer: partitions given away are dropped', () => {
  it('after a leave and the quiet time, each key is stored exactly at its replicas; the node that left holds nothing', () => {
    const { c, keys } = leaveCluster({ sweepQuietMs: 5_000 } as Partial<typeof FAST>);
    c.commit('n1', ['n0', 'n1', 'n2']);
    c.deliverAll();
    c.tick(300);
    assert.ok(c.node('n0').clusterMeta()!.transition === undefined, 'flipped');
    assert.ok(storedKeys(c, 'n3').length > 0, 'the node that left still holds its copies during the quiet time');
    c.tick(600);
    assert.deepEqual(storedKeys(c, 'n3'), [], 'the node that left dropped every copy');
    const ring = ringOf(c.node('n0').clusterMeta()!);
    for (const k of keys) {
      const replicas = [...ring.preferenceList(partitionOf(keyHash(utf8(k)), 16))].sort();
      const holders = ['n0', 'n1', 'n2', 'n3'].filter((id) => storedKeys(c, id).includes(k));
      assert.deepEqual(holders, replicas, `${k} is stored at its replicas only`);
      for (const id of replicas) assert.equal(c.node(id).localState(k).siblings.length, 1, `${k} readable at ${id}`);
    }
    assert.ok(c.node('n3').stats().transfer.keysDroppedTotal > 0);
  });

  it('after a join, the nodes that gave partitions to the newcomer drop them; nothing is dropped while a change is under way', () => {
    const c = new MiniCluster(['n0', 'n1', 'n2', 'n3'], ['n0', 'n1', 'n2'], { ...FAST, sweepQuietMs: 500 });
    const keys = Array.from({ length: 60 }, (_, i) => `key-${i}`);
    for (const k of keys) c.put('n0', k, `v-${k}`);
    c.deliverAll();
    c.tick(100); // longer than the quiet time: a pass over the first ring drops nothing (all of it is theirs)
    assert.equal(keys.filter((k) => storedKeys(c, 'n0').includes(k)).length, keys.length);
    c.commit('n0', ['n0', 'n1', 'n2', 'n3']);
    c.deliverAll();
    c.tick(300);
    assert.ok(['n0', 'n1', 'n2', 'n3'].every((id) => c.node(id).clusterMeta()!.transition === undefined), 'flipped everywhere');
    c.tick(100);
    const ring = ringOf(c.node('n0').clusterMeta()!);
    for (const k of keys) {
      const replicas = [...ring.preferenceList(partitionOf(keyHash(utf8(k)), 16))].sort();
      const holders = ['n0', 'n1', 'n2', 'n3'].filter((id) => storedKeys(c, id).includes(k));
      assert.deepEqual(holders, replicas, `${k} is stored at its replicas only`);
    }
    assert.ok(storedKeys(c, 'n3').length > 0 && storedKeys(c, 'n0').length < keys.length);
  });
});
