/**
 * The cluster metadata: one versioned document that every node keeps durable and gossip spreads.
 * It names the cluster (`clusterId`), its settings (Q, N, replication per DC), the ring's members
 * with their addresses, the claim in force (`owners`), and — while the ring changes — the staged
 * changes and the transition under way (see docs/membership.md).
 *
 * Every change makes a new document with `version + 1`; of two documents of one cluster the one
 * that `supersedes` the other wins everywhere (higher version; at equal versions, the greater
 * digest), so every node converges on the same document whatever order it hears them in.
 *
 * Stored as JSON under the `meta` key `ring`. Documents written before versioning (no
 * `clusterId`, `version` or `owners`) load as version 1 with the claim `createRing` computes.
 * Loading validates everything: garbage gives a `MetadataError` that says what is wrong, never a
 * crash deep inside the ring code.
 */
import { fromUtf8, utf8 } from '../bytes.js';
import { CORE_LIMITS } from '../constants.js';
import { GossamerError } from '../errors.js';
import { metaKey } from '../keys.js';
import type { Ring, RingMember } from '../ring/index.js';
import { RingError, createRing, murmur3x86_32, restoreRing } from '../ring/index.js';
import type { NodeId } from '../types.js';

/** A member as the cluster knows it: a ring member plus the inter-node address peers dial. */
export interface MemberInfo {
  readonly nodeId: NodeId;
  readonly address: string;
  readonly dc: string;
  readonly rack: string;
  readonly weight: number;
}

/** An operator's change, staged (`join`, `leave`, `removenode`) until `commit` applies it. */
export interface StagedChange {
  readonly kind: 'join' | 'leave' | 'remove';
  readonly nodeId: NodeId;
  /** The joining node's facts (a join only). */
  readonly member?: MemberInfo;
}

/**
 * A committed change under way: the ring it leads to, and the partitions whose new replicas have
 * received their data. Once every moving partition is done, any node may make the next document
 * (members and owners of the transition, no transition), and all make the same one.
 */
export interface TransitionMeta {
  /** The members after the change, sorted by node id. */
  readonly members: readonly MemberInfo[];
  /** The claim after the change (length Q). */
  readonly owners: readonly NodeId[];
  /** Moving partitions whose new replicas have all their data, ascending. */
  readonly done: readonly number[];
  /**
   * (Partition transfer) `<partition>:<nodeId>` of each new replica that has all of a moving
   * partition not yet `done`, sorted; a partition moves to `done` once all its new replicas are
   * here, and its entries leave. Absent when empty.
   */
  readonly streamed?: readonly string[];
  /** (Partition transfer) Nodes removed as dead by this change: never a source of data. */
  readonly removed?: readonly NodeId[];
}

export interface ClusterMeta {
  /** Fixed when the first ring forms; nodes of another cluster are refused. */
  readonly clusterId: string;
  /** 1 for the first ring; +1 at every change. */
  readonly version: number;
  readonly partitions: number;
  readonly n: number;
  readonly replication?: Readonly<Record<string, number>>;
  /** The ring's members, sorted by node id. */
  readonly members: readonly MemberInfo[];
  /** owners[p]: the member that claims partition p (length Q). */
  readonly owners: readonly NodeId[];
  readonly staged?: readonly StagedChange[];
  readonly transition?: TransitionMeta;
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
  return utf8(JSON.stringify(plain(meta)));
}

/** The document as plain JSON data, fields in a fixed order (so equal documents encode equally). */
function plain(meta: ClusterMeta): Record<string, unknown> {
  const out: Record<string, unknown> = {
    clusterId: meta.clusterId, version: meta.version, partitions: meta.partitions, n: meta.n,
  };
  if (meta.replication) out['replication'] = meta.replication;
  out['members'] = meta.members.map(copyMember);
  out['owners'] = meta.owners;
  if (meta.staged && meta.staged.length > 0) out['staged'] = meta.staged.map((c) => (c.member ? { kind: c.kind, nodeId: c.nodeId, member: copyMember(c.member) } : { kind: c.kind, nodeId: c.nodeId }));
  if (meta.transition) out['transition'] = plainTransition(meta.transition);
  return out;
}

function plainTransition(t: TransitionMeta): Record<string, unknown> {
  const out: Record<string, unknown> = { members: t.members.map(copyMember), owners: t.owners, done: t.done };
  if (t.streamed && t.streamed.length > 0) out['streamed'] = t.streamed;
  if (t.removed && t.removed.length > 0) out['removed'] = t.removed;
  return out;
}

function copyMember(m: MemberInfo): MemberInfo {
  return { nodeId: m.nodeId, address: m.address, dc: m.dc, rack: m.rack, weight: m.weight };
}

/** A short digest of the whole document (tie-break between equal versions; gossip digests). */
export function metaDigest(meta: ClusterMeta): string {
  return hash64(JSON.stringify(plain(meta)));
}

/**
 * Whether document `a` wins over `b` (both of one cluster): the higher version, and at equal
 * versions the greater digest. A total order, so every node converges on the same document.
 */
export function supersedes(a: ClusterMeta, b: ClusterMeta): boolean {
  if (a.version !== b.version) return a.version > b.version;
  return metaDigest(a) > metaDigest(b);
}

/** The first ring's document: version 1, the claim `createRing` computes, a cluster id from both. */
export function firstClusterMeta(settings: { partitions: number; n: number; replication?: Readonly<Record<string, number>> }, members: readonly MemberInfo[]): ClusterMeta {
  const sorted = [...members].map(copyMember).sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
  const ring = createRing(sorted, { partitionCount: settings.partitions, n: settings.n, ...(settings.replication ? { replication: settings.replication } : {}) });
  const base = {
    clusterId: '', version: 1, partitions: settings.partitions, n: settings.n,
    ...(settings.replication ? { replication: { ...settings.replication } } : {}),
    members: sorted, owners: ring.owners,
  };
  return { ...base, clusterId: `c-${metaDigest(base)}` };
}

