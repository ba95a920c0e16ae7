import * as fs from 'node:fs';
import type { FileHandle, FileSystem } from '../ports/file-system.js';

/**
 * The real FileSystem port over node:fs. Writes use the callback API (one libuv request each,
 * no FileHandle object churn); point reads are synchronous positional reads on an open
 * descriptor, compaction reads asynchronous ones (libuv's thread pool).
 */
class NodeHandle implements FileHandle {
  constructor(readonly path: string, readonly fd: number) {}
}

function fdOf(handle: FileHandle): number {
  return (handle as NodeHandle).fd;
}

function call<T>(fn: (cb: (err: NodeJS.ErrnoException | null, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    fn((err, value) => (err ? reject(err) : resolve(value as T)));
  });
}

export class NodeFileSystem implements FileSystem {
  async mkdir(dir: string): Promise<void> {
    await fs.promises.mkdir(dir, { recursive: true });
  }

  async readdir(dir: string): Promise<string[]> {
    return (await fs.promises.readdir(dir)).sort();
  }

  async openRead(path: string): Promise<FileHandle> {
    const fd = await call<number>((cb) => fs.open(path, 'r', cb));
    return new NodeHandle(path, fd);
  }

  async create(path: string): Promise<FileHandle> {
    // O_APPEND and readable; truncated so that 'create' always starts empty.
    const fd = await call<number>((cb) => fs.open(path, 'a+', cb));
    await call<void>((cb) => fs.ftruncate(fd, 0, cb));
    return new NodeHandle(path, fd);
  }

  async append(handle: FileHandle, data: Uint8Array): Promise<void> {
    const fd = fdOf(handle);
    let offset = 0;
    while (offset < data.length) {
      const written = await call<number>((cb) => fs.write(fd, data, offset, data.length - offset, null, cb));
      offset += written;
    }
  }

  readSync(handle: FileHandle, buffer: Uint8Array, position: number, length = buffer.length): number {
    let total = 0;
    while (total < length) {
      const n = fs.readSync(fdOf(handle), buffer, total, length - total, position + total);
      if (n === 0) break;
      total += n;
    }
    return total;
  }

  async read(handle: FileHandle, buffer: Uint8Array, position: number, length = buffer.length): Promise<number> {
    let total = 0;
    while (total < length) {
      const n = await call<number>((cb) => fs.read(fdOf(handle), buffer, total, length - total, position + total, cb));
      if (n === 0) break;
      total += n;
    }
    return total;
  }

  sizeSync(handle: FileHandle): number {
    return fs.fstatSync(fdOf(handle)).size;
  }

  sync(handle: FileHandle): Promise<void> {
    return call<void>((cb) => fs.fdatasync(fdOf(handle), cb));
  }

  close(handle: FileHandle): Promise<void> {
    return call<void>((cb) => fs.close(fdOf(handle), cb));
  }

  async readFile(path: string): Promise<Uint8Array> {
    return fs.promises.readFile(path);
  }

  async exists(path: string): Promise<boolean> {
    try {
      await fs.promises.access(path);
      return true;
    } catch {
      return false;
    }
  }

  rename(from: string, to: string): Promise<void> {
    return fs.promises.rename(from, to);
  }

  unlink(path: string): Promise<void> {
    return fs.promises.unlink(path);
  }

  async syncDir(dir: string): Promise<void> {
    const fd = await call<number>((cb) => fs.open(dir, 'r', cb));
    try {
      await call<void>((cb) => fs.fsync(fd, cb));
    } finally {
      await call<void>((cb) => fs.close(fd, cb));
    }
  }
}

export const nodeFileSystem: FileSystem = new NodeFileSystem();
