/**
 * `gossamer dev --autoscale MIN..MAX`: the local actuator. Every interval it reads the cluster's
 * members from `/cluster`, scrapes each member's `/metrics`, asks the policy
 * (src/core/autoscale), prints the decision (every change; a hold when its reason changes), and
 * carries it out: scale out starts one more node process (`--seeds` of the first nodes,
 * `--auto-join`, `--decommission-on-stop`), scale in stops the newest one with SIGTERM (its
 * `--decommission-on-stop` hands its partitions over before it exits). Until the members show
 * the change the policy waits (`change_pending`), and gives it up after `changeTimeoutMs`.
 * Each decision is also recorded in the actuator's own /metrics (autoscale-dev.ts).
 */
import { readFileSync } from 'node:fs';
import { AutoscalePolicy, autoscaleConfig, configProblems } from '../core/autoscale/index.js';
import type { AutoscaleConfig, ClusterSnapshot, Decision, NodeSample, Thresholds } from '../core/autoscale/index.js';
import { usage } from './errors.js';
import { parseMetrics, sampleBetween } from './autoscale-scrape.js';
import type { Scrape } from './autoscale-scrape.js';
import type { AutoscaleMetrics } from './autoscale-metrics.js';

/** The most nodes `gossamer dev` runs (its --nodes bound). */
export const DEV_NODES_MAX = 32;

export interface AutoscaleRange { minNodes: number; maxNodes: number }

/** `MIN..MAX`, whole numbers, 1 ≤ MIN ≤ MAX ≤ 32, MIN ≥ N; anything else is bad usage (exit 2). */
export function parseAutoscaleRange(raw: string, n: number): AutoscaleRange {
  const m = /^\s*([0-9]{1,3})\s*\.\.\s*([0-9]{1,3})\s*$/.exec(raw);
  if (!m) throw usage(`--autoscale must be MIN..MAX, e.g. 3..6 (got "${raw}")`);
  const [minNodes, maxNodes] = [Number(m[1]), Number(m[2])];
  if (minNodes < 1) throw usage(`--autoscale: MIN must be at least 1 (got "${raw}")`);
  if (maxNodes < minNodes) throw usage(`--autoscale: MAX must be at least MIN (got "${raw}")`);
  if (maxNodes > DEV_NODES_MAX) throw usage(`--autoscale: MAX must be at most ${DEV_NODES_MAX} (got "${raw}")`);
  if (minNodes < n) throw usage(`--autoscale: MIN must be at least N=${n}, the replicas per key (got "${raw}")`);
  return { minNodes, maxNodes };
}

/** Dev's timings: short enough to watch the cluster breathe within minutes. */
export const DEV_TIMINGS = { scaleOutSustainMs: 10_000, scaleInSustainMs: 20_000, cooldownMs: 15_000, reverseCooldownMs: 45_000, changeTimeoutMs: 120_000 } as const;
/**
 * Dev's thresholds: a laptop's node processes share its cores, so the request bands sit low and
 * the event-loop bands high (an idle node on a busy machine already shows 0.2–0.35).
 */
export const DEV_SCALE_OUT: Thresholds = { requestsPerSecPerNode: 400, eventLoopUtilization: 0.85, p99LatencyMs: 500, stallsPerSec: 5 };
export const DEV_SCALE_IN: Thresholds = { requestsPerSecPerNode: 100, eventLoopUtilization: 0.5, p99LatencyMs: 200, stallsPerSec: 0.5 };

const OVERRIDE_KEYS = new Set(['scaleOut', 'scaleIn', 'scaleOutSustainMs', 'scaleInSustainMs', 'cooldownMs', 'reverseCooldownMs', 'changeTimeoutMs']);
const THRESHOLD_KEYS = new Set(['requestsPerSecPerNode', 'eventLoopUtilization', 'p99LatencyMs', 'storedBytesPerNode', 'stallsPerSec']);

/** The policy for dev: the range, N, dev's defaults, and a JSON file's overrides (checked). */
export function devAutoscaleConfig(range: AutoscaleRange, n: number, file?: string): AutoscaleConfig {
  const over: Record<string, unknown> = file === undefined ? {} : readOverrides(file);
  const config = autoscaleConfig(range, { n }, { scaleOut: DEV_SCALE_OUT, scaleIn: DEV_SCALE_IN, ...DEV_TIMINGS, ...over });
  const problems = configProblems(config);
  if (problems.length > 0) throw usage(`--autoscale-config ${file ?? ''}: ${problems[0]}`);
  return config;
}

