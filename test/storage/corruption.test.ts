import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StorageError } from '../../src/storage/engine.js';
import { MemoryDisk } from '../../src/storage/fs/memory-fs.js';
import { openLsmEngine } from '../../src/storage/lsm/index.js';
import type { LsmEvent, LsmOptions } from '../../src/storage/lsm/index.js';
import { dec, enc, realClock } from './helpers.js';

/**
 * A flipped bit anywhere is detected, reported naming the file, and survived: the damaged
 * piece is rebuilt (index, meta, footer), done without (filter), rebuilt from the directory
 * (manifest), or refused for the keys it holds only (data block) while other keys are served.
 */
const DIR = '/db';
const KEYS = 2000;
const key = (i: number): string => `key-${String(i).padStart(5, '0')}`;
const val = (i: number): string => `value-${i}-${'v'.repeat(i % 50)}`;

function opts(disk: MemoryDisk, events: LsmEvent[] = []): LsmOptions {
  return { clock: realClock, dir: DIR, fs: disk.mount(), memtableBytes: 1 << 24, blockBytes: 2048, compaction: { enabled: false }, onEvent: (e) => events.push(e) };
}

/** One table holding KEYS keys; returns the disk and the table's path. */
async function oneTable(): Promise<{ disk: MemoryDisk; table: string }> {
  const disk = new MemoryDisk();
  const e = await openLsmEngine(opts(disk));
  const writes: Promise<void>[] = [];
  for (let i = 0; i < KEYS; i++) writes.push(e.write([{ key: enc(key(i)), value: enc(val(i)) }]));
  await Promise.all(writes);
  await e.close();
  const names = await disk.mount().readdir(DIR);
  const sst = names.filter((n) => n.endsWith('.sst'));
  assert.equal(sst.length, 1);
  return { disk, table: `${DIR}/${sst[0]}` };
}

async function footer(disk: MemoryDisk, path: string): Promise<{ filterOff: number; indexOff: number; metaOff: number; size: number }> {
  const data = Buffer.from(await disk.mount().readFile(path));
  const f = data.subarray(data.length - 44);
  return { filterOff: f.readUIntLE(0, 6), indexOff: f.readUIntLE(12, 6), metaOff: f.readUIntLE(24, 6), size: data.length };
}

async function allReadable(disk: MemoryDisk, events: LsmEvent[]): Promise<void> {
  const e = await openLsmEngine(opts(disk, events));
  for (let i = 0; i < KEYS; i += 7) assert.equal(dec(e.get(enc(key(i)))), val(i));
  assert.equal(e.get(enc('key-99999')), undefined);
  assert.equal([...e.scan()].length, KEYS);
  await e.close();
}

const corruptionOf = (events: LsmEvent[]): { file: string; what: string }[] =>
  events.flatMap((e) => (e.type === 'corruption' ? [e.report] : []));

