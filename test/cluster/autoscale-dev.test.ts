/**
 * The issue's multi-process demonstration, as a test: `gossamer dev --autoscale 3..6` (real node
 * processes, real TCP) under a load that rises, then stops. The cluster grows to at least 5 nodes
 * and shrinks back to 3 by itself, each change printed with its reason; every settled ring on the
 * way gives each member within 5% of an even share of the partitions; the actuator's /metrics
 * shows its decisions; every write the load generator saw acknowledged is readable at the end.
 * The read-back is thousands of GETs in seconds, itself a load the actuator would rightly answer
 * by growing again: so it reads from the same three data directories started again by a plain
 * `gossamer dev --nodes 3` (no autoscaler), once the autoscaled run has stopped.
 *
 * Thresholds on requests per node only (event loop and p99 depend on the machine's other load),
 * with short sustain and cooldown times, so the run is bounded; the test awaits what the cluster
 * shows (the ring at node-0, the dev process's lines), never a fixed delay.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from '../api/http-client.js';
import { CLI, freePortRange, requireBuild, sleep } from './helpers.js';

const Q = 128;
const POLICY = {
  scaleOut: { requestsPerSecPerNode: 15 },
  scaleIn: { requestsPerSecPerNode: 4 },
  scaleOutSustainMs: 2_000, scaleInSustainMs: 4_000, cooldownMs: 3_000, reverseCooldownMs: 6_000, changeTimeoutMs: 120_000,
};
/** Offered load: from RATE_START to RATE_MAX requests/s over RAMP_MS (over 15/node up to 4 nodes, under it at 5). */
const RATE_START = 20;
const RATE_MAX = 70;
const RAMP_MS = 60_000;
const IN_FLIGHT_MAX = 64;

interface RingDoc { version: number; partitions: { owner: string }[]; transition?: unknown }
interface Settled { atMs: number; counts: Map<string, number> }

const live = new Set<ChildProcess>();
process.on('exit', () => { for (const p of live) p.kill('SIGKILL'); });

/** A `gossamer dev` process: its output, the autoscaler's changes as they were printed, its exit. */
class Dev {
  readonly proc: ChildProcess;
  readonly exit: Promise<number | null>;
  out = '';
  readonly decisions: string[] = [];

