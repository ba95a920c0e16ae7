import type { FileHandle, FileSystem } from '../../ports/file-system.js';

/**
 * An in-memory disk that models durability, for the simulator and the crash tests.
 *
 * - File data written but not fsynced is lost at a crash: a file reverts to what its last `sync`
 *   covered (optionally keeping a random prefix of the unsynced tail: a torn write).
 * - Creations, renames and unlinks not followed by `syncDir` of their directory may be lost: at a
 *   crash a random prefix (in order) of them survives.
 * - `crash()` takes the disk down: every mount made before it fails from then on, so an engine
 *   that was running cannot touch the disk again; `mount()` gives the next process its view.
 * - `crashAfterOps` crashes the disk right before the n-th mutating operation (create, append,
 *   sync, rename, unlink, syncDir), which makes seeded crash points inside flushes, compactions
 *   and manifest updates.
 * Randomness comes from a seed, so one seed replays one crash exactly.
 */
interface Inode {
  data: Buffer;
  length: number;
  durableLength: number;
}

type DirOp = { dir: string; apply: (names: Map<string, Inode>) => void };

export class SimulatedCrash extends Error {
  constructor(message = 'simulated crash') {
    super(message);
    this.name = 'SimulatedCrash';
  }
}

export interface MemoryDiskOptions {
  seed?: number;
  /** Keep a random prefix of unsynced appends at a crash (default true). */
  tornWrites?: boolean;
  /** Keep a random prefix of un-synced directory operations at a crash (default true). */
  partialDirOps?: boolean;
  /**
   * When set, every asynchronous operation completes (takes effect and settles its promise)
   * in the callback given to `schedule`: the simulator passes one that runs it from its
   * virtual clock's event queue, so no interleaving depends on the host. The engine never has
   * two operations in flight on one file, so any completion order is a possible one.
   */
  schedule?: (complete: () => void) => void;
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

function nameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export class MemoryDisk {
  private names = new Map<string, Inode>();
  private durableNames = new Map<string, Inode>();
  private pendingDirOps: DirOp[] = [];
  private dirs = new Set<string>(['/']);
  private epoch = 0;
  private down = false;
  private rngState: number;
  private readonly torn: boolean;
  private readonly partialDirOps: boolean;
  /** Mutating operations so far (across mounts). */
  opCount = 0;
  /** When set, the disk crashes right before mutating operation number `crashAfterOps`. */
  crashAfterOps: number | undefined;
  crashes = 0;
  readonly schedule: ((complete: () => void) => void) | undefined;

  constructor(options: MemoryDiskOptions = {}) {
    this.schedule = options.schedule;
    // Scramble the seed (murmur3's finalizer) so that nearby seeds give unrelated sequences.
    let h = (options.seed ?? 1) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    this.rngState = (h ^ (h >>> 16)) >>> 0 || 1;
    this.torn = options.tornWrites ?? true;
    this.partialDirOps = options.partialDirOps ?? true;
  }

  /** A FileSystem for one process lifetime. */
  mount(): FileSystem {
    if (this.down) this.down = false;
    return new MemoryFileSystem(this, this.epoch);
  }

  get isDown(): boolean {
    return this.down;
  }

  /** Power loss: what was not made durable is lost (see the class comment). */
  crash(): void {
    this.crashes += 1;
    this.crashAfterOps = undefined;
    // Directory operations: a random prefix of the pending ones reaches the disk.
    const keep = this.partialDirOps ? this.randInt(this.pendingDirOps.length + 1) : 0;
    for (const op of this.pendingDirOps.slice(0, keep)) op.apply(this.durableNames);
    this.pendingDirOps = [];
    this.names = new Map(this.durableNames);
    // File data: back to the last sync, plus possibly a torn piece of what followed.
    const seen = new Set<Inode>();
    for (const inode of this.names.values()) {
      if (seen.has(inode)) continue;
      seen.add(inode);
      let len = inode.durableLength;
      if (this.torn && inode.length > len) len += this.randInt(inode.length - len + 1);
      inode.length = len;
      inode.durableLength = len;
    }
    this.epoch += 1;
    this.down = true;
  }

  /** Flips one bit of a file, durably (for corruption tests). */
  flipBit(path: string, byteOffset: number, bit = 0): void {
    const inode = this.names.get(path);
    if (!inode || byteOffset >= inode.length) throw new Error(`flipBit: no byte ${byteOffset} in ${path}`);
    inode.data[byteOffset]! ^= 1 << bit;
  }

  /** Current size of a file, or undefined. */
  fileSize(path: string): number | undefined {
    return this.names.get(path)?.length;
  }

  /** Truncates a file durably (for corruption tests). */
  truncate(path: string, length: number): void {
    const inode = this.names.get(path);
    if (!inode) throw new Error(`truncate: no file ${path}`);
    inode.length = Math.min(inode.length, length);
    inode.durableLength = Math.min(inode.durableLength, inode.length);
  }

  private randInt(n: number): number {
    // xorshift32: deterministic per seed.
    let x = this.rngState;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rngState = x >>> 0;
    return n <= 0 ? 0 : this.rngState % n;
  }

  // --- used by MemoryFileSystem ---

  check(epoch: number, mutating: boolean): void {
    if (this.down || epoch !== this.epoch) throw new SimulatedCrash('disk is gone (crashed)');
    if (!mutating) return;
    this.opCount += 1;
    if (this.crashAfterOps !== undefined && this.opCount >= this.crashAfterOps) {
      this.crash();
      throw new SimulatedCrash();
    }
  }

  lookup(path: string): Inode | undefined {
    return this.names.get(path);
  }

  hasDir(dir: string): boolean {
    return this.dirs.has(dir);
  }

  addDir(dir: string): void {
    let d = dir;
    while (d !== '/' && d !== '' && !this.dirs.has(d)) {
      this.dirs.add(d);
      d = parentOf(d);
    }
  }

  list(dir: string): string[] {
    const out: string[] = [];
    for (const path of this.names.keys()) if (parentOf(path) === dir) out.push(nameOf(path));
    for (const d of this.dirs) if (d !== dir && parentOf(d) === dir) out.push(nameOf(d));
    return out.sort();
  }

  dirOp(dir: string, apply: (names: Map<string, Inode>) => void): void {
    apply(this.names);
    this.pendingDirOps.push({ dir, apply });
  }

  syncDir(dir: string): void {
    const rest: DirOp[] = [];
    for (const op of this.pendingDirOps) {
      if (op.dir === dir) op.apply(this.durableNames);
      else rest.push(op);
    }
    this.pendingDirOps = rest;
  }
}

class MemoryHandle implements FileHandle {
  constructor(readonly path: string, readonly inode: Inode, readonly epoch: number) {}
  closed = false;
}

function enoent(path: string): Error {
  const err = new Error(`ENOENT: no such file or directory, '${path}'`) as NodeJS.ErrnoException;
  err.code = 'ENOENT';
  return err;
}

class MemoryFileSystem implements FileSystem {
  constructor(private readonly disk: MemoryDisk, private readonly epoch: number) {}

