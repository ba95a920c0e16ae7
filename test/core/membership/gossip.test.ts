/**
 * Membership gossip in the pure core: push-pull exchanges, adoption of a cluster's document,
 * refusal of another cluster's nodes, the table's merge rules and the messages' validators.
 * Nodes are wired by hand: each test delivers the messages it wants to.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Node } from '../../../src/core/node.js';
import type { NodeConfig } from '../../../src/core/node.js';
import type { Message } from '../../../src/core/messages.js';
import { isValidMessage } from '../../../src/core/messages.js';
import { MemberTable, hasNews } from '../../../src/core/membership/member-table.js';
import type { StatusChange } from '../../../src/core/membership/member-table.js';
import type { GossipEntry } from '../../../src/core/membership/gossip-messages.js';
import { MapStore } from '../harness.js';

const member = (i: number) => ({ nodeId: `n${i}`, address: `h${i}:7000`, dc: 'dc1', rack: `r${i}`, weight: 1 });

function config(self: number, seeds: number[], over: Partial<NodeConfig> = {}): NodeConfig {
  return {
    nodeId: `n${self}`, tickMs: 10, requestTimeoutMs: 100, defaultR: 'quorum', defaultW: 'quorum', generation: 1000 + self,
    incarnation: self, bootstrap: { self: member(self), seeds: seeds.map((i) => member(i).address), partitions: 16, n: 3 }, ...over,
  };
}

/** Nodes that deliver each other's messages (only among themselves) until quiet. */
class Net {
  readonly nodes = new Map<string, Node>();
  readonly stores = new Map<string, MapStore>();
  add(self: number, seeds: number[], over: Partial<NodeConfig> = {}): Node {
    const store = this.stores.get(`n${self}`) ?? new MapStore();
    const node = new Node(config(self, seeds, over), store);
    this.nodes.set(node.id, node);
    this.stores.set(node.id, store);
    return node;
  }
  /** Introduces every pair (a transport handshake), then delivers until quiet. */
  meet(): void {
    for (const a of this.nodes.values()) for (const b of this.nodes.values()) if (a !== b) a.notePeer(member(Number(b.id.slice(1))));
    this.settle();
  }
  settle(): void {
    for (let moved = true, guard = 0; moved && guard < 1000; guard++) {
      moved = false;
      for (const [id, node] of this.nodes) {
        if (!node.hasReady()) continue;
        const rd = node.ready();
        this.stores.get(id)!.apply(rd);
        node.advance(rd);
        for (const m of rd.messages) {
          const to = this.nodes.get(m.to);
          if (!to) continue;
          assert.ok(isValidMessage(m.msg), `${m.msg.type} is valid`);
          to.step(id, m.msg);
          moved = true;
        }
      }
    }
  }
  ticks(n: number): void {
    for (let i = 0; i < n; i++) {
      for (const node of this.nodes.values()) node.tick(0);
      this.settle();
    }
  }
}