  constructor(args: readonly string[], readonly t0: number) {
    this.proc = spawn(process.execPath, [CLI, 'dev', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(this.proc);
    const take = (d: Buffer): void => {
      this.out += d.toString();
      for (const line of d.toString().split('\n')) {
        if (/^autoscale: scale |^gossamer dev: node-\d stopped/.test(line)) this.decisions.push(`+${((Date.now() - t0) / 1000).toFixed(1)} s ${line}`);
      }
    };
    this.proc.stdout!.on('data', take);
    this.proc.stderr!.on('data', take);
    this.exit = new Promise((r) => this.proc.on('exit', (code) => { live.delete(this.proc); r(code); }));
  }

  fail(what: string): Error {
    return new Error(`${what}\n--- decisions:\n${this.decisions.join('\n')}\n--- dev output (tail):\n${this.out.slice(-8000)}`);
  }

  /** Awaits a condition (checked every 100 ms), failing with the output if dev exits or the time runs out. */
  async until(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (this.proc.exitCode !== null) throw this.fail(`dev exited before: ${what}`);
      if (Date.now() > deadline) throw this.fail(`${what}: not within ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  /** SIGINT: dev stops its nodes and exits 0. */
  async stop(): Promise<void> {
    this.proc.kill('SIGINT');
    assert.equal(await this.exit, 0, this.fail('dev stops with 0 on SIGINT').message);
  }
}

/** PUTs at a rising rate to the founders (never scaled in), recording each acknowledged write. */
class Load {
  readonly acked = new Map<string, string>();
  failed = 0;
  private issued = 0;
  private inFlight = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly t0 = Date.now();

  constructor(private readonly ports: readonly number[]) {}

  start(): void {
    this.timer = setInterval(() => this.tick(), 50);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Until every request sent has been answered. */
  async drained(): Promise<void> {
    while (this.inFlight > 0) await sleep(20);
  }

  private tick(): void {
    const t = Date.now() - this.t0;
    // Requests due by now under a rate rising linearly (the area under the ramp, then flat).
    const ramp = Math.min(t, RAMP_MS);
    const due = (RATE_START * ramp + ((RATE_MAX - RATE_START) * ramp * ramp) / (2 * RAMP_MS) + RATE_MAX * Math.max(0, t - RAMP_MS)) / 1000;
    while (this.issued < due && this.inFlight < IN_FLIGHT_MAX) this.put(this.issued++);
  }

  private put(seq: number): void {
    const key = `as-${seq}`;
    const value = `v-${seq}-${seq * 7919}`;
    this.inFlight++;
    request(this.ports[seq % this.ports.length]!, 'PUT', `/kv/${key}`, { body: value, timeoutMs: 10_000 })
      .then((r) => { if (r.status === 204) this.acked.set(key, value); else this.failed++; })
      .catch(() => { this.failed++; })
      .finally(() => { this.inFlight--; });
  }
}

describe('gossamer dev --autoscale 3..6 under a load that rises, then stops', { timeout: 480_000 }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gossamer-autoscale-dev-'));
  after(() => {
    for (const p of live) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  it('grows to at least 5 nodes and back to 3, balanced after each step, no acknowledged write lost', async (t) => {
    requireBuild();
    const base = await freePortRange(19);
    const [listen, http, resp, metricsPort] = [base, base + 6, base + 12, base + 18];
    const configFile = path.join(dir, 'policy.json');
    writeFileSync(configFile, JSON.stringify(POLICY));
    const cluster = ['--data', path.join(dir, 'data'), '--partitions', String(Q), '--listen-port', String(listen), '--http-port', String(http), '--resp-port', String(resp)];
    const t0 = Date.now();
    const dev = new Dev(['--autoscale', '3..6', '--autoscale-config', configFile, '--autoscale-interval-ms', '500', '--autoscale-metrics-port', String(metricsPort), ...cluster], t0);

    // The ring as node-0 (a founder, never scaled in) shows it; each settled ring that differs from the last is a step.
    const steps: Settled[] = [];
    let watching = true;
    const watch = (async () => {
      while (watching) {
        try {
          const ring = (await request(http, 'GET', '/ring', { timeoutMs: 5_000 })).json() as RingDoc;
          if (!ring.transition) {
            const counts = new Map<string, number>();
            for (const p of ring.partitions) counts.set(p.owner, (counts.get(p.owner) ?? 0) + 1);
            const last = steps.at(-1);
            const key = (m: Map<string, number>): string => [...m.entries()].sort().join();
            if (!last || key(last.counts) !== key(counts)) steps.push({ atMs: Date.now() - t0, counts });
          }
        } catch { /* node-0 not serving yet */ }
        await sleep(200);
      }
    })();
    const members = (): number => steps.at(-1)?.counts.size ?? 0;
    const count = (re: RegExp): number => (dev.out.match(re) ?? []).length;

    const load = new Load([http, http + 1, http + 2]);
    try {
      await dev.until('the first three nodes serve', () => dev.out.includes('Press Ctrl-C') && members() === 3, 90_000);
      load.start();
      const loadStartMs = Date.now();
      await dev.until('the cluster grows to at least 5 nodes', () => members() >= 5, 240_000);
      // The load rises for a minute (the issue's shape), then stops.
      await dev.until('the load has risen for a minute', () => Date.now() - loadStartMs >= RAMP_MS, RAMP_MS + 5_000);
      load.stop();
      await load.drained();
      const loadStoppedS = (Date.now() - t0) / 1000;
      await dev.until('the cluster shrinks back to 3 nodes and the nodes it stopped have exited',
        () => members() === 3 && count(/gossamer dev: node-\d stopped/g) === count(/autoscale: scale in /g), 240_000);
      watching = false;
      await watch;

      // Every settled ring on the way: each member within 5% of an even share.
      const sizes = steps.map((s) => s.counts.size);
      assert.deepEqual(sizes.slice(0, 1), [3], `starts at 3: ${sizes.join(' → ')}`);
      assert.ok(Math.max(...sizes) >= 5 && sizes.at(-1) === 3, `3 → ≥5 → 3: ${sizes.join(' → ')}`);
      for (const s of steps) {
        const even = Q / s.counts.size;
        for (const [node, owned] of s.counts) assert.ok(Math.abs(owned - even) <= 0.05 * even, `${node} owns ${owned} of ${Q} partitions on a ${s.counts.size}-node ring (even: ${even})`);
      }
      // Every decision printed with its reason; out on the request rate, in on the low load.
      assert.ok(count(/autoscale: scale out \d → \d \(requests_high\) nodes=/g) >= 2, dev.fail('two scale-outs printed').message);
      assert.ok(count(/autoscale: scale in \d → \d \(load_low\) nodes=/g) >= 2, dev.fail('two scale-ins printed').message);

      // The actuator's own /metrics: desired vs actual nodes, and the decisions by reason.
      // "actual" is what the policy counted at its last decision (every 500 ms): await the one after the last leave.
      let metrics = '';
      for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(250)) {
        metrics = (await request(metricsPort, 'GET', '/metrics')).text;
        if (/^gossamer_autoscale_actual_nodes 3$/m.test(metrics)) break;
      }
      assert.match(metrics, /^gossamer_autoscale_desired_nodes 3$/m);
      assert.match(metrics, /^gossamer_autoscale_actual_nodes 3$/m);
      const counted = (d: string, reason: string): number => Number(new RegExp(`^gossamer_autoscale_decisions_total\\{decision="${d}",reason="${reason}"\\} (\\d+)$`, 'm').exec(metrics)?.[1] ?? 0);
      assert.equal(counted('out', 'requests_high'), count(/autoscale: scale out /g), `every scale-out printed is counted\n${metrics}`);
      assert.equal(counted('in', 'load_low'), count(/autoscale: scale in /g), `every scale-in printed is counted\n${metrics}`);
      assert.equal((await request(metricsPort, 'GET', '/nothing')).status, 404);
      await dev.stop();

      // Every acknowledged write readable: the same three data directories, started again without the autoscaler.
      const again = new Dev(['--nodes', '3', ...cluster], t0);
      await again.until('the three nodes serve again', () => again.out.includes('Press Ctrl-C'), 90_000);
      assert.ok(load.acked.size > 500, `the load ran: ${load.acked.size} writes acknowledged, ${load.failed} failed`);
      const wrong: string[] = [];
      const keys = [...load.acked.keys()];
      for (let i = 0; i < keys.length; i += 16) {
        await Promise.all(keys.slice(i, i + 16).map(async (k, j) => {
          const r = await request(http + ((i + j) % 3), 'GET', `/kv/${k}`, { timeoutMs: 10_000 });
          if (r.status !== 200 || r.text !== load.acked.get(k)) wrong.push(`${k}: ${r.status} ${r.text.slice(0, 60)}`);
        }));
      }
      assert.deepEqual(wrong.slice(0, 20), [], `${wrong.length} of ${keys.length} acknowledged writes unreadable`);
      await again.stop();

      t.diagnostic(`load stopped at +${loadStoppedS.toFixed(1)} s; ${load.acked.size} writes acknowledged (${load.failed} failed), all readable`);
      t.diagnostic(`settled rings: ${steps.map((s) => `+${(s.atMs / 1000).toFixed(1)} s ${s.counts.size} nodes [${[...s.counts.values()].join(',')}]`).join('; ')}`);
      for (const d of dev.decisions) t.diagnostic(d);
    } finally {
      watching = false;
      load.stop();
      for (const p of live) p.kill('SIGINT');
    }
  });
});
