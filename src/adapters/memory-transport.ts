/**
 * The in-memory twin of the TCP transport: the one in-memory transport, serving the unit tests of
 * the runtime, the transport compliance suite and the simulator alike. A `MemoryNetwork` hub
 * plays the role of the IP network: transports register at an address, "dial" addresses (seeds,
 * `addPeer`), exchange hellos, and deliver encoded frames — never synchronously inside `send`.
 *
 * Same semantics as TCP: frames go through the real codec (so a message that would not survive
 * the wire fails here too, and receivers never alias senders' objects); hello/onPeer; a bounded
 * per-peer queue while the peer is down (oldest dropped); frames in flight to a transport that
 * closes are lost; a new transport at a known address is "reconnected" to at once (no backoff).
 *
 * Two things are injected. `timers` is what every frame waits on: the host's event loop by
 * default (frames in order per pair), the virtual clock in the simulator (src/sim/network.ts).
 * `conditioner` decides the fate of each data frame on a link — its delay, its loss, a
 * duplicate, a partition that cuts it in flight; without one, every frame arrives after 0 ms.
 * Hellos are not conditioned: a link, once its peer is registered, always opens.
 */
import type { PeerInfo } from '../ports/index.js';
import { HostTimers, TransportBase } from './transport-common.js';
import type { TransportBaseOptions, FrameQueue, TransportTimers } from './transport-common.js';
import { MEMORY_NETWORK_IN_FLIGHT_MAX } from './transport-constants.js';

/** The network's behaviour on each link, for fault injection (the simulator's faulty network). */
export interface LinkConditioner {
  /** The delays in ms of the copies of one frame sent `from` → `to`: [] drops it, two entries duplicate it. */
  route(from: string, to: string, frameBytes: number): readonly number[];
  /** Asked again as a frame arrives: false loses it (a partition cut while it was in flight). */
  deliverable(from: string, to: string): boolean;
  /**
   * Optional: takes a data frame over instead of routing it (true), to deliver it later by
   * calling `deliver` — a scripted test's network that holds frames until told to move them.
   */
  intercept?(from: string, to: string, frame: Uint8Array, deliver: () => void): boolean;
}

export interface MemoryNetworkOptions {
  /** Bound on frames in flight network-wide; more are dropped and counted. */
  inFlightMax?: number;
  /** What frames wait on; also handed to each transport unless it brings its own. */
  timers?: TransportTimers;
  conditioner?: LinkConditioner;
}

export interface MemoryTransportOptions extends TransportBaseOptions {
  /** `address` defaults to `mem:<nodeId>`. */
  self: Omit<PeerInfo, 'address'> & { address?: string };
  seeds?: string[];
}

/** What the hub sees of a transport, whatever its message type. @internal */
interface MemoryEndpoint {
  readonly self: PeerInfo;
  readonly closedNow: boolean;
  addressUp(address: string): void;
  addressDown(remote: MemoryEndpoint): void;
  acceptHello(peer: PeerInfo): void;
  deliverFrame(fromId: string, frame: Uint8Array): void;
}

export class MemoryNetwork {
  private readonly endpoints = new Map<string, MemoryEndpoint>();
  private inFlight = 0;
  private readonly inFlightMax: number;
  readonly timers: TransportTimers;
  readonly conditioner: LinkConditioner | undefined;
  /** Deliveries refused because the network-wide bound was reached. */
  droppedInFlight = 0;
  /** Data frames the conditioner dropped, at sending or in flight. */
  droppedByConditioner = 0;

  constructor(opts: MemoryNetworkOptions = {}) {
    this.inFlightMax = opts.inFlightMax ?? MEMORY_NETWORK_IN_FLIGHT_MAX;
    this.timers = opts.timers ?? new HostTimers();
    this.conditioner = opts.conditioner;
  }

  /** Creates a transport registered at its address and dials its seeds. */
  createTransport<M = unknown>(opts: MemoryTransportOptions): MemoryTransport<M> {
    const address = opts.self.address ?? `mem:${opts.self.nodeId}`;
    if (this.endpoints.has(address)) throw new Error(`address in use: ${address}`);
    const transport = new MemoryTransport<M>(this, { timers: this.timers, ...opts, self: { ...opts.self, address } });
    this.endpoints.set(address, transport);
    for (const other of this.endpoints.values()) if (other !== transport) other.addressUp(address);
    for (const seed of opts.seeds ?? []) if (seed !== address) transport.dialAddress(seed);
    return transport;
  }

  /** @internal */
  lookup(address: string): MemoryEndpoint | undefined {
    return this.endpoints.get(address);
  }

  /** @internal */
  unregister(transport: MemoryEndpoint): void {
    const address = transport.self.address;
    if (this.endpoints.get(address) !== transport) return;
    this.endpoints.delete(address);
    for (const other of this.endpoints.values()) other.addressDown(transport);
  }

  /**
   * @internal Runs `fn` after `delayMs` (0: after everything scheduled before it at that time).
   * False when over the bound.
   */
  schedule(fn: () => void, delayMs = 0): boolean {
    if (this.inFlight >= this.inFlightMax) {
      this.droppedInFlight++;
      return false;
    }
    this.inFlight++;
    this.timers.setTimer(delayMs, () => {
      this.inFlight--;
      fn();
    });
    return true;
  }

