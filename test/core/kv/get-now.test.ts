/**
 * `Node.getNow`: a read answered outside the Ready pipeline. It must answer exactly what the
 * usual path answers, and only where nothing can tell the two apart: the node is the key's only
 * replica, the level is met by it, and the key's state is durable.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Node } from '../../../src/core/node.js';
import type { ClientReply, GetOp, Ready } from '../../../src/core/types.js';
import { createRing, preferenceListForKey } from '../../../src/core/ring/index.js';
import { MapStore } from '../harness.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array | null): string | null => (b === null ? null : new TextDecoder().decode(b));

function cluster(ids: string[], n: number): { nodes: Map<string, Node>; stores: Map<string, MapStore>; ring: ReturnType<typeof createRing> } {
  const ring = createRing(ids.map((nodeId, i) => ({ nodeId, dc: 'dc1', rack: `r${i}`, weight: 1 })), { partitionCount: 16, n });
  const nodes = new Map<string, Node>();
  const stores = new Map<string, MapStore>();
  for (const id of ids) {
    const store = new MapStore();
    stores.set(id, store);
    nodes.set(id, new Node({ nodeId: id, ring, n, tickMs: 10, requestTimeoutMs: 100, defaultR: 'quorum', defaultW: 'quorum' }, store));
  }
  return { nodes, stores, ring };
}

/** Takes every Ready, persists it, releases it; returns the replies by request id. */
function drain(node: Node, store: MapStore, persist = true): { replies: Map<number, ClientReply>; held: Ready[] } {
  const replies = new Map<number, ClientReply>();
  const held: Ready[] = [];
  while (node.hasReady()) {
    const rd = node.ready();
    if (!persist) {
      held.push(rd);
      continue;
    }
    store.apply(rd);
    for (const r of rd.replies) replies.set(r.reqId, r.reply);
    node.advance(rd);
  }
  return { replies, held };
}

function values(r: ClientReply | undefined): (string | null)[] {
  assert.ok(r?.ok && r.op === 'get', `expected a get result, got ${JSON.stringify(r)}`);
  return r.siblings.map((v) => dec(v.value)).sort();
}

