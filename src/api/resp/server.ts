/**
 * The RESP front end over node:net. It owns sockets, the parser and the order of replies: a
 * pipelining client gets its replies in the order it sent the commands, however the node
 * answers them. Replies that are ready together go out in one write. A protocol error (a
 * malformed or oversized frame) is answered with `-ERR Protocol error: ...` and closes that
 * connection only. The commands themselves are in commands.ts.
 */
import net from 'node:net';
import type { Logger } from '../../ports/index.js';
import { silentLogger } from '../../ports/index.js';
import type { NodeService } from '../../runtime/service.js';
import { RESP_LIMITS } from './constants.js';
import type { RespServerInfo, RespSession } from './commands.js';
import { RespCommands } from './commands.js';
import { RespParser, RespProtocolError } from './parser.js';
import type { RespReply } from './reply.js';
import { concatParts, encodeInto, error } from './reply.js';

export interface RespServerOptions {
  logger?: Logger;
  /** Overrides the service's `maxValueBytes`. */
  maxValueBytes?: number;
  /** How long `close()` waits for in-flight commands before cutting connections. */
  shutdownGraceMs?: number;
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
  const server = net.createServer({ noDelay: true });
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

  server.on('connection', (socket) => {
    if (sockets.size >= RESP_LIMITS.connectionsMax || closing) {
      socket.end(`-ERR max number of clients reached\r\n`);
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serveConnection(socket, {
      service, info, onBug, logger,
      session: { id: nextClientId++, name: null, remoteAddress: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}` },
      maxValueBytes: opts.maxValueBytes ?? service.defaults().maxValueBytes,
      countCommand: () => { totalCommands++; },
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
}

function serveConnection(socket: net.Socket, deps: ConnectionDeps): void {
  const parser = new RespParser({ bulkBytesMax: deps.maxValueBytes + RESP_LIMITS.bulkSlackBytes });
  const commands = new RespCommands({
    service: deps.service, session: deps.session, server: deps.info, maxValueBytes: deps.maxValueBytes, onBug: deps.onBug,
  });
  const slots: Slot[] = [];
  let ended = false;
  let flushScheduled = false;
  let paused = false;
  let closeIdle = false;

  /** Writes every finished reply at the head of the queue, in order, in one write. */
  const drain = (): void => {
    flushScheduled = false;
    if (ended) return;
    const parts: (string | Uint8Array)[] = [];
    let close = false;
    while (slots.length > 0 && slots[0]!.reply !== undefined) {
      const slot = slots.shift()!;
      encodeInto(slot.reply!, parts);
      if (slot.close) {
        close = true;
        break;
      }
    }
    if (parts.length > 0) socket.write(concatParts(parts));
    if (close || (closeIdle && slots.length === 0)) {
      ended = true;
      slots.length = 0;
      socket.end();
      return;
    }
    if (paused && slots.length < RESP_LIMITS.pipelineDepthMax / 2 && !socket.writableNeedDrain) {
      paused = false;
      socket.resume();
    }
  };
  const scheduleDrain = (): void => {
    if (flushScheduled) return;
    flushScheduled = true;
    setImmediate(drain);
  };

  socket.on('data', (data: Buffer) => {
    if (ended) return;
    let cmds: Buffer[][];
    try {
      cmds = parser.push(data);
    } catch (e) {
      if (!(e instanceof RespProtocolError)) throw e;
      // Answer what was already asked, then the protocol error, then close: as Redis does.
      slots.push({ reply: error(`ERR ${e.message}`), close: true });
      socket.pause();
      scheduleDrain();
      return;
    }
    for (const args of cmds) {
      deps.countCommand();
      const out = commands.run(args);
      const slot: Slot = { reply: undefined, close: out.close ?? false };
      slots.push(slot);
      if (out.reply instanceof Promise) {
        void out.reply.then((r) => { slot.reply = r; scheduleDrain(); });
      } else {
        slot.reply = out.reply;
      }
      if (slot.close) {
        socket.pause();
        break;
      }
    }
    if (slots.length > 0) scheduleDrain();
    if (slots.length >= RESP_LIMITS.pipelineDepthMax || socket.writableNeedDrain) {
      paused = true;
      socket.pause();
    }
  });
  socket.on('drain', () => { if (paused) scheduleDrain(); });
  socket.on('gossamer-close-idle', () => {
    closeIdle = true;
    if (slots.length === 0) {
      ended = true;
      socket.end();
    }
  });
  socket.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'ECONNRESET' && e.code !== 'EPIPE') deps.logger.debug('resp connection error', { error: e.message });
  });
  socket.on('close', () => { ended = true; });
}
