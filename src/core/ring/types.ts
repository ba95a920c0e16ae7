import { GossamerError } from '../errors.js';

/** A node as the ring sees it. `weight` ≥ 0; a member of weight 0 claims nothing. */
export interface RingMember {
  readonly nodeId: string;
  readonly dc: string;
  readonly rack: string;
  readonly weight: number;
}

export interface RingOptions {
  /** Q: a power of two, fixed when the cluster is created (default in config: 1024). */
  readonly partitionCount: number;
  /** N: replicas per key. With `replication`, it must equal the sum of the per-DC counts. */
  readonly n: number;
  /** Replicas per data centre, e.g. `{dc1: 3, dc2: 2}`. Absent: N replicas from any DCs. */
  readonly replication?: Readonly<Record<string, number>>;
}

/** Invalid ring input (options, members, a restored table): a bad request, never a crash. */
export class RingError extends GossamerError {
  constructor(message: string) {
    super('bad_request', message);
  }
}
