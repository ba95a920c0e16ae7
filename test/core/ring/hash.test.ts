import { test } from 'node:test';
import assert from 'node:assert/strict';
import { utf8 } from '../../../src/core/bytes.js';
import { keyHash, murmur3x86_32, partitionOf, partitionRange } from '../../../src/core/ring/index.js';

// keyHash is an on-disk format: these vectors must never change.
test('keyHash: MurmurHash3 x86_32 seed 0 published vectors', () => {
  assert.equal(keyHash(utf8('')), 0);
  assert.equal(keyHash(utf8('hello')), 0x248bfa47);
  assert.equal(keyHash(utf8('The quick brown fox jumps over the lazy dog')), 0x2e4ff723);
  assert.equal(keyHash(utf8('test')), 0xba6bd213);
  assert.equal(keyHash(new Uint8Array([0, 0, 0, 0])), 0x2362f9de);
});

test('murmur3x86_32 with seeds: SMHasher-style vectors', () => {
  assert.equal(murmur3x86_32(utf8(''), 1), 0x514e28b7);
  assert.equal(murmur3x86_32(utf8(''), 0xffffffff), 0x81f16f39);
  assert.equal(murmur3x86_32(utf8('aaaa'), 0x9747b28c), 0x5a97808a);
  assert.equal(murmur3x86_32(utf8('Hello, world!'), 0x9747b28c), 0x24884cba);
  assert.equal(murmur3x86_32(utf8('The quick brown fox jumps over the lazy dog'), 0x9747b28c), 0x2fa826cd);
});

test('every tail length and high bytes match the C reference (MurmurHash3.cpp, compiled with gcc)', () => {
  // bytes[i] = (i*131 + len*7 + 200) & 255, seed 0x9747b28c; expected values from the C code.
  const expected = [
    0xebb6c228, 0x646cdba3, 0xf8ba2dae, 0xccb779fa, 0xf43ed96f, 0x5858d1b8, 0x6f6cde66, 0xf458de38,
    0x79068021, 0xd2982577, 0xef49ec0e, 0x9a9326a7, 0xa0e5bee3,
  ];
  expected.forEach((want, len) => {
    const b = new Uint8Array(len);
    for (let i = 0; i < len; i++) b[i] = (i * 131 + len * 7 + 200) & 255;
    assert.equal(murmur3x86_32(b, 0x9747b28c), want, `len ${len}`);
  });
});

test('keyHash returns an unsigned 32-bit integer and reads a subarray at its offset', () => {
  const buf = utf8('xxhello');
  assert.equal(keyHash(buf.subarray(2)), 0x248bfa47);
  for (const s of ['a', 'ab', 'abc', 'abcd', 'z'.repeat(100)]) {
    const h = keyHash(utf8(s));
    assert.ok(Number.isInteger(h) && h >= 0 && h < 2 ** 32, `${s}: ${h}`);
  }
});

test('partitionOf takes the top log2(Q) bits; Q = 1 is partition 0', () => {
  assert.equal(partitionOf(0xffffffff, 1), 0);
  assert.equal(partitionOf(0, 1024), 0);
  assert.equal(partitionOf(0xffffffff, 1024), 1023);
  assert.equal(partitionOf(0x80000000, 2), 1);
  assert.equal(partitionOf(0x7fffffff, 2), 0);
  assert.equal(partitionOf(0x00400000, 1024), 1); // 2^22 is the size of one of 1024 partitions
  assert.equal(partitionOf(0x003fffff, 1024), 0);
  assert.throws(() => partitionOf(5, 1000), RangeError);
});

test('partitionRange is contiguous, covers [0, 2^32) and agrees with partitionOf', () => {
  for (const q of [1, 2, 16, 1024]) {
    let expectStart = 0;
    for (let p = 0; p < q; p++) {
      const { start, endExclusive } = partitionRange(p, q);
      assert.equal(start, expectStart);
      assert.equal(partitionOf(start, q), p);
      assert.equal(partitionOf(endExclusive - 1, q), p);
      expectStart = endExclusive;
    }
    assert.equal(expectStart, 2 ** 32);
  }
  assert.throws(() => partitionRange(4, 4), RangeError);
});