  /** @internal Sends one data frame over the link `from` → `to`; false when nothing left. */
  carry(from: string, to: string, frame: Uint8Array, deliver: () => void): boolean {
    const c = this.conditioner;
    if (!c) return this.schedule(deliver);
    if (c.intercept?.(from, to, frame, deliver)) return true;
    const delays = c.route(from, to, frame.length);
    if (delays.length === 0) {
      this.droppedByConditioner++; // it left the sender: lost on the wire
      return true;
    }
    let sent = false;
    for (const delayMs of delays) {
      sent = this.schedule(() => {
        if (c.deliverable(from, to)) deliver();
        else this.droppedByConditioner++;
      }, delayMs) || sent;
    }
    return sent;
  }
}

interface MemoryLink {
  address: string;
  nodeId: string | undefined;
  remote: MemoryEndpoint | undefined;
  open: boolean;
  connecting: boolean;
  removed: boolean;
  queue: FrameQueue;
}

export class MemoryTransport<M = unknown> extends TransportBase<M, MemoryLink> implements MemoryEndpoint {
  readonly self: PeerInfo;

  /** Use `MemoryNetwork.createTransport`. */
  constructor(private readonly network: MemoryNetwork, opts: MemoryTransportOptions & { self: PeerInfo }) {
    super(opts);
    this.self = opts.self;
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.failPending();
      for (const link of this.links.values()) link.queue.clear();
      this.network.unregister(this);
    }
    return Promise.resolve();
  }

  protected enqueueFrame(to: string, frame: Uint8Array): boolean {
    const link = this.linkById.get(to);
    if (!link) return false;
    const dropped = link.queue.push(frame);
    if (dropped > 0) this.counters.droppedQueueFull += dropped;
    if (link.open) this.flush(link);
    return true;
  }

  /** @internal */
  dialAddress(address: string): void {
    this.ensureLink(address, undefined);
  }

  /** @internal A transport registered at `address`: (re)connect the links aimed at it. */
  addressUp(address: string): void {
    const link = this.links.get(address);
    if (link && !this.closed) this.connect(link);
  }

  /** @internal `remote` closed: its links go down, their frames wait in the queue again. */
  addressDown(remote: MemoryEndpoint): void {
    for (const link of this.links.values()) {
      if (link.remote === remote) {
        link.remote = undefined;
        link.open = false;
      }
    }
  }

  /** @internal The far side of a handshake: `peer` connected to us. */
  acceptHello(peer: PeerInfo): void {
    if (this.closed) return;
    this.counters.connectionsOpened++;
    this.ensureLink(peer.address, peer.nodeId);
    this.learnPeer(peer);
  }

  /** @internal */
  deliverFrame(fromId: string, frame: Uint8Array): void {
    if (this.closed) return;
    try {
      this.receive(fromId, frame.subarray(4));
    } catch (err) {
      this.counters.malformedFrames++;
      this.logger.warn('transport: bad frame', { from: fromId, error: (err as Error).message });
    }
  }

  protected newLink(address: string, nodeId: string | undefined, queue: FrameQueue): MemoryLink {
    return {
      address, nodeId, remote: undefined, open: false, connecting: false, removed: false, queue,
    };
  }

  protected connectLink(link: MemoryLink, _reason: 'new' | 'moved'): void {
    this.connect(link);
  }

  protected dropLink(link: MemoryLink): void {
    link.removed = true;
    link.open = false;
    link.remote = undefined;
    link.queue.clear();
    if (this.links.get(link.address) === link) this.links.delete(link.address);
    if (link.nodeId !== undefined && this.linkById.get(link.nodeId) === link) this.linkById.delete(link.nodeId);
  }

  private connect(link: MemoryLink): void {
    if (this.closed || link.removed || link.open || link.connecting) return;
    const remote = this.network.lookup(link.address);
    if (!remote) return; // connected when something registers at the address
    link.connecting = true;
    this.network.schedule(() => {
      link.connecting = false;
      if (this.closed || link.removed || remote.closedNow) return;
      if (remote.self.nodeId === this.localId) {
        this.dropLink(link);
        return;
      }
      remote.acceptHello(this.self);
      this.bindLink(link, remote);
      this.learnPeer(remote.self);
    });
  }

  /** Whether close() was called (for the network's handshake). @internal */
  get closedNow(): boolean {
    return this.closed;
  }

  private bindLink(link: MemoryLink, remote: MemoryEndpoint): void {
    this.adoptLink(link, remote.self.nodeId);
    link.remote = remote;
    this.counters.connectionsOpened++;
    this.flush(link);
  }

  private flush(link: MemoryLink): void {
    const remote = link.remote;
    if (!remote || !link.open) return;
    const to = remote.self.nodeId;
    for (let frame = link.queue.shift(); frame; frame = link.queue.shift()) {
      const f = frame;
      if (!this.network.carry(this.localId, to, f, () => remote.deliverFrame(this.localId, f))) continue;
      this.counters.framesSent++;
      this.counters.bytesSent += f.length;
    }
  }
}
