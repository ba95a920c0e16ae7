/** The node decides its ring (loads it, or forms the first one) and writes it through the Ready. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Node } from '../../../src/core/node.js';
import type { NodeConfig } from '../../../src/core/node.js';
import { CLUSTER_META_KEY, MetadataError, encodeClusterMeta } from '../../../src/core/membership/index.js';
import { firstClusterMeta } from '../../../src/core/membership/meta.js';
import { keyspaceOf } from '../../../src/core/keys.js';
import { MapStore } from '../harness.js';

const member = (i: number) => ({ nodeId: `n${i}`, address: `h${i}:7000`, dc: 'dc1', rack: `r${i}`, weight: 1 });
const seeds = [0, 1, 2].map((i) => member(i).address);

function config(self: number, over: Partial<NodeConfig> = {}): NodeConfig {
  return {
    nodeId: `n${self}`, tickMs: 10, requestTimeoutMs: 100, defaultR: 'quorum', defaultW: 'quorum',
    bootstrap: { self: member(self), seeds, partitions: 16, n: 3 }, ...over,
  };
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Seed i answers the node's gossip: its entry, fresh (no document). */
function answer(node: Node, i: number): void {
  const m = member(i);
  const entry = { id: m.nodeId, gen: 1, hb: 1, sus: [], address: m.address, http: null, dc: m.dc, rack: m.rack, weight: m.weight, doc: null };
  node.step(m.nodeId, { type: 'gossip-ack', id: 1, doc: null, meta: null, wantDoc: false, entries: [entry], wants: [] });
}

describe('the node forms the first ring and persists it through the Ready', () => {
  it('answers unavailable until every seed answered its gossip, then forms the ring and writes it (keyspace meta)', () => {
    const store = new MapStore();
    const node = new Node(config(0), store);
    assert.equal(node.hasRing(), false);
    node.request(1, { op: 'get', key: 'k' });
    const early = node.ready();
    assert.deepEqual(early.replies.map((r) => r.reply.ok || r.reply.error), ['unavailable']);
    assert.equal(early.writes.length, 0);
    node.notePeer(member(1));
    node.notePeer(member(2));
    assert.equal(node.hasRing(), false, 'a handshake is no answer');
    assert.deepEqual(node.ready().messages.map((m) => `${m.to} ${m.msg.type}`), ['n1 gossip-syn', 'n2 gossip-syn']);
    answer(node, 1);
    assert.equal(node.hasRing(), false);
    answer(node, 2);
    assert.equal(node.hasRing(), true);
    node.request(2, { op: 'put', key: 'k', value: new Uint8Array([1]), w: 1 });
    const rd = node.ready();
    // The ring's metadata comes first in the Ready: durable before anything that used the ring.
    assert.equal(rd.writes[0]!.space, 'meta');
    assert.equal(hex(rd.writes[0]!.key), hex(CLUSTER_META_KEY));
    for (const w of rd.writes) assert.equal(keyspaceOf(w.key), w.space, 'every write is in the keyspace it names');
    assert.deepEqual(node.clusterMeta()?.members.map((m) => m.nodeId), ['n0', 'n1', 'n2']);
  });

  it('nodes that met each other in different orders form the same ring', () => {
    const a = new Node(config(0), new MapStore());
    const c = new Node(config(2), new MapStore());
    for (const i of [2, 1]) answer(a, i);
    for (const i of [1, 0]) answer(c, i);
    assert.deepEqual(a.currentRing.owners, c.currentRing.owners);
  });

  it('a restarted node loads its stored ring (the cluster\'s N and Q win over its own settings) and writes nothing', () => {
    const store = new MapStore();
    const first = new Node(config(0), store);
    answer(first, 1);
    answer(first, 2);
    store.apply(first.ready());
    const again = new Node(config(0, { bootstrap: { self: member(0), seeds: [], partitions: 64, n: 1 } }), store);
    assert.equal(again.currentRing.partitionCount, 16);
    assert.equal(again.currentRing.n, 3);
    assert.equal(again.hasReady(), false);
  });

  it('refuses to start on stored metadata it cannot use, with a clear error', () => {
    const store = new MapStore();
    store.data.set(hex(CLUSTER_META_KEY), new TextEncoder().encode('{"partitions": 16, "n": 3, "members": "oops"}'));
    assert.throws(() => new Node(config(0), store), MetadataError);
    const wrong = encodeClusterMeta({ ...firstClusterMeta({ partitions: 16, n: 3 }, [member(0)]), replication: { dc1: 2 } });
    store.data.set(hex(CLUSTER_META_KEY), wrong);
    assert.throws(() => new Node(config(0), store), /stored cluster metadata is invalid: n \(3\) must equal/);
  });
});
