/**
 * The composition root of one node: real adapters → runtime → HTTP server. `gossamer start`
 * calls `startNode` in its own process; tests can call it in-process too.
 */
import { randomInt } from 'node:crypto';
import { Counter } from 'prom-client';
import type { Message } from '../core/types.js';
import type { Envelope, Logger, PeerInfo, StorageEngine } from '../ports/index.js';
import { NodeRuntime } from '../runtime/node-runtime.js';
import type { RuntimeSettings } from '../runtime/node-runtime.js';
import { createTcpTransport } from '../adapters/tcp-transport.js';
import type { TcpTransport } from '../adapters/tcp-transport.js';
import type { TransportFaults } from '../adapters/transport-types.js';
import { NodeFileSystem } from '../adapters/node-fs.js';
import { SystemClock } from '../adapters/system-clock.js';
import { createLogger } from '../adapters/json-logger.js';
import { MemoryEngine } from '../storage/memory-engine.js';
import { openLsmEngine } from '../storage/lsm/index.js';
import { createHttpServer } from '../api/http/index.js';
import { renderStorageMetrics } from '../api/http/metrics.js';
import type { GossamerHttpServer } from '../api/http/index.js';
import { RateLimitService, createHttpRateGate } from '../api/ratelimit/index.js';
import { watchRules } from './rate-limit-reload.js';
import type { RuleWatcher } from './rate-limit-reload.js';
import { isRateLimitMessage } from '../core/ratelimit/sync.js';
import { createRespServer } from '../api/resp/index.js';
import type { GossamerRespServer } from '../api/resp/index.js';
import type { NodeConfig } from './config.js';
import { ConfigError, splitHostPort } from './config.js';
import { exposureWarning, loadSecurity } from '../api/auth/load.js';
import { reloadTokensOnSighup } from '../api/auth/reload.js';
import { listenerTarget, reloadTlsOnSighup } from '../api/auth/tls-reload.js';
import type { TlsTarget } from '../api/auth/tls-reload.js';
import type { SecurityMaterial } from '../api/auth/load.js';
import { actorIdFor, pinDataDir } from './data-dir.js';
import { SEED_WAIT_LOG_INTERVAL_MS, missingSeeds, resolveNodeAddresses } from './addresses.js';
import type { ResolvedAddresses } from './addresses.js';
import { testBugsFromEnv, testTransportFaults, withEngineBug, withServiceBug, withTransportBug } from './test-bugs.js';
import { createNodeObservability } from './node-metrics.js';
import type { NodeObservability } from './node-metrics.js';
import { registerEventLoopBusy } from './autoscale-metrics.js';
import { decommissionBeforeExit, onHealthyAutoJoin } from './self-management.js';

export interface RunningNode {
  readonly config: NodeConfig;
  readonly runtime: NodeRuntime;
  readonly http: GossamerHttpServer;
  readonly transport: TcpTransport<Message>;
  readonly httpPort: number;
  readonly resp: GossamerRespServer;
  readonly respPort: number;
  readonly logger: Logger;
  readonly rateLimit: RateLimitService;
  /** Metrics, the wire observer and the dashboard's source (registration points for later parts). */
  readonly observability: NodeObservability;
  /** Graceful: stop accepting, let in-flight requests finish (bounded), close everything. */
  stop(): Promise<void>;
}

export interface StartNodeOptions {
  logger?: Logger;
  /** Called when the node can no longer run safely (e.g. a failed fsync). Default: exit(1). */
  onFatal?: (err: Error) => void;
  /** Use the in-memory engine (nothing durable). */
  memory?: boolean;
  /** Reload the rate-limit rules, API tokens and TLS certificates on SIGHUP (the `gossamer start` process; default true). */
  sighup?: boolean;
  /** How Readys are batched: per I/O callback (default), per event-loop turn, or '0' (one per event; the benches' reference). */
  batchReadys?: 'callback' | 'turn' | '0';
}

/**
 * How Readys are batched (GOSSAMER_BATCH_READYS; benches compare them): `callback` (the default)
 * takes one Ready per I/O callback — a RESP pipeline's commands, a frame batch's messages — once
 * its promise reactions have run; `turn` one per event-loop turn (what the turn sends leaves at
 * once, not a loop iteration later); `0` one per event, as the simulator does.
 */
function batchTurnOf(opts: StartNodeOptions, transport: { flushNow(): void }): { batchTurn?: (flush: () => void) => void } {
  const mode = opts.batchReadys ?? process.env.GOSSAMER_BATCH_READYS ?? 'callback';
  if (mode === 'turn') return { batchTurn: (flush) => { setImmediate(() => { flush(); transport.flushNow(); }); } };
  return mode === '0' ? {} : { batchTurn: (flush) => { process.nextTick(flush); } };
}

