/** When a read asks its spares: the 99th percentile of recent replica round trips, never below the floor. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ReadLatency } from '../../../src/core/kv/read-latency.js';

describe('ReadLatency', () => {
  it('waits the floor until it has samples, then the 99th percentile of the window plus a tick', () => {
    const l = new ReadLatency(100, 10);
    assert.equal(l.spareDelay(5), 5);
    for (let i = 0; i < 99; i++) l.add(1);
    l.add(20); // 1 in 100: the percentile is the largest but one
    assert.equal(l.spareDelay(5), 5, 'p99 of 99 ones and a 20 is 1: the floor wins');
    for (let i = 0; i < 10; i++) l.add(12);
    assert.equal(l.spareDelay(5), 13, 'ten slow reads in a window of 100: p99 is 12');
  });

  it('forgets samples older than its window (a slow spell passes)', () => {
    const l = new ReadLatency(50, 10);
    for (let i = 0; i < 50; i++) l.add(30);
    assert.equal(l.spareDelay(5), 31);
    for (let i = 0; i < 50; i++) l.add(0);
    assert.equal(l.spareDelay(5), 5);
  });
});
