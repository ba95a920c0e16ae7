/**
 * The engine contract lives with the other ports (src/ports/storage.ts); this module keeps the
 * storage layer's error class, which the API maps by its code.
 */
export type { PageOptions, ScanOptions, ScanPage, StorageEngine, WriteOp } from '../ports/storage.js';

export class StorageError extends Error {
  constructor(readonly code: 'corruption' | 'closed' | 'io', message: string, readonly file?: string) {
    super(message);
    this.name = 'StorageError';
  }
}
