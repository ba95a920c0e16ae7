/** The FileSystem port itself is in src/ports/file-system.ts; path helpers stay here. */
export type { FileHandle, FileSystem } from '../../ports/file-system.js';

/** Joins a directory and a name. */
export function joinPath(dir: string, name: string): string {
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}
