import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nodeFileSystem } from '../../src/adapters/node-fs.js';
import type { FileSystem } from '../../src/ports/file-system.js';
import { joinPath } from '../../src/storage/fs/file-system.js';
import { MemoryDisk, SimulatedCrash } from '../../src/storage/fs/memory-fs.js';
import { tempDir } from './helpers.js';

interface FsFixture { fs: FileSystem; dir: string; cleanup: () => void }

/** The FileSystem port contract, run against node:fs and the memory disk. */
function runFileSystemCompliance(name: string, make: () => Promise<FsFixture>): void {
  describe(`${name}: FileSystem compliance`, () => {
    const withFs = (title: string, fn: (f: FsFixture) => Promise<void>): void => {
      it(title, async () => {
        const f = await make();
        try {
          await fn(f);
        } finally {
          f.cleanup();
        }
      });
    };

    withFs('create, append, positional sync reads, size, readFile', async ({ fs, dir }) => {
      const p = joinPath(dir, 'a.bin');
      const h = await fs.create(p);
      await fs.append(h, Buffer.from('hello '));
      await fs.append(h, Buffer.from('world'));
      await fs.sync(h);
      assert.equal(fs.sizeSync(h), 11);
      const buf = Buffer.alloc(5);
      assert.equal(fs.readSync(h, buf, 6), 5);
      assert.equal(buf.toString(), 'world');
      const tail = Buffer.alloc(10);
      assert.equal(fs.readSync(h, tail, 8), 3);
      assert.equal(fs.readSync(h, tail, 100), 0);
      assert.equal(fs.readSync(h, tail, 0, 2), 2);
      assert.equal(tail.subarray(0, 2).toString(), 'he');
      await fs.close(h);
      assert.equal(Buffer.from(await fs.readFile(p)).toString(), 'hello world');
      const r = await fs.openRead(p);
      assert.equal(fs.sizeSync(r), 11);
      await fs.close(r);
    });

    withFs('asynchronous positional reads return what the synchronous ones do', async ({ fs, dir }) => {
      assert.ok(fs.read, 'both twins offer read');
      const p = joinPath(dir, 'r.bin');
      const h = await fs.create(p);
      const data = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) & 0xff));
      await fs.append(h, data);
      await fs.sync(h);
      await fs.close(h);
      const r = await fs.openRead(p);
      const a = Buffer.alloc(1000);
      const b = Buffer.alloc(1000);
      assert.equal(await fs.read(r, a, 1234), 1000);
      assert.equal(fs.readSync(r, b, 1234), 1000);
      assert.deepEqual(a, b);
      assert.deepEqual(a, data.subarray(1234, 2234));
      const tail = Buffer.alloc(100);
      assert.equal(await fs.read(r, tail, 2950), 50, 'a short read at the end of the file');
      assert.deepEqual(tail.subarray(0, 50), data.subarray(2950));
      assert.equal(await fs.read(r, tail, 5000), 0);
      assert.equal(await fs.read(r, tail, 0, 10), 10);
      assert.deepEqual(tail.subarray(0, 10), data.subarray(0, 10));
      await fs.close(r);
    });

    withFs('create empties an existing file', async ({ fs, dir }) => {
      const p = joinPath(dir, 'b');
      const h = await fs.create(p);
      await fs.append(h, Buffer.from('old data'));
      await fs.close(h);
      const h2 = await fs.create(p);
      await fs.append(h2, Buffer.from('new'));
      await fs.close(h2);
      assert.equal(Buffer.from(await fs.readFile(p)).toString(), 'new');
    });

    withFs('readdir, exists, rename replaces, unlink, mkdir nested', async ({ fs, dir }) => {
      await fs.mkdir(joinPath(dir, 'sub/deeper'));
      await fs.mkdir(joinPath(dir, 'sub'));
      for (const n of ['c', 'a', 'b']) await fs.close(await fs.create(joinPath(dir, n)));
      assert.deepEqual(await fs.readdir(dir), ['a', 'b', 'c', 'sub']);
      const h = await fs.create(joinPath(dir, 'a'));
      await fs.append(h, Buffer.from('A'));
      await fs.close(h);
      await fs.rename(joinPath(dir, 'a'), joinPath(dir, 'b'));
      await fs.syncDir(dir);
      assert.equal(await fs.exists(joinPath(dir, 'a')), false);
      assert.equal(Buffer.from(await fs.readFile(joinPath(dir, 'b'))).toString(), 'A');
      await fs.unlink(joinPath(dir, 'c'));
      assert.deepEqual(await fs.readdir(dir), ['b', 'sub']);
      await assert.rejects(fs.openRead(joinPath(dir, 'c')));
      await assert.rejects(fs.unlink(joinPath(dir, 'c')));
      await assert.rejects(fs.readFile(joinPath(dir, 'zzz')));
    });

    withFs('an unlinked file stays readable through an open handle', async ({ fs, dir }) => {
      const p = joinPath(dir, 'u');
      const h = await fs.create(p);
      await fs.append(h, Buffer.from('still here'));
      const r = await fs.openRead(p);
      await fs.unlink(p);
      const buf = Buffer.alloc(10);
      assert.equal(fs.readSync(r, buf, 0), 10);
      assert.equal(buf.toString(), 'still here');
      await fs.close(r);
      await fs.close(h);
    });
  });
}

