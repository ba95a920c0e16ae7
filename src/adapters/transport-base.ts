/**
 * The base class of the TCP transport and its in-memory twin: everything above the link layer
 * (handlers, self-delivery, fault hooks, the optional request/reply RPC, counters). Subclasses
 * only move encoded frames to a peer (`enqueueFrame`) and feed received payloads to `receive`.
 */
import type { Envelope, Logger, PeerInfo, Random, TimerHandle } from '../ports/index.js';
import { silentLogger } from '../ports/index.js';
import { FrameError, decodeWireMessage, encodeFrame } from '../codec/frame.js';
import type { WireMessage } from '../codec/frame.js';
import { RPC_IN_FLIGHT_MAX, RPC_TIMEOUT_MS_DEFAULT } from './transport-constants.js';
import { FrameQueue } from './frame-queue.js';
import { HostTimers, TransportError, defaultTransportLimits, mathRandom } from './transport-types.js';
import type {
  ClusterTransport, PeerLinkStats, RequestHandler, TransportErrorCode, TransportFaults, TransportLimits,
  TransportStats, TransportTimers,
} from './transport-types.js';

interface PendingRequest {
  to: string;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: TimerHandle;
}

export interface TransportBaseOptions {
  logger?: Logger;
  faults?: TransportFaults;
  /** Randomness for fault injection and reconnect jitter. */
  random?: Random;
  limits?: Partial<TransportLimits>;
  /** What frames and request timeouts wait on (default: the host's event loop). */
  timers?: TransportTimers;
}

/** What the base class needs to know of a subclass's link to one peer. */
export interface LinkState {
  address: string;
  nodeId: string | undefined;
  /** The peer's hello arrived: frames may flow. */
  open: boolean;
  queue: FrameQueue;
}

export abstract class TransportBase<M = unknown, L extends LinkState = LinkState> implements ClusterTransport<M> {
  abstract readonly self: PeerInfo;
  protected readonly logger: Logger;
  protected readonly random: Random;
  protected readonly limits: TransportLimits;
  protected readonly timers: TransportTimers;
  protected closed = false;
  protected readonly counters: TransportStats = {
    framesSent: 0, bytesSent: 0, messagesDelivered: 0, framesReceived: 0, bytesReceived: 0,
    droppedQueueFull: 0, droppedUnknownPeer: 0, droppedClosed: 0, droppedFault: 0,
    droppedTooLarge: 0, droppedMisaddressed: 0, malformedFrames: 0, authFailures: 0, connectionsOpened: 0,
  };
  /** Facts of every known peer, from hellos (authoritative) and `addPeer`. */
  protected readonly known = new Map<string, PeerInfo>();
  /** The link to each peer whose id is known. */
  protected readonly linkById = new Map<string, L>();
  /** Every link, by the address it dials. */
  protected readonly links = new Map<string, L>();
  private readonly helloSeen = new Set<string>();
  private faults: TransportFaults | undefined;
  private readonly messageHandlers: Array<(envelope: Envelope<M>) => void> = [];
  private readonly peerHandlers: Array<(peer: PeerInfo) => void> = [];
  private requestHandler: RequestHandler | undefined;
  private readonly pending = new Map<number, PendingRequest>();
  private nextRequestId = 1;

  constructor(opts: TransportBaseOptions) {
    this.logger = opts.logger ?? silentLogger;
    this.random = opts.random ?? mathRandom;
    this.limits = { ...defaultTransportLimits, ...opts.limits };
    this.faults = opts.faults;
    this.timers = opts.timers ?? new HostTimers();
  }

  get localId(): string {
    return this.self.nodeId;
  }

  /** A new, unconnected link with an empty queue. */
  protected abstract newLink(address: string, nodeId: string | undefined, queue: FrameQueue): L;
  /** Starts connecting a link (a new one, or one whose peer moved to another address). */
  protected abstract connectLink(link: L, reason: 'new' | 'moved'): void;

  /** The link to `address` (and `nodeId`, when known), created and connecting if new. */
  protected ensureLink(address: string, nodeId: string | undefined): L {
    let link = nodeId !== undefined ? this.linkById.get(nodeId) : undefined;
    if (link) {
      if (link.address !== address && !link.open) {
        // The peer moved: aim the next connection at its new address.
        this.links.delete(link.address);
        link.address = address;
        this.links.set(address, link);
        this.connectLink(link, 'moved');
      }
      return link;
    }
    link = this.links.get(address);
    if (link) {
      if (nodeId !== undefined && link.nodeId === undefined) {
        link.nodeId = nodeId;
        this.linkById.set(nodeId, link);
      }
      return link;
    }
    link = this.newLink(address, nodeId, new FrameQueue(this.limits.sendQueueFramesMax, this.limits.sendQueueBytesMax));
    this.links.set(address, link);
    if (nodeId !== undefined) this.linkById.set(nodeId, link);
    this.connectLink(link, 'new');
    return link;
  }
  /** Forgets a link: closes its connection and stops reconnecting. */
  protected abstract dropLink(link: L): void;
  abstract close(): Promise<void>;