describe('forming and adopting the first ring through gossip', () => {
  it('seeds that are all fresh form the same version-1 document; nobody else forms one', () => {
    const net = new Net();
    for (const i of [0, 1, 2]) net.add(i, [0, 1, 2]);
    net.meet();
    const docs = [...net.nodes.values()].map((n) => n.clusterMeta());
    assert.ok(docs.every((d) => d?.version === 1 && d.clusterId === docs[0]!.clusterId));
    assert.deepEqual(docs[0]!.members.map((m) => m.nodeId), ['n0', 'n1', 'n2']);
  });

  it('a node not listed in its seeds adopts the running cluster\'s document, owns nothing, and serves', () => {
    const net = new Net();
    for (const i of [0, 1, 2]) net.add(i, [0, 1, 2]);
    net.meet();
    const late = net.add(3, [0, 1]);
    assert.equal(late.hasRing(), false);
    late.request(1, { op: 'get', key: 'k' });
    assert.equal(late.ready().replies[0]!.reply.ok, false, 'unavailable before it has a ring');
    net.meet();
    assert.equal(late.clusterMeta()?.clusterId, net.nodes.get('n0')!.clusterMeta()!.clusterId);
    assert.equal(late.clusterMeta()?.version, 1);
    assert.ok(!late.currentRing.owners.includes('n3'), 'a member without partitions');
    // Every ring member learns of it by gossip (shown in /cluster although it owns nothing).
    net.ticks(2);
    for (const id of ['n0', 'n1', 'n2']) assert.ok(net.nodes.get(id)!.gossip!.members().some((m) => m.nodeId === 'n3' && m.generation > 0));
  });

  it('a fresh seed among running nodes adopts their document instead of forming a competing ring', () => {
    const net = new Net();
    for (const i of [0, 1]) net.add(i, [0, 1]);
    net.meet();
    const clusterId = net.nodes.get('n0')!.clusterMeta()!.clusterId;
    const fresh = net.add(2, [0, 1, 2]); // it lists itself and the running nodes as seeds
    net.meet();
    assert.equal(fresh.clusterMeta()?.clusterId, clusterId);
    assert.deepEqual(fresh.clusterMeta()?.members.map((m) => m.nodeId), ['n0', 'n1']);
  });

  it('a newer document of the cluster spreads to every node; an older one changes nothing', () => {
    const net = new Net();
    for (const i of [0, 1, 2]) net.add(i, [0, 1, 2]);
    net.meet();
    const n0 = net.nodes.get('n0')!;
    // A change made at n0 (what ring-admin's propose does): version 2.
    (n0 as unknown as { membership: { propose: (f: (c: object) => object) => unknown } }).membership.propose((c) => ({ ...c, staged: [{ kind: 'leave', nodeId: 'n2' }] }));
    net.ticks(150); // a few rounds
    for (const n of net.nodes.values()) assert.equal(n.clusterMeta()?.version, 2, `${n.id} adopted version 2`);
  });
});

describe('two clusters refuse each other', () => {
  it('each single-node cluster keeps its ring, refuses the other\'s gossip and kv messages, and says so once', () => {
    const net = new Net();
    const first = [net.add(0, []), net.add(1, [])];
    assert.ok(first.every((n) => n.hasRing()), 'a node without seeds forms a cluster of one at once');
    net.settle();
    // Restarted, each pointed at the other.
    const a = net.add(0, [1], { generation: 5000 });
    const b = net.add(1, [0], { generation: 5001 });
    const [ida, idb] = [a.clusterMeta()!.clusterId, b.clusterMeta()!.clusterId];
    assert.notEqual(ida, idb);
    net.meet();
    net.ticks(250);
    assert.equal(a.clusterMeta()!.clusterId, ida);
    assert.equal(b.clusterMeta()!.clusterId, idb);
    assert.equal(a.clusterMeta()!.version, 1);
    const refusals = a.gossip!.takeEvents().filter((e) => e.kind === 'refused');
    assert.equal(refusals.length, 1, 'one warning per peer');
    assert.deepEqual(refusals[0], { kind: 'refused', nodeId: 'n1', address: 'h1:7000', theirs: idb, ours: ida });
    assert.ok(!a.gossip!.members().some((m) => m.nodeId === 'n1'), 'not a member');
    // A kv message from the other cluster is dropped (and counted).
    const before = a.gossip!.stats().refusedMessages;
    a.step('n1', { type: 'replica-get', id: 9, key: 'k' } as Message);
    assert.equal(a.hasReady(), false);
    assert.equal(a.gossip!.stats().refusedMessages, before + 1);
  });
});

