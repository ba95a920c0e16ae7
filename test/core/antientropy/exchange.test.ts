import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { Harness } from '../harness.js';
import type { InFlight } from '../harness.js';
import { encodeState, isDeleted } from '../../../src/core/clock/state.js';
import { preferenceList } from '../../../src/core/ring/index.js';
import { DATA_PREFIX } from '../../../src/core/keys.js';

const te = new TextEncoder();
const IDS = ['a', 'b', 'c'];
const isAe = (m: InFlight): boolean => m.msg.type.startsWith('ae-');
const isReplicaPut = (m: InFlight): boolean => m.msg.type === 'replica-put';

function put(h: Harness, at: string, key: string, value: string | null): void {
  h.request(`${at}:${key}`, at, { op: 'put', key, value: value === null ? null : te.encode(value), w: 1 });
}

/** Runs node `id`'s repair to its end, delivering every message. */
function repair(h: Harness, id: string, partition?: number): ReturnType<Harness['node']>['antiEntropy']['progress'] extends () => infer R ? R : never {
  h.node(id).antiEntropy.repair(partition);
  for (let i = 0; i < 200 && h.node(id).antiEntropy.progress().running; i++) {
    h.tick();
    h.settle();
  }
  const p = h.node(id).antiEntropy.progress();
  assert.equal(p.running, false, 'the repair finished');
  return p;
}

function assertConverged(h: Harness, keys: readonly string[]): void {
  const ring = h.node('a').currentRing;
  for (let p = 0; p < ring.partitionCount; p++) {
    const roots = preferenceList(ring, p).map((id) => h.node(id).antiEntropy.root(p));
    assert.equal(new Set(roots).size, 1, `partition ${p}: roots ${roots.join(',')}`);
  }
  for (const k of keys) {
    const states = IDS.map((id) => Buffer.from(encodeState(h.node(id).localState(k))).toString('hex'));
    assert.equal(new Set(states).size, 1, `key ${k} differs across replicas`);
  }
}