  /**
   * Runs an operation and settles its promise: at once (in a microtask), or, when the disk
   * has a `schedule`, when the simulator's event queue says the operation completes. The
   * operation takes effect at completion, so a crash before then loses it.
   */
  private settle<T>(op: () => T): Promise<T> {
    const run = (resolve: (v: T) => void, reject: (e: unknown) => void): void => {
      try {
        resolve(op());
      } catch (err) {
        reject(err);
      }
    };
    const schedule = this.disk.schedule;
    return new Promise<T>((resolve, reject) => {
      if (schedule) schedule(() => run(resolve, reject));
      else run(resolve, reject);
    });
  }

  private handle(h: FileHandle, mutating: boolean): MemoryHandle {
    const mh = h as MemoryHandle;
    if (mh.epoch !== this.epoch) throw new SimulatedCrash('stale handle');
    this.disk.check(this.epoch, mutating);
    if (mh.closed) throw new Error(`file closed: ${h.path}`);
    return mh;
  }

  mkdir(dir: string): Promise<void> {
    return this.settle(() => {
      this.disk.check(this.epoch, false);
      this.disk.addDir(dir);
    });
  }

  readdir(dir: string): Promise<string[]> {
    return this.settle(() => {
      this.disk.check(this.epoch, false);
      if (!this.disk.hasDir(dir)) throw enoent(dir);
      return this.disk.list(dir);
    });
  }

