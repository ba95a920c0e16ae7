/**
 * The inter-node transport over TCP.
 *
 * Connections: every node *sends* only on connections it dialed itself ("links", one per peer) and
 * *receives* on every connection: two one-way pipelined connections per talking pair, no
 * tie-break between simultaneous dials (see docs/transport.md). A node that receives a hello on
 * an inbound connection learns the peer's address and dials it back.
 *
 * Handshake: the first frame each side writes is a hello (protocol version + PeerInfo); until the
 * peer's hello arrives nothing else is accepted. A malformed frame, an unexpected first frame or
 * a version mismatch closes that one connection (warning logged); the transport keeps serving.
 * With a cluster secret (`auth`), hellos carry nonces and each side proves the secret in an auth
 * frame (transport-auth.ts); a peer that cannot is refused, counted in `authFailures`, and none
 * of its frames reaches the node. With `tls`, connections run over TLS (mutual if `tls.mutual`).
 *
 * Sending never blocks and never throws. Frames wait in a bounded per-peer queue while the link is down or
 * the socket congested (`write` returned false, no 'drain' yet); a full queue drops its oldest, counted. A
 * turn's frames to a peer leave in one `write`. A dropped link is redialed with exponential backoff and
 * jitter, forever, until the peer is removed or the transport closed.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Logger, PeerInfo, Random } from '../ports/index.js';
import { FrameDecoder, FrameError, decodeWireMessage, encodeFrame } from '../codec/frame.js';
import { TransportBase } from './transport-common.js';
import type { TransportFaults, TransportLimits, FrameQueue } from './transport-common.js';
import {
  CONNECT_TIMEOUT_MS, HANDSHAKE_TIMEOUT_MS, RECONNECT_DELAY_BASE_MS, RECONNECT_DELAY_MAX_MS, RECONNECT_JITTER_RATIO,
  TCP_KEEPALIVE_DELAY_MS, TRANSPORT_PROTOCOL_VERSION, WRITE_BATCH_BYTES_MAX, WRITE_DIRECT_BYTES_MIN,
} from './transport-constants.js';
import type { ClusterAuth, TransportTls } from './transport-auth.js';

/** Grace period of `close()` for queued frames to leave before sockets are destroyed. */
const CLOSE_GRACE_MS = 500;

export interface TcpTransportTimings {
  reconnectDelayBaseMs: number;
  reconnectDelayMaxMs: number;
  connectTimeoutMs: number;
  handshakeTimeoutMs: number;
}

export interface TcpTransportOptions {
  /** This node's facts; `address` defaults to `listenHost:boundPort` (useful with port 0). */
  self: Omit<PeerInfo, 'address'> & { address?: string };
  listenHost: string;
  listenPort: number;
  /** Inter-node addresses (`host:port`) dialed at start; may include this node's own. */
  seeds?: string[];
  logger?: Logger;
  faults?: TransportFaults;
  random?: Random;
  limits?: Partial<TransportLimits>;
  timings?: Partial<TcpTransportTimings>;
  /** The cluster secret(s): peers must prove one in the handshake. */
  auth?: ClusterAuth;
  tls?: TransportTls;
}

interface Conn {
  readonly socket: net.Socket;
  readonly direction: 'in' | 'out';
  readonly link: Link | undefined;
  readonly decoder: FrameDecoder;
  remoteId: string | undefined;
  /** The peer's hello while its auth frame is awaited; this side's hello nonce (with a secret). */
  hello: { peer: PeerInfo; nonce: Uint8Array } | undefined;
  nonce: Uint8Array | undefined;
  handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  dead: boolean;
}

interface Link {
  address: string;
  nodeId: string | undefined;
  conn: Conn | undefined;
  /** The peer's hello arrived on `conn`: frames may flow. */
  open: boolean;
  congested: boolean;
  flushScheduled: boolean;
  removed: boolean;
  attempts: number;
  retryTimer: ReturnType<typeof setTimeout> | undefined;
  queue: FrameQueue;
}

export class TcpTransport<M = unknown> extends TransportBase<M, Link> {
  readonly self: PeerInfo;
  private readonly server: net.Server;
  private readonly timings: TcpTransportTimings;
  private readonly conns = new Set<Conn>();
  private readonly helloFrame: Uint8Array;
  private readonly auth: ClusterAuth | undefined;
  private tls: TransportTls | undefined;
  private closing: Promise<void> | undefined;

