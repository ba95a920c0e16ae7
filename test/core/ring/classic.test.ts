import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  classicLoadStats, classicMovedFraction, classicOwnership, classicRing, classicTokens, mulberry32,
} from '../../../src/core/ring/classic.js';

const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `node-${i}`);
const close = (a: number, b: number, eps = 1e-9): boolean => Math.abs(a - b) <= eps;

test('mulberry32 is seeded and deterministic, and spreads over uint32', () => {
  const a = mulberry32(42);
  const b = mulberry32(42);
  const xs = Array.from({ length: 1000 }, () => a());
  assert.deepEqual(Array.from({ length: 1000 }, () => b()), xs);
  assert.notDeepEqual(Array.from({ length: 5 }, mulberry32(43)), xs.slice(0, 5));
  for (const x of xs) assert.ok(Number.isInteger(x) && x >= 0 && x < 2 ** 32);
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length / 2 ** 32;
  assert.ok(mean > 0.45 && mean < 0.55, `mean ${mean}`);
});

test('a node\'s tokens depend only on the seed and its id', () => {
  assert.deepEqual(classicTokens('x', 8, 1), classicTokens('x', 8, 1));
  assert.notDeepEqual(classicTokens('x', 8, 1), classicTokens('y', 8, 1));
  assert.notDeepEqual(classicTokens('x', 8, 1), classicTokens('x', 8, 2));
});

test('ownership sums to 1 and matches the arcs', () => {
  const r = classicRing(ids(10), 64, 7);
  const own = classicOwnership(r);
  assert.ok(close([...own.values()].reduce((s, x) => s + x, 0), 1));
  // Direct check on a hand-made ring: tokens at 1/4 and 3/4 of the circle.
  const half = { tokens: [2 ** 30, 3 * 2 ** 30], tokenOwners: ['a', 'b'], nodes: ['a', 'b'] };
  assert.ok(close(classicOwnership(half).get('a')!, 0.5));
  const skew = { tokens: [2 ** 30, 2 ** 31], tokenOwners: ['a', 'b'], nodes: ['a', 'b'] };
  assert.ok(close(classicOwnership(skew).get('a')!, 0.75)); // (2^31, 2^32) ∪ [0, 2^30]
});

test('a join moves exactly the new node\'s arcs; a leave exactly the leaver\'s', () => {
  for (const seed of [1, 2, 3]) {
    const before = classicRing(ids(10), 64, seed);
    const joined = classicRing([...ids(10), 'new'], 64, seed);
    assert.ok(close(classicMovedFraction(before, joined), classicOwnership(joined).get('new')!));
    const left = classicRing(ids(10).filter((x) => x !== 'node-3'), 64, seed);
    assert.ok(close(classicMovedFraction(before, left), classicOwnership(before).get('node-3')!));
    assert.equal(classicMovedFraction(before, classicRing(ids(10), 64, seed)), 0);
  }
});

test('more tokens per node balance better (averaged over seeds)', () => {
  const avg = (t: number): number => {
    let s = 0;
    for (let seed = 1; seed <= 10; seed++) s += classicLoadStats(classicRing(ids(10), t, seed)).maxOverMean;
    return s / 10;
  };
  const [a, b, c] = [avg(8), avg(64), avg(256)];
  assert.ok(a > b && b > c, `${a} ${b} ${c}`);
  assert.ok(c < 1.2, `256 tokens max/mean ${c}`);
});
