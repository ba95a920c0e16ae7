/**
 * The HTTP front end over node:http (measured faster than fastify here). It owns sockets and
 * streams: bodies are read with a hard cap (a request over the limit is refused as soon as it
 * passes it, without buffering the rest), aborted requests are dropped quietly, and every
 * response goes through one place that also counts it for /metrics.
 */
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../../ports/index.js';
import { silentLogger } from '../../ports/index.js';
import type { NodeService } from '../../runtime/service.js';
import { HttpError } from './errors.js';
import type { HttpResponse, Plan, RouteName, RouterOptions } from './router.js';
import { errorResponse, planRequest, routeName, toResponse, tooLarge } from './router.js';
import { HttpMetrics } from './metrics.js';
import type { HttpRateGate } from '../ratelimit/http-gate.js';
import { renderNodeStats } from '../../runtime/stats-text.js';
import type { TokenAuth } from '../auth/tokens.js';
import { checkHttpAuth } from '../auth/http-auth.js';
import { TurnWrites } from '../turn-writes.js';

export interface HttpServerOptions extends RouterOptions {
  logger?: Logger;
  /** How long `close()` waits for in-flight requests before cutting connections. */
  shutdownGraceMs?: number;
  /** After refusing an oversized body, how long to keep draining it so the client reads the 413. */
  drainAfterRefusalMs?: number;
  /** Serve `/metrics` (default true). */
  metrics?: boolean;
  /** The rate limiter, asked before every request is routed (src/api/ratelimit). */
  rateLimit?: HttpRateGate;
  /** The node's metrics registry, shared with the runtime's collectors (default: one of its own). */
  metricsRegistry?: HttpMetrics;
  /** API tokens: every route but /health needs one (401/403; src/api/auth). */
  auth?: TokenAuth;
  /** Serve https with this certificate and key (PEM contents). */
  tls?: { cert: string | Buffer; key: string | Buffer; ca?: string | Buffer };
}

export interface GossamerHttpServer {
  listen(host: string, port: number): Promise<{ port: number }>;
  close(): Promise<void>;
  /** The underlying node:http server (for tests and tuning). */
  readonly server: http.Server;
  readonly metrics: HttpMetrics;
}

class BodyTooLarge extends Error {}
class BodyAborted extends Error {}

/** Upper bound on bytes discarded after a 413, past which the connection is simply cut. */
const MAX_DRAIN_BYTES = 64 * 1024 * 1024;

