/**
 * `gossamer dev --autoscale`: bad usage is exit 2 with one line before any node starts; a real
 * dev cluster runs the loop (it scrapes the nodes and prints its decisions) and stops cleanly.
 * Growing and shrinking for real: test/cluster/autoscale-dev.test.ts.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CLI, freePortRange, requireBuild, runCli } from '../cluster/helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'gossamer-autoscale-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('gossamer dev --autoscale', { timeout: 120_000 }, () => {
  it('refuses bad ranges and options: exit 2, one line, no node started', async () => {
    requireBuild();
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ scaleIn: { requestsPerSecPerNode: 900 }, scaleOut: { requestsPerSecPerNode: 500 } }));
    const unknown = path.join(dir, 'unknown.json');
    writeFileSync(unknown, JSON.stringify({ cooldown: 5 }));
    const cases: [string[], RegExp][] = [
      [['--autoscale', '6..3'], /MAX must be at least MIN/],
      [['--autoscale', 'three'], /--autoscale must be MIN\.\.MAX/],
      [['--autoscale', '3-6'], /--autoscale must be MIN\.\.MAX/],
      [['--autoscale', '2..6'], /MIN must be at least N=3/],
      [['--autoscale', '1..6', '--n', '1', '--nodes', '7'], /--nodes 7 is outside --autoscale 1\.\.6/],
      [['--autoscale', '3..40'], /MAX must be at most 32/],
      [['--autoscale', '0..3', '--n', '1'], /MIN must be at least 1/],
      [['--autoscale', '3..6', '--autoscale-config', bad], /hysteresis/],
      [['--autoscale', '3..6', '--autoscale-config', unknown], /unknown key "cooldown"/],
      [['--autoscale', '3..6', '--autoscale-config', path.join(dir, 'none.json')], /ENOENT/],
      [['--autoscale', '3..6', '--autoscale-metrics-port', 'http'], /--autoscale-metrics-port must be a whole number 0\.\.65535/],
    ];
    for (const [args, re] of cases) {
      const r = await runCli(['dev', '--data', path.join(dir, 'never'), ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /^gossamer: /);
      assert.match(r.stderr, re, args.join(' '));
      assert.doesNotMatch(r.stdout, /Gossamer dev cluster/);
    }
  });

  it('runs the policy over a real dev cluster, prints its decisions, and stops on SIGINT', async () => {
    requireBuild();
    const listen = await freePortRange(12);
    const proc = spawn(process.execPath, [CLI, 'dev', '--autoscale', '3..4', '--autoscale-interval-ms', '300', '--autoscale-metrics-port', '0', '--data', path.join(dir, 'run'),
      '--partitions', '64', '--listen-port', String(listen), '--http-port', String(listen + 4), '--resp-port', String(listen + 8)],
    { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const waiters = new Set<() => void>();
    const take = (d: Buffer): void => { out += d.toString(); for (const w of [...waiters]) w(); };
    proc.stdout.on('data', take);
    proc.stderr.on('data', take);
    const exit = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
    const seen = (re: RegExp): Promise<void> => new Promise((resolve, reject) => {
      const check = (): void => { if (re.test(out)) { waiters.delete(check); resolve(); } };
      waiters.add(check);
      void exit.then(() => (re.test(out) ? resolve() : reject(new Error(`dev exited before ${re}:\n${out}`))));
      check();
    });
    try {
      await seen(/Autoscale 3\.\.4 nodes, policy every 300 ms/);
      await seen(/autoscale: hold \(no_data\)/); // the first round: no rates yet
      // Then figures from all three nodes: an idle cluster at its floor.
      await seen(/autoscale: hold \((floor_n|steady)\) .*nodes=3 rps\/node=/);
      proc.kill('SIGINT');
      assert.equal(await exit, 0, out);
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
  });
});
