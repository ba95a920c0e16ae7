import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { Harness } from '../harness.js';
import type { InFlight } from '../harness.js';
import { dataKey } from '../../../src/core/keys.js';
import { keyHash } from '../../../src/core/ring/index.js';
import { isDeleted } from '../../../src/core/clock/state.js';

const te = new TextEncoder();
const IDS = ['a', 'b', 'c'];
const GRACE_MS = 5_000;
const isAe = (m: InFlight): boolean => m.msg.type.startsWith('ae-');

function setup(dropDeleteTo?: string): Harness {
  const h = new Harness(IDS, { antiEntropy: { tombstoneGraceMs: GRACE_MS, intervalTicks: 1e9 } });
  for (const id of IDS) h.node(id).setTime(1_000);
  h.request('put', 'a', { op: 'put', key: 'k', value: te.encode('v'), w: 3 });
  h.settle((m) => !isAe(m));
  h.request('del', 'a', { op: 'put', key: 'k', value: null, context: h.node('a').localState('k').context, w: 1 });
  if (dropDeleteTo) h.drop((m) => m.msg.type === 'replica-put' && m.to === dropDeleteTo);
  h.settle((m) => !isAe(m));
  return h;
}

/** Runs a repair at `id` with every node's clock at `nowMs`. */
function repairAt(h: Harness, id: string, nowMs: number): void {
  h.node(id).antiEntropy.repair();
  for (let i = 0; i < 100 && h.node(id).antiEntropy.progress().running; i++) {
    for (const n of IDS) h.node(n).tick(nowMs);
    h.flush();
    h.settle();
  }
}

function askPurge(h: Harness, id: string): boolean {
  const stored = h.stores.get(id)!.get(dataKey('k'))!;
  return h.node(id).antiEntropy.canPurge('k', keyHash(te.encode('k')), stored);
}

describe('tombstone reclamation', () => {
  it('never on a timer alone: no purge without an exchange confirming every replica, however old', () => {
    const h = setup();
    assert.ok(isDeleted(h.node('a').localState('k')));
    for (const id of IDS) h.node(id).setTime(1_000_000_000);
    assert.equal(askPurge(h, 'a'), false);
  });

  it('purged once every fellow replica confirmed it by an exchange and the grace period passed', () => {
    const h = setup();
    repairAt(h, 'a', 2_000);
    assert.equal(askPurge(h, 'a'), false, 'within the grace period');
    h.node('a').setTime(2_000 + GRACE_MS + 1);
    assert.equal(askPurge(h, 'a'), true);
    assert.equal(h.node('a').stats().antiEntropy.tombstonesPurged, 1);
    assert.equal(askPurge(h, 'a'), false, 'the key left the tree: asked again, no');
  });

  it('a replica that missed the delete blocks the purge: its old value can never come back', () => {
    const h = setup('c');
    assert.equal(isDeleted(h.node('c').localState('k')), false, 'c still holds the value');
    // c is away: a's exchanges with it fail, so only b is confirmed.
    h.node('c').antiEntropy.beginLoad();
    repairAt(h, 'a', 2_000);
    h.node('a').setTime(1_000_000);
    assert.equal(askPurge(h, 'a'), false);
    // c returns; the exchange brings it the tombstone (the value does not come back), then a purge may follow.
    h.node('c').antiEntropy.finishLoad();
    repairAt(h, 'a', 1_000_000);
    assert.ok(isDeleted(h.node('c').localState('k')));
    assert.ok(isDeleted(h.node('a').localState('k')));
    assert.equal(askPurge(h, 'a'), false, 'the repair that brought c the tombstone does not count: roots differed');
    repairAt(h, 'a', 1_000_000 + GRACE_MS);
    h.node('a').setTime(1_000_000 + 2 * GRACE_MS);
    assert.equal(askPurge(h, 'a'), true);
  });
});