function readOverrides(file: string): Record<string, unknown> {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw usage(`--autoscale-config ${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw usage(`--autoscale-config ${file}: must hold a JSON object`);
  for (const [k, v] of Object.entries(data)) {
    if (!OVERRIDE_KEYS.has(k)) throw usage(`--autoscale-config ${file}: unknown key "${k}"`);
    if (k === 'scaleOut' || k === 'scaleIn') {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw usage(`--autoscale-config ${file}: "${k}" must be an object of thresholds`);
      for (const [tk, tv] of Object.entries(v)) {
        if (!THRESHOLD_KEYS.has(tk) || typeof tv !== 'number') throw usage(`--autoscale-config ${file}: "${k}.${tk}" is not a numeric threshold`);
      }
    } else if (typeof v !== 'number') throw usage(`--autoscale-config ${file}: "${k}" must be a number of milliseconds`);
  }
  return data as Record<string, unknown>;
}

/** A node process the actuator manages. */
export interface ManagedNode { readonly nodeId: string; readonly http: string }

export interface ActuatorDeps {
  /** The node processes running now, oldest first. */
  nodes(): readonly ManagedNode[];
  /** Starts one more node process (joins by itself); undefined when none can start. */
  addNode(dc: string): ManagedNode | undefined;
  /** Stops a node process with SIGTERM (it decommissions itself first). */
  removeNode(nodeId: string): void;
  /** GET a URL: status and body text (rejects when unreachable). */
  get(url: string): Promise<{ status: number; text: string }>;
  nowMs(): number;
  print(line: string): void;
  metrics?: AutoscaleMetrics;
}

interface ClusterMember { nodeId: string; dc: string; state: string; http?: string }

/** The policy's loop over the dev cluster: scrape, decide, print, act. */
export class DevAutoscaler {
  private readonly policy: AutoscalePolicy;
  private readonly scrapes = new Map<string, Scrape>();
  private lastPrinted = '';
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(readonly config: AutoscaleConfig, private readonly deps: ActuatorDeps) {
    this.policy = new AutoscalePolicy(config);
  }

  /** The members as some node reports them (the first one that answers). */
  private async members(): Promise<ClusterMember[] | undefined> {
    for (const n of this.deps.nodes()) {
      try {
        const r = await this.deps.get(`http://${n.http}/cluster`);
        if (r.status !== 200) continue;
        const body = JSON.parse(r.text) as { members?: ClusterMember[] };
        if (Array.isArray(body.members)) return body.members;
      } catch { /* the next node */ }
    }
    return undefined;
  }

  /** One scrape of a member; its figures since the previous one. */
  private async sample(m: ClusterMember): Promise<NodeSample | undefined> {
    const http = m.http ?? this.deps.nodes().find((n) => n.nodeId === m.nodeId)?.http;
    if (http === undefined) return undefined;
    let scrape: Scrape;
    try {
      const r = await this.deps.get(`http://${http}/metrics`);
      if (r.status !== 200) return undefined;
      scrape = parseMetrics(r.text, this.deps.nowMs());
    } catch {
      return undefined;
    }
    const before = this.scrapes.get(m.nodeId);
    this.scrapes.set(m.nodeId, scrape);
    return before ? sampleBetween(m.nodeId, m.dc, before, scrape) : undefined;
  }

  /** One round: snapshot, decision, print, act. */
  async step(): Promise<Decision> {
    const all = (await this.members()) ?? [];
    const members = all.filter((m) => m.state !== 'left');
    const samples = (await Promise.all(members.filter((m) => m.state !== 'leaving').map((m) => this.sample(m)))).filter((s): s is NodeSample => s !== undefined);
    const snap: ClusterSnapshot = {
      nowMs: this.deps.nowMs(),
      members: members.map((m) => ({ nodeId: m.nodeId, dc: m.dc })),
      samples,
      underReplicated: members.some((m) => m.state === 'suspect' || m.state === 'faulty'),
      transferInFlight: members.some((m) => m.state === 'leaving'),
    };
    const d = this.policy.decide(snap);
    this.deps.metrics?.record(d);
    this.act(d, snap);
    return d;
  }

  private act(d: Decision, snap: ClusterSnapshot): void {
    const head = `autoscale: ${d.action === 'hold' ? `hold (${d.reason})` : `scale ${d.action} ${d.actualNodes} → ${d.desiredNodes} (${d.reason})`}`;
    if (d.action === 'hold') {
      if (d.reason !== this.lastPrinted) this.deps.print(`${head} ${d.detail}`);
      this.lastPrinted = d.reason;
      return;
    }
    this.lastPrinted = '';
    if (d.action === 'out') {
      const added = this.deps.addNode(d.dc ?? 'dc1');
      this.deps.print(`${head} ${d.detail}; ${added ? `starting ${added.nodeId} (${added.http})` : 'no node could start'}`);
      return;
    }
    const members = new Set(snap.members.filter((m) => d.dc === undefined || m.dc === d.dc).map((m) => m.nodeId));
    const victim = [...this.deps.nodes()].reverse().find((n) => members.has(n.nodeId));
    if (victim) this.deps.removeNode(victim.nodeId);
    this.deps.print(`${head} ${d.detail}; ${victim ? `stopping ${victim.nodeId} (SIGTERM, decommission on stop)` : 'no managed node to stop'}`);
  }

  /** Runs `step` every `intervalMs` until `stop()`; a failed round is printed and the loop goes on. */
  start(intervalMs: number): void {
    const round = async (): Promise<void> => {
      if (this.stopped) return;
      try {
        await this.step();
      } catch (e) {
        this.deps.print(`autoscale: round failed: ${(e as Error).message}`);
      }
      if (!this.stopped) this.timer = setTimeout(() => { void round(); }, intervalMs);
    };
    void round();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
