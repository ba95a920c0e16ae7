/**
 * What the client-facing servers (HTTP, RESP, admin) need from a running node. The runtime
 * implements it; API tests can use a fake.
 */
import type { ClientOp, ClientReply, Consistency } from '../core/types.js';
import type { CausalContext } from '../core/clock/context.js';
import type { NodeStats } from '../core/node.js';
import type { RepairProgress } from '../core/antientropy/index.js';
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
}

export interface RingView {
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
  /** The ring change under way as this node sees it (for `GET /admin/transition`); undefined before a ring. */
  transferProgress?(): TransferProgress | undefined;
}
