import { crc32 } from '../checksum.js';
import { StorageError } from '../engine.js';
import type { FileHandle, FileSystem } from '../../ports/file-system.js';
import { joinPath } from '../fs/file-system.js';
import { decodeBatch } from './record.js';

/**
 * The commit log: numbered segment files of records framed as [u32 length][u32 crc32][payload].
 *
 * One async loop owns the active segment. Each turn takes every record that queued up since
 * the last turn, appends them with one write and (policy `group`) one fdatasync, then resolves
 * them all: concurrent writers share an fsync. `periodic` acknowledges after the write and
 * fsyncs on a timer; `none` never fsyncs (tests only). A segment is rotated when its memtable
 * is frozen, so a segment can be deleted as soon as its memtable is in an SSTable.
 */
export type SyncPolicy = 'group' | 'periodic' | 'none';

type Item =
  | { kind: 'record'; frame: Buffer; resolve: () => void; reject: (e: unknown) => void }
  | { kind: 'rotate' | 'sync' | 'close'; num: number; resolve: () => void; reject: (e: unknown) => void };

export function segmentFileName(num: number): string {
  return `${String(num).padStart(6, '0')}.log`;
}

export class CommitLog {
  private handle: FileHandle | undefined;
  private queue: Item[] = [];
  private running = false;
  private dirty = false;
  private stopped = false;
  private allocate: () => number = () => {
    throw new Error('commit log not started');
  };
  /** Segments created ahead of rotations, by number (insertion order = number order). */
  private readonly spares = new Map<number, Promise<FileHandle>>();
  failed: Error | undefined;
  syncs = 0;
  bytes = 0;
  /** Time spent in the group commits' fdatasync calls (policy `group`), in the engine's clock. */
  syncMs = 0;

  constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    private readonly policy: SyncPolicy,
    private readonly periodicMs: number,
    private readonly groupBytes: number,
    private readonly onFail: (err: Error) => void,
    private readonly sleep: (ms: number) => Promise<void>,
    private readonly nowMs: () => number = () => 0,
  ) {}

  /**
   * Creates segment `num` and makes its directory entry durable. `allocate` hands out numbers
   * for the spare segments, which are created ahead of time so that a rotation never waits
   * for a file creation and a directory fsync.
   */
  async start(num: number, allocate: () => number): Promise<void> {
    this.allocate = allocate;
    this.handle = await this.createSegment(num);
    this.prepareSpare();
    if (this.policy === 'periodic') void this.periodicSyncs();
  }

  private async periodicSyncs(): Promise<void> {
    while (!this.stopped && !this.failed) {
      await this.sleep(this.periodicMs);
      if (this.stopped || this.failed) return;
      if (this.dirty && !this.queue.some((i) => i.kind === 'sync')) await this.enqueue('sync', 0).catch(() => undefined);
    }
  }

  private async createSegment(num: number): Promise<FileHandle> {
    const h = await this.fs.create(joinPath(this.dir, segmentFileName(num)));
    await this.fs.syncDir(this.dir);
    return h;
  }

  private prepareSpare(): void {
    const num = this.allocate();
    const ready = this.createSegment(num);
    ready.catch(() => undefined);
    this.spares.set(num, ready);
  }

  /** Frames and queues a record. `buf` has 8 spare bytes in front for the frame header. */
  append(buf: Buffer): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    buf.writeUInt32LE(buf.length - 8, 0);
    buf.writeUInt32LE(crc32(buf.subarray(8)), 4);
    return new Promise((resolve, reject) => {
      this.queue.push({ kind: 'record', frame: buf, resolve, reject });
      this.kick();
    });
  }

  /**
   * Records queued after this go to a new segment, whose number is returned at once; `done`
   * resolves once the old segment is synced and closed.
   */
  rotate(): { num: number; done: Promise<void> } {
    const num = [...this.spares.keys()].pop()!;
    this.prepareSpare();
    return { num, done: this.enqueue('rotate', num) };
  }

  /** Drains, syncs and closes (the unused spare segment stays, empty, for the next open). */
  async close(): Promise<void> {
    this.stopped = true;
    await this.enqueue('close', 0);
    for (const ready of this.spares.values()) await this.fs.close(await ready);
    this.spares.clear();
  }

  private enqueue(kind: 'rotate' | 'sync' | 'close', num: number): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.queue.push({ kind, num, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.running) return;
    this.running = true;
    void this.run();
  }

  private async run(): Promise<void> {
    let inFlight: Item[] = [];
    try {
      while (this.queue.length > 0) {
        const head = this.queue[0]!;
        if (head.kind !== 'record') {
          this.queue.shift();
          inFlight = [head];
          if (head.kind === 'sync' || head.kind === 'close' || head.kind === 'rotate') {
            if (this.dirty && this.handle) {
              this.dirty = false;
              await this.fs.sync(this.handle);
              this.syncs++;
            }
          }
          if (head.kind === 'rotate' || head.kind === 'close') {
            if (this.handle) await this.fs.close(this.handle);
            this.handle = undefined;
            if (head.kind === 'rotate') {
              const spare = this.spares.get(head.num)!;
              this.spares.delete(head.num);
              this.handle = await spare;
            }
          }
          inFlight = [];
          head.resolve();
          continue;
        }
        let n = 0;
        let bytes = 0;
        while (n < this.queue.length) {
          const it = this.queue[n]!;
          if (it.kind !== 'record' || (n > 0 && bytes + it.frame.length > this.groupBytes)) break;
          bytes += it.frame.length;
          n++;
        }
        inFlight = this.queue.splice(0, n);
        const data = n === 1
          ? (inFlight[0] as { frame: Buffer }).frame
          : Buffer.concat(inFlight.map((i) => (i as { frame: Buffer }).frame), bytes);
        if (!this.handle) throw new StorageError('closed', 'commit log is closed');
        await this.fs.append(this.handle, data);
        this.bytes += bytes;
        if (this.policy === 'group') {
          const since = this.nowMs();
          await this.fs.sync(this.handle);
          this.syncMs += this.nowMs() - since;
          this.syncs++;
        } else {
          this.dirty = true;
        }
        const done = inFlight;
        inFlight = [];
        for (const it of done) it.resolve();
      }
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      this.failed = e;
      for (const it of inFlight) it.reject(e);
      for (const it of this.queue) it.reject(e);
      this.queue = [];
      this.stopped = true;
      this.onFail(e);
    } finally {
      this.running = false;
    }
  }
}

