/**
 * The glue between `gossamer dev` and the autoscale actuator (autoscale.ts): the options checked
 * before any node starts (bad usage: exit 2, one line), and the loop started once the first nodes
 * serve. Scaled-out nodes take the lowest free index i (ports base+i, data `<root>/node-i`).
 */
import http from 'node:http';
import { Registry } from 'prom-client';
import { usage } from './errors.js';
import { DEV_NODES_MAX, DevAutoscaler, devAutoscaleConfig, parseAutoscaleRange } from './autoscale.js';
import { registerAutoscaleMetrics } from './autoscale-metrics.js';
import type { AutoscaleConfig } from '../core/autoscale/index.js';
import type { ChildSpec, DevCluster, DevIo, DevOptions } from './dev.js';

export interface PreparedAutoscale {
  config: AutoscaleConfig;
  initialNodes: number;
  intervalMs: number;
  /** Where the actuator serves its own /metrics (desired vs actual nodes, every decision); 0: nowhere. */
  metricsPort: number | undefined;
}

function whole(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  if (!/^[0-9]+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw usage(`--${name} must be a whole number ${min}..${max} (got "${raw}")`);
  return Number(raw);
}

/** Everything `--autoscale` needs, validated before a node starts. */
function prepare(opts: DevOptions): PreparedAutoscale {
  const n = whole('n', opts.n, 3, 1, 16);
  const range = parseAutoscaleRange(opts.autoscale ?? '', n);
  const initialNodes = whole('nodes', opts.nodes, range.minNodes, 1, DEV_NODES_MAX);
  if (initialNodes < range.minNodes || initialNodes > range.maxNodes) {
    throw usage(`--nodes ${initialNodes} is outside --autoscale ${range.minNodes}..${range.maxNodes}`);
  }
  return {
    config: devAutoscaleConfig(range, n, opts.autoscaleConfig),
    initialNodes,
    intervalMs: whole('autoscale-interval-ms', opts.autoscaleIntervalMs, 5_000, 100, 600_000),
    // Unset: the HTTP base port + 32, a port no dev node takes (node i serves HTTP on base + i < base + 32).
    metricsPort: opts.autoscaleMetricsPort === undefined ? undefined : whole('autoscale-metrics-port', opts.autoscaleMetricsPort, 0, 0, 65535),
  };
}

/**
 * The actuator's own `GET /metrics` (Prometheus text): `gossamer_autoscale_desired_nodes`,
 * `gossamer_autoscale_actual_nodes`, `gossamer_autoscale_decisions_total{decision,reason}`.
 * Served on 127.0.0.1 like the dev nodes; a port already taken is reported and the loop runs on.
 */
function serveMetrics(registry: Registry, port: number, io: DevIo): http.Server {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not_found', message: 'the autoscaler serves GET /metrics only' }));
      return;
    }
    void registry.metrics().then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text));
  });
  server.on('error', (e) => io.err(`autoscale: metrics not served on 127.0.0.1:${port}: ${e.message}\n`));
  server.listen(port, '127.0.0.1');
  return server;
}

/** Starts the loop over the running dev cluster; `specFor(i, extraArgs)` makes node i's command line. */
function run(prep: PreparedAutoscale, cluster: DevCluster, specFor: (i: number, extra: readonly string[]) => ChildSpec, io: DevIo, httpBase: number): { stop(): void } {
  const registry = new Registry();
  const metrics = registerAutoscaleMetrics(registry);
  const running = (): DevCluster['children'] => cluster.children.filter((c) => !c.exited && !c.retiring);
  const scaler = new DevAutoscaler(prep.config, {
    nodes: () => running().map((c) => ({ nodeId: c.nodeId, http: c.http })),
    // Dev runs one data centre: the policy's DC is dc1.
    addNode: () => {
      const taken = new Set(cluster.children.filter((c) => !c.exited).map((c) => c.nodeId));
      for (let i = 0; i < prep.config.maxNodes; i++) {
        const spec = specFor(i, ['--auto-join', '--decommission-on-stop']);
        if (taken.has(spec.nodeId)) continue;
        cluster.spawn(spec);
        return { nodeId: spec.nodeId, http: spec.http };
      }
      return undefined;
    },
    removeNode: (nodeId) => cluster.retire(nodeId),
    get: async (url) => {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      return { status: res.status, text: await res.text() };
    },
    nowMs: () => Date.now(),
    print: (line) => io.out(`${line}\n`),
    metrics,
  });
  const c = prep.config;
  io.out(`\nAutoscale ${c.minNodes}..${c.maxNodes} nodes, policy every ${prep.intervalMs} ms: out above ${JSON.stringify(c.scaleOut)}, `
    + `in below ${JSON.stringify(c.scaleIn)} (judged with one node fewer); sustain ${c.scaleOutSustainMs}/${c.scaleInSustainMs} ms, `
    + `cooldown ${c.cooldownMs} ms (${c.reverseCooldownMs} ms to reverse). See docs/autoscale.md.\n`);
  const metricsPort = prep.metricsPort ?? (httpBase + DEV_NODES_MAX <= 65535 ? httpBase + DEV_NODES_MAX : 0);
  const server = metricsPort === 0 ? undefined : serveMetrics(registry, metricsPort, io);
  if (server) io.out(`Autoscale metrics (desired vs actual nodes, every decision): http://127.0.0.1:${metricsPort}/metrics\n`);
  scaler.start(prep.intervalMs);
  return {
    stop: () => {
      scaler.stop();
      server?.close();
    },
  };
}

export const startDevAutoscale = { prepare, run };