/** Two 32-bit murmur3 hashes with different seeds, as 16 hex digits. */
function hash64(text: string): string {
  const bytes = utf8(text);
  const hi = murmur3x86_32(bytes, 0x9747b28c) >>> 0;
  const lo = murmur3x86_32(bytes, 0x5bd1e995) >>> 0;
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
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
  try {
    const meta = checkShape(raw);
    const ring = ringOf(meta);
    if (meta.transition) ringOf({ ...meta, members: meta.transition.members, owners: meta.transition.owners });
    return { meta, ring };
  } catch (e) {
    if (e instanceof RingError) throw new MetadataError(e.message);
    throw e;
  }
}

/** The ring the metadata describes, its claim as given (throws `RingError` when it cannot be one). */
export function ringOf(meta: ClusterMeta): Ring {
  const members: RingMember[] = meta.members.map((m) => ({ nodeId: m.nodeId, dc: m.dc, rack: m.rack, weight: m.weight }));
  return restoreRing({
    partitionCount: meta.partitions, n: meta.n, members, owners: [...meta.owners],
    ...(meta.replication ? { replication: { ...meta.replication } } : {}),
  });
}

/** The ring the transition leads to (undefined when no change is under way). */
export function nextRingOf(meta: ClusterMeta): Ring | undefined {
  const t = meta.transition;
  return t ? ringOf({ ...meta, members: t.members, owners: t.owners }) : undefined;
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
  const checked = checkMembers(members, 'members');
  const rep = replication === undefined ? undefined : checkReplication(replication);
  const settings = { partitions, n, ...(rep ? { replication: rep } : {}) };
  if (raw['version'] === undefined && raw['owners'] === undefined && raw['clusterId'] === undefined) {
    // Written before the document was versioned: the claim was always createRing's.
    return firstClusterMeta(settings, checked);
  }
  const { clusterId, version, owners, staged, transition } = raw;
  if (typeof clusterId !== 'string' || clusterId === '' || clusterId.length > 64) throw new MetadataError('clusterId must be a string of 1 to 64 characters');
  if (!isPosInt(version)) throw new MetadataError('version must be an integer ≥ 1');
  const meta: ClusterMeta = {
    clusterId, version, ...settings, members: checked, owners: checkOwners(owners, partitions, 'owners'),
    ...(staged !== undefined ? { staged: checkStaged(staged) } : {}),
    ...(transition !== undefined ? { transition: checkTransition(transition, partitions) } : {}),
  };
  return meta;
}

function checkMembers(members: unknown, what: string): MemberInfo[] {
  if (!Array.isArray(members) || members.length === 0) throw new MetadataError(`${what} must be a non-empty list`);
  if (members.length > CORE_LIMITS.ringMembersMax) throw new MetadataError(`more than ${CORE_LIMITS.ringMembersMax} ${what}`);
  return members.map(checkMember).sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
}

function checkReplication(replication: unknown): Record<string, number> {
  if (!isObj(replication)) throw new MetadataError('replication must be an object of per-DC counts');
  const rep: Record<string, number> = {};
  for (const [dc, c] of Object.entries(replication)) {
    if (typeof c !== 'number' || !Number.isSafeInteger(c) || c < 0) throw new MetadataError(`replication for "${dc}" must be an integer ≥ 0`);
    rep[dc] = c;
  }
  return rep;
}

function checkOwners(owners: unknown, partitions: number, what: string): NodeId[] {
  if (!Array.isArray(owners) || owners.length !== partitions || !owners.every((o) => typeof o === 'string')) {
    throw new MetadataError(`${what} must list the owner of each of the ${partitions} partitions`);
  }
  return owners as NodeId[];
}

function checkStaged(staged: unknown): StagedChange[] {
  if (!Array.isArray(staged) || staged.length > CORE_LIMITS.ringMembersMax) throw new MetadataError('staged must be a list of changes');
  return staged.map((c, i) => {
    if (!isObj(c) || (c['kind'] !== 'join' && c['kind'] !== 'leave' && c['kind'] !== 'remove') || typeof c['nodeId'] !== 'string') {
      throw new MetadataError(`staged change ${i} must have a kind (join, leave, remove) and a node id`);
    }
    const member = c['member'] === undefined ? undefined : checkMember(c['member'], i);
    return { kind: c['kind'], nodeId: c['nodeId'], ...(member ? { member } : {}) };
  });
}

function checkTransition(t: unknown, partitions: number): TransitionMeta {
  if (!isObj(t)) throw new MetadataError('transition must be an object');
  const done = t['done'];
  if (!Array.isArray(done) || !done.every((p, i) => Number.isSafeInteger(p) && p >= 0 && p < partitions && (i === 0 || p > done[i - 1]))) {
    throw new MetadataError('transition.done must list partitions in ascending order');
  }
  const streamed = checkStrings(t['streamed'], 'transition.streamed', partitions * CORE_LIMITS.ringMembersMax);
  const removed = checkStrings(t['removed'], 'transition.removed', CORE_LIMITS.ringMembersMax);
  return {
    members: checkMembers(t['members'], 'transition.members'), owners: checkOwners(t['owners'], partitions, 'transition.owners'), done: done as number[],
    ...(streamed && streamed.length > 0 ? { streamed } : {}), ...(removed && removed.length > 0 ? { removed } : {}),
  };
}

function checkStrings(v: unknown, what: string, countMax: number): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length > countMax || !v.every((x) => typeof x === 'string')) throw new MetadataError(`${what} must be a list of strings`);
  return v as string[];
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