  /**
   * A hello told who is at `link`'s address: index the link by that node id. If the same node
   * was already linked under another address, keep this (open) link and carry the older link's
   * queued frames over, oldest first.
   */
  protected adoptLink(link: L, nodeId: string): void {
    if (link.nodeId !== undefined && link.nodeId !== nodeId && this.linkById.get(link.nodeId) === link) {
      this.linkById.delete(link.nodeId);
    }
    const other = this.linkById.get(nodeId);
    if (other && other !== link) {
      const carried = new FrameQueue(this.limits.sendQueueFramesMax, this.limits.sendQueueBytesMax);
      for (let f = other.queue.shift(); f; f = other.queue.shift()) this.counters.droppedQueueFull += carried.push(f);
      for (let f = link.queue.shift(); f; f = link.queue.shift()) this.counters.droppedQueueFull += carried.push(f);
      link.queue = carried;
      this.dropLink(other);
    }
    link.nodeId = nodeId;
    this.linkById.set(nodeId, link);
    link.open = true;
  }

  addPeer(info: PeerInfo): void {
    if (this.closed || info.nodeId === this.localId) return;
    if (!this.known.has(info.nodeId)) this.known.set(info.nodeId, info);
    this.ensureLink(info.address, info.nodeId);
  }

  removePeer(nodeId: string): void {
    this.known.delete(nodeId);
    const link = this.linkById.get(nodeId);
    if (link) this.dropLink(link);
  }

  isConnected(nodeId: string): boolean {
    return this.linkById.get(nodeId)?.open ?? false;
  }

  peerStats(nodeId: string): PeerLinkStats | undefined {
    const link = this.linkById.get(nodeId);
    if (!link || link.nodeId === undefined) return undefined;
    return { nodeId: link.nodeId, address: link.address, connected: link.open, queuedFrames: link.queue.length, queuedBytes: link.queue.bytes };
  }
  /** Queues one encoded frame for `to`; false when `to` is unknown (the frame is dropped). */
  protected abstract enqueueFrame(to: string, frame: Uint8Array): boolean;

  onMessage(handler: (envelope: Envelope<M>) => void): void {
    this.messageHandlers.push(handler);
  }

  onPeer(handler: (peer: PeerInfo) => void): void {
    this.peerHandlers.push(handler);
  }

  onRequest(handler: RequestHandler): void {
    this.requestHandler = handler;
  }

  setFaults(faults: TransportFaults | undefined): void {
    this.faults = faults;
  }

  peers(): PeerInfo[] {
    return [...this.known.values()].filter((p) => p.nodeId !== this.localId);
  }

  stats(): TransportStats {
    return { ...this.counters };
  }

  send(envelope: Envelope<M>): void {
    this.outgoing(envelope.to, { kind: 'envelope', envelope });
  }

  request(to: string, msg: M, timeoutMs: number = RPC_TIMEOUT_MS_DEFAULT): Promise<unknown> {
    if (this.closed) return Promise.reject(new TransportError('closed', 'transport is closed'));
    if (this.pending.size >= RPC_IN_FLIGHT_MAX) {
      return Promise.reject(new TransportError('overloaded', `${RPC_IN_FLIGHT_MAX} requests already in flight`));
    }
    const id = this.nextRequestId++;
    return new Promise<unknown>((resolve, reject) => {
      const timer = this.timers.setTimer(timeoutMs, () => {
        this.pending.delete(id);
        reject(new TransportError('timeout', `no reply from ${to} within ${timeoutMs} ms`));
      });
      this.pending.set(id, { to, resolve, reject, timer });
      const accepted = this.outgoing(to, { kind: 'request', id, envelope: { from: this.localId, to, msg } });
      if (!accepted) this.settle(id, new TransportError('unreachable', `unknown peer ${to}`));
    });
  }

  /** Sends a wire message, applying fault hooks. False only when it cannot possibly be sent. */
  protected outgoing(to: string, wire: WireMessage): boolean {
    if (this.closed) {
      this.counters.droppedClosed++;
      return false;
    }
    const faults = this.faults;
    if (faults?.dropRate !== undefined && faults.dropRate > 0 && this.random.next() < faults.dropRate) {
      this.counters.droppedFault++;
      return true;
    }
    let frame: Uint8Array;
    try {
      frame = encodeFrame(wire, this.limits.framePayloadBytesMax);
    } catch (err) {
      this.counters.droppedTooLarge++;
      this.logger.warn('transport: frame not sent', { to, error: (err as Error).message });
      return false;
    }
    if (faults?.delayMs !== undefined && faults.delayMs > 0) {
      if (to !== this.localId && !this.known.has(to)) {
        this.counters.droppedUnknownPeer++;
        return false;
      }
      this.timers.setTimer(faults.delayMs, () => this.route(to, frame));
      return true;
    }
    return this.route(to, frame);
  }