export function createHttpServer(service: NodeService, opts: HttpServerOptions = {}): GossamerHttpServer {
  const logger = opts.logger ?? silentLogger;
  const metrics = opts.metricsRegistry ?? new HttpMetrics();
  const rateLimit = opts.rateLimit;
  if (rateLimit) metrics.addRawCollector(() => rateLimit.renderMetrics());
  metrics.addRawCollector(() => renderNodeStats(service.stats?.()));
  const routerOpts: RouterOptions = {
    ...opts,
    onBug: opts.onBug ?? ((err, where) => {
      logger.error('http handler failed', { where, err: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }),
  };
  const server = makeServer(opts);
  const handler = new RequestHandler(service, opts, routerOpts, metrics, logger);
  const onRequest = (expectsContinue: boolean) => (req: IncomingMessage, res: ServerResponse): void => {
    try {
      handler.handle(req, res, expectsContinue);
    } catch (e) {
      handler.send(req, res, routeName(req.url ?? ''), toResponse(e, routerOpts, 'request'));
    }
  };
  server.on('request', onRequest(false));
  server.on('checkContinue', onRequest(true));
  server.on('clientError', answerClientError);
  return {
    server,
    metrics,
    listen: (host, port) => listenOn(server, logger, host, port),
    close: () => {
      handler.closing = true;
      return closeServer(server, opts.shutdownGraceMs ?? 5_000);
    },
  };
}

function makeServer(opts: HttpServerOptions): http.Server {
  // Headers up to 32 KiB: a context token may be 16 KiB, and a too-long one deserves a clear 400.
  const serverOpts = { keepAlive: true, noDelay: true, maxHeaderSize: 32 * 1024 };
  const server: http.Server = opts.tls
    ? https.createServer({ ...serverOpts, ...opts.tls, handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS })
    : http.createServer(serverOpts);
  limitPerClient(server, HTTP_CONNECTIONS_PER_CLIENT_MAX);
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  return server;
}

/** Each request: the rate limiter, then authentication, then the router's plan, then one reply. */
class RequestHandler {
  /** Set by close(): replies then say `Connection: close`. */
  closing = false;
  private readonly serveMetrics: boolean;
  private readonly turnWrites = new TurnWrites((e) => this.logger.error('http reply write failed', { err: e instanceof Error ? (e.stack ?? e.message) : String(e) }));

  constructor(
    private readonly service: NodeService, private readonly opts: HttpServerOptions, private readonly routerOpts: RouterOptions,
    private readonly metrics: HttpMetrics, private readonly logger: Logger,
  ) {
    this.serveMetrics = opts.metrics ?? true;
  }

  send(req: IncomingMessage, res: ServerResponse, route: RouteName, r: HttpResponse): void {
    this.metrics.count(route, req.method ?? '', r.status, req);
    if (res.headersSent || res.destroyed) return;
    if (this.closing) res.setHeader('Connection', 'close');
    // writeHead with the headers at once: node:http formats them in one pass (no per-header
    // setHeader bookkeeping) and merges any set earlier (rate-limit headers, Connection).
    if (r.body === undefined) {
      res.writeHead(r.status, r.headers);
      res.end();
      return;
    }
    const body = typeof r.body === 'string' ? Buffer.from(r.body) : Buffer.from(r.body.buffer, r.body.byteOffset, r.body.byteLength);
    res.writeHead(r.status, { ...r.headers, 'Content-Length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  /** The rate limiter's word first: a 429, a hold (leaky bucket), or headers and on. */
  handle(req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): void {
    const rateLimit = this.opts.rateLimit;
    if (!rateLimit) return this.serve(req, res, expectsContinue);
    const gate = rateLimit.admit(req.method ?? 'GET', req.url ?? '/', req.socket.remoteAddress, req.headers);
    for (const [k, v] of Object.entries(gate.headers)) res.setHeader(k, v);
    if (gate.refusal) {
      req.on('error', () => {});
      res.on('error', () => {});
      if (expectsContinue) res.setHeader('Connection', 'close');
      this.send(req, res, routeName(req.url ?? '/'), gate.refusal);
    } else if (gate.delayMs > 0) {
      setTimeout(() => {
        try {
          this.serve(req, res, expectsContinue);
        } catch (e) {
          this.send(req, res, routeName(req.url ?? ''), toResponse(e, this.routerOpts, 'request'));
        }
      }, gate.delayMs);
    } else {
      this.serve(req, res, expectsContinue);
    }
  }

  private serve(req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): void {
    const url = req.url ?? '/';
    const method = req.method ?? 'GET';
    const route = routeName(url);
    this.metrics.begin(req);
    req.on('error', () => { /* an aborted upload: handled by readBody or nothing to do */ });
    res.on('error', () => { /* the client went away */ });
    const refusal = this.opts.auth && checkHttpAuth(this.opts.auth, method, url, req.headers.authorization);
    if (refusal) {
      if (expectsContinue) res.setHeader('Connection', 'close');
      this.send(req, res, route, refusal);
      return;
    }
    const plan = this.serveMetrics && (url === '/metrics' || url.startsWith('/metrics?'))
      ? this.metricsPlan(method)
      : planRequest(this.service, this.routerOpts, method, url, req.headers);
    if (plan.kind === 'respond') {
      // A body nobody asked for (e.g. on a 4xx): let node:http discard it, but never buffer it.
      // Refused before 100 Continue: the client may or may not send the body now; start afresh.
      if (expectsContinue) res.setHeader('Connection', 'close');
      this.settle(req, res, route, plan.response, plan.nodeAnswer);
      return;
    }
    if (expectsContinue) res.writeContinue();
    readBody(req, plan.maxBytes).then(
      // An exception thrown by the handler becomes a rejected promise, which settle turns into a logged 500.
      (body) => this.settle(req, res, route, Promise.resolve(body).then((b) => plan.handle(b))),
      (e: unknown) => {
        if (e instanceof BodyTooLarge) {
          this.refuseOversized(req, res, route, plan.maxBytes);
          return;
        }
        // Aborted mid-body: the client is gone; nothing to answer, nothing stored.
        if (!(e instanceof BodyAborted)) this.logger.warn('http body read failed', { err: String(e) });
      },
    );
  }

  private metricsPlan(method: string): Plan {
    const metrics = this.metrics;
    return method === 'GET' || method === 'HEAD'
      ? { kind: 'respond', response: metrics.render().then((body) => ({ status: 200, headers: { 'Content-Type': metrics.contentType }, body })) }
      : { kind: 'respond', response: errorResponse(new HttpError('method_not_allowed', `${method} is not allowed here; use GET`, {}, { Allow: 'GET, HEAD' })) };
  }

  private settle(req: IncomingMessage, res: ServerResponse, route: RouteName, response: HttpResponse | Promise<HttpResponse>, nodeAnswer = false): void {
    // The node's answers are written at the end of the turn, all together (TurnWrites); the
    // server's own (refusals, errors, pages) at once.
    if (!(response instanceof Promise)) {
      if (nodeAnswer) this.turnWrites.add(() => this.send(req, res, route, response));
      else this.send(req, res, route, response);
      return;
    }
    response.then(
      (r) => this.turnWrites.add(() => this.send(req, res, route, r)),
      (e: unknown) => this.turnWrites.add(() => this.send(req, res, route, toResponse(e, this.routerOpts, `${req.method ?? ''} ${route}`))),
    );
  }

  private refuseOversized(req: IncomingMessage, res: ServerResponse, route: RouteName, maxBytes: number): void {
    res.setHeader('Connection', 'close');
    this.send(req, res, route, errorResponse(tooLarge(maxBytes)));
    // Keep reading (and dropping) for a short while so the client, still sending, sees the 413
    // instead of a reset; then cut the connection.
    let drained = 0;
    const socket = req.socket;
    const cut = (): void => { socket.destroy(); };
    const timer = setTimeout(cut, this.opts.drainAfterRefusalMs ?? 2_000);
    timer.unref();
    req.on('data', (chunk: Buffer) => {
      drained += chunk.length;
      if (drained > MAX_DRAIN_BYTES) cut();
    });
    req.on('end', () => { clearTimeout(timer); });
    socket.on('close', () => { clearTimeout(timer); });
    req.resume();
  }
}

/** A request node:http could not parse: a one-line JSON answer, then the connection closes. */
function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  const body = status === 431
    ? JSON.stringify({ error: 'headers_too_large', message: 'request headers too large (the limit is 32 KiB)' })
    : JSON.stringify({ error: 'bad_request', message: 'malformed HTTP request' });
  socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json\r\n`
    + `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

function listenOn(server: http.Server, logger: Logger, host: string, port: number): Promise<{ port: number }> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => { reject(e); };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      server.on('error', (e) => { logger.error('http server error', { err: String(e) }); });
      const addr = server.address();
      resolve({ port: typeof addr === 'object' && addr ? addr.port : port });
    });
  });
}