runFileSystemCompliance('node:fs adapter', async () => {
  const t = tempDir();
  return { fs: nodeFileSystem, dir: t.dir, cleanup: t.remove };
});

runFileSystemCompliance('memory disk', async () => {
  const fs = new MemoryDisk().mount();
  await fs.mkdir('/data');
  return { fs, dir: '/data', cleanup: () => {} };
});

describe('memory disk durability model', () => {
  it('loses unsynced appends and keeps synced ones', async () => {
    const disk = new MemoryDisk({ tornWrites: false });
    const fs = disk.mount();
    await fs.mkdir('/d');
    const h = await fs.create('/d/f');
    await fs.syncDir('/d');
    await fs.append(h, Buffer.from('durable'));
    await fs.sync(h);
    await fs.append(h, Buffer.from(' lost'));
    disk.crash();
    await assert.rejects(fs.readFile('/d/f'), SimulatedCrash);
    const fs2 = disk.mount();
    assert.equal(Buffer.from(await fs2.readFile('/d/f')).toString(), 'durable');
  });

  it('a torn write keeps a prefix of the unsynced tail', async () => {
    const disk = new MemoryDisk({ seed: 3 });
    const fs = disk.mount();
    await fs.mkdir('/d');
    const h = await fs.create('/d/f');
    await fs.syncDir('/d');
    await fs.append(h, Buffer.from('0123456789'));
    disk.crash();
    const s = Buffer.from(await disk.mount().readFile('/d/f')).toString();
    assert.ok('0123456789'.startsWith(s));
  });

  it('a rename or create not followed by syncDir can be lost', async () => {
    let lostRename = false;
    let keptRename = false;
    for (let seed = 1; seed <= 20; seed++) {
      const disk = new MemoryDisk({ seed });
      const fs = disk.mount();
      await fs.mkdir('/d');
      const a = await fs.create('/d/old');
      await fs.append(a, Buffer.from('old'));
      await fs.sync(a);
      await fs.syncDir('/d');
      const b = await fs.create('/d/tmp');
      await fs.append(b, Buffer.from('new'));
      await fs.sync(b);
      await fs.rename('/d/tmp', '/d/old');
      disk.crash();
      const text = Buffer.from(await disk.mount().readFile('/d/old')).toString();
      if (text === 'old') lostRename = true;
      else if (text === 'new') keptRename = true;
      else assert.fail(`unexpected ${text}`);
    }
    assert.ok(lostRename && keptRename);
    // After syncDir, the rename always survives.
    const disk = new MemoryDisk();
    const fs = disk.mount();
    await fs.mkdir('/d');
    const b = await fs.create('/d/tmp');
    await fs.append(b, Buffer.from('new'));
    await fs.sync(b);
    await fs.rename('/d/tmp', '/d/new');
    await fs.syncDir('/d');
    disk.crash();
    assert.equal(Buffer.from(await disk.mount().readFile('/d/new')).toString(), 'new');
  });

  it('crashAfterOps crashes at the chosen operation', async () => {
    const disk = new MemoryDisk();
    const fs = disk.mount();
    await fs.mkdir('/d');
    disk.crashAfterOps = disk.opCount + 2;
    const h = await fs.create('/d/x');
    await assert.rejects(fs.append(h, Buffer.from('x')), SimulatedCrash);
    assert.equal(disk.isDown, true);
  });
});