describe('Node.getNow (a read answered outside the Ready pipeline)', () => {
  it('answers what the usual path answers on a one-replica key: value, siblings, context, absence', () => {
    const { nodes, stores } = cluster(['a'], 1);
    const a = nodes.get('a')!;
    const store = stores.get('a')!;
    a.request(1, { op: 'put', key: 'k', value: enc('v1'), w: 1 });
    const first = drain(a, store).replies.get(1);
    assert.ok(first?.ok && first.op === 'put');
    // A second put without the first's context: two siblings.
    a.request(2, { op: 'put', key: 'k', value: enc('v2'), w: 1 });
    drain(a, store);
    for (const key of ['k', 'absent']) {
      const op: GetOp = { op: 'get', key };
      const now = a.getNow(op);
      a.request(3, op);
      const usual = drain(a, store).replies.get(3);
      assert.deepEqual(now, usual, `getNow and the usual path differ for ${key}`);
    }
    assert.deepEqual(values(a.getNow({ op: 'get', key: 'k' })), ['v1', 'v2']);
    assert.deepEqual(values(a.getNow({ op: 'get', key: 'absent' })), []);
  });

  it('does not answer while a write of the key waits to be durable, and answers it once it is', () => {
    const { nodes, stores } = cluster(['a'], 1);
    const a = nodes.get('a')!;
    const store = stores.get('a')!;
    a.request(1, { op: 'put', key: 'k', value: enc('old'), w: 1 });
    drain(a, store);
    a.request(2, { op: 'put', key: 'k', value: enc('new'), w: 1 });
    const { held } = drain(a, store, false);
    assert.equal(held.length, 1);
    // The overlay has "new", the store "old": neither may be answered outside the pipeline
    // ("new" could still be lost by a crash; "old" would go back on what this node already read).
    assert.equal(a.getNow({ op: 'get', key: 'k' }), undefined);
    // Another key is not held back by it.
    assert.deepEqual(values(a.getNow({ op: 'get', key: 'other' })), []);
    store.apply(held[0]!);
    a.advance(held[0]!);
    assert.deepEqual(values(a.getNow({ op: 'get', key: 'k' })), ['new', 'old'], 'no context: siblings');
  });

  it('leaves to the usual path every key with another replica, or that another node holds', () => {
    const three = cluster(['a', 'b', 'c'], 3);
    assert.equal(three.nodes.get('a')!.getNow({ op: 'get', key: 'k' }), undefined, 'N=3: the read asks the other replicas');
    const single = cluster(['a', 'b', 'c'], 1);
    let mine = 0;
    let theirs = 0;
    for (let i = 0; i < 40; i++) {
      const key = `key-${i}`;
      const owner = preferenceListForKey(single.ring, enc(key))[0]!;
      for (const [id, node] of single.nodes) {
        const now = node.getNow({ op: 'get', key });
        if (id === owner) {
          assert.ok(now?.ok, `${id} owns ${key}`);
          mine++;
        } else {
          assert.equal(now, undefined, `${id} does not hold ${key}`);
          theirs++;
        }
      }
    }
    assert.ok(mine === 40 && theirs === 80);
  });

  it('answers every level one replica meets, and leaves one it cannot meet to the usual path (which refuses it)', () => {
    const { nodes, stores } = cluster(['a'], 1);
    const a = nodes.get('a')!;
    for (const r of ['one', 'quorum', 'all', 'local_one', 'local_quorum', 'each_quorum', 1] as const) {
      assert.equal(a.getNow({ op: 'get', key: 'k', r })?.ok, true, `r=${r} is met by the only replica`);
    }
    const op: GetOp = { op: 'get', key: 'k', r: 2 };
    assert.equal(a.getNow(op), undefined);
    a.request(1, op);
    const usual = drain(a, stores.get('a')!).replies.get(1);
    assert.equal(usual?.ok, false);
  });

  it('newestNow answers what a Redis GET picks from getNow\'s siblings: newest by time, the later on a tie, null for a tombstone', () => {
    const { nodes, stores } = cluster(['a'], 1);
    const a = nodes.get('a')!;
    const store = stores.get('a')!;
    let id = 1;
    const put = (key: string, value: string | null, tsMs: number, withContext = false): void => {
      a.setTime(tsMs);
      const ctx = withContext ? a.getNow({ op: 'get', key }) : undefined;
      const context = ctx?.ok && ctx.op === 'get' ? ctx.context : undefined;
      a.request(id++, { op: 'put', key, value: value === null ? null : enc(value), w: 1, ...(context ? { context } : {}) });
      drain(a, store);
    };
    put('one', 'v', 1000);
    put('siblings', 'older', 1000);
    put('siblings', 'newer', 2000);
    put('siblings', 'oldest', 500);
    put('tie', 'first', 3000);
    put('tie', 'second', 3000);
    put('deleted', 'v', 1000);
    put('deleted', null, 2000, true);
    put('tomb-older', 'live', 5000);
    put('tomb-older', null, 4000);
    const picked = (key: string): string | null | undefined => {
      const r = a.getNow({ op: 'get', key });
      assert.ok(r?.ok && r.op === 'get');
      let best: (typeof r.siblings)[number] | undefined;
      for (const v of r.siblings) if (best === undefined || v.tsMs >= best.tsMs) best = v;
      return dec(best?.value ?? null);
    };
    for (const key of ['one', 'siblings', 'tie', 'deleted', 'tomb-older', 'absent']) {
      const now = a.newestNow(key);
      assert.notEqual(now, undefined, key);
      assert.equal(dec(now ?? null), picked(key), key);
    }
    assert.equal(dec(a.newestNow('siblings') ?? null), 'newer');
    assert.equal(a.newestNow('deleted'), null);
    assert.equal(dec(a.newestNow('tomb-older') ?? null), 'live');
  });

  it('has nothing to answer before the node has a ring', () => {
    const store = new MapStore();
    const node = new Node({
      nodeId: 'a', tickMs: 10, requestTimeoutMs: 100, defaultR: 'quorum', defaultW: 'quorum',
      bootstrap: { self: { nodeId: 'a', address: '127.0.0.1:1', dc: 'dc1', rack: 'r1', weight: 1 }, seeds: ['127.0.0.1:2'], partitions: 16, n: 1 },
    }, store);
    assert.equal(node.hasRing(), false);
    assert.equal(node.getNow({ op: 'get', key: 'k' }), undefined);
  });
});