async function openEngine(
  config: NodeConfig, logger: Logger, memory: boolean, clock: SystemClock, canPurge?: (k: Uint8Array, v: Uint8Array) => boolean,
): Promise<StorageEngine> {
  if (memory) {
    logger.warn('storing in memory only (--memory): nothing survives a restart');
    return new MemoryEngine();
  }
  return openLsmEngine({ dir: config.dataDir, fs: new NodeFileSystem(), sync: config.commitlogSync, logger, clock, ...(canPurge ? { canPurge } : {}) });
}

/** Metrics, the wire observer and the dashboard's source, with the engine's background-work figures. */
function observe(engine: StorageEngine): NodeObservability {
  const observability = createNodeObservability(engine);
  registerEventLoopBusy(observability.metrics.registry); // the autoscale policy's event-loop signal
  observability.metrics.addRawCollector(() => {
    const stats = engine.stats?.();
    return stats ? renderStorageMetrics(stats).join('\n') + '\n' : '';
  });
  return observability;
}

/** The RESP front end on the `resp` address; on failure, `cleanUp` undoes what started before it. */
async function listenResp(
  runtime: NodeRuntime, config: NodeConfig, logger: Logger, rateLimit: RateLimitService, cleanUp: () => Promise<void>,
  security: SecurityMaterial,
): Promise<{ resp: GossamerRespServer; respPort: number }> {
  const resp = createRespServer(runtime, {
    logger, maxValueBytes: config.maxValueBytes, gate: (clientIp, command) => rateLimit.checkResp(clientIp, command),
    ...(security.tokens ? { auth: security.tokens } : {}), ...(security.tls ? { tls: security.tls } : {}),
  });
  const addr = splitHostPort(config.resp);
  return { resp, respPort: (await orCleanUp(resp.listen(addr.host, addr.port), cleanUp)).port };
}

/** `listening`, or, if it fails, `cleanUp` run before the failure goes on. */
async function orCleanUp<T>(listening: Promise<T>, cleanUp: () => Promise<void>): Promise<T> {
  try {
    return await listening;
  } catch (e) {
    await cleanUp();
    throw e;
  }
}

/** With TLS, SIGHUP reloads the certificate, key and CA into the three listeners and the transport's dials. */
function watchTls(
  config: NodeConfig, enabled: boolean, parts: { http: GossamerHttpServer; resp: GossamerRespServer; transport: TcpTransport<Message> },
  logger: Logger,
): () => void {
  if (!enabled || config.tls === undefined) return () => {};
  const targets: TlsTarget[] = [
    { name: 'transport', apply: (next) => parts.transport.reloadTls(next) },
    ...[listenerTarget('http', parts.http.server), listenerTarget('resp', parts.resp.server)].filter((t) => t !== undefined),
  ];
  return reloadTlsOnSighup(config.tls, targets, logger);
}