  /** Use `createTcpTransport`, which also starts listening. */
  constructor(opts: TcpTransportOptions, server: net.Server, private readonly boundPort: number) {
    super(opts);
    this.server = server;
    this.auth = opts.auth;
    this.tls = opts.tls;
    this.self = { ...opts.self, address: opts.self.address ?? `${opts.listenHost}:${boundPort}` };
    this.timings = {
      reconnectDelayBaseMs: RECONNECT_DELAY_BASE_MS,
      reconnectDelayMaxMs: RECONNECT_DELAY_MAX_MS,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
      ...opts.timings,
    };
    this.helloFrame = encodeFrame(
      { kind: 'hello', version: TRANSPORT_PROTOCOL_VERSION, peer: this.self },
      this.limits.framePayloadBytesMax,
    );
    server.on(opts.tls ? 'secureConnection' : 'connection', (socket: net.Socket) => this.accept(socket));
    for (const seed of opts.seeds ?? []) {
      if (seed !== this.self.address) this.ensureLink(seed, undefined);
    }
  }

  /** The port the server is (or was, once closed) bound to: the real one when asked for port 0. */
  get port(): number {
    return this.boundPort;
  }

  /** Certificate reload: new outbound dials present `next`, the listener too; open connections keep theirs. */
  reloadTls(next: TransportTls): void {
    if (!this.tls) throw new Error('the transport runs without TLS');
    (this.server as tls.Server).setSecureContext({ cert: next.cert, key: next.key, ...(next.ca !== undefined ? { ca: next.ca } : {}) });
    this.tls = next;
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    this.failPending();
    const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const link of this.links.values()) {
      if (link.retryTimer) clearTimeout(link.retryTimer);
      link.retryTimer = undefined;
      if (link.open) this.flush(link);
      link.queue.clear();
    }
    const socketsClosed = [...this.conns].map((conn) => new Promise<void>((resolve) => {
      if (conn.socket.destroyed) return resolve();
      conn.socket.once('close', () => resolve());
      conn.socket.end();
    }));
    let grace: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(socketsClosed),
      new Promise<void>((resolve) => { grace = setTimeout(resolve, CLOSE_GRACE_MS); }),
    ]);
    clearTimeout(grace);
    for (const conn of this.conns) conn.socket.destroy();
    await serverClosed;
  }

  protected enqueueFrame(to: string, frame: Uint8Array): boolean {
    const link = this.linkById.get(to);
    if (!link) return false;
    const dropped = link.queue.push(frame);
    if (dropped > 0) this.counters.droppedQueueFull += dropped;
    if (link.open && !link.congested) this.scheduleFlush(link);
    return true;
  }

  // --- links (outbound) ---

  protected newLink(address: string, nodeId: string | undefined, queue: FrameQueue): Link {
    return {
      address, nodeId, conn: undefined, open: false, congested: false, flushScheduled: false,
      removed: false, attempts: 0, retryTimer: undefined, queue,
    };
  }

  protected connectLink(link: Link, reason: 'new' | 'moved'): void {
    if (reason === 'new') this.dial(link);
  }

  protected dropLink(link: Link): void {
    link.removed = true;
    if (link.retryTimer) clearTimeout(link.retryTimer);
    link.retryTimer = undefined;
    link.queue.clear();
    if (this.links.get(link.address) === link) this.links.delete(link.address);
    if (link.nodeId !== undefined && this.linkById.get(link.nodeId) === link) this.linkById.delete(link.nodeId);
    link.conn?.socket.destroy();
  }

  private dial(link: Link): void {
    link.retryTimer = undefined;
    if (this.closed || link.removed || link.conn) return;
    const { host, port } = splitAddress(link.address);
    if (port === undefined) {
      this.logger.warn('transport: bad peer address', { address: link.address });
      this.dropLink(link);
      return;
    }
    const socket = this.tls
      ? tls.connect({ host, port, ...this.tls, ...(net.isIP(host) === 0 ? { servername: host } : {}) })
      : net.connect({ host, port });
    // Set here for both kinds: tls.connect (Node 20) ignores these options, and Nagle held replica frames (docs/transport.md).
    socket.setNoDelay(true).setKeepAlive(true, TCP_KEEPALIVE_DELAY_MS);
    const conn = this.track(socket, 'out', link);
    link.conn = conn;
    const connectTimer = setTimeout(() => socket.destroy(new Error('connect timeout')), this.timings.connectTimeoutMs);
    socket.once(this.tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(connectTimer);
      socket.write(this.helloFor(conn));
    });
    socket.once('close', () => clearTimeout(connectTimer));
  }

  private scheduleReconnect(link: Link): void {
    if (this.closed || link.removed || link.retryTimer || link.conn) return;
    const { reconnectDelayBaseMs: base, reconnectDelayMaxMs: max } = this.timings;
    const delay = Math.min(max, base * 2 ** Math.min(link.attempts, 30));
    const jittered = delay * (1 - RECONNECT_JITTER_RATIO * this.random.next());
    link.attempts++;
    link.retryTimer = setTimeout(() => this.dial(link), jittered);
  }

  private scheduleFlush(link: Link): void {
    if (link.flushScheduled) return;
    link.flushScheduled = true;
    this.flushPending.push(link);
    if (this.flushPending.length > 1) return;
    // Everything sent during this turn of the event loop — every HTTP request, every incoming
    // frame and every released Ready handled in its poll phase — goes out in one write per
    // peer. (A microtask flushed after each I/O callback: one write syscall per message under
    // load, each one paying loopback delivery too.)
    setImmediate(() => this.flushNow());
  }

  /** Writes this turn's frames now (the runtime's end-of-turn flush: else a loop iteration later). */
  flushNow(): void {
    const links = this.flushPending;
    this.flushPending = [];
    for (const l of links) { l.flushScheduled = false; this.flush(l); }
  }
  private flushPending: Link[] = [];

  private flush(link: Link): void {
    const conn = link.conn;
    if (!conn || !link.open || link.congested || conn.dead) return;
    const queue = link.queue;
    while (queue.length > 0) {
      const first = queue.shift()!;
      let chunk: Uint8Array = first;
      let frames = 1;
      if (first.length < WRITE_DIRECT_BYTES_MIN) {
        const batch = [first];
        let bytes = first.length;
        for (let next = queue.peek(); next && bytes + next.length <= WRITE_BATCH_BYTES_MAX; next = queue.peek()) {
          batch.push(queue.shift()!);
          bytes += next.length;
        }
        if (batch.length > 1) chunk = Buffer.concat(batch, bytes);
        frames = batch.length;
      }
      this.counters.framesSent += frames;
      this.counters.bytesSent += chunk.length;
      if (!conn.socket.write(chunk)) {
        link.congested = true;
        return;
      }
    }
  }

  // --- connections (both directions) ---

  private accept(socket: net.Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true).setKeepAlive(true, TCP_KEEPALIVE_DELAY_MS);
    const conn = this.track(socket, 'in', undefined);
    socket.write(this.helloFor(conn));
  }

  /** The hello to write on `conn`: with a cluster secret, a fresh nonce for each connection. */
  private helloFor(conn: Conn): Uint8Array {
    if (!this.auth) return this.helloFrame;
    conn.nonce = this.auth.newNonce();
    return encodeFrame(
      { kind: 'hello', version: TRANSPORT_PROTOCOL_VERSION, peer: this.self, nonce: conn.nonce },
      this.limits.framePayloadBytesMax,
    );
  }

  private track(socket: net.Socket, direction: 'in' | 'out', link: Link | undefined): Conn {
    const conn: Conn = {
      socket, direction, link, decoder: new FrameDecoder(this.limits.framePayloadBytesMax),
      remoteId: undefined, hello: undefined, nonce: undefined, handshakeTimer: undefined, dead: false,
    };
    this.conns.add(conn);
    conn.handshakeTimer = setTimeout(() => {
      this.logger.warn('transport: no hello in time, closing', { remote: remoteOf(conn), direction });
      socket.destroy();
    }, this.timings.handshakeTimeoutMs);
    socket.on('data', (chunk: Buffer) => {
      if (conn.dead) return;
      try {
        conn.decoder.push(chunk, (payload) => this.onPayload(conn, payload));
      } catch (err) {
        this.counters.malformedFrames++;
        this.logger.warn('transport: closing connection after bad frame', {
          remote: remoteOf(conn), nodeId: conn.remoteId, error: (err as Error).message,
        });
        conn.dead = true;
        socket.destroy();
      }
    });
    socket.on('drain', () => {
      if (conn.link && conn.link.conn === conn) {
        conn.link.congested = false;
        this.flush(conn.link);
      }
    });
    socket.on('error', (err) => {
      this.logger.debug('transport: socket error', { remote: remoteOf(conn), direction, error: err.message });
    });
    socket.on('close', () => this.onClose(conn));
    return conn;
  }

  private onPayload(conn: Conn, payload: Uint8Array): void {
    if (conn.dead || this.closed) return;
    if (conn.remoteId !== undefined) {
      this.receive(conn.remoteId, payload);
      return;
    }
    const wire = decodeWireMessage(payload);
    if (conn.hello) {
      this.onAuth(conn, conn.hello, wire.kind === 'auth' ? wire.proof : undefined);
      return;
    }
    if (wire.kind !== 'hello') throw new FrameError('frame_malformed', `expected hello, got ${wire.kind}`);
    if (wire.version !== TRANSPORT_PROTOCOL_VERSION) {
      throw new FrameError('frame_malformed', `protocol version ${wire.version}, expected ${TRANSPORT_PROTOCOL_VERSION}`);
    }
    const peer = wire.peer;
    if (peer.nodeId === this.localId) {
      // A seed that is this very node: forget it.
      clearTimeout(conn.handshakeTimer);
      conn.dead = true;
      if (conn.link) this.dropLink(conn.link);
      conn.socket.destroy();
      return;
    }
    if (!this.auth) {
      if (wire.nonce) this.refuse(conn, peer.nodeId, 'the peer requires a cluster secret and this node has none');
      else this.openConn(conn, peer);
      return;
    }
    if (!wire.nonce) return this.refuse(conn, peer.nodeId, 'the peer has no cluster secret');
    if (Buffer.compare(wire.nonce, conn.nonce!) === 0) return this.refuse(conn, peer.nodeId, 'the peer echoed our nonce');
    conn.hello = { peer, nonce: wire.nonce };
    const proof = this.auth.prove(this.localId, peer.nodeId, wire.nonce, conn.nonce!);
    conn.socket.write(encodeFrame({ kind: 'auth', proof }, this.limits.framePayloadBytesMax));
  }

  /** The frame after a peer's hello, with a cluster secret: it must prove the secret. */
  private onAuth(conn: Conn, hello: { peer: PeerInfo; nonce: Uint8Array }, proof: Uint8Array | undefined): void {
    if (!proof) return this.refuse(conn, hello.peer.nodeId, 'the peer sent no proof of the cluster secret');
    if (!this.auth!.verify(hello.peer.nodeId, this.localId, conn.nonce!, hello.nonce, proof)) {
      return this.refuse(conn, hello.peer.nodeId, 'wrong cluster secret');
    }
    conn.hello = undefined;
    this.openConn(conn, hello.peer);
  }

  private refuse(conn: Conn, nodeId: string, reason: string): void {
    this.counters.authFailures++;
    this.logger.warn(`transport: refused peer: ${reason}`, { remote: remoteOf(conn), nodeId, direction: conn.direction });
    conn.dead = true;
    conn.socket.destroy();
  }

  /** The handshake is done: frames of `peer` may flow on `conn`. */
  private openConn(conn: Conn, peer: PeerInfo): void {
    clearTimeout(conn.handshakeTimer);
    conn.handshakeTimer = undefined;
    conn.remoteId = peer.nodeId;
    this.counters.connectionsOpened++;
    if (conn.link) this.bindLink(conn.link, peer.nodeId);
    else this.ensureLink(peer.address, peer.nodeId);
    this.learnPeer(peer);
  }

  /** The hello on an outbound link tells who is at its address. */
  private bindLink(link: Link, nodeId: string): void {
    this.adoptLink(link, nodeId);
    link.attempts = 0;
    this.flush(link);
  }

  private onClose(conn: Conn): void {
    conn.dead = true;
    this.conns.delete(conn);
    clearTimeout(conn.handshakeTimer);
    const link = conn.link;
    if (link && link.conn === conn) {
      if (link.open) this.logger.info('transport: link down', { nodeId: link.nodeId, address: link.address });
      link.conn = undefined;
      link.open = false;
      link.congested = false;
      this.scheduleReconnect(link);
    }
  }
}

/** Starts listening and dialing the seeds; resolves once the server is bound. */
export async function createTcpTransport<M = unknown>(opts: TcpTransportOptions): Promise<TcpTransport<M>> {
  const server = opts.tls
    ? tls.createServer({ noDelay: true, ...opts.tls, handshakeTimeout: HANDSHAKE_TIMEOUT_MS, requestCert: opts.tls.mutual ?? false, rejectUnauthorized: opts.tls.mutual ?? false })
    : net.createServer({ noDelay: true });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(opts.listenPort, opts.listenHost, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => (opts.logger?.error('transport: server error', { error: err.message })));
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : opts.listenPort;
  return new TcpTransport<M>(opts, server, port);
}

export function splitAddress(address: string): { host: string; port: number | undefined } {
  const at = address.lastIndexOf(':');
  if (at <= 0) return { host: address, port: undefined };
  let host = address.slice(0, at);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  const port = Number(address.slice(at + 1));
  return { host, port: Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined };
}

function remoteOf(conn: Conn): string {
  return `${conn.socket.remoteAddress ?? '?'}:${conn.socket.remotePort ?? '?'}`;
}
