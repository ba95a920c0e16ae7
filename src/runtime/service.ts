/**
 * What the client-facing servers (HTTP, RESP, admin) need from a running node. The runtime
 * implements it; API tests can use a fake.
 */
import type { ClientOp, ClientReply, Consistency, GetOp } from '../core/types.js';
import type { CausalContext } from '../core/clock/context.js';
import type { NodeStats } from '../core/node.js';
import type { RepairProgress } from '../core/antientropy/index.js';
import type { AdminOp } from '../core/membership/admin.js';
import type { StagedChange } from '../core/membership/index.js';
import type { AdminReply } from './ring-admin.js';
import type { TransferProgress } from '../core/transfer/index.js';

export type MemberState = 'alive' | 'suspect' | 'faulty' | 'leaving' | 'left';

export interface MemberView {
  nodeId: string;
  address: string;
  /** The member's client HTTP address (host:port), when it announced one. */
  http?: string;
  dc: string;
  rack: string;
  weight: number;
  state: MemberState;
  heartbeat: number;
  /** Fraction of partitions this member owns. */
  ownership: number;
  /** During a transition: the fraction it will own once the transition is done. */
  nextOwnership?: number;
  /** A member of the transition that is not yet a ring member. */
  joining?: boolean;
}

/** The cluster document's version, staged changes and transition (`/ring`, `/cluster`). */
export interface RingState {
  clusterId: string;
  version: number;
  staged: readonly StagedChange[];
  transition?: {
    /** The members after the change. */
    members: readonly string[];
    /** The claim after the change. */
    owners: readonly string[];
    /** Partitions whose new replicas need data, and those that have it. */
    moving: readonly number[];
    done: readonly number[];
    /** The preference list of a partition after the change. */
    preferenceList(partition: number): readonly string[];
  };
}

export interface RingView {
  /** The cluster document's id and version (absent for a ring given without one). */
  clusterId?: string;
  version?: number;
  partitionCount: number;
  n: number;
  /** owner of each partition */
  owners: readonly string[];
  preferenceList(partition: number): readonly string[];
  partitionForKey(key: string): number;
}

export interface LocalVersionView {
  value: Uint8Array | null;
  context: CausalContext;
  contentType: string;
  tsMs: number;
  /** The node this copy is held for as a hint, or null when it is this node's own replica. */
  hintFor: string | null;
}

export interface ClusterDefaults {
  n: number;
  r: Consistency;
  w: Consistency;
  maxValueBytes: number;
  requestTimeoutMs: number;
  /** Replicas per data centre, when the cluster sets them. */
  replication?: Readonly<Record<string, number>>;
}

export interface NodeService {
  readonly nodeId: string;
  /** True once the node serves requests with a known ring; false while starting or stopping. */
  isServing(): boolean;
  submit(op: ClientOp): Promise<ClientReply>;
  /**
   * A read answered synchronously when the node can answer it alone with nothing to wait for
   * (it is the key's only replica and the key's state is durable); undefined: `submit` it.
   * Optional: a service without it has every read submitted.
   */
  getNow?(op: GetOp): ClientReply | undefined;
  /** Where `getNow` would answer a read of `key` at the default R: the newest sibling's value (null: none), else undefined. */
  newestNow?(key: string): Uint8Array | null | undefined;
  ring(): RingView | undefined;
  members(): MemberView[];
  /** What this node stores for `key` itself, without coordination. */
  localVersions(key: string): LocalVersionView[];
  defaults(): ClusterDefaults;
  /** Hinted-handoff and read-repair counters (undefined until the node has started). */
  stats?(): NodeStats | undefined;
  /** Starts anti-entropy now (every partition this node replicates, or one); undefined while not serving. */
  repair?(partition?: number): RepairProgress | undefined;
  /** The latest repair's progress. */
  repairProgress?(): RepairProgress | undefined;
  /** Root hash of each partition this node replicates; undefined while its trees are rebuilt. */
  treeRoots?(): Record<number, number> | undefined;
  /** An operator's staging, plan, commit or clear (answered once what it changed is durable). */
  admin?(op: AdminOp): Promise<AdminReply>;
  /** The cluster document's version, staged changes and transition (undefined before there is one). */
  ringState?(): RingState | undefined;
  /** The ring change under way as this node sees it (for `GET /admin/transition`); undefined before a ring. */
  transferProgress?(): TransferProgress | undefined;
}