export async function startNode(config: NodeConfig, opts: StartNodeOptions = {}): Promise<RunningNode> {
  const logger = opts.logger ?? createLogger({ level: config.logLevel });
  const clock = new SystemClock();
  // Seeds and the advertised address as ip:port, so peers match whatever names they were given.
  const addrs = await resolveNodeAddresses({ listen: config.listen, advertise: config.advertise, seeds: config.seeds, logger });
  const self: PeerInfo = { nodeId: config.nodeId, address: addrs.advertise, http: config.http, dc: config.dc, rack: config.rack, weight: config.weight };
  const settings = runtimeSettings(config, addrs.seeds);

  // Before anything else touches the directory: refuse another node's data (exit 2).
  const identity = opts.memory ? undefined : pinDataDir(config.dataDir, config.nodeId);
  const security = loadSecuritySettings(config, logger);
  const judge: { runtime?: NodeRuntime } = {}; // compaction purges only tombstones anti-entropy confirmed
  const bugs = testBugsFromEnv(process.env, logger);
  const engine = withEngineBug(await openEngine(config, logger, opts.memory ?? false, clock, (k, v) => judge.runtime?.canPurge(k, v) ?? false), bugs.engine);
  const observability = observe(engine);
  const transport = await openTransport(config, self, addrs.seeds, logger, engine, security, testTransportFaults(process.env, logger));

  let stopping: Promise<void> | undefined;
  const onFatal = opts.onFatal ?? ((err: Error) => {
    logger.error('fatal error; exiting', { error: err.message });
    void stop().finally(() => process.exit(1));
  });
  const incarnation = randomInt(2 ** 31);
  const actorId = actorIdFor(config.nodeId, identity, config.commitlogSync === 'group', incarnation);
  const limits = startRateLimits(config, { clock, logger, transport, sighup: opts.sighup ?? true, security });
  const runtime = NodeRuntime.create({
    self, settings, engine, transport: withTransportBug(transport, bugs.transport), clock, logger, onFatal,
    onFamilyMessage: limits.onFamilyMessage, incarnation, actorId, wire: observability.wire,
    ...(bugs.reconcile ? { bug: bugs.reconcile } : {}), ...batchTurnOf(opts, transport),
  });
  judge.runtime = runtime;
  runtime.start();
  const watchers = startWatchers(config, runtime, transport, addrs, logger);
  observability.attach(runtime);
  observability.setHintsSource(() => runtime.stats()?.hints.pendingTotal ?? 0);

  const http = createHttpServer(withServiceBug(runtime, bugs.service), {
    logger, maxValueBytes: config.maxValueBytes, rateLimit: createHttpRateGate(limits.service),
    metricsRegistry: observability.metrics, ui: observability.ui,
    ...(security.tokens ? { auth: security.tokens } : {}), ...(security.tls ? { tls: security.tls } : {}),
  });
  countAuthFailures(observability, transport);
  const httpAddr = splitHostPort(config.http);
  // If a listener cannot open, undo what started before it.
  const cleanUp = async (): Promise<void> => {
    limits.close();
    await Promise.all([runtime.stop(), http.close()]);
    await transport.close();
    await engine.close().catch(() => {});
  };
  const httpPort = (await orCleanUp(http.listen(httpAddr.host, httpAddr.port), cleanUp)).port;
  const { resp, respPort } = await listenResp(runtime, config, logger, limits.service, cleanUp, security);
  const stopTls = watchTls(config, (opts.sighup ?? true) && security.tls !== undefined, { http, resp, transport }, logger);
  logger.info('node started', {
    nodeId: config.nodeId, actorId, listen: config.listen, http: `${httpAddr.host}:${httpPort}`,
    resp: `${splitHostPort(config.resp).host}:${respPort}`, dataDir: config.dataDir,
    advertise: addrs.advertise, seeds: addrs.seeds.join(',') || 'none', rateLimits: config.rateLimits.length,
  });

  function stop(): Promise<void> {
    stopping ??= (async () => {
      logger.info('shutting down', { nodeId: config.nodeId });
      await watchers.beforeStop(); // --decommission-on-stop hands the partitions over here, while the node still serves
      limits.close();
      stopTls();
      // The runtime answers new requests `unavailable` at once and drains in-flight ones; the
      // HTTP server stops accepting connections and closes them as they go idle.
      await Promise.all([runtime.stop(), http.close(), resp.close()]);
      await transport.close();
      await engine.close().catch((e: unknown) => logger.error('closing storage failed', { error: String(e) }));
      clock.clearAll();
      observability.close();
      logger.info('stopped', { nodeId: config.nodeId });
    })();
    return stopping;
  }

  return { config, runtime, http, transport, httpPort, resp, respPort, logger, rateLimit: limits.service, observability, stop };
}

