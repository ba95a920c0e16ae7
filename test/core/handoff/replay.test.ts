/**
 * Scripted scenarios of the core alone (test/core/harness.ts decides every delivery): passing
 * a silent replica over to a stand-in, replay with an AIMD window, idempotent re-delivery,
 * and reads with repair=blocking.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Harness } from '../harness.js';
import type { InFlight } from '../harness.js';
import { preferenceListForKey } from '../../../src/core/ring/index.js';
import { utf8 } from '../../../src/core/bytes.js';
import { encodeState, statesEqual } from '../../../src/core/clock/state.js';
import { HANDOFF_LIMITS } from '../../../src/core/handoff/index.js';

const IDS = ['n0', 'n1', 'n2', 'n3', 'n4'];

function cluster(): { h: Harness; down: Set<string> } {
  const down = new Set<string>();
  const h = new Harness(IDS, { detector: { isAlive: (id) => !down.has(id) } });
  return { h, down };
}
const ownersOf = (h: Harness, key: string): readonly string[] => preferenceListForKey(h.node('n0').currentRing, utf8(key));
const to = (id: string) => (m: InFlight): boolean => m.to === id;
const ofType = (t: string) => (m: InFlight): boolean => m.msg.type === t;

describe('sloppy quorum in the core', () => {
  it('a replica that stays silent is passed over for a stand-in, which keeps a hint and counts toward W', () => {
    const { h } = cluster();
    const [a, b, c] = ownersOf(h, 'k');
    h.request('put', a!, { op: 'put', key: 'k', value: utf8('v'), w: 2 });
    h.drop((m) => m.to === b || m.to === c); // both stay silent (SIGSTOP)
    assert.equal(h.replies.get('put'), undefined);
    h.tick(3);
    const hinted = h.inflight.filter((m) => m.msg.type === 'replica-put' && 'hintFor' in m.msg);
    assert.deepEqual(hinted.map((m) => m.msg.type === 'replica-put' && m.msg.hintFor).sort(), [b, c].sort());
    assert.ok(hinted.every((m) => !ownersOf(h, 'k').includes(m.to)), 'stand-ins are not replicas');
    h.settle();
    const reply = h.replies.get('put');
    assert.ok(reply?.ok, JSON.stringify(reply));
    const held = hinted.map((m) => h.node(m.to).stats().hints.pendingTotal);
    assert.deepEqual(held, [1, 1]);
  });

  it('replicas known to be down are skipped at once; strict quorum answers insufficient_replicas at once', () => {
    const { h, down } = cluster();
    const [a, b, c] = ownersOf(h, 'k');
    down.add(b!);
    down.add(c!);
    h.request('strict', a!, { op: 'put', key: 'k', value: utf8('v'), w: 2, quorum: 'strict' });
    const strict = h.replies.get('strict');
    assert.ok(strict && !strict.ok && strict.error === 'insufficient_replicas');
    assert.equal(h.node(a!).localState('k').siblings.length, 0, 'a refused strict write changes nothing');
    h.request('sloppy', a!, { op: 'put', key: 'k', value: utf8('v'), w: 3 });
    assert.ok(h.inflight.every((m) => m.to !== b && m.to !== c), 'nothing is sent to known-dead replicas');
    h.settle();
    assert.ok(h.replies.get('sloppy')?.ok);
    h.request('read', a!, { op: 'get', key: 'k', r: 2 });
    const read = h.replies.get('read');
    assert.ok(read && !read.ok && read.error === 'insufficient_replicas', 'a read that cannot reach R answers at once');
  });
});

describe('handoff replay', () => {
  it('replays in order, in batches, with a window that opens on acknowledgements and halves on timeouts', () => {
    const { h, down } = cluster();
    const [a, b, c] = ownersOf(h, 'k0');
    down.add(b!);
    const standIn = IDS.find((id) => !ownersOf(h, 'k0').includes(id))!;
    // The stand-in accepts enough hinted writes for b to fill 2 + 4 + 8 + 16 batches and more
    // (id 0: no acknowledgement needed here).
    const count = HANDOFF_LIMITS.deliveryBatchHintsMax * 40;
    for (let i = 0; i < count; i++) {
      h.request(`p${i}`, a!, { op: 'put', key: `k${i}`, value: utf8(`v${i}`), w: 1 });
      h.drop(() => true);
      h.node(standIn).step(a!, { type: 'replica-put', id: 0, key: `k${i}`, state: encodeState(h.node(a!).localState(`k${i}`)), hintFor: b! });
    }
    h.flush();
    assert.equal(h.node(standIn).stats().hints.pending[b!], count);
    // Count the stand-in's reads of its hint keyspace: replay reads pages, never hint by hint.
    const disk = h.stores.get(standIn)!;
    const reads = { pages: 0, points: 0 };
    const scanPage = disk.scanPage.bind(disk);
    const get = disk.get.bind(disk);
    disk.scanPage = (o) => {
      if (o.gte?.[0] === 0x02) reads.pages++;
      return scanPage(o);
    };
    disk.get = (k) => {
      if (k[0] === 0x02) reads.points++;
      return get(k);
    };
    down.delete(b!);
    h.tick();
    const rounds: number[] = [];
    const order: string[] = [];
    for (let r = 0; r < 4; r++) {
      const batches = h.inflight.filter((m) => m.msg.type === 'hint-deliver' && m.to === b);
      rounds.push(batches.length);
      for (const m of batches) if (m.msg.type === 'hint-deliver') order.push(...m.msg.hints.map((x) => x.key));
      if (r === 3) break;
      h.deliver((m) => m.to === b && m.msg.type === 'hint-deliver');
      h.deliver((m) => m.to === standIn && m.msg.type === 'hint-ack');
    }
    assert.deepEqual(rounds, [2, 4, 8, 16], 'slow start doubles the window every round trip');
    assert.deepEqual(order, Array.from({ length: order.length }, (_, i) => `k${i}`), 'in the order the hints were accepted');
    h.drop((m) => m.msg.type === 'hint-deliver');
    h.tick(101); // every batch in flight times out
    const after = h.inflight.filter((m) => m.msg.type === 'hint-deliver' && m.to === b).length;
    assert.equal(after, 8, 'the window halves after timeouts');
    for (let i = 0; i < 100 && h.node(standIn).stats().hints.pending[b!] !== undefined; i++) {
      h.settle((m) => m.to === b || m.to === standIn);
      h.tick();
    }
    const stats = h.node(standIn).stats().hints;
    assert.equal(stats.pending[b!], undefined, JSON.stringify(stats));
    assert.equal(stats.delivered, count, 'each hint deleted once, after its acknowledgement');
    assert.equal(reads.points, 0, 'no point reads of hints');
    // A page per 1024 hints, plus the pages read again after the timeouts (40 batches: 40 pages
    // if each batch read its own).
    const pagesMax = Math.ceil(count / HANDOFF_LIMITS.deliveryReadPageHintsMax) + 12;
    assert.ok(reads.pages >= Math.ceil(count / HANDOFF_LIMITS.deliveryReadPageHintsMax) && reads.pages <= pagesMax, `${reads.pages} pages read`);
    for (const i of [0, count >> 1, count - 1]) {
      assert.ok(statesEqual(h.node(b!).localState(`k${i}`), h.node(a!).localState(`k${i}`)), `b holds k${i}`);
    }
    void c;
  });

  it('a delivery repeated after a lost acknowledgement changes nothing', () => {
    const { h, down } = cluster();
    const [a, b, c] = ownersOf(h, 'k');
    down.add(b!);
    down.add(c!);
    h.request('put', a!, { op: 'put', key: 'k', value: utf8('v'), w: 1 });
    h.settle();
    down.delete(b!);
    h.tick();
    const deliveries = h.inflight.filter((m) => m.to === b && m.msg.type === 'hint-deliver');
    assert.equal(deliveries.length, 1);
    assert.ok(deliveries[0]!.msg.type === 'hint-deliver' && deliveries[0]!.msg.hints.length === 1);
    h.deliver(to(b!));
    const once = encodeState(h.node(b!).localState('k'));
    h.drop(ofType('hint-ack'));
    h.tick(101);
    assert.equal(h.inflight.filter((m) => m.to === b && m.msg.type === 'hint-deliver').length, 1, 'redelivered after the timeout');
    h.settle();
    assert.deepEqual(encodeState(h.node(b!).localState('k')), once);
    assert.equal(h.node(IDS.find((id) => h.node(id).stats().hints.delivered > 0)!).stats().hints.pending[b!], undefined);
  });
});

describe('read repair', () => {
  it('repair=blocking answers only after the stale replicas acknowledge the repair', () => {
    const { h } = cluster();
    const [a, b, c] = ownersOf(h, 'k');
    h.request('put', a!, { op: 'put', key: 'k', value: utf8('v'), w: 1 });
    h.drop((m) => m.to === c); // c misses the write
    h.settle();
    h.request('get', a!, { op: 'get', key: 'k', r: 2, repair: 'blocking' });
    h.deliver((m) => m.msg.type === 'replica-get' && m.to === b);
    h.deliver((m) => m.msg.type === 'replica-get-reply');
    assert.equal(h.replies.get('get'), undefined, 'R is met but the read waits for every replica');
    h.deliver((m) => m.msg.type === 'replica-get' && m.to === c);
    h.deliver((m) => m.msg.type === 'replica-get-reply');
    assert.equal(h.replies.get('get'), undefined, 'the repair is not acknowledged yet');
    assert.ok(h.inflight.some((m) => m.to === c && m.msg.type === 'replica-put'));
    h.settle();
    const reply = h.replies.get('get');
    assert.ok(reply?.ok && reply.op === 'get' && reply.siblings.length === 1);
    assert.ok(statesEqual(h.node(c!).localState('k'), h.node(a!).localState('k')));
    assert.equal(h.node(a!).stats().readRepairs, 1);
  });

  it('by default a read answers at R and repairs afterwards', () => {
    const { h } = cluster();
    const [a, b] = ownersOf(h, 'k');
    h.request('put', a!, { op: 'put', key: 'k', value: utf8('v'), w: 1 });
    h.drop((m) => m.to === b); // b, the replica an R=2 read at a asks, misses the write
    h.settle();
    h.request('get', a!, { op: 'get', key: 'k', r: 2 });
    h.deliver((m) => m.msg.type === 'replica-get' && m.to === b);
    h.deliver((m) => m.msg.type === 'replica-get-reply');
    assert.ok(h.replies.get('get')?.ok, 'answered at R, before any repair is acknowledged');
    h.settle();
    assert.ok(statesEqual(h.node(b!).localState('k'), h.node(a!).localState('k')));
    assert.equal(h.node(a!).stats().readRepairs, 1);
  });
});
