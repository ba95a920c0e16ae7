/**
 * Staging, plan and commit in the core (src/core/membership/admin.ts): every change is a new
 * version of the cluster document, pushed at once to the nodes it concerns; refusals are clear.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AdminResult } from '../../../src/core/node.js';
import { Node } from '../../../src/core/node.js';
import { firstClusterMeta, nextRingOf, ringOf } from '../../../src/core/membership/index.js';
import type { ClusterMeta } from '../../../src/core/membership/index.js';
import { isValidMessage } from '../../../src/core/messages.js';
import { ownerChanges, rebalance } from '../../../src/core/ring/index.js';
import { utf8 } from '../../../src/core/bytes.js';
import { AdminCluster, member } from './admin-cluster.js';
import { MapStore } from '../harness.js';

function ok<T extends AdminResult>(r: T): Extract<T, { ok: true }> {
  assert.equal(r.ok, true, r.ok ? '' : `${r.error}: ${r.message}`);
  return r as Extract<T, { ok: true }>;
}

function refused(r: AdminResult, error: string, message: RegExp): void {
  assert.equal(r.ok, false, 'refused');
  if (r.ok) return;
  assert.equal(r.error, error);
  assert.match(r.message, message);
}

const plan = (c: AdminCluster, at: string) => {
  const r = ok(c.admin(at, { op: 'plan' }));
  assert.equal(r.op, 'plan');
  return r.op === 'plan' ? r.plan : assert.fail('not a plan');
};

describe('staging a join at a node that holds the document but is no member', () => {
  it('proposes version+1 with the staged claim, pushes it to every member, and every member installs it', () => {
    const c = new AdminCluster(3, 1);
    assert.equal(c.meta('n3').version, 1);
    const r = ok(c.admin('n3', { op: 'stage-join' }));
    assert.equal(r.op, 'stage-join');
    assert.equal(c.meta('n3').version, 2);
    assert.deepEqual(c.meta('n3').staged, [{ kind: 'join', nodeId: 'n3', member: member(3) }]);
    const pushes = c.inflight.filter((m) => m.msg.type === 'ring-push');
    assert.deepEqual(pushes.map((m) => `${m.from}→${m.to}`).sort(), ['n3→n0', 'n3→n1', 'n3→n2']);
    c.deliver();
    for (const id of ['n0', 'n1', 'n2']) {
      assert.equal(c.meta(id).version, 2, id);
      assert.deepEqual(c.meta(id).staged?.map((s) => s.nodeId), ['n3']);
    }
    // Receivers do not push again: the node that made the document spread it.
    assert.equal(c.inflight.length, 0);
  });

  it('a duplicate or older push is a no-op, counted as ignored', () => {
    const c = new AdminCluster(3, 1);
    c.admin('n3', { op: 'stage-join' });
    const pushes = [...c.inflight];
    c.deliver();
    const before = c.node('n0').ringAdmin.stats();
    c.inflight = pushes;
    c.deliver((m) => m.to === 'n0');
    assert.equal(c.node('n0').ringAdmin.stats().pushesIgnored, before.pushesIgnored + 1);
    assert.equal(c.meta('n0').version, 2);
  });

  it('the plan for 3 → 4 nodes moves about a quarter of the partitions (within 5% of ideal) and changes nothing', () => {
    const c = new AdminCluster(3, 1, { partitions: 256 });
    c.admin('n3', { op: 'stage-join' });
    c.deliver();
    const storeBefore = new Map(c.stores.get('n1')!.data);
    const p = plan(c, 'n1');
    assert.equal(c.node('n1').hasReady(), false, 'plan writes and sends nothing');
    assert.deepEqual(c.stores.get('n1')!.data, storeBefore);
    assert.deepEqual(p.membersBefore, ['n0', 'n1', 'n2']);
    assert.deepEqual(p.membersAfter, ['n0', 'n1', 'n2', 'n3']);
    const moved = p.ownerChanges.length / p.partitionCount;
    assert.ok(Math.abs(moved - 0.25) <= 0.05, `${p.ownerChanges.length} of ${p.partitionCount} partitions change owner`);
    assert.ok(p.ownerChanges.every((ch) => ch.to === 'n3'), 'partitions move only to the new node');
    const after = new Map(p.ownership.map((o) => [o.nodeId, o]));
    assert.equal(after.get('n3')!.before, 0);
    for (const id of ['n0', 'n1', 'n2', 'n3']) assert.ok(Math.abs(after.get(id)!.after - 0.25) < 0.01, `${id} owns a quarter after`);
    // Every replica move names a new replica of the partition that it did not hold before.
    const ring = ringOf(c.meta('n1'));
    for (const mv of p.replicaMoves) assert.ok(!ring.preferenceList(mv.partition).includes(mv.to));
    assert.ok(p.replicaMoves.length >= p.ownerChanges.length);
    assert.deepEqual(p.movingPartitions, [...new Set(p.replicaMoves.map((m) => m.partition))]);
  });

  it('commit at a member makes the transition (members and owners of rebalance, nothing done) and every node installs it', () => {
    const c = new AdminCluster(3, 1);
    c.admin('n3', { op: 'stage-join' });
    c.deliver();
    const expected = rebalance(ringOf(c.meta('n0')), [0, 1, 2, 3].map((i) => member(i)));
    const r = ok(c.admin('n0', { op: 'commit' }));
    assert.equal(r.op, 'commit');
    const doc = c.meta('n0');
    assert.equal(doc.version, 3);
    assert.equal(doc.staged?.length ?? 0, 0, 'staged changes are cleared');
    assert.deepEqual(doc.transition?.members.map((m) => m.nodeId), ['n0', 'n1', 'n2', 'n3']);
    assert.deepEqual(doc.transition?.owners, expected.owners);
    assert.deepEqual(doc.transition?.done, []);
    assert.deepEqual(doc.owners, ringOf(c.meta('n1')).owners, 'the ring in force is unchanged until the flip');
    // The joiner is a member of the transition: it gets the push too.
    assert.deepEqual(c.inflight.map((m) => m.to).sort(), ['n1', 'n2', 'n3']);
    c.deliver();
    for (const id of ['n1', 'n2', 'n3']) assert.equal(c.meta(id).version, 3, id);
    const t = ok(c.admin('n2', { op: 'transition' }));
    assert.ok(t.op === 'transition' && t.transition);
    assert.deepEqual(t.transition.joining, ['n3']);
    assert.deepEqual(t.transition.leaving, []);
    assert.ok(t.transition.moving.length > 0);
  });
});

describe('refusals', () => {
  it('join: already a member (409); no document yet (503)', () => {
    const c = new AdminCluster(3);
    refused(c.admin('n1', { op: 'stage-join' }), 'conflict', /n1 is already a ring member/);
    const lonely = new Node({
      nodeId: 'x', tickMs: 10, requestTimeoutMs: 100, defaultR: 'quorum', defaultW: 'quorum',
      bootstrap: { self: member(9), seeds: ['elsewhere:7000'], partitions: 16, n: 3 },
    }, new MapStore());
    refused(lonely.admin({ op: 'stage-join' }), 'unavailable', /no cluster document yet/);
  });

  it('leave: refused below N members, and for the last member; allowed when N members remain', () => {
    refused(new AdminCluster(3).admin('n0', { op: 'stage-leave' }), 'conflict', /keep 2 members, fewer than N=3/);
    refused(new AdminCluster(1, 0, { n: 1 }).admin('n0', { op: 'stage-leave' }), 'conflict', /n0 is the last member/);
    const c = new AdminCluster(4);
    ok(c.admin('n2', { op: 'stage-leave' }));
    // A second departure would go below N, counting the staged one.
    refused(c.admin('n2', { op: 'stage-remove', nodeId: 'n3' }), 'conflict', /fewer than N=3/);
  });

  it('removenode: unknown id 404, the node addressed 400, a bad id 400', () => {
    const c = new AdminCluster(4);
    refused(c.admin('n0', { op: 'stage-remove', nodeId: 'n9' }), 'not_found', /no ring member n9/);
    refused(c.admin('n0', { op: 'stage-remove', nodeId: 'n0' }), 'bad_request', /use leave/);
    refused(c.admin('n0', { op: 'stage-remove', nodeId: 'x'.repeat(300) }), 'bad_request', /node id/);
    assert.equal(c.meta('n0').version, 1, 'no refusal changed the document');
    assert.equal(c.inflight.length, 0);
  });

  it('commit: nothing staged 409; a second commit during the transition 409; staging during it 409', () => {
    const c = new AdminCluster(4);
    refused(c.admin('n0', { op: 'commit' }), 'conflict', /nothing is staged/);
    ok(c.admin('n0', { op: 'stage-remove', nodeId: 'n3' }));
    ok(c.admin('n0', { op: 'commit' }));
    refused(c.admin('n0', { op: 'commit' }), 'conflict', /a transition is under way \(version 3, 0 of \d+ moving partitions done\)/);
    c.deliver();
    refused(c.admin('n1', { op: 'stage-leave' }), 'conflict', /transition is under way/);
    assert.equal(c.meta('n0').version, 3);
  });

  it('staging the same change again does not make a new version; clear unstages everything once', () => {
    const c = new AdminCluster(4);
    const first = ok(c.admin('n0', { op: 'stage-remove', nodeId: 'n3' }));
    const again = ok(c.admin('n0', { op: 'stage-remove', nodeId: 'n3' }));
    assert.ok('version' in first && 'version' in again);
    assert.equal(again.version, first.version);
    const cleared = ok(c.admin('n0', { op: 'clear' }));
    assert.ok('version' in cleared && cleared.version === first.version + 1);
    assert.equal(c.meta('n0').staged?.length ?? 0, 0);
    const noop = ok(c.admin('n0', { op: 'clear' }));
    assert.ok('version' in noop && noop.version === cleared.version, 'clearing nothing changes nothing');
  });
});

describe('concurrent proposals at two nodes', () => {
  it('converge on one document everywhere; the losing change shows in the plan of the node that staged it', () => {
    const c = new AdminCluster(5);
    ok(c.admin('n0', { op: 'stage-remove', nodeId: 'n3' }));
    ok(c.admin('n1', { op: 'stage-leave' }));
    assert.equal(c.meta('n0').version, 2);
    assert.equal(c.meta('n1').version, 2);
    c.deliver();
    const docs = ['n0', 'n1', 'n2', 'n3', 'n4'].map((id) => JSON.stringify(c.meta(id)));
    assert.equal(new Set(docs).size, 1, 'every node holds the same document');
    const winner = c.meta('n0').staged![0]!;
    const [loser, winnerNode] = winner.kind === 'remove' ? ['n1', 'n0'] : ['n0', 'n1'];
    const lost = plan(c, loser).lost;
    assert.equal(lost.length, 1);
    assert.equal(lost[0]!.kind, winner.kind === 'remove' ? 'leave' : 'remove');
    assert.deepEqual(plan(c, winnerNode).lost, []);
    // The operator stages it again: now both are in force, and nothing is lost.
    ok(c.admin(loser, loser === 'n1' ? { op: 'stage-leave' } : { op: 'stage-remove', nodeId: 'n3' }));
    c.deliver();
    assert.deepEqual(plan(c, loser).lost, []);
    assert.deepEqual(c.meta('n2').staged?.map((s) => s.kind).sort(), ['leave', 'remove']);
  });
});

describe('after the transition', () => {
  /** The document transfer makes once every moving partition is done: the transition's ring, in force. */
  const flipped = (doc: ClusterMeta): ClusterMeta => ({
    clusterId: doc.clusterId, version: doc.version + 1, partitions: doc.partitions, n: doc.n,
    members: doc.transition!.members, owners: doc.transition!.owners,
  });

  it('a removed node knows it left; the others keep it as departed; the flipped ring is in force everywhere', () => {
    const c = new AdminCluster(4);
    ok(c.admin('n0', { op: 'stage-remove', nodeId: 'n3' }));
    ok(c.admin('n0', { op: 'commit' }));
    c.deliver();
    const doc = c.meta('n1');
    const next = nextRingOf(doc)!;
    for (const id of ['n0', 'n1', 'n2', 'n3']) c.push(id, flipped(doc));
    for (const id of ['n0', 'n1', 'n2', 'n3']) {
      assert.deepEqual(c.node(id).currentRing.owners, next.owners, id);
      assert.deepEqual(c.node(id).ringAdmin.departed().map((m) => m.nodeId), ['n3'], id);
    }
    assert.equal(c.meta('n3').transition, undefined);
    // A second change may now be committed.
    refused(c.admin('n0', { op: 'commit' }), 'conflict', /nothing is staged/);
  });
});

describe('ring-push validation', () => {
  it('refuses anything that is not a document a node could store; another cluster\'s document is ignored', () => {
    const c = new AdminCluster(3);
    const doc = c.meta('n0');
    assert.equal(isValidMessage({ type: 'ring-push', meta: utf8('not json') }), false);
    assert.equal(isValidMessage({ type: 'ring-push', meta: utf8('{"partitions": 3, "n": 1, "members": []}') }), false);
    assert.equal(isValidMessage({ type: 'ring-push', meta: utf8(JSON.stringify({ ...doc, owners: ['nobody'] })) }), false);
    assert.equal(isValidMessage({ type: 'ring-push', meta: 'a string' }), false);
    assert.equal(isValidMessage({ type: 'ring-push' }), false);
    const other: ClusterMeta = { ...firstClusterMeta({ partitions: 64, n: 3 }, [member(5), member(6), member(7)]), version: 9 };
    c.push('n0', other);
    assert.equal(c.meta('n0').clusterId, doc.clusterId, 'a document of another cluster is never installed');
    assert.equal(c.node('n0').ringAdmin.stats().pushesIgnored, 1);
    assert.ok(ownerChanges(ringOf(doc), c.node('n0').currentRing).length === 0);
  });
});