export interface ReplayReport {
  /** Bytes discarded from a torn tail (0 when the segment ended cleanly). */
  tornBytes: number;
  tornOffset?: number;
  records: number;
  /** With `salvage`: corrupt stretches skipped (up to the next valid record). */
  skipped: { offset: number; bytes: number; what: string }[];
}

/**
 * Replays one segment. A damaged record with no valid record after it is a torn tail (a write
 * cut short by the crash): it is dropped and reported. A damaged record followed by valid
 * ones, or in a segment that is not the last, is corruption: replay stops with a StorageError
 * naming the file and offset, since skipping it would silently lose acknowledged writes —
 * unless `salvage` (an operator's choice): then the damaged stretch is skipped up to the next
 * valid record and reported.
 */
export async function replaySegment(
  fs: FileSystem, path: string, isLast: boolean, maxRecordBytes: number,
  apply: (key: Buffer, value: Buffer | null) => void, salvage = false,
): Promise<ReplayReport> {
  const data = Buffer.from(await fs.readFile(path));
  let p = 0;
  let records = 0;
  const skipped: ReplayReport['skipped'] = [];
  while (p < data.length) {
    let bad: string | undefined;
    let len = 0;
    if (p + 8 > data.length) bad = 'truncated header';
    else {
      len = data.readUInt32LE(p);
      if (len === 0 || len > maxRecordBytes || p + 8 + len > data.length) bad = `bad length ${len}`;
      else if (crc32(data.subarray(p + 8, p + 8 + len)) !== data.readUInt32LE(p + 4)) bad = 'checksum mismatch';
    }
    if (bad === undefined) {
      // Decode into a list first: a malformed record must not half-apply.
      const ops: [Buffer, Buffer | null][] = [];
      try {
        decodeBatch(data.subarray(p + 8, p + 8 + len), (k, v) => ops.push([k, v]));
      } catch (err) {
        bad = `malformed record: ${(err as Error).message}`;
      }
      if (bad === undefined) {
        for (const [k, v] of ops) apply(k, v);
        records++;
        p += 8 + len;
        continue;
      }
    }
    const next = nextValidRecord(data, p + 1, maxRecordBytes);
    if (!isLast || next >= 0) {
      const message = `corrupt commit-log record in ${path} at offset ${p}: ${bad}`;
      if (!salvage) throw new StorageError('corruption', message, path);
      const resume = next >= 0 ? next : data.length;
      skipped.push({ offset: p, bytes: resume - p, what: message });
      p = resume;
      continue;
    }
    return { tornBytes: data.length - p, tornOffset: p, records, skipped };
  }
  return { tornBytes: 0, records, skipped };
}

/** Offset of the first record after `from` whose checksum holds, or -1. */
function nextValidRecord(data: Buffer, from: number, maxRecordBytes: number): number {
  for (let q = from; q + 8 <= data.length; q++) {
    const len = data.readUInt32LE(q);
    if (len < 4 || len > maxRecordBytes || q + 8 + len > data.length) continue;
    if (crc32(data.subarray(q + 8, q + 8 + len)) === data.readUInt32LE(q + 4)) return q;
  }
  return -1;
}
