import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { ClusterMeta } from '../../../src/core/membership/index.js';
import { MetadataError, decodeClusterMeta, encodeClusterMeta } from '../../../src/core/membership/index.js';
import { firstClusterMeta, supersedes } from '../../../src/core/membership/meta.js';
import { formFirstRing } from '../../../src/core/membership/bootstrap.js';
import { GossamerError } from '../../../src/core/errors.js';

const member = (i: number) => ({ nodeId: `n${i}`, address: `10.0.0.${i}:7000`, dc: 'dc1', rack: `r${i % 2}`, weight: 1 });
const META: ClusterMeta = firstClusterMeta({ partitions: 64, n: 3 }, [member(0), member(1), member(2)]);
const json = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));

function rejects(bytes: Uint8Array, what: RegExp): void {
  assert.throws(() => decodeClusterMeta(bytes), (e: unknown) => {
    assert.ok(e instanceof MetadataError, `expected a MetadataError, got ${String(e)}`);
    assert.equal(e.code, 'unavailable');
    assert.match(e.message, /^stored cluster metadata is invalid: /);
    assert.match(e.message, what);
    return true;
  });
}

describe('cluster metadata: stored, then validated when loaded', () => {
  it('round-trips, and the ring it loads is the ring it describes', () => {
    const { meta, ring } = decodeClusterMeta(encodeClusterMeta(META));
    assert.deepEqual(meta, META);
    assert.equal(ring.partitionCount, 64);
    assert.equal(ring.n, 3);
    assert.deepEqual([...new Set(ring.owners)].sort(), ['n0', 'n1', 'n2']);
  });

  it('reads the unversioned format of earlier releases as version 1 with createRing\'s claim', () => {
    const old = { partitions: 16, n: 2, members: [member(2), member(0)], replication: { dc1: 2 } };
    const { meta, ring } = decodeClusterMeta(json(old));
    assert.deepEqual(meta.members.map((m) => m.nodeId), ['n0', 'n2']);
    assert.deepEqual(meta.replication, { dc1: 2 });
    assert.equal(meta.version, 1);
    assert.deepEqual(meta, firstClusterMeta({ partitions: 16, n: 2, replication: { dc1: 2 } }, [member(0), member(2)]));
    assert.deepEqual(ring.owners, meta.owners);
  });

  it('keeps the claim as stored, staged changes and a transition included', () => {
    const owners = META.owners.map((o, p) => (p < 8 ? 'n0' : o));
    const next: ClusterMeta = {
      ...META, version: 7, owners,
      staged: [{ kind: 'join', nodeId: 'n3', member: member(3) }, { kind: 'remove', nodeId: 'n1' }],
      transition: { members: [member(0), member(2), member(3)], owners: META.owners.map((o) => (o === 'n1' ? 'n3' : o)), done: [1, 5] },
    };
    const { meta, ring } = decodeClusterMeta(encodeClusterMeta(next));
    assert.deepEqual(meta, next);
    assert.deepEqual(ring.owners, owners);
    rejects(json({ ...next, owners: owners.slice(1) }), /owners must list/);
    rejects(json({ ...next, owners: owners.map(() => 'n9') }), /not a member/);
    rejects(json({ ...next, transition: { ...next.transition, done: [5, 1] } }), /ascending/);
    rejects(json({ ...next, staged: [{ kind: 'grow', nodeId: 'n1' }] }), /kind/);
    rejects(json({ ...next, version: 0 }), /version/);
    rejects(json({ ...next, clusterId: '' }), /clusterId/);
  });

  it('of two documents, every node picks the same: the higher version, then the greater digest', () => {
    const a: ClusterMeta = { ...META, version: 2, staged: [{ kind: 'remove', nodeId: 'n1' }] };
    const b: ClusterMeta = { ...META, version: 2, staged: [{ kind: 'remove', nodeId: 'n2' }] };
    assert.ok(supersedes(a, META) && !supersedes(META, a));
    assert.notEqual(supersedes(a, b), supersedes(b, a));
    assert.ok(!supersedes(a, a));
  });

  it('the first ring\'s cluster id depends on its members and settings', () => {
    const other = firstClusterMeta({ partitions: 64, n: 3 }, [member(0), member(1), member(3)]);
    assert.notEqual(other.clusterId, META.clusterId);
    assert.equal(firstClusterMeta({ partitions: 64, n: 3 }, [member(2), member(1), member(0)]).clusterId, META.clusterId);
    assert.match(META.clusterId, /^c-[0-9a-f]{16}$/);
  });

  it('refuses garbage with a clear error naming what is wrong', () => {
    rejects(new Uint8Array([0xff, 0xfe, 0x00]), /not JSON/);
    rejects(json([1, 2]), /not an object/);
    rejects(json({ ...META, partitions: '64' }), /partitions/);
    rejects(json({ ...META, n: 0 }), /\bn must/);
    rejects(json({ ...META, members: [] }), /members/);
    rejects(json({ ...META, members: [{ ...member(0), weight: -1 }] }), /weight/);
    rejects(json({ ...META, members: [{ ...member(0), address: 7 }] }), /address/);
    rejects(json({ ...META, members: [member(0), member(0)] }), /duplicate/);
    rejects(json({ ...META, partitions: 100 }), /power of two/);
    rejects(json({ ...META, replication: { dc1: 2 } }), /sum/);
    rejects(new Uint8Array(2 * 1024 * 1024).fill(0x20), /bytes, over/);
  });

  it('any bytes and any JSON value either load or give a MetadataError, never another error', () => {
    const check = (bytes: Uint8Array): void => {
      try {
        decodeClusterMeta(bytes);
      } catch (e) {
        assert.ok(e instanceof MetadataError, `unexpected ${String(e)}`);
        assert.ok(e instanceof GossamerError);
      }
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), check), { numRuns: 500 });
    fc.assert(fc.property(fc.jsonValue(), (v) => check(json(v))), { numRuns: 500 });
    fc.assert(fc.property(fc.record({
      partitions: fc.oneof(fc.integer(), fc.constant(16)), n: fc.oneof(fc.integer(), fc.constant(3)),
      members: fc.array(fc.record({ nodeId: fc.string(), address: fc.string(), dc: fc.string(), rack: fc.string(), weight: fc.double() })),
    }), (v) => check(json(v))), { numRuns: 500 });
  });
});

