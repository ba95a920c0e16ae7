/** TurnWrites: replies go out once per event-loop turn, in the order they were added. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TurnWrites } from '../../src/api/turn-writes.js';

describe('TurnWrites', () => {
  it('runs what was added after the current callback, its promise reactions and nextTicks, in order', async () => {
    const w = new TurnWrites();
    const seen: string[] = [];
    w.add(() => seen.push('a'));
    process.nextTick(() => seen.push('tick'));
    void Promise.resolve().then(() => { seen.push('reaction'); w.add(() => seen.push('b')); });
    seen.push('sync');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(seen.slice(0, 3).sort(), ['reaction', 'sync', 'tick']);
    assert.deepEqual(seen.slice(3), ['a', 'b']);
  });

  it('runs each write once; a write added while flushing waits for the next turn', async () => {
    const w = new TurnWrites();
    let runs = 0;
    let late = 0;
    w.add(() => { runs++; w.add(() => { late++; }); });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(runs, 1);
    assert.equal(late, 0, 'not in the same flush');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(late, 1);
    assert.equal(runs, 1);
  });
});

describe('TurnWrites, a failing write', () => {
  it('still runs the writes after it, and reports the error', async () => {
    const errors: unknown[] = [];
    const w = new TurnWrites((e) => errors.push(e));
    const seen: string[] = [];
    w.add(() => { throw new Error('boom'); });
    w.add(() => seen.push('after'));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(seen, ['after']);
    assert.equal((errors[0] as Error | undefined)?.message, 'boom');
  });
});
