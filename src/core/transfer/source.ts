/**
 * The source side of a transfer: serve one bounded chunk of a partition's key range from the
 * local engine (`StoreReader.scanPage`), synchronously, within the step that got the pull.
 */
import { dataRange } from '../keys.js';
import type { Effects } from '../ready.js';
import type { Ring } from '../ring/index.js';
import { partitionRange } from '../ring/index.js';
import type { NodeId, StoreReader } from '../types.js';
import type { TransferSettings } from './constants.js';
import type { TransferMessage } from './messages.js';

type Pull = Extract<TransferMessage, { type: 'xfer-pull' }>;

/** Answers a pull: a chunk, or a refusal when this node does not hold the partition. */
export function servePull(self: NodeId, ring: Ring | undefined, reader: StoreReader, fx: Effects, settings: TransferSettings, from: NodeId, m: Pull): number {
  const refuse = (reason: string): number => {
    fx.send(from, { type: 'xfer-refuse', id: m.id, partition: m.partition, reason });
    return 0;
  };
  if (!ring) return refuse('no ring yet');
  if (m.partition >= ring.partitionCount) return refuse(`partition ${m.partition} out of range`);
  if (!ring.preferenceList(m.partition).includes(self)) return refuse(`${self} is not a replica of partition ${m.partition}`);
  const { start, endExclusive } = partitionRange(m.partition, ring.partitionCount);
  const { gte, lt } = dataRange(start, endExclusive);
  const page = reader.scanPage({
    gte, lt, ...(m.after ? { after: m.after } : {}),
    countMax: Math.min(m.keysMax, settings.chunkKeysMax), bytesMax: Math.min(m.bytesMax, settings.chunkBytesMax),
  });
  const entries = page.entries.map(([k, v]) => [k, v] as const);
  const next = page.resumeAfter ?? null;
  fx.send(from, { type: 'xfer-chunk', id: m.id, partition: m.partition, entries, next });
  return page.bytes;
}
