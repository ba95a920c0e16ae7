/**
 * The fault suite on separate hosts (issue 15): five `gossamer start` nodes, each in its own
 * network namespace on its own address over a bridge (netns.ts), clients in a namespace of their
 * own (ns-agent.mjs), and one phase per nemesis (nemeses.ts, phases.ts): kill -9 and restart,
 * SIGSTOP/SIGCONT, partitions (random halves, one isolated, a bridge, a ring), packet loss, a wiped
 * data directory, clock skew, latency. Each phase's history is checked on its own keys; the
 * per-nemesis table is printed and written to docs/reliability.md (GOSSAMER_FAULT_DOCS=0: not).
 *
 * Needs root, `ip` (iproute2) and `nft` (nftables); without them it says why and is skipped (the
 * loopback suites still run). GOSSAMER_FAULT_MINUTES=N stretches the run to about N minutes
 * (default: about 5); GOSSAMER_FAULT_SEED=<n> repeats its choices.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../test/cluster/helpers.js';
import { excerpt, prng } from './check.js';
import { FaultCluster } from './fault-cluster.js';
import { NEMESES } from './nemeses.js';
import { NetHosts, netnsUnavailable } from './netns.js';
import { NsClient } from './ns-client.js';
import type { PhaseResult } from './phases.js';
import { runPhase, summaryTable } from './phases.js';

const SIZE = 5;
const why = netnsUnavailable();
if (why) console.log(`# the separate-hosts fault suite is SKIPPED here: ${why}. It runs as root with iproute2 and nftables (as in CI).`);

/** GOSSAMER_FAULT_NEMESES=kill,halves runs only those (for a quick look). */
const only = process.env.GOSSAMER_FAULT_NEMESES?.split(',').filter((n) => n !== '');
const nemeses = only ? NEMESES.filter((n) => only.includes(n.name)) : NEMESES;
const minutes = Number(process.env.GOSSAMER_FAULT_MINUTES ?? '0');
/** Per phase: about 20 s of workload by default, more when a longer run is asked for. */
const workloadMs = Math.max(20_000, Math.floor((minutes * 60_000) / NEMESES.length) - 12_000);
const faultMs = Math.round(workloadMs * 0.6);

// Counted as a skipped test where it cannot run (the reporter shows the reason).
if (why) it('the fault suite on separate hosts', { skip: `needs root, ip and nft: ${why}` }, () => {});

describe(`the fault suite on separate hosts (${SIZE} nodes, one network namespace each)`, { skip: why !== undefined, timeout: 60 * 60_000 }, () => {
  const seed = process.env.GOSSAMER_FAULT_SEED ? Number(process.env.GOSSAMER_FAULT_SEED) : (Date.now() ^ (process.pid << 12)) >>> 0;
  const net = new NetHosts(Number(process.env.GOSSAMER_NETNS_RUN ?? 20 + (process.pid % 200)), SIZE);
  let agent: NsClient | undefined;
  let cluster: FaultCluster | undefined;
  let failed = true;
  const onSignal = (sig: NodeJS.Signals): void => {
    // Nodes die with this process (--parent-pid); the namespaces must not outlive it either.
    net.tearDown();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };

  before(async () => {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    net.setUp();
    agent = new NsClient(net.exec(net.clientNs));
    await agent.start();
    cluster = await FaultCluster.create(SIZE, ['--partitions', '64', '--request-timeout-ms', '1000'], {}, { net, http: agent.http });
    for (let i = 0; i < SIZE; i++) cluster.start(i);
    for (let i = 0; i < SIZE; i++) await cluster.waitHealthy(i);
  });

  after(async () => {
    if (failed && cluster) process.stderr.write(`node logs (tails):\n${cluster.logs()}\n`);
    await cluster?.destroy();
    await agent?.close();
    const gone = net.tearDown();
    console.log(`# removed namespaces ${gone.join(', ')}`);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  });

  it('every nemesis: no acknowledged write lost, nothing deleted returns, exact siblings, strict quorum kept, convergence within 30 s', async () => {
    console.log(`# seed ${seed} (GOSSAMER_FAULT_SEED=${seed} repeats its choices); ${nemeses.length} phases of ${workloadMs / 1000} s, fault for ${faultMs / 1000} s`);
    const rand = prng(seed);
    const state = { nextId: 1 };
    const rows: PhaseResult[] = [];
    const t0 = Date.now();
    for (const nemesis of nemeses) {
      const row = await runPhase(cluster!, net, nemesis, { seed: Math.floor(rand() * 2 ** 32), workloadMs, faultAtMs: 3000, faultMs }, state);
      rows.push(row);
      console.log(`# ${nemesis.name}: ${row.skipped ? `SKIPPED: ${row.skipped}` : `${row.ops} ops, ${row.acknowledged}/${row.writes} writes acknowledged, ${row.unknown} unknown, ` +
        `${row.violations.length} violations, convergence ${row.convergenceMs ?? 'NOT'} ms; ${row.log.join('; ')}`}`);
    }
    const table = summaryTable(rows);
    console.log(`# per-nemesis summary (seed ${seed}, ${((Date.now() - t0) / 60_000).toFixed(1)} min)\n${table.split('\n').map((l) => `# ${l}`).join('\n')}`);
    if (process.env.GOSSAMER_FAULT_DOCS !== '0' && !only) writeDocs(table, seed, workloadMs, faultMs);

    const unexpected = cluster!.exits.filter((e) => !e.expected);
    assert.deepEqual(unexpected, [], `nodes exited without being stopped\n${cluster!.logs()}`);
    const report = rows.flatMap((r) => r.violations.map((v) => `[${r.nemesis}] ${v.invariant} on ${v.key}: ${v.detail}\n${excerpt(r.history, v)}\nnemesis: ${r.log.join('; ')}`));
    assert.deepEqual(report, [], `seed ${seed}\n${report.join('\n\n')}`);
    for (const r of rows) if (!r.skipped) assert.ok(r.acknowledged > 20, `${r.nemesis}: too few acknowledged writes (${r.acknowledged}) for the phase to mean much`);
    const exits = await Promise.all(cluster!.nodes.map((_, i) => cluster!.stop(i, 'SIGTERM')));
    assert.deepEqual(exits.filter((e) => e.code !== 0 || e.signal !== null), [], `SIGTERM must be a clean exit\n${cluster!.logs()}`);
    failed = false;
  });
});

/** Replaces the figures between the markers of docs/reliability.md. */
function writeDocs(table: string, seed: number, workloadMs: number, faultMs: number): void {
  const file = path.join(ROOT, 'docs', 'reliability.md');
  const begin = '<!-- figures:begin -->';
  const end = '<!-- figures:end -->';
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return;
  }
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  if (a < 0 || b < a) return;
  const body = `\nLatest run: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, seed ${seed}, ` +
    `phases of ${workloadMs / 1000} s with the fault held ${faultMs / 1000} s (written by test-faults/hosts.test.ts).\n\n${table}\n`;
  writeFileSync(file, text.slice(0, a + begin.length) + body + text.slice(b));
}
