/**
 * Ports: the only ways the outside world reaches the runtime. Each has a real adapter
 * (src/adapters) and an in-memory or simulated twin (src/sim, src/storage/memory-engine.ts).
 */
export type { StorageEngine, StorageEngineStats, WriteOp, ScanOptions, PageOptions, ScanPage } from './storage.js';
export type { FileSystem, FileHandle } from './file-system.js';
export type { Compressor, CompressedBlock } from './compressor.js';

/** Time as the runtime sees it. The simulator's virtual clock implements the same interface. */
export interface Clock {
  nowMs(): number;
  /** Calls `fn` once after `delayMs`. */
  setTimer(delayMs: number, fn: () => void): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}
export interface TimerHandle { readonly id: number }

/** A source of randomness; the simulator's is seeded so one seed decides a whole run. */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
}

/** A message between two nodes. `msg` is a plain, msgpack-encodable object of the core. */
export interface Envelope<M = unknown> {
  from: string;
  to: string;
  msg: M;
}

/** Facts a node announces about itself when it connects (the ring is computed from these). */
export interface PeerInfo {
  nodeId: string;
  /** Inter-node address, `host:port`. */
  address: string;
  /** The node's client HTTP address, `host:port`, so clients can route to any member (absent from older nodes). */
  http?: string;
  dc: string;
  rack: string;
  weight: number;
}

/**
 * Moves envelopes between nodes. Delivery is best effort: a message may be lost when a peer is
 * down; the protocols above cope with loss by timeouts and retries. Sending never blocks and
 * never throws: a send to an unknown or unreachable peer is dropped (and counted).
 */
export interface Transport<M = unknown> {
  readonly localId: string;
  send(envelope: Envelope<M>): void;
  onMessage(handler: (envelope: Envelope<M>) => void): void;
  /** Called when a peer connects and tells who it is (or re-connects with new facts). */
  onPeer?(handler: (peer: PeerInfo) => void): void;
  /** Makes a peer known (membership gossip learned it) and starts connecting to it. */
  addPeer?(info: PeerInfo): void;
  /** Forgets a peer (it was removed from the cluster). */
  removePeer?(nodeId: string): void;
  close(): Promise<void>;
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: Logger = {
  debug() {}, info() {}, warn() {}, error() {},
};
