/**
 * The RESP front end over node:net. It owns sockets, the parser and the order of replies: a
 * pipelining client gets its replies in the order it sent the commands, however the node
 * answers them. Replies that are ready together go out in one write. A protocol error (a
 * malformed or oversized frame) is answered with `-ERR Protocol error: ...` and closes that
 * connection only. The commands themselves are in commands.ts.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../../ports/index.js';
import { silentLogger } from '../../ports/index.js';
import type { NodeService } from '../../runtime/service.js';
import { RESP_LIMITS } from './constants.js';
import type { RespServerInfo, RespSession } from './commands.js';
import { RespCommands } from './commands.js';
import { RespParser, RespProtocolError } from './parser.js';
import type { RespReply } from './reply.js';
import { concatParts, encodeInto, error, simple } from './reply.js';
import type { Permission, TokenAuth } from '../auth/tokens.js';
import { respNeed } from '../auth/tokens.js';
import { TurnWrites } from '../turn-writes.js';

export interface RespServerOptions {
  logger?: Logger;
  /** Overrides the service's `maxValueBytes`. */
  maxValueBytes?: number;
  /** How long `close()` waits for in-flight commands before cutting connections. */
  shutdownGraceMs?: number;
  /**
   * Asked before each command runs (the rate limiter, `RESP <COMMAND>` routes): refuse it with a
   * simple error, or hold it (and every later command of the connection, so order holds) `delayMs`.
   */
  gate?: (clientIp: string, command: string) => RespGateDecision;
  /** API tokens: every command but AUTH and QUIT needs `AUTH <token>` first (NOAUTH, NOPERM). */
  auth?: TokenAuth;
  /** Overrides RESP_LIMITS.stalledTimeoutMs (tests). */
  stalledTimeoutMs?: number;
  /** Serve RESP over TLS with this certificate and key (PEM contents). */
  tls?: { cert: string | Buffer; key: string | Buffer; ca?: string | Buffer };
}

export interface RespGateDecision {
  ok: boolean;
  delayMs: number;
  /** When refused: the simple-error text. */
  error?: string;
}

export interface GossamerRespServer {
  listen(host: string, port: number): Promise<{ port: number }>;
  close(): Promise<void>;
  readonly server: net.Server;
  connections(): number;
}

interface Slot {
  reply: RespReply | undefined;
  close: boolean;
}

