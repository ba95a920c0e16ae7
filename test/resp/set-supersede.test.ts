/**
 * The core side of Redis `SET`: a put with `supersede: 'local'` replaces every version its
 * coordinating replica has seen, and never one it has not.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Harness } from '../core/harness.js';
import type { ClientReply } from '../../src/core/types.js';
import { preferenceListForKey } from '../../src/core/ring/index.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array | null): string | null => (b === null ? null : new TextDecoder().decode(b));

function values(r: ClientReply | undefined): (string | null)[] {
  assert.ok(r && r.ok && r.op === 'get', `expected a get result, got ${JSON.stringify(r)}`);
  return r.siblings.map((v) => dec(v.value)).sort();
}

describe('put with supersede: local (Redis SET)', () => {
  it('repeated SETs through one replica leave one version on every replica', () => {
    const h = new Harness(['a', 'b', 'c']);
    for (let i = 0; i < 5; i++) {
      h.request(`w${i}`, 'a', { op: 'put', key: 'k', value: enc(`v${i}`), supersede: 'local', w: 2 });
      h.settle();
    }
    for (const id of ['a', 'b', 'c']) assert.deepEqual(h.node(id).localState('k').siblings.map((v) => dec(v.value)), ['v4'], id);
  });

  it('without the option the same writes pile up as siblings (the control)', () => {
    const h = new Harness(['a', 'b', 'c']);
    for (let i = 0; i < 3; i++) {
      h.request(`w${i}`, 'a', { op: 'put', key: 'k', value: enc(`v${i}`), w: 2 });
      h.settle();
    }
    assert.equal(h.node('a').localState('k').siblings.length, 3);
  });

  it('a version the coordinator has not seen stays a sibling', () => {
    const h = new Harness(['a', 'b', 'c']);
    h.request('w1', 'b', { op: 'put', key: 'k', value: enc('from-b'), w: 1 });
    h.drop(() => true); // a never hears of it
    h.request('w2', 'a', { op: 'put', key: 'k', value: enc('from-a'), supersede: 'local', w: 1 });
    h.settle();
    h.request('r', 'c', { op: 'get', key: 'k', r: 3 });
    h.settle();
    assert.deepEqual(values(h.replies.get('r')), ['from-a', 'from-b']);
  });

  it('it also supersedes siblings the coordinator holds (two blind writes, then a SET)', () => {
    const h = new Harness(['a', 'b', 'c']);
    h.request('w1', 'a', { op: 'put', key: 'k', value: enc('x'), w: 3 });
    h.settle();
    h.request('w2', 'b', { op: 'put', key: 'k', value: enc('y'), w: 3 });
    h.settle();
    h.request('s', 'c', { op: 'put', key: 'k', value: enc('z'), supersede: 'local', w: 3 });
    h.settle();
    h.request('r', 'a', { op: 'get', key: 'k', r: 3 });
    h.settle();
    assert.deepEqual(values(h.replies.get('r')), ['z']);
  });

  it('a non-replica forwards the option and the replica that coordinates applies it', () => {
    const h = new Harness(['a', 'b', 'c', 'd', 'e']);
    let key = '';
    for (let i = 0; ; i++) {
      key = `key-${i}`;
      if (!preferenceListForKey(h.node('a').currentRing, enc(key)).includes('a')) break;
    }
    for (let i = 0; i < 3; i++) {
      h.request(`w${i}`, 'a', { op: 'put', key, value: enc(`v${i}`), supersede: 'local', w: 2 });
      h.settle();
      assert.equal(h.replies.get(`w${i}`)?.ok, true);
    }
    h.request('r', 'a', { op: 'get', key, r: 3 });
    h.settle();
    assert.deepEqual(values(h.replies.get('r')), ['v2']);
  });
});
