import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { Forest, addHash, leafBitsFor, stateHash } from '../../../src/core/antientropy/index.js';
import { KeyHashTable, murmur3Pair } from '../../../src/core/antientropy/tree.js';
import { murmur3x86_32 } from '../../../src/core/ring/hash.js';
import type { PartitionTree } from '../../../src/core/antientropy/index.js';
import { ANTIENTROPY_LIMITS } from '../../../src/core/antientropy/constants.js';
import { encodeState } from '../../../src/core/clock/state.js';
import type { KeyState } from '../../../src/core/clock/state.js';
import { EMPTY_CONTEXT } from '../../../src/core/clock/state.js';
import { keyHash } from '../../../src/core/ring/index.js';

const te = new TextEncoder();

function state(value: string, counter = 1): Uint8Array {
  const s: KeyState = {
    context: { ...EMPTY_CONTEXT, clock: [{ node: 'a', counter, tsMs: 1 }] } as KeyState['context'],
    siblings: [{ dot: { node: 'a', counter }, value: te.encode(value), contentType: 'application/octet-stream', tsMs: 1 }],
  };
  return encodeState(s);
}

function keys(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `key-${i}`);
}

/** A store's key names, as the trees read them (`KeysIn`): those of `ks` in a range of ring hashes. */
function keysIn(ks: readonly string[]) {
  const hashed = ks.map((k) => [k, keyHash(te.encode(k))] as const).sort((a, b) => a[1] - b[1]);
  const firstAtOrAbove = (h: number): number => {
    let lo = 0;
    let hi = hashed.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (hashed[mid]![1] < h) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return (gte: number, lt: number): string[] => hashed.slice(firstAtOrAbove(gte), firstAtOrAbove(lt)).map(([k]) => k);
}

describe('anti-entropy trees', () => {
  it('leaf sizing keeps whole levels and a bounded total', () => {
    for (const q of [1, 2, 16, 64, 1024, 4096, 1 << 20]) {
      const bits = leafBitsFor(q);
      assert.equal(bits % ANTIENTROPY_LIMITS.fanoutBits, 0, `Q=${q}`);
      assert.ok(bits >= ANTIENTROPY_LIMITS.fanoutBits && bits <= ANTIENTROPY_LIMITS.leafBitsMax, `Q=${q}: ${bits}`);
    }
    assert.equal(leafBitsFor(1024), 8);
  });

  it('a key hash depends on the key and on the state', () => {
    const k = te.encode('k');
    assert.equal(stateHash(k, state('v')), stateHash(k, state('v')));
    assert.notEqual(stateHash(k, state('v')), stateHash(k, state('w')));
    assert.notEqual(stateHash(k, state('v')), stateHash(te.encode('k2'), state('v')));
  });

  it('the one-pass hash equals two separate MurmurHash3 runs (every length, so every tail)', () => {
    // Replicas running the former two-pass code must compute the same roots.
    const data = new Uint8Array(1031);
    for (let i = 0; i < data.length; i++) data[i] = (i * 131 + 7) & 0xff;
    for (const len of [0, 1, 2, 3, 4, 5, 7, 8, 63, 1024, 1031]) {
      const d = data.subarray(len === 1031 ? 0 : 3, (len === 1031 ? 0 : 3) + len); // an unaligned view too
      for (const [sa, sb] of [[0x9747b28c, 0x5bd1e995], [0, 1], [0xffffffff, 12345]] as const) {
        const want = (murmur3x86_32(d, sa) & 0xfffff) * 2 ** 32 + murmur3x86_32(d, sb);
        assert.equal(murmur3Pair(d, sa, sb), want, `len ${len} seeds ${sa},${sb}`);
      }
    }
    const k = te.encode('some-key');
    const s = state('value');
    assert.equal(stateHash(k, s), (murmur3x86_32(s, murmur3x86_32(k, 0x9747b28c)) & 0xfffff) * 2 ** 32 + murmur3x86_32(s, murmur3x86_32(k, 0x5bd1e995)));
  });

  it('a tree built in any order, or updated incrementally, has the same root as one built from scratch', () => {
    const q = 16;
    const ks = keys(500);
    const a = new Forest(q, keysIn(ks));
    const b = new Forest(q, keysIn(ks));
    for (const k of ks) a.update(k, keyHash(te.encode(k)), state(`v-${k}`));
    for (const k of [...ks].reverse()) b.update(k, keyHash(te.encode(k)), state('old'));
    for (const k of ks) b.update(k, keyHash(te.encode(k)), state(`v-${k}`));
    for (let p = 0; p < q; p++) assert.equal(a.root(p), b.root(p), `partition ${p}`);
    assert.equal(a.keyCount(), 500);
    // One changed key changes its partition's root only.
    const k0 = ks[0]!;
    const h0 = keyHash(te.encode(k0));
    const p0 = a.partitionOf(h0);
    a.update(k0, h0, state('changed'));
    for (let p = 0; p < q; p++) {
      if (p === p0) assert.notEqual(a.root(p), b.root(p));
      else assert.equal(a.root(p), b.root(p));
    }
    // Removing it and adding it back restores the root.
    a.update(k0, h0, null);
    a.update(k0, h0, state(`v-${k0}`));
    assert.equal(a.root(p0), b.root(p0));
  });

  it('inner nodes are the sums of their children, down to the leaves', () => {
    const f = new Forest(4, keysIn(keys(300)));
    for (const k of keys(300)) f.update(k, keyHash(te.encode(k)), state(k));
    const t = f.tree(0);
    assert.ok(t.size > 0);
    const check = (level: number, idx: number): void => {
      if (level === t.depth) {
        let sum = 0;
        for (const h of t.leafEntries(idx).values()) sum = addHash(sum, h);
        assert.equal(t.nodeHash(level, idx), sum);
        return;
      }
      let sum = 0;
      for (const c of t.children(idx)) {
        sum = addHash(sum, t.nodeHash(level + 1, c));
        check(level + 1, c);
      }
      assert.equal(t.nodeHash(level, idx), sum);
    };
    check(0, 0);
  });

  it('diff: descending only where hashes differ finds exactly the differing keys (one side empty, every key different, a few)', () => {
    const ks = keys(400);
    const full = new Forest(2, keysIn(ks));
    for (const k of ks) full.update(k, keyHash(te.encode(k)), state(k));
    const empty = new Forest(2, keysIn([]));
    const allOther = new Forest(2, keysIn(ks));
    for (const k of ks) allOther.update(k, keyHash(te.encode(k)), state(`other-${k}`));
    const few = new Forest(2, keysIn(ks));
    const changed = new Set(['key-3', 'key-77', 'key-250']);
    for (const k of ks) few.update(k, keyHash(te.encode(k)), state(changed.has(k) ? 'x' : k));
    const diffOf = (a: Forest, b: Forest): Set<string> => {
      const out = new Set<string>();
      for (let p = 0; p < 2; p++) for (const k of diffTrees(a.tree(p), b.tree(p))) out.add(k);
      return out;
    };
    assert.deepEqual(diffOf(full, empty), new Set(ks));
    assert.deepEqual(diffOf(empty, full), new Set(ks));
    assert.deepEqual(diffOf(full, allOther), new Set(ks));
    assert.deepEqual(diffOf(full, few), changed);
    assert.deepEqual(diffOf(full, full), new Set());
  });

  it('the key table agrees with a map under random sets and removals (growth, backward-shift deletion)', () => {
    let seed = 12345;
    const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    const table = new KeyHashTable(16);
    const model = new Map<string, number>();
    for (let step = 0; step < 50_000; step++) {
      // Few distinct rings, so probe runs collide and wrap; ids tell keys of one ring apart.
      const ring = rnd() % 64;
      const id = rnd() % 512;
      const name = `${ring}/${id}`;
      const hash = rnd() % 3 === 0 ? undefined : rnd() * 1024 + (rnd() & 1023);
      assert.equal(table.set(ring, id, hash), model.get(name), `step ${step}`);
      if (hash === undefined) model.delete(name);
      else model.set(name, hash);
      if (step % 997 === 0) {
        assert.equal(table.size, model.size);
        for (const [k, h] of model) {
          const [r, i] = k.split('/').map(Number);
          assert.equal(table.get(r!, i!), h, `step ${step}: ${k}`);
        }
      }
    }
  });

  it('holds no key names: at most 43 bytes a key beyond the leaf sums, and a leaf names only keys it has a state of', () => {
    const ks = keys(100_000);
    const f = new Forest(64, keysIn([...ks, 'never-written']));
    for (const k of ks) f.update(k, keyHash(te.encode(k)), state(k));
    assert.equal(f.keyCount(), ks.length);
    // 16 bytes a slot, the table at least 3/8 full (doubled past 3/4): ≤ 42.7 bytes a key.
    const leafSumBytes = 64 * 2 ** leafBitsFor(64) * 8;
    const perKey = (f.bytes() - leafSumBytes) / ks.length;
    assert.ok(perKey <= 43, `${perKey.toFixed(1)} bytes a key`);
    const h = keyHash(te.encode('never-written'));
    const t = f.tree(f.partitionOf(h));
    assert.ok(!t.leafEntries(t.leafOf(h)).has('never-written'));
    // Every written key is named by its leaf, with the hash the tree summed.
    const named = new Set<string>();
    for (let p = 0; p < 64; p++) {
      const tree = f.tree(p);
      for (let leaf = 0; leaf < 2 ** tree.leafBits; leaf++) {
        let sum = 0;
        for (const [k, hash] of tree.leafEntries(leaf)) {
          named.add(k);
          sum = addHash(sum, hash);
        }
        assert.equal(sum, tree.nodeHash(tree.depth, leaf));
      }
    }
    assert.equal(named.size, ks.length);
  });
});

/** The descent the exchange performs, run locally on two trees. */
function diffTrees(a: PartitionTree, b: PartitionTree): string[] {
  let frontier = [0];
  for (let level = 0; level <= a.depth; level++) {
    frontier = frontier.filter((i) => a.nodeHash(level, i) !== b.nodeHash(level, i));
    if (level < a.depth) frontier = frontier.flatMap((i) => a.children(i));
  }
  const out: string[] = [];
  for (const leaf of frontier) {
    const x = a.leafEntries(leaf);
    const y = b.leafEntries(leaf);
    for (const [k, h] of x) if (y.get(k) !== h) out.push(k);
    for (const k of y.keys()) if (!x.has(k)) out.push(k);
  }
  return out;
}