export function createRespServer(service: NodeService, opts: RespServerOptions = {}): GossamerRespServer {
  const logger = opts.logger ?? silentLogger;
  const sockets = new Set<net.Socket>();
  const server: net.Server = opts.tls ? tls.createServer({ noDelay: true, ...opts.tls, handshakeTimeout: 10_000 }) : net.createServer({ noDelay: true });
  let nextClientId = 1;
  let totalCommands = 0;
  let port = 0;
  let closing = false;
  const info: RespServerInfo = {
    get port() { return port; },
    startedAtMs: Date.now(),
    connectedClients: () => sockets.size,
    totalCommands: () => totalCommands,
  };
  const onBug = (err: unknown, where: string): void => {
    logger.error('resp handler failed', { where, err: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  };

  const perClient = new Map<string, number>();
  const turnWrites = new TurnWrites((e) => onBug(e, 'resp reply write'));
  server.on(opts.tls ? 'secureConnection' : 'connection', (socket: net.Socket) => {
    const client = socket.remoteAddress ?? '';
    const mine = perClient.get(client) ?? 0;
    if (sockets.size >= RESP_LIMITS.connectionsMax || mine >= RESP_LIMITS.connectionsPerClientMax || closing) {
      socket.end(`-ERR max number of clients reached\r\n`);
      return;
    }
    perClient.set(client, mine + 1);
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      const left = (perClient.get(client) ?? 1) - 1;
      if (left > 0) perClient.set(client, left);
      else perClient.delete(client);
    });
    socket.setTimeout(opts.stalledTimeoutMs ?? RESP_LIMITS.stalledTimeoutMs);
    serveConnection(socket, {
      service, info, onBug, logger,
      session: { id: nextClientId++, name: null, remoteAddress: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}` },
      maxValueBytes: opts.maxValueBytes ?? service.defaults().maxValueBytes,
      countCommand: () => { totalCommands++; },
      turnWrites,
      ...(opts.gate ? { gate: opts.gate } : {}),
      ...(opts.auth ? { auth: opts.auth } : {}),
    });
  });
  server.on('error', (e) => logger.error('resp server error', { error: e.message }));

  return {
    server,
    connections: () => sockets.size,
    listen(host: string, wanted: number): Promise<{ port: number }> {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(wanted, host, () => {
          server.off('error', reject);
          port = (server.address() as net.AddressInfo).port;
          resolve({ port });
        });
      });
    },
    close(): Promise<void> {
      closing = true;
      return new Promise((resolve) => {
        if (!server.listening) {
          for (const s of sockets) s.destroy();
          resolve();
          return;
        }
        const timer = setTimeout(() => { for (const s of sockets) s.destroy(); }, opts.shutdownGraceMs ?? 5_000);
        timer.unref();
        server.close(() => { clearTimeout(timer); resolve(); });
        // Idle connections go now; busy ones end after their last reply (see `drain`).
        for (const s of sockets) s.emit('gossamer-close-idle');
      });
    },
  };
}

interface ConnectionDeps {
  service: NodeService;
  info: RespServerInfo;
  session: RespSession;
  maxValueBytes: number;
  logger: Logger;
  onBug: (err: unknown, where: string) => void;
  countCommand: () => void;
  gate?: (clientIp: string, command: string) => RespGateDecision;
  auth?: TokenAuth;
  turnWrites: TurnWrites;
}

function serveConnection(socket: net.Socket, deps: ConnectionDeps): void {
  const conn = new RespConnection(socket, deps);
  socket.on('data', (data: Buffer) => conn.onData(data));
  socket.on('drain', () => conn.onDrain());
  socket.on('gossamer-close-idle', () => conn.closeWhenIdle());
  socket.on('timeout', () => conn.onSilence());
  socket.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'ECONNRESET' && e.code !== 'EPIPE') deps.logger.debug('resp connection error', { error: e.message });
  });
  socket.on('close', () => conn.onClose());
}

/** One client connection: parses what arrives, runs each command, writes the replies in order. */
class RespConnection {
  private readonly parser: RespParser;
  private readonly commands: RespCommands;
  private readonly slots: Slot[] = [];
  private ended = false;
  private drainQueued = false;
  private paused = false;
  private closeIdle = false;
  /** Commands waiting behind one the gate holds (leaky bucket), run in order when it is due. */
  private readonly held: Buffer[][] = [];
  private holding = false;
  /** With tokens: the permissions of the token this connection gave in AUTH. */
  private permissions: ReadonlySet<Permission> | undefined;

  constructor(private readonly socket: net.Socket, private readonly deps: ConnectionDeps) {
    this.parser = new RespParser({ bulkBytesMax: deps.maxValueBytes + RESP_LIMITS.bulkSlackBytes });
    this.commands = new RespCommands({
      service: deps.service, session: deps.session, server: deps.info, maxValueBytes: deps.maxValueBytes, onBug: deps.onBug,
    });
  }

  onData(data: Buffer): void {
    if (this.ended) return;
    let cmds: Buffer[][];
    try {
      cmds = this.parser.push(data);
    } catch (e) {
      if (!(e instanceof RespProtocolError)) throw e;
      // Answer what was already asked, then the protocol error, then close: as Redis does.
      this.slots.push({ reply: error(`ERR ${e.message}`), close: true });
      this.socket.pause();
      this.scheduleDrain();
      return;
    }
    this.runCommands(cmds);
    if (this.slots.length > 0) this.scheduleDrain();
    if (this.slots.length >= RESP_LIMITS.pipelineDepthMax || this.socket.writableNeedDrain) {
      this.paused = true;
      this.socket.pause();
    }
  }

  /** Runs commands in order; one the gate holds delays it and all after it. */
  private runCommands(cmds: Buffer[][]): void {
    for (let i = 0; i < cmds.length; i++) {
      const args = cmds[i]!;
      if (this.holding) {
        this.held.push(args);
        continue;
      }
      const decision = this.deps.gate?.(this.socket.remoteAddress ?? '', args[0]?.toString('latin1') ?? '');
      if (decision && decision.ok && decision.delayMs > 0) {
        this.holding = true;
        this.held.push(args);
        setTimeout(() => this.release(), decision.delayMs);
        continue;
      }
      if (!this.runOne(args, decision)) break;
    }
  }

  private release(): void {
    this.holding = false;
    if (this.ended) return;
    const first = this.held.shift();
    if (!first) return;
    const rest = this.held.splice(0);
    if (this.runOne(first, { ok: true, delayMs: 0 })) this.runCommands(rest);
    this.scheduleDrain();
  }

  /** Runs one command (or answers the gate's refusal); false when the connection is to close. */
  private runOne(args: Buffer[], decision: RespGateDecision | undefined): boolean {
    this.deps.countCommand();
    if (decision && !decision.ok) {
      this.commands.refusedBeforeRun(args);
      this.slots.push({ reply: error(decision.error ?? 'ERR rate limited'), close: false });
      return true;
    }
    const refusal = this.deps.auth && this.checkAuth(this.deps.auth, args);
    if (refusal) {
      this.slots.push({ reply: refusal, close: false });
      return true;
    }
    const out = this.commands.run(args);
    const slot: Slot = { reply: undefined, close: out.close ?? false };
    this.slots.push(slot);
    if (out.reply instanceof Promise) {
      void out.reply.then((r) => { slot.reply = r; this.scheduleDrain(); });
    } else {
      slot.reply = out.reply;
    }
    if (slot.close) {
      this.socket.pause();
      return false;
    }
    return true;
  }

  /** AUTH itself, or the refusal of a command this connection may not run; undefined: run it. */
  private checkAuth(auth: TokenAuth, args: Buffer[]): RespReply | undefined {
    const name = args[0]!.toString('latin1').toUpperCase();
    if (name === 'AUTH') {
      // AUTH <token>, or AUTH <username> <token> (Redis 6 ACL form; the username is ignored).
      if (args.length !== 2 && args.length !== 3) return error(`ERR wrong number of arguments for 'auth' command`);
      const perms = auth.permissionsOf(args[args.length - 1]!.toString('utf8'));
      if (!perms) return error('WRONGPASS invalid username-password pair or user is disabled.');
      this.permissions = perms;
      return simple('OK');
    }
    const need = respNeed(name);
    if (need === 'none') return undefined;
    if (!this.permissions) return error('NOAUTH Authentication required.');
    if (!this.permissions.has(need)) {
      return error(`NOPERM this token has no permission to run the '${name.toLowerCase().slice(0, 64)}' command`);
    }
    return undefined;
  }

  /** No I/O for a while: close a connection stuck mid-command, or one that never authenticated. */
  onSilence(): void {
    if (this.parser.bufferedBytes > 0 || (this.deps.auth && !this.permissions && this.slots.length === 0)) {
      this.deps.logger.debug('resp: closing a stalled connection', { remote: this.deps.session.remoteAddress });
      this.ended = true;
      this.socket.destroy();
    }
  }

  onDrain(): void {
    if (this.paused) this.scheduleDrain();
  }

  onClose(): void {
    this.ended = true;
  }

  closeWhenIdle(): void {
    this.closeIdle = true;
    if (this.slots.length === 0) {
      this.ended = true;
      this.socket.end();
    }
  }

  /** Drains at the end of this event-loop turn, with every other connection's replies (TurnWrites). */
  private scheduleDrain(): void {
    if (this.drainQueued) return;
    this.drainQueued = true;
    this.deps.turnWrites.add(this.drainNow);
  }

  private readonly drainNow = (): void => this.drain();

  /** Writes every finished reply at the head of the queue, in order, in one write. */
  private drain(): void {
    this.drainQueued = false;
    if (this.ended) return;
    const parts: (string | Uint8Array)[] = [];
    let close = false;
    while (this.slots.length > 0 && this.slots[0]!.reply !== undefined) {
      const slot = this.slots.shift()!;
      encodeInto(slot.reply!, parts);
      if (slot.close) {
        close = true;
        break;
      }
    }
    if (parts.length > 0) this.socket.write(concatParts(parts));
    if (close || (this.closeIdle && this.slots.length === 0)) {
      this.ended = true;
      this.slots.length = 0;
      this.socket.end();
      return;
    }
    if (this.paused && this.slots.length < RESP_LIMITS.pipelineDepthMax / 2 && !this.socket.writableNeedDrain) {
      this.paused = false;
      this.socket.resume();
    }
  }
}
