/**
 * The composition root of one node: real adapters → runtime → HTTP server. `gossamer start`
 * calls `startNode` in its own process; tests can call it in-process too.
 */
import { randomInt } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { Message } from '../core/types.js';
import type { Logger, PeerInfo, StorageEngine } from '../ports/index.js';
import { NodeRuntime } from '../runtime/node-runtime.js';
import type { RuntimeSettings } from '../runtime/node-runtime.js';
import { createTcpTransport } from '../adapters/tcp-transport.js';
import type { TcpTransport } from '../adapters/tcp-transport.js';
import { NodeFileSystem } from '../adapters/node-fs.js';
import { SystemClock } from '../adapters/system-clock.js';
import { ConsoleLogger } from '../adapters/console-logger.js';
import { MemoryEngine } from '../storage/memory-engine.js';
import { openLsmEngine } from '../storage/lsm/index.js';
import { createHttpServer } from '../api/http/index.js';
import type { GossamerHttpServer } from '../api/http/index.js';
import type { NodeConfig } from './config.js';
import { splitHostPort } from './config.js';

export interface RunningNode {
  readonly config: NodeConfig;
  readonly runtime: NodeRuntime;
  readonly http: GossamerHttpServer;
  readonly transport: TcpTransport<Message>;
  readonly httpPort: number;
  readonly logger: Logger;
  /** Graceful: stop accepting, let in-flight requests finish (bounded), close everything. */
  stop(): Promise<void>;
}

export interface StartNodeOptions {
  logger?: Logger;
  /** Called when the node can no longer run safely (e.g. a failed fsync). Default: exit(1). */
  onFatal?: (err: Error) => void;
  /** Use the in-memory engine (nothing durable). */
  memory?: boolean;
}

async function openEngine(config: NodeConfig, logger: Logger, memory: boolean, clock: SystemClock): Promise<StorageEngine> {
  if (memory) {
    logger.warn('storing in memory only (--memory): nothing survives a restart');
    return new MemoryEngine();
  }
  mkdirSync(config.dataDir, { recursive: true });
  return openLsmEngine({ dir: config.dataDir, fs: new NodeFileSystem(), sync: config.commitlogSync, logger, clock });
}

export async function startNode(config: NodeConfig, opts: StartNodeOptions = {}): Promise<RunningNode> {
  const logger = opts.logger ?? new ConsoleLogger({ level: config.logLevel });
  const clock = new SystemClock();
  const self: PeerInfo = { nodeId: config.nodeId, address: config.advertise, dc: config.dc, rack: config.rack, weight: config.weight };
  const settings: RuntimeSettings = {
    n: config.n,
    partitions: config.partitions,
    tickMs: config.tickMs,
    requestTimeoutMs: config.requestTimeoutMs,
    r: config.r,
    w: config.w,
    maxValueBytes: config.maxValueBytes,
    ...(config.replication ? { replication: config.replication } : {}),
    seeds: config.seeds,
  };

  const engine = await openEngine(config, logger, opts.memory ?? false, clock);
  const listen = splitHostPort(config.listen);
  let transport: TcpTransport<Message>;
  try {
    transport = await createTcpTransport<Message>({
      self, listenHost: listen.host, listenPort: listen.port, seeds: config.seeds, logger,
    });
  } catch (e) {
    await engine.close().catch(() => {});
    throw e;
  }

  let stopping: Promise<void> | undefined;
  const onFatal = opts.onFatal ?? ((err: Error) => {
    logger.error('fatal error; exiting', { error: err.message });
    void stop().finally(() => process.exit(1));
  });
  const incarnation = randomInt(2 ** 31);
  const runtime = NodeRuntime.create({
    self, settings, engine, transport, clock, logger, onFatal, isReachable: (id) => transport.isConnected(id),
    incarnation,
    // Only group commit acknowledges durable writes; otherwise each run gets dots of its own.
    ...(config.commitlogSync === 'group' ? {} : { actorId: `${config.nodeId}~${incarnation.toString(36)}` }),
  });
  runtime.start();

  const http = createHttpServer(runtime, { logger, maxValueBytes: config.maxValueBytes });
  http.metrics.storageStats = () => engine.stats?.();
  const httpAddr = splitHostPort(config.http);
  let httpPort: number;
  try {
    ({ port: httpPort } = await http.listen(httpAddr.host, httpAddr.port));
  } catch (e) {
    await runtime.stop();
    await transport.close();
    await engine.close().catch(() => {});
    throw e;
  }
  logger.info('node started', {
    nodeId: config.nodeId, listen: config.listen, http: `${httpAddr.host}:${httpPort}`, dataDir: config.dataDir,
    seeds: config.seeds.join(',') || 'none',
  });

  function stop(): Promise<void> {
    stopping ??= (async () => {
      logger.info('shutting down', { nodeId: config.nodeId });
      // The runtime answers new requests `unavailable` at once and drains in-flight ones; the
      // HTTP server stops accepting connections and closes them as they go idle.
      await Promise.all([runtime.stop(), http.close()]);
      await transport.close();
      await engine.close().catch((e: unknown) => logger.error('closing storage failed', { error: String(e) }));
      clock.clearAll();
      logger.info('stopped', { nodeId: config.nodeId });
    })();
    return stopping;
  }

  return { config, runtime, http, transport, httpPort, logger, stop };
}