/** Stops accepting, lets in-flight requests finish for `graceMs`, then cuts what is left. */
function closeServer(server: http.Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    const timer = setTimeout(() => { server.closeAllConnections(); }, graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/** A TLS client that has not finished its handshake by then is cut (slowloris on the handshake). */
const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;
/** Open connections from one client address; more are closed at once (the client sees a reset). */
const HTTP_CONNECTIONS_PER_CLIENT_MAX = 1_000;

function limitPerClient(server: http.Server, max: number): void {
  const perClient = new Map<string, number>();
  // Raw TCP connections, before any TLS handshake (https emits 'connection' too).
  server.on('connection', (socket: Socket) => {
    const client = socket.remoteAddress ?? '';
    const mine = perClient.get(client) ?? 0;
    if (mine >= max) {
      socket.destroy();
      return;
    }
    perClient.set(client, mine + 1);
    socket.once('close', () => {
      const left = (perClient.get(client) ?? 1) - 1;
      if (left > 0) perClient.set(client, left);
      else perClient.delete(client);
    });
  });
}

/** Reads a request body, refusing it (BodyTooLarge) the moment it passes `maxBytes`. */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err: Error | null): void => {
      if (done) return;
      done = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      if (err) reject(err);
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        chunks.length = 0;
        req.pause();
        finish(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => { finish(null); };
    const onClose = (): void => { finish(new BodyAborted()); };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
  });
}