describe('anti-entropy exchanges (core harness, N=3 of 3)', () => {
  it('identical replicas: an exchange compares roots only and repairs nothing', () => {
    const h = new Harness(IDS);
    for (let i = 0; i < 20; i++) put(h, 'a', `k${i}`, `v${i}`);
    h.settle((m) => !isAe(m));
    h.node('a').antiEntropy.repair();
    h.tick();
    const sent = h.inflight.filter(isAe).map((m) => m.msg.type);
    assert.ok(sent.length > 0);
    assert.ok(sent.every((t) => t === 'ae-hashes'), `only root requests: ${sent.join(',')}`);
    const p = repair(h, 'a');
    assert.equal(p.failed, 0);
    assert.equal(p.keysRepaired, 0);
    assert.equal(h.node('a').stats().antiEntropy.keysRepaired, 0);
  });

  it('writes each replica missed (every key different at some replica) converge after one repair', () => {
    const h = new Harness(IDS);
    const keys = Array.from({ length: 60 }, (_, i) => `key-${i}`);
    // Each write reaches its coordinator only: the replicas diverge on every key.
    keys.forEach((k, i) => put(h, IDS[i % 3]!, k, `v-${k}`));
    h.drop(isReplicaPut);
    h.settle((m) => !isAe(m));
    const p = repair(h, 'a');
    assert.equal(p.failed, 0);
    assert.ok(p.keysRepaired > 0);
    // a repaired with b and c; b and c still differ on keys neither coordinated... repair them too.
    repair(h, 'b');
    assertConverged(h, keys);
    for (const k of keys) assert.equal(h.node('c').localState(k).siblings.length, 1);
  });

  it('concurrent versions on two replicas both survive as siblings', () => {
    const h = new Harness(IDS);
    put(h, 'a', 'k', 'from-a');
    put(h, 'b', 'k', 'from-b');
    h.drop(isReplicaPut);
    h.settle((m) => !isAe(m));
    repair(h, 'a');
    repair(h, 'b');
    assertConverged(h, ['k']);
    const values = h.node('c').localState('k').siblings.map((v) => new TextDecoder().decode(v.value!)).sort();
    assert.deepEqual(values, ['from-a', 'from-b']);
  });

  it('a wiped replica gets every key back, and a delete is not undone by a replica that missed it', () => {
    const h = new Harness(IDS);
    const keys = Array.from({ length: 40 }, (_, i) => `key-${i}`);
    for (const k of keys) put(h, 'a', k, `v-${k}`);
    h.settle((m) => !isAe(m));
    // c misses the delete of key-0 (its replica-put is dropped), then b is wiped.
    h.request('del', 'a', { op: 'put', key: 'key-0', value: null, context: h.node('a').localState('key-0').context, w: 1 });
    h.drop((m) => isReplicaPut(m) && m.to === 'c');
    h.settle((m) => !isAe(m));
    h.restart('b', 7, { lostWrites: true, actorId: 'b~7' });
    assert.equal(h.node('b').localState('key-5').siblings.length, 0);
    repair(h, 'b');
    repair(h, 'c');
    assertConverged(h, keys);
    for (const id of IDS) assert.ok(isDeleted(h.node(id).localState('key-0')), `${id}: key-0 stays deleted`);
    for (const k of keys.slice(1)) assert.equal(h.node('b').localState(k).siblings.length, 1);
  });

  it('a repair of one partition only touches that partition', () => {
    const h = new Harness(IDS);
    const keys = Array.from({ length: 40 }, (_, i) => `key-${i}`);
    for (const k of keys) put(h, 'a', k, `v-${k}`);
    h.drop(isReplicaPut);
    h.settle((m) => !isAe(m));
    const ring = h.node('a').currentRing;
    const p = repair(h, 'a', 3);
    assert.equal(p.total, 2);
    for (let q = 0; q < ring.partitionCount; q++) {
      const same = h.node('a').antiEntropy.root(q) === h.node('b').antiEntropy.root(q);
      if (q === 3) assert.ok(same);
      else if (h.node('a').antiEntropy.root(q) !== 0) assert.ok(!same, `partition ${q} was left alone`);
    }
  });

  it("a repair's exchanges run back to back: the next starts when one ends, not at the next tick", () => {
    const h = new Harness(IDS);
    const keys = Array.from({ length: 60 }, (_, i) => `key-${i}`);
    keys.forEach((k, i) => put(h, IDS[i % 3]!, k, `v-${k}`));
    h.drop(isReplicaPut);
    h.settle((m) => !isAe(m));
    const a = h.node('a').antiEntropy;
    a.repair();
    h.tick();
    // Deliver until quiet, with no further tick (settle is bounded to 50 rounds a call).
    while (h.inflight.length > 0) h.settle();
    // 16 partitions × 2 fellows = 32 exchanges, at most 2 at once: one tick ran them all.
    const p = a.progress();
    assert.equal(p.total, 32);
    assert.equal(p.running, false, `done ${p.done} of ${p.total} after one tick`);
    assert.equal(p.done, 32);
    assert.ok(p.keysRepaired > 0);
    assert.ok(h.node('a').stats().antiEntropy.exchanges === 32);
  });

  it('back-to-back exchanges still obey the byte budget', () => {
    const slow = { antiEntropy: { bytesPerSecondMax: 2000, bytesPerSecondMin: 2000 } };
    const h = new Harness(IDS, slow);
    for (let i = 0; i < 30; i++) put(h, 'a', `key-${i}`, `v${i}`);
    h.settle((m) => !isAe(m));
    const a = h.node('a').antiEntropy;
    a.repair();
    h.tick();
    while (h.inflight.length > 0) h.settle();
    // 20 bytes of budget per tick: the first exchange overdraws it, the rest wait for refills.
    const first = a.progress().done;
    assert.ok(first < 32, `only part of the repair ran in the first tick: ${first}`);
    const p = repair(h, 'a');
    assert.equal(p.done, 32);
  });

  it('a wiped replica pulls its keys without reading its store for the keys it lacks', () => {
    const h = new Harness(IDS);
    const keys = Array.from({ length: 40 }, (_, i) => `key-${i}`);
    for (const k of keys) put(h, 'a', k, `v-${k}`);
    h.settle((m) => !isAe(m));
    h.restart('b', 7, { lostWrites: true, actorId: 'b~7' });
    const store = h.stores.get('b')!;
    const get = store.get.bind(store);
    let dataReads = 0;
    store.get = (key: Uint8Array): Uint8Array | undefined => {
      if (key[0] === DATA_PREFIX) dataReads++;
      return get(key);
    };
    repair(h, 'b');
    store.get = get;
    assertConverged(h, keys);
    // Each pulled key is read once, when merged; none to learn that b lacks it.
    assert.ok(dataReads <= keys.length, `${dataReads} reads of key data for ${keys.length} keys`);
  });

  it('a peer that is rebuilding answers busy and the exchange counts as failed', () => {
    const h = new Harness(IDS);
    put(h, 'a', 'k', 'v');
    h.settle((m) => !isAe(m));
    h.node('b').antiEntropy.beginLoad();
    h.node('c').antiEntropy.beginLoad();
    const p = repair(h, 'a');
    assert.equal(p.failed, p.total);
    assert.equal(encodeState(h.node('a').localState('k')).length > 0, true);
  });
});

describe('periodic anti-entropy', () => {
  it('with no repair asked for, jittered periodic exchanges alone bring diverged replicas together', () => {
    const h = new Harness(IDS, { antiEntropy: { intervalTicks: 5 } });
    const keys = Array.from({ length: 30 }, (_, i) => `key-${i}`);
    keys.forEach((k, i) => put(h, IDS[i % 3]!, k, `v-${k}`));
    h.drop(isReplicaPut);
    h.settle((m) => !isAe(m));
    // 16 partitions × 2 fellows each, one exchange per node every ~5 ticks: a few hundred ticks.
    for (let i = 0; i < 600; i++) {
      h.tick();
      h.settle();
    }
    assertConverged(h, keys);
    const ex = IDS.map((id) => h.node(id).stats().antiEntropy.exchanges);
    assert.ok(ex.every((n) => n > 10), `every node drove exchanges: ${ex.join(',')}`);
  });

  it('a node whose event loop lags halves its rate, and recovers', () => {
    const h = new Harness(IDS);
    const a = h.node('a').antiEntropy;
    const max = h.node('a').stats().antiEntropy.bytesPerSecond;
    a.noteLag(200);
    a.noteLag(200);
    assert.equal(h.node('a').stats().antiEntropy.bytesPerSecond, Math.round(max / 4));
    for (let i = 0; i < 10_000; i++) a.noteLag(0);
    assert.equal(h.node('a').stats().antiEntropy.bytesPerSecond, max);
  });
});
