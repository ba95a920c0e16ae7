/**
 * The FileSystem port: exactly what the storage engine needs from a disk, and nothing more.
 * The real adapter is src/adapters/node-fs.ts; src/storage/fs/memory-fs.ts is an in-memory twin
 * that models durability (what was not fsynced is lost at a simulated crash). Both pass
 * test/storage/file-system.test.ts.
 *
 * Files are written only by appending (commit-log segments, SSTables and the manifest are all
 * written front to back), and read with synchronous positional reads so that engine reads can
 * stay synchronous. Paths are plain '/'-joined strings.
 */
export interface FileHandle {
  readonly path: string;
}

export interface FileSystem {
  /** Creates the directory (and its parents); no error if it exists. */
  mkdir(dir: string): Promise<void>;
  /** Names (not paths) in the directory, sorted. */
  readdir(dir: string): Promise<string[]>;
  /** Opens an existing file for reading. */
  openRead(path: string): Promise<FileHandle>;
  /** Creates the file, or empties it if it exists, and opens it for appending (and reading). */
  create(path: string): Promise<FileHandle>;
  /** Appends the bytes at the end of the file. Durable only after `sync`. */
  append(handle: FileHandle, data: Uint8Array): Promise<void>;
  /**
   * Reads up to `length` bytes (default: the buffer's length) at `position` into `buffer`;
   * returns how many were read (fewer at the end of the file).
   */
  readSync(handle: FileHandle, buffer: Uint8Array, position: number, length?: number): number;
  /**
   * The same read, asynchronous (the real disk reads on libuv's thread pool): compactions read
   * their inputs with it so that their reads do not block the event loop. Optional: without it
   * the engine reads with `readSync`.
   */
  read?(handle: FileHandle, buffer: Uint8Array, position: number, length?: number): Promise<number>;
  /** The file's current size. */
  sizeSync(handle: FileHandle): number;
  /** Makes the file's data durable (fdatasync). */
  sync(handle: FileHandle): Promise<void>;
  close(handle: FileHandle): Promise<void>;
  /** The whole file (used for the manifest and for log replay). */
  readFile(path: string): Promise<Uint8Array>;
  exists(path: string): Promise<boolean>;
  /** Atomically replaces `to`. Durable only after `syncDir` of the directory. */
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** Makes creations, renames and unlinks in the directory durable (fsync of the directory). */
  syncDir(dir: string): Promise<void>;
}
