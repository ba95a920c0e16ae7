import { crc32 } from '../checksum.js';
import { StorageError } from '../engine.js';
import type { FileSystem } from '../../ports/file-system.js';
import { joinPath } from '../fs/file-system.js';
import type { TableMeta } from './sstable.js';

/**
 * The manifest: the live set of tables (newest first), the first commit-log segment still
 * needed, and the next file number. Stored as [u32 magic][u32 crc32(json)][u32 length][json]
 * and replaced atomically: write MANIFEST.tmp, fsync it, rename over MANIFEST, fsync the dir.
 */
export const MANIFEST = 'MANIFEST';
export const MANIFEST_TMP = 'MANIFEST.tmp';
const MAGIC = 0x474d4e46; // 'GMNF'

export interface ManifestData {
  version: 1;
  nextFileNumber: number;
  /** Segments numbered below this are fully in tables. */
  logNumber: number;
  tables: TableMeta[];
}

export async function writeManifest(fs: FileSystem, dir: string, data: ManifestData): Promise<void> {
  const json = Buffer.from(JSON.stringify(data));
  const buf = Buffer.allocUnsafe(12 + json.length);
  buf.writeUInt32LE(MAGIC, 0);
  buf.writeUInt32LE(crc32(json), 4);
  buf.writeUInt32LE(json.length, 8);
  buf.set(json, 12);
  const tmp = joinPath(dir, MANIFEST_TMP);
  const h = await fs.create(tmp);
  try {
    await fs.append(h, buf);
    await fs.sync(h);
  } finally {
    await fs.close(h);
  }
  await fs.rename(tmp, joinPath(dir, MANIFEST));
  await fs.syncDir(dir);
}

/** The manifest, undefined if there is none; StorageError('corruption') if it is damaged. */
export async function readManifest(fs: FileSystem, dir: string): Promise<ManifestData | undefined> {
  const path = joinPath(dir, MANIFEST);
  if (!(await fs.exists(path))) return undefined;
  const buf = Buffer.from(await fs.readFile(path));
  const fail = (why: string): never => {
    throw new StorageError('corruption', `corrupt manifest ${path}: ${why}`, path);
  };
  if (buf.length < 12 || buf.readUInt32LE(0) !== MAGIC) fail('bad header');
  const len = buf.readUInt32LE(8);
  if (12 + len !== buf.length) fail('length mismatch');
  const json = buf.subarray(12);
  if (crc32(json) !== buf.readUInt32LE(4)) fail('checksum mismatch');
  let data: ManifestData;
  try {
    data = JSON.parse(json.toString()) as ManifestData;
  } catch {
    return fail('unparsable');
  }
  if (data.version !== 1 || !Array.isArray(data.tables)) fail('unknown version');
  return data;
}