  private route(to: string, frame: Uint8Array): boolean {
    if (this.closed) {
      this.counters.droppedClosed++;
      return false;
    }
    if (to === this.localId) {
      // Never synchronous, and through the codec so the receiver cannot alias the sender's objects.
      this.timers.setTimer(0, () => {
        if (this.closed) return;
        try {
          this.receive(this.localId, frame.subarray(4));
        } catch (err) {
          this.logger.warn('transport: bad message to self', { error: (err as Error).message });
        }
      });
      return true;
    }
    const ok = this.enqueueFrame(to, frame);
    if (!ok) this.counters.droppedUnknownPeer++;
    return ok;
  }

  /** Records a peer's hello; fires `onPeer` the first time and whenever its facts change. */
  protected learnPeer(peer: PeerInfo): void {
    const before = this.known.get(peer.nodeId);
    this.known.set(peer.nodeId, peer);
    const changed = !before || before.address !== peer.address || before.dc !== peer.dc
      || before.rack !== peer.rack || before.weight !== peer.weight;
    if (!changed && this.helloSeen.has(peer.nodeId)) return;
    this.helloSeen.add(peer.nodeId);
    for (const handler of this.peerHandlers) {
      try {
        handler(peer);
      } catch (err) {
        this.logger.error('transport: onPeer handler threw', { error: String(err) });
      }
    }
  }

  /**
   * Handles one payload received from `remoteId` (already past the hello). Throws FrameError when
   * the frame is malformed or claims another sender; the caller closes that connection.
   */
  protected receive(remoteId: string, payload: Uint8Array): void {
    const wire = decodeWireMessage(payload);
    this.counters.framesReceived++;
    this.counters.bytesReceived += payload.length + 4;
    switch (wire.kind) {
      case 'hello':
        throw new FrameError('frame_malformed', 'second hello on a connection');
      case 'auth':
        throw new FrameError('frame_malformed', 'auth frame after the handshake');
      case 'envelope':
      case 'request': {
        const env = wire.envelope;
        if (env.from !== remoteId) throw new FrameError('frame_malformed', `envelope from ${env.from} on ${remoteId}'s connection`);
        if (env.to !== this.localId) {
          this.counters.droppedMisaddressed++;
          return;
        }
        if (wire.kind === 'envelope') this.deliver(env as Envelope<M>);
        else this.answer(wire.id, env);
        return;
      }
      case 'reply': {
        if (wire.from !== remoteId) throw new FrameError('frame_malformed', `reply from ${wire.from} on ${remoteId}'s connection`);
        const pending = this.pending.get(wire.id);
        if (!pending || pending.to !== wire.from) return;
        if (wire.ok) this.settle(wire.id, undefined, wire.body);
        else this.settle(wire.id, remoteError(wire.body));
        return;
      }
    }
  }

  private deliver(envelope: Envelope<M>): void {
    this.counters.messagesDelivered++;
    for (const handler of this.messageHandlers) {
      try {
        handler(envelope);
      } catch (err) {
        this.logger.error('transport: onMessage handler threw', { from: envelope.from, error: String(err) });
      }
    }
  }

  private answer(id: number, env: Envelope): void {
    const handler = this.requestHandler;
    const reply = (ok: boolean, body: unknown): void => {
      this.outgoing(env.from, { kind: 'reply', id, from: this.localId, to: env.from, ok, body });
    };
    if (!handler) {
      reply(false, { code: 'no_handler', message: `${this.localId} serves no requests` });
      return;
    }
    Promise.resolve()
      .then(() => handler(env))
      .then(
        (body) => reply(true, body ?? null),
        (err: unknown) => reply(false, { code: 'remote_error', message: err instanceof Error ? err.message : String(err) }),
      );
  }

  private settle(id: number, err: Error | undefined, value?: unknown): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    this.timers.clearTimer(pending.timer);
    if (err) pending.reject(err);
    else pending.resolve(value);
  }

  /** Called by subclasses' close(): fails every request still waiting. */
  protected failPending(): void {
    for (const id of [...this.pending.keys()]) this.settle(id, new TransportError('closed', 'transport closed'));
  }
}

function remoteError(body: unknown): TransportError {
  const b = (typeof body === 'object' && body !== null ? body : {}) as { code?: unknown; message?: unknown };
  const code: TransportErrorCode = b.code === 'no_handler' ? 'no_handler' : 'remote_error';
  return new TransportError(code, typeof b.message === 'string' ? b.message : 'remote error');
}