/**
 * The cluster metadata a node keeps durable: the ring's members (with their addresses) and the
 * cluster's settings (Q, N, replication per DC). The ring's partition table is not stored: it is
 * computed from these, deterministically, by `createRing`.
 *
 * Stored as JSON under the `meta` key `ring` (the format the runtime wrote before the core owned
 * it). Loading validates everything: garbage gives a `MetadataError` that says what is wrong,
 * never a crash deep inside the ring code.
 */
import { fromUtf8, utf8 } from '../bytes.js';
import { CORE_LIMITS } from '../constants.js';
import { GossamerError } from '../errors.js';
import { metaKey } from '../keys.js';
import type { Ring, RingMember } from '../ring/index.js';
import { RingError, createRing } from '../ring/index.js';
import type { NodeId } from '../types.js';

/** A member as the cluster knows it: a ring member plus the inter-node address peers dial. */
export interface MemberInfo {
  readonly nodeId: NodeId;
  readonly address: string;
  readonly dc: string;
  readonly rack: string;
  readonly weight: number;
}

export interface ClusterMeta {
  readonly partitions: number;
  readonly n: number;
  readonly replication?: Readonly<Record<string, number>>;
  /** Sorted by node id. */
  readonly members: readonly MemberInfo[];
}

/** Where the cluster metadata is stored. */
export const CLUSTER_META_KEY = metaKey('ring');

/** Stored metadata that cannot be used; the node must not serve with it. */
export class MetadataError extends GossamerError {
  constructor(message: string) {
    super('unavailable', `stored cluster metadata is invalid: ${message}`);
  }
}

export function encodeClusterMeta(meta: ClusterMeta): Uint8Array {
  const stored: Record<string, unknown> = { partitions: meta.partitions, n: meta.n, members: meta.members };
  if (meta.replication) stored['replication'] = meta.replication;
  return utf8(JSON.stringify(stored));
}

/** Decodes and validates stored metadata, including that it makes a ring. */
export function decodeClusterMeta(bytes: Uint8Array): { meta: ClusterMeta; ring: Ring } {
  if (bytes.length > CORE_LIMITS.ringMetaBytesMax) throw new MetadataError(`${bytes.length} bytes, over ${CORE_LIMITS.ringMetaBytesMax}`);
  let raw: unknown;
  try {
    raw = JSON.parse(fromUtf8(bytes));
  } catch (e) {
    throw new MetadataError(`not JSON (${(e as Error).message})`);
  }
  const meta = checkShape(raw);
  try {
    return { meta, ring: ringOf(meta) };
  } catch (e) {
    if (e instanceof RingError) throw new MetadataError(e.message);
    throw e;
  }
}

/** The ring the metadata describes (throws `RingError` for settings no ring can have). */
export function ringOf(meta: ClusterMeta): Ring {
  const members: RingMember[] = meta.members.map((m) => ({ nodeId: m.nodeId, dc: m.dc, rack: m.rack, weight: m.weight }));
  return createRing(members, {
    partitionCount: meta.partitions, n: meta.n, ...(meta.replication ? { replication: meta.replication } : {}),
  });
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPosInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;

function checkShape(raw: unknown): ClusterMeta {
  if (!isObj(raw)) throw new MetadataError('not an object');
  const { partitions, n, replication, members } = raw;
  if (!isPosInt(partitions) || partitions > CORE_LIMITS.partitionCountMax || (partitions & (partitions - 1)) !== 0) {
    throw new MetadataError(`partitions must be a power of two up to ${CORE_LIMITS.partitionCountMax}`);
  }
  if (!isPosInt(n) || n > CORE_LIMITS.ringMembersMax) throw new MetadataError(`n must be an integer from 1 to ${CORE_LIMITS.ringMembersMax}`);
  if (!Array.isArray(members) || members.length === 0) throw new MetadataError('members must be a non-empty list');
  if (members.length > CORE_LIMITS.ringMembersMax) throw new MetadataError(`more than ${CORE_LIMITS.ringMembersMax} members`);
  const checked = members.map(checkMember).sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
  if (replication === undefined) return { partitions, n, members: checked };
  if (!isObj(replication)) throw new MetadataError('replication must be an object of per-DC counts');
  const rep: Record<string, number> = {};
  for (const [dc, c] of Object.entries(replication)) {
    if (typeof c !== 'number' || !Number.isSafeInteger(c) || c < 0) throw new MetadataError(`replication for "${dc}" must be an integer ≥ 0`);
    rep[dc] = c;
  }
  return { partitions, n, replication: rep, members: checked };
}

function checkMember(m: unknown, i: number): MemberInfo {
  if (!isObj(m)) throw new MetadataError(`member ${i} is not an object`);
  const { nodeId, address, dc, rack, weight } = m;
  if (typeof nodeId !== 'string' || nodeId === '') throw new MetadataError(`member ${i} has no node id`);
  if (typeof address !== 'string' || typeof dc !== 'string' || typeof rack !== 'string') {
    throw new MetadataError(`member ${nodeId}: address, dc and rack must be strings`);
  }
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0 || weight > CORE_LIMITS.memberWeightMax) {
    throw new MetadataError(`member ${nodeId}: weight must be a number from 0 to ${CORE_LIMITS.memberWeightMax}`);
  }
  return { nodeId, address, dc, rack, weight };
}
