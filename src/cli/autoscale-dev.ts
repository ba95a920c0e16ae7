/**
 * The glue between `gossamer dev` and the autoscale actuator (autoscale.ts): the options checked
 * before any node starts (bad usage: exit 2, one line), and the loop started once the first nodes
 * serve. Scaled-out nodes take the lowest free index i (ports base+i, data `<root>/node-i`).
 */
import { usage } from './errors.js';
import { DEV_NODES_MAX, DevAutoscaler, devAutoscaleConfig, parseAutoscaleRange } from './autoscale.js';
import type { AutoscaleConfig } from '../core/autoscale/index.js';
import type { ChildSpec, DevCluster, DevIo, DevOptions } from './dev.js';

export interface PreparedAutoscale {
  config: AutoscaleConfig;
  initialNodes: number;
  intervalMs: number;
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
  };
}

/** Starts the loop over the running dev cluster; `specFor(i, extraArgs)` makes node i's command line. */
function run(prep: PreparedAutoscale, cluster: DevCluster, specFor: (i: number, extra: readonly string[]) => ChildSpec, io: DevIo): DevAutoscaler {
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
  });
  const c = prep.config;
  io.out(`\nAutoscale ${c.minNodes}..${c.maxNodes} nodes, policy every ${prep.intervalMs} ms: out above ${JSON.stringify(c.scaleOut)}, `
    + `in below ${JSON.stringify(c.scaleIn)} (judged with one node fewer); sustain ${c.scaleOutSustainMs}/${c.scaleInSustainMs} ms, `
    + `cooldown ${c.cooldownMs} ms (${c.reverseCooldownMs} ms to reverse). See docs/autoscale.md.\n`);
  scaler.start(prep.intervalMs);
  return scaler;
}

export const startDevAutoscale = { prepare, run };
