/**
 * What the TCP transport and its in-memory twin share: the extended transport interface, its
 * limits, faults, counters and errors, and the timers the base class runs on (the host's event
 * loop by default, the simulator's virtual clock in simulation).
 */
import type { Envelope, Random, TimerHandle, Transport, PeerInfo } from '../ports/index.js';
import {
  FRAME_PAYLOAD_BYTES_MAX,
  SEND_QUEUE_BYTES_MAX,
  SEND_QUEUE_FRAMES_MAX,
} from './transport-constants.js';

/** Test and fault-injection hooks, applied to every outgoing frame (this kernel has no netem). */
export interface TransportFaults {
  /** Extra latency added to each outgoing frame. Equal delays keep per-peer order. */
  delayMs?: number;
  /** Probability in [0, 1] that an outgoing frame is silently dropped. */
  dropRate?: number;
}

export interface TransportLimits {
  sendQueueFramesMax: number;
  sendQueueBytesMax: number;
  framePayloadBytesMax: number;
}

export const defaultTransportLimits: TransportLimits = {
  sendQueueFramesMax: SEND_QUEUE_FRAMES_MAX,
  sendQueueBytesMax: SEND_QUEUE_BYTES_MAX,
  framePayloadBytesMax: FRAME_PAYLOAD_BYTES_MAX,
};

export interface TransportStats {
  /** Frames handed to the link (socket write, or the in-memory network). */
  framesSent: number;
  bytesSent: number;
  /** Envelopes delivered to `onMessage` handlers (including self-sends). */
  messagesDelivered: number;
  framesReceived: number;
  bytesReceived: number;
  /** Oldest frames dropped because a peer's send queue was full. */
  droppedQueueFull: number;
  droppedUnknownPeer: number;
  droppedClosed: number;
  droppedFault: number;
  droppedTooLarge: number;
  /** Received envelopes addressed to another node id (e.g. a restarted node with a new id). */
  droppedMisaddressed: number;
  /** Connections closed because of a malformed frame or a failed handshake. */
  malformedFrames: number;
  /** Connections refused by the cluster-secret handshake (no secret, another one, a bad proof). */
  authFailures: number;
  connectionsOpened: number;
}

export interface PeerLinkStats {
  nodeId: string | undefined;
  address: string;
  /** Hello exchanged and the link may carry frames now. */
  connected: boolean;
  queuedFrames: number;
  queuedBytes: number;
}

export type TransportErrorCode = 'timeout' | 'unreachable' | 'closed' | 'overloaded' | 'remote_error' | 'no_handler';

export class TransportError extends Error {
  readonly code: TransportErrorCode;
  constructor(code: TransportErrorCode, message: string) {
    super(message);
    this.name = 'TransportError';
    this.code = code;
  }
}

export type RequestHandler = (envelope: Envelope) => unknown;

/** The transport port plus what a runtime and tests need from a real one. */
export interface ClusterTransport<M = unknown> extends Transport<M> {
  readonly self: PeerInfo;
  onPeer(handler: (peer: PeerInfo) => void): void;
  /** Makes a peer known (e.g. from gossip) and starts connecting to it. */
  addPeer(info: PeerInfo): void;
  /** Forgets a peer: stops reconnecting and drops its queue (operator `removenode`). */
  removePeer(nodeId: string): void;
  /** Peers this transport knows (from hellos and `addPeer`), self excluded. */
  peers(): PeerInfo[];
  isConnected(nodeId: string): boolean;
  peerStats(nodeId: string): PeerLinkStats | undefined;
  stats(): TransportStats;
  setFaults(faults: TransportFaults | undefined): void;
  /** RPC convenience: sends `msg` to `to` and resolves with what its `onRequest` handler returned. */
  request(to: string, msg: M, timeoutMs?: number): Promise<unknown>;
  /** Answers requests; the handler may return a value or a promise; a throw becomes a `remote_error`. */
  onRequest(handler: RequestHandler): void;
}

export const mathRandom: Random = {
  next: () => Math.random(),
  int: (n: number) => Math.floor(Math.random() * n),
};

/**
 * The timers a transport runs on. A delay of 0 means "after the current turn, never
 * synchronously". The simulator passes its virtual clock, so every frame moves on virtual time.
 */
export interface TransportTimers {
  setTimer(delayMs: number, fn: () => void): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

/** The host's event loop: `setImmediate` for a delay of 0, `setTimeout` otherwise. */
export class HostTimers implements TransportTimers {
  private nextId = 1;
  private readonly live = new Map<number, { cancel: () => void }>();

  setTimer(delayMs: number, fn: () => void): TimerHandle {
    const id = this.nextId++;
    const run = (): void => {
      this.live.delete(id);
      fn();
    };
    if (delayMs <= 0) {
      const t = setImmediate(run);
      this.live.set(id, { cancel: () => clearImmediate(t) });
    } else {
      const t = setTimeout(run, delayMs);
      this.live.set(id, { cancel: () => clearTimeout(t) });
    }
    return { id };
  }

  clearTimer(handle: TimerHandle): void {
    this.live.get(handle.id)?.cancel();
    this.live.delete(handle.id);
  }
}