describe('corruption is detected, reported and survived', () => {
  it('a flipped byte in a data block: those keys fail with a corruption error naming the file, others are served', async () => {
    const { disk, table } = await oneTable();
    disk.flipBit(table, 30, 3);
    const e = await openLsmEngine(opts(disk));
    assert.throws(() => e.get(enc(key(0))), (err: unknown) => err instanceof StorageError && err.code === 'corruption' && err.file === table && err.message.includes(table));
    assert.equal(dec(e.get(enc(key(KEYS - 1)))), val(KEYS - 1));
    assert.equal(dec(e.get(enc(key(KEYS / 2)))), val(KEYS / 2));
    assert.throws(() => [...e.scan()], (err: unknown) => err instanceof StorageError && err.code === 'corruption');
    assert.equal([...e.scan({ gte: enc(key(KEYS / 2)) })].length, KEYS / 2);
    // New writes go on, and shadow the damaged data.
    await e.write([{ key: enc(key(0)), value: enc('rewritten') }]);
    assert.equal(dec(e.get(enc(key(0)))), 'rewritten');
    await e.close();
  });

  it('compaction over a damaged block reports it and the node goes on', async () => {
    const { disk, table } = await oneTable();
    disk.flipBit(table, 30, 3);
    const events: LsmEvent[] = [];
    const e = await openLsmEngine({ ...opts(disk, events), compaction: { minMerge: 2, maxSizeAmpPercent: 0 } });
    await e.write([{ key: enc('zzz'), value: enc('1') }]);
    await e.flush();
    await e.idle();
    assert.ok(corruptionOf(events).some((r) => r.file === table), JSON.stringify(corruptionOf(events)));
    assert.equal(dec(e.get(enc('zzz'))), '1');
    assert.equal(dec(e.get(enc(key(KEYS - 1)))), val(KEYS - 1));
    await e.write([{ key: enc('after'), value: enc('2') }]);
    await e.close();
  });

  it('a flipped byte in the block index: reported, index rebuilt from the data blocks', async () => {
    const { disk, table } = await oneTable();
    const f = await footer(disk, table);
    disk.flipBit(table, f.indexOff + 20, 1);
    const events: LsmEvent[] = [];
    await allReadable(disk, events);
    assert.ok(corruptionOf(events).some((r) => r.file === table && r.what.includes('index')), JSON.stringify(corruptionOf(events)));
  });

  it('a flipped byte in the bloom filter: reported, reads go on without it', async () => {
    const { disk, table } = await oneTable();
    const f = await footer(disk, table);
    disk.flipBit(table, f.filterOff + 40, 5);
    const events: LsmEvent[] = [];
    await allReadable(disk, events);
    assert.ok(corruptionOf(events).some((r) => r.file === table && r.what.includes('filter')));
  });

  it('a flipped byte in the table meta or footer: reported, rebuilt', async () => {
    for (const where of ['meta', 'footer'] as const) {
      const { disk, table } = await oneTable();
      const f = await footer(disk, table);
      disk.flipBit(table, where === 'meta' ? f.metaOff + 15 : f.size - 30, 2);
      const events: LsmEvent[] = [];
      await allReadable(disk, events);
      assert.ok(corruptionOf(events).some((r) => r.file === table && r.what.includes(where)), where);
    }
  });

  it('a flipped byte in the manifest: reported, live set rebuilt from the tables', async () => {
    const { disk } = await oneTable();
    // A second table and a leftover: the rebuild must order them and keep the newest values.
    const e = await openLsmEngine(opts(disk));
    await e.write([{ key: enc(key(5)), value: enc('newer') }, { key: enc(key(6)), value: null }]);
    await e.close();
    disk.flipBit(`${DIR}/MANIFEST`, 40, 0);
    const events: LsmEvent[] = [];
    const e2 = await openLsmEngine(opts(disk, events));
    assert.ok(corruptionOf(events).some((r) => r.file === `${DIR}/MANIFEST`));
    assert.equal(dec(e2.get(enc(key(5)))), 'newer');
    assert.equal(e2.get(enc(key(6))), undefined);
    assert.equal(dec(e2.get(enc(key(7)))), val(7));
    assert.equal([...e2.scan()].length, KEYS - 1);
    await e2.close();
    // The rebuilt manifest is good again.
    const events3: LsmEvent[] = [];
    const e3 = await openLsmEngine(opts(disk, events3));
    assert.deepEqual(corruptionOf(events3), []);
    assert.equal(dec(e3.get(enc(key(5)))), 'newer');
    await e3.close();
  });

  it('a truncated commit-log tail: discarded and reported, earlier records kept', async () => {
    const disk = new MemoryDisk({ tornWrites: false });
    const e = await openLsmEngine(opts(disk));
    for (let i = 0; i < 10; i++) await e.write([{ key: enc(key(i)), value: enc(val(i)) }]);
    disk.crash(); // no close: the data lives only in the commit log
    const log = (await disk.mount().readdir(DIR)).find((n) => n.endsWith('.log'))!;
    const path = `${DIR}/${log}`;
    disk.truncate(path, disk.fileSize(path)! - 5);
    const events: LsmEvent[] = [];
    const e2 = await openLsmEngine(opts(disk, events));
    const torn = events.find((x) => x.type === 'log-tail-discarded');
    assert.ok(torn && torn.type === 'log-tail-discarded' && torn.file === path, JSON.stringify(events));
    for (let i = 0; i < 9; i++) assert.equal(dec(e2.get(enc(key(i)))), val(i));
    assert.equal(e2.get(enc(key(9))), undefined);
    await e2.close();
  });

  it('a corrupt record in the middle of the commit log stops recovery with the file and offset', async () => {
    const disk = new MemoryDisk({ tornWrites: false });
    const e = await openLsmEngine(opts(disk));
    for (let i = 0; i < 10; i++) await e.write([{ key: enc(key(i)), value: enc(val(i)) }]);
    disk.crash();
    const log = (await disk.mount().readdir(DIR)).find((n) => n.endsWith('.log'))!;
    const path = `${DIR}/${log}`;
    disk.flipBit(path, 20, 4);
    await assert.rejects(openLsmEngine(opts(disk)), (err: unknown) =>
      err instanceof StorageError && err.code === 'corruption' && err.file === path && /at offset 0\b/.test(err.message));
    // The operator may choose to salvage: the damaged record is skipped and reported.
    const events: LsmEvent[] = [];
    const e2 = await openLsmEngine({ ...opts(disk, events), logCorruption: 'salvage' });
    assert.ok(corruptionOf(events).some((r) => r.file === path && r.what.includes('salvage')));
    assert.equal(e2.get(enc(key(0))), undefined);
    for (let i = 1; i < 10; i++) assert.equal(dec(e2.get(enc(key(i)))), val(i));
    await e2.close();
  });
});