describe('the gossip table', () => {
  const entry = (over: Partial<GossipEntry> = {}): GossipEntry => ({
    id: 'x', gen: 1, hb: 5, sus: [], address: 'hx:1', http: null, dc: 'dc1', rack: 'r', weight: 1, doc: null, ...over,
  });
  const table = (): { t: MemberTable; changes: StatusChange[] } => {
    const changes: StatusChange[] = [];
    return { t: new MemberTable({ self: 'me', convictAt: 2, faultyAfterTicks: 100 }, (c) => changes.push(c)), changes };
  };

  it('two suspecters at the same beat convict; a newer heartbeat or generation clears the suspicion', () => {
    const { t, changes } = table();
    t.merge(entry(), 0);
    t.merge(entry({ sus: ['a'] }), 1);
    assert.equal(t.get('x')!.status, 'suspect');
    t.merge(entry({ sus: ['b'] }), 2);
    assert.equal(t.get('x')!.status, 'faulty');
    assert.deepEqual(t.get('x')!.entry.sus, ['a', 'b']);
    t.merge(entry({ hb: 6 }), 3);
    assert.equal(t.get('x')!.status, 'alive');
    assert.deepEqual(changes.map((c) => `${c.from}→${c.to}`), ['alive→suspect', 'suspect→faulty', 'faulty→alive']);
    t.merge(entry({ hb: 6, sus: ['a', 'b'] }), 4);
    t.merge(entry({ gen: 2, hb: 0 }), 5);
    assert.equal(t.get('x')!.status, 'alive');
    assert.equal(changes.at(-1)!.reason, 'new generation (restarted)');
  });

  it('suspicions at an older beat are ignored (one bad link does not convict); one suspicion convicts only after the longer timeout', () => {
    const { t } = table();
    t.merge(entry({ hb: 9 }), 0);
    t.merge(entry({ hb: 8, sus: ['a', 'b'] }), 1);
    assert.equal(t.get('x')!.status, 'alive');
    t.suspect('x', 'me', 10, 'probes unanswered');
    assert.equal(t.get('x')!.status, 'suspect');
    t.tick(109);
    assert.equal(t.get('x')!.status, 'suspect');
    t.tick(110);
    assert.equal(t.get('x')!.status, 'faulty');
  });

  it('a removed member\'s old entries stay out; a newer generation comes back', () => {
    const { t } = table();
    t.merge(entry({ gen: 3 }), 0);
    t.remove('x');
    assert.equal(t.merge(entry({ gen: 3, hb: 99 }), 1), 'stale');
    assert.equal(t.merge(entry({ gen: 4 }), 2), 'new');
  });

  it('news is a newer beat or a suspecter the other side lacks', () => {
    const d = (gen: number, hb: number, sus: string[] = []) => ({ id: 'x', gen, hb, sus });
    assert.ok(hasNews(d(1, 2), d(1, 1)));
    assert.ok(hasNews(d(2, 0), d(1, 9)));
    assert.ok(!hasNews(d(1, 1), d(1, 1)));
    assert.ok(hasNews(d(1, 1, ['a']), d(1, 1)));
    assert.ok(!hasNews(d(1, 1, ['a']), d(1, 1, ['a', 'b'])));
  });
});

describe('membership messages are validated strictly', () => {
  const e = { id: 'n1', gen: 1, hb: 2, sus: [], address: 'h:1', http: null, dc: 'd', rack: 'r', weight: 1, doc: null };
  const good: Message[] = [
    { type: 'gossip-syn', id: 1, doc: null, digests: [{ id: 'n1', gen: 1, hb: 2, sus: ['n2'] }], complete: true },
    { type: 'gossip-ack', id: 1, doc: { clusterId: 'c-1', version: 2, digest: 'ab' }, meta: new Uint8Array([1]), wantDoc: false, entries: [e], wants: ['n3'] },
    { type: 'gossip-ack2', id: 1, doc: null, meta: null, entries: [e] },
    { type: 'probe-ping', id: 3 },
    { type: 'probe-ack', id: 3, entry: e },
    { type: 'probe-req', id: 3, target: 'n4' },
  ];
  it('accepts well-formed messages and drops malformed ones', () => {
    for (const m of good) assert.ok(isValidMessage(m), m.type);
    const bad: unknown[] = [
      { ...good[0]!, digests: [{ id: 'n1', gen: -1, hb: 2, sus: [] }] },
      { ...good[0]!, digests: [{ id: 'n1', gen: 1, hb: 2, sus: ['a', 'b', 'c', 'd', 'e'] }] },
      { ...good[0]!, complete: 'yes' },
      { ...good[1]!, entries: [{ ...e, weight: Infinity }] },
      { ...good[1]!, entries: [{ ...e, address: '' }] },
      { ...good[1]!, meta: 'not bytes' },
      { ...good[1]!, doc: { clusterId: 'c', version: 1.5, digest: 'x' } },
      { ...good[2]!, entries: [{ ...e, id: 'x'.repeat(300) }] },
      { type: 'probe-ack', id: 3 },
      { type: 'probe-req', id: 3, target: 7 },
      { type: 'probe-ping', id: 'x' },
    ];
    for (const m of bad) assert.equal(isValidMessage(m), false, JSON.stringify(m));
  });
});