/** The security settings' files, read (a bad one stops start-up); warns when exposed without them. */
function loadSecuritySettings(config: NodeConfig, logger: Logger): SecurityMaterial {
  let security: SecurityMaterial;
  try {
    security = loadSecurity(config, process.env);
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  const hosts = [config.listen, config.http, config.resp].map((a) => splitHostPort(a).host);
  const warning = exposureWarning(hosts, security);
  if (warning) logger.warn(warning);
  logger.info('security', {
    clusterSecret: security.clusterAuth !== undefined, tls: security.tls !== undefined,
    mutualTls: security.tls?.mutual ?? false, tokens: security.tokens?.size ?? 0,
  });
  return security;
}

/** `gossamer_transport_auth_failures_total`: peers refused by the cluster-secret handshake. */
function countAuthFailures(observability: NodeObservability, transport: TcpTransport<Message>): void {
  new Counter({
    name: 'gossamer_transport_auth_failures_total', help: 'Inter-node connections refused by the cluster-secret handshake.',
    registers: [observability.metrics.registry],
    collect() { this.reset(); this.inc(transport.stats().authFailures); }, // a running total: set, as a counter
  });
}

/** The inter-node transport, listening; the engine is closed if it cannot listen. */
async function openTransport(
  config: NodeConfig, self: PeerInfo, seeds: string[], logger: Logger, engine: StorageEngine, security: SecurityMaterial,
  faults: TransportFaults | undefined,
): Promise<TcpTransport<Message>> {
  const listen = splitHostPort(config.listen);
  try {
    return await createTcpTransport<Message>({
      self, listenHost: listen.host, listenPort: listen.port, seeds, logger,
      ...(security.clusterAuth ? { auth: security.clusterAuth } : {}), ...(security.tls ? { tls: security.tls } : {}),
      ...(faults ? { faults } : {}),
    });
  } catch (e) {
    await engine.close().catch(() => {});
    throw e;
  }
}

function runtimeSettings(config: NodeConfig, seeds: string[]): RuntimeSettings {
  return {
    n: config.n,
    partitions: config.partitions,
    tickMs: config.tickMs,
    requestTimeoutMs: config.requestTimeoutMs,
    r: config.r,
    w: config.w,
    maxValueBytes: config.maxValueBytes,
    gossipIntervalMs: config.gossipIntervalMs,
    ...(config.replication ? { replication: config.replication } : {}),
    seeds,
  };
}

interface RateLimitDeps {
  clock: SystemClock;
  logger: Logger;
  transport: TcpTransport<Message>;
  sighup: boolean;
  /** With API tokens from a file, SIGHUP reloads that file too (src/api/auth/reload.ts). */
  security: SecurityMaterial;
}

/**
 * The rate limiter: its service, its `rl-*` messages (offered by the runtime before the core's
 * validator), its sync over the transport, and the rules' reload from the config file — and,
 * being where SIGHUP is handled, the reload of the API tokens file.
 */
function startRateLimits(config: NodeConfig, deps: RateLimitDeps): {
  service: RateLimitService; onFamilyMessage: (env: Envelope<unknown>) => boolean; close: () => void;
} {
  const { clock, logger, transport } = deps;
  const service = new RateLimitService({ rules: config.rateLimits, clock, logger });
  service.start({
    send: (to, msg) => transport.send({ from: config.nodeId, to, msg: msg as unknown as Message }),
    connectedPeers: () => transport.peers().map((p) => p.nodeId).filter((id) => transport.isConnected(id)),
  });
  let rules: RuleWatcher | undefined;
  if (config.configFile !== undefined) {
    rules = watchRules({
      file: config.configFile, logger, sighup: deps.sighup,
      current: () => service.currentRules(), apply: (r) => service.setRules(r),
    });
  }
  const onFamilyMessage = (env: Envelope<unknown>): boolean => {
    if (!isRateLimitMessage(env.msg)) return false;
    service.onPeerMessage(env.from, env.msg);
    return true;
  };
  const { tokens } = deps.security;
  const stopTokens = tokens && config.tokensFile !== undefined && deps.sighup ? reloadTokensOnSighup(config.tokensFile, tokens, logger) : undefined;
  return {
    service, onFamilyMessage,
    close: () => {
      rules?.close();
      stopTokens?.();
      service.stop();
    },
  };
}

/** Until the first ring forms, says every few seconds which seeds the node still waits for. */
function logSeedWait(runtime: NodeRuntime, transport: TcpTransport<Message>, addrs: ResolvedAddresses, logger: Logger): ReturnType<typeof setInterval> {
  const timer = setInterval(() => {
    if (runtime.coreRing()) {
      clearInterval(timer);
      return;
    }
    const missing = missingSeeds(addrs.seeds, addrs.advertise, transport.peers().map((p) => p.address));
    logger.warn('waiting for seeds before forming the ring', {
      missing: missing.join(',') || 'none', known: transport.peers().map((p) => `${p.nodeId}@${p.address}`).join(',') || 'none',
      advertise: addrs.advertise,
    });
  }, SEED_WAIT_LOG_INTERVAL_MS);
  timer.unref();
  return timer;
}

/** Start-up watchers (the seed-wait log, `--auto-join`) and the work before a stop (`--decommission-on-stop`). */
function startWatchers(
  config: NodeConfig, runtime: NodeRuntime, transport: TcpTransport<Message>, addrs: ResolvedAddresses, logger: Logger,
): { beforeStop(): Promise<void> } {
  const seedWait = logSeedWait(runtime, transport, addrs, logger);
  const autoJoin = config.autoJoin ? onHealthyAutoJoin(runtime, logger) : undefined;
  return {
    async beforeStop() {
      clearInterval(seedWait);
      if (autoJoin) clearInterval(autoJoin);
      if (config.decommissionOnStop) await decommissionBeforeExit(runtime, logger);
    },
  };
}
