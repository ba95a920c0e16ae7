/** The vocabulary shared by the core, the runtime and the API layers. */
import type { CausalContext } from './clock/context.js';
import type { Version } from './clock/state.js';
import type { ErrorCode } from './errors.js';
import type { Message } from './messages.js';
import type { StorageWrite } from './keys.js';

export type NodeId = string;

/** R or W as a client asks for it. Numbers are replica counts. */
export type Consistency = number | 'one' | 'quorum' | 'all' | DcLevel;
/** The data-centre-aware levels (see src/core/quorum): counted against replicas by DC. */
export type DcLevel = 'local_one' | 'local_quorum' | 'each_quorum';
export type QuorumMode = 'sloppy' | 'strict';
/** When a read repairs stale replicas: after answering (the default) or before. */
export type RepairMode = 'async' | 'blocking';

export interface GetOp {
  readonly op: 'get';
  readonly key: string;
  readonly r?: Consistency;
  readonly quorum?: QuorumMode;
  readonly repair?: RepairMode;
  readonly timeoutMs?: number;
}

export interface PutOp {
  readonly op: 'put';
  readonly key: string;
  /** `null` writes a tombstone: a delete. */
  readonly value: Uint8Array | null;
  readonly contentType?: string;
  readonly context?: CausalContext;
  /**
   * `local`: the coordinating replica joins its own local state's context (read in the same step)
   * to the write's context, so the write supersedes every version that replica has seen and none
   * it has not — what a context-less Redis `SET` means. A non-replica forwards it as it is.
   */
  readonly supersede?: 'local';
  readonly w?: Consistency;
  readonly quorum?: QuorumMode;
  readonly timeoutMs?: number;
}

export type ClientOp = GetOp | PutOp;

export interface GetResult {
  readonly ok: true;
  readonly op: 'get';
  /** Live siblings and tombstones; empty when nothing is stored. */
  readonly siblings: readonly Version[];
  /** Covers every sibling returned (and every tombstone). */
  readonly context: CausalContext;
}

export interface PutResult {
  readonly ok: true;
  readonly op: 'put';
  /** The new version's context: what the client sent plus the new version. */
  readonly context: CausalContext;
}

export interface ErrorResult {
  readonly ok: false;
  readonly error: ErrorCode;
  readonly message: string;
  readonly required?: number;
  readonly received?: number;
}

export type ClientReply = GetResult | PutResult | ErrorResult;

/** Messages between nodes: one family per protocol (see messages.ts). */
export type { Message } from './messages.js';
export type { WireOp, WireReply } from './kv/messages.js';
export type { Keyspace, StorageWrite } from './keys.js';

export interface OutMessage {
  readonly to: NodeId;
  readonly msg: Message;
}

export interface Reply {
  readonly reqId: number;
  readonly reply: ClientReply;
}

/**
 * What one round of the node produced. The runtime must make `writes` durable before it sends
 * `messages` or gives `replies` ("persist before reply"), and must handle Readys in order.
 * Writes of every keyspace (key data, hints, cluster metadata) go this one way.
 */
export interface Ready {
  readonly seq: number;
  readonly writes: readonly StorageWrite[];
  readonly messages: readonly OutMessage[];
  readonly replies: readonly Reply[];
}

/** One bounded page of a key range (the engines' `scanPage`, src/ports/storage.ts, has this shape). */
export interface StorePageOptions {
  readonly gte?: Uint8Array;
  readonly lt?: Uint8Array;
  /** Resume strictly after this key. */
  readonly after?: Uint8Array;
  readonly countMax: number;
  /** About this many key + value bytes; the first entry always comes, so a page makes progress. */
  readonly bytesMax: number;
}

export interface StorePage {
  readonly entries: readonly (readonly [Uint8Array, Uint8Array])[];
  /** Key of the last entry when the range may hold more; undefined when the range is done. */
  readonly resumeAfter: Uint8Array | undefined;
  readonly bytes: number;
}

/** The synchronous read side of the local storage engine. */
export interface StoreReader {
  get(key: Uint8Array): Uint8Array | undefined;
  /** `get` without a copy, where the store has one (StorageEngine.peek): read at once, never written into. */
  peek?(key: Uint8Array): Uint8Array | undefined;
  /** One page of a key range in ascending order (partition transfer serves chunks from it). */
  scanPage(options: StorePageOptions): StorePage;
}