describe('first ring formation', () => {
  const cfg = { self: member(0), seeds: [member(0).address, member(1).address, member(2).address], partitions: 16, n: 3 };
  const fresh = (i: number) => ({ member: member(i), hasDoc: false });

  it('waits until every seed other than itself has answered', () => {
    assert.equal(formFirstRing(cfg, [fresh(0)]), undefined);
    assert.equal(formFirstRing(cfg, [fresh(0), fresh(2)]), undefined);
    const meta = formFirstRing(cfg, [fresh(2), fresh(0), fresh(1)]);
    assert.deepEqual(meta?.members.map((m) => m.nodeId), ['n0', 'n1', 'n2']);
  });

  it('never forms when a seed already has a document, or when this node is not among its seeds', () => {
    assert.equal(formFirstRing(cfg, [fresh(1), { member: member(2), hasDoc: true }]), undefined);
    const outsider = { ...cfg, self: member(7) };
    assert.equal(formFirstRing(outsider, [fresh(0), fresh(1), fresh(2)]), undefined);
  });

  it('leaves out peers that are not seeds, and forms alone without seeds', () => {
    const meta = formFirstRing(cfg, [fresh(0), fresh(1), fresh(2), fresh(3)]);
    assert.deepEqual(meta?.members.map((m) => m.nodeId), ['n0', 'n1', 'n2']);
    const solo = formFirstRing({ ...cfg, seeds: [] }, [fresh(0), fresh(5)]);
    assert.deepEqual(solo?.members.map((m) => m.nodeId), ['n0']);
  });

  it('every node computes the same metadata, whatever order it met the others in', () => {
    fc.assert(fc.property(fc.shuffledSubarray([0, 1, 2, 3, 4], { minLength: 5 }), fc.integer({ min: 0, max: 4 }), (order, self) => {
      const seeds = [0, 1, 2, 3, 4].map((i) => member(i).address);
      const a = formFirstRing({ ...cfg, self: member(self), seeds }, order.map(fresh));
      const b = formFirstRing({ ...cfg, self: member(0), seeds }, [0, 1, 2, 3, 4].map(fresh));
      assert.deepEqual(encodeClusterMeta(a!), encodeClusterMeta(b!));
    }), { numRuns: 100 });
  });
});