  openRead(path: string): Promise<FileHandle> {
    return this.settle(() => {
      this.disk.check(this.epoch, false);
      const inode = this.disk.lookup(path);
      if (!inode) throw enoent(path);
      return new MemoryHandle(path, inode, this.epoch);
    });
  }

  create(path: string): Promise<FileHandle> {
    return this.settle(() => {
      this.disk.check(this.epoch, true);
      if (!this.disk.hasDir(parentOf(path))) throw enoent(path);
      const inode: Inode = { data: Buffer.alloc(256), length: 0, durableLength: 0 };
      this.disk.dirOp(parentOf(path), (names) => names.set(path, inode));
      return new MemoryHandle(path, inode, this.epoch);
    });
  }

  append(handle: FileHandle, data: Uint8Array): Promise<void> {
    return this.settle(() => {
      const { inode } = this.handle(handle, true);
      const need = inode.length + data.length;
      if (need > inode.data.length) {
        const grown = Buffer.alloc(Math.max(need, inode.data.length * 2));
        inode.data.copy(grown, 0, 0, inode.length);
        inode.data = grown;
      }
      inode.data.set(data, inode.length);
      inode.length = need;
    });
  }

  readSync(handle: FileHandle, buffer: Uint8Array, position: number, length = buffer.length): number {
    const { inode } = this.handle(handle, false);
    if (position >= inode.length) return 0;
    const n = Math.min(length, inode.length - position);
    buffer.set(inode.data.subarray(position, position + n), 0);
    return n;
  }

  /** The asynchronous read: settles like every other operation (from the simulator's queue). */
  read(handle: FileHandle, buffer: Uint8Array, position: number, length = buffer.length): Promise<number> {
    return this.settle(() => this.readSync(handle, buffer, position, length));
  }

  sizeSync(handle: FileHandle): number {
    return this.handle(handle, false).inode.length;
  }

  sync(handle: FileHandle): Promise<void> {
    return this.settle(() => {
      const { inode } = this.handle(handle, true);
      inode.durableLength = inode.length;
    });
  }

  close(handle: FileHandle): Promise<void> {
    return this.settle(() => {
      const mh = handle as MemoryHandle;
      mh.closed = true;
    });
  }

  readFile(path: string): Promise<Uint8Array> {
    return this.settle(() => {
      this.disk.check(this.epoch, false);
      const inode = this.disk.lookup(path);
      if (!inode) throw enoent(path);
      return Buffer.from(inode.data.subarray(0, inode.length));
    });
  }

  exists(path: string): Promise<boolean> {
    return this.settle(() => {
      this.disk.check(this.epoch, false);
      return this.disk.lookup(path) !== undefined || this.disk.hasDir(path);
    });
  }

  rename(from: string, to: string): Promise<void> {
    return this.settle(() => {
      this.disk.check(this.epoch, true);
      if (!this.disk.lookup(from)) throw enoent(from);
      const dir = parentOf(to);
      this.disk.dirOp(dir, (names) => {
        const inode = names.get(from);
        if (!inode) return;
        names.delete(from);
        names.set(to, inode);
      });
    });
  }

  unlink(path: string): Promise<void> {
    return this.settle(() => {
      this.disk.check(this.epoch, true);
      if (!this.disk.lookup(path)) throw enoent(path);
      this.disk.dirOp(parentOf(path), (names) => names.delete(path));
    });
  }

  syncDir(dir: string): Promise<void> {
    return this.settle(() => {
      this.disk.check(this.epoch, true);
      this.disk.syncDir(dir);
    });
  }
}
