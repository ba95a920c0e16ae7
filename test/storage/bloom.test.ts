import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryDisk } from '../../src/storage/fs/memory-fs.js';
import { BloomFilter } from '../../src/storage/lsm/bloom.js';
import { openLsmEngine } from '../../src/storage/lsm/index.js';
import { enc, realClock } from './helpers.js';

function measure(fpRate: number, n: number, probes: number): number {
  const hashes: number[] = [];
  for (let i = 0; i < n; i++) BloomFilter.hashes(enc(`present-${i}`), hashes);
  const filter = BloomFilter.decode(BloomFilter.build(hashes, fpRate).encode());
  for (let i = 0; i < n; i++) assert.ok(filter.mayContain(enc(`present-${i}`)), 'no false negatives');
  let fp = 0;
  for (let i = 0; i < probes; i++) if (filter.mayContain(enc(`absent-${i}`))) fp++;
  return fp / probes;
}

describe('bloom filter', () => {
  for (const rate of [0.01, 0.05, 0.001]) {
    it(`measured false-positive rate is within 1.5× of the configured ${rate}`, () => {
      const measured = measure(rate, 50_000, 200_000);
      console.log(`# bloom fp: configured ${rate}, measured ${measured.toFixed(5)} (${(measured / rate).toFixed(2)}×)`);
      assert.ok(measured <= rate * 1.5, `measured ${measured}`);
      assert.ok(measured >= rate / 3, `suspiciously low ${measured}: filter larger than configured?`);
    });
  }

  it('a filter filled along the way (sized up front) is the one built at the end', () => {
    const hashes: number[] = [];
    const along = BloomFilter.sized(20_000, 0.01);
    for (let i = 0; i < 20_000; i++) {
      BloomFilter.hashes(enc(`k-${i}`), hashes);
      along.addKey(enc(`k-${i}`));
    }
    assert.deepEqual(along.encode(), BloomFilter.build(hashes, 0.01).encode());
    // Planned for twice the keys it got: no false negatives, a lower false-positive rate.
    const roomy = BloomFilter.sized(40_000, 0.01);
    for (let i = 0; i < 20_000; i++) roomy.addKey(enc(`k-${i}`));
    for (let i = 0; i < 20_000; i++) assert.ok(roomy.mayContain(enc(`k-${i}`)));
    let fp = 0;
    for (let i = 0; i < 50_000; i++) if (roomy.mayContain(enc(`absent-${i}`))) fp++;
    assert.ok(fp / 50_000 < 0.01, `fp ${fp / 50_000}`);
  });

  it('in the engine: absent keys within a table\'s key range touch a block about 1% of the time', async () => {
    const disk = new MemoryDisk();
    const e = await openLsmEngine({ clock: realClock, dir: '/db', fs: disk.mount(), memtableBytes: 1 << 26, compaction: { enabled: false } });
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 20_000; i++) writes.push(e.write([{ key: enc(`k${String(i * 2).padStart(6, '0')}`), value: enc('v') }]));
    await Promise.all(writes);
    await e.flush();
    const before = e.stats();
    const probes = 20_000;
    for (let i = 0; i < probes; i++) assert.equal(e.get(enc(`k${String(i * 2 + 1).padStart(6, '0')}`)), undefined);
    const after = e.stats();
    const touched = after.blockCacheHits + after.blockCacheMisses - before.blockCacheHits - before.blockCacheMisses;
    const rate = touched / probes;
    console.log(`# bloom fp in the engine: ${rate.toFixed(4)}`);
    assert.ok(rate <= 0.015, `rate ${rate}`);
    await e.close();
  });
});
