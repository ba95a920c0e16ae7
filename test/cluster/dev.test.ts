/**
 * `gossamer dev`: a local cluster of child processes that serves, stops on SIGINT and leaves no
 * process behind — also when the dev process itself is SIGKILLed.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from '../api/http-client.js';
import { CLI, ROOT, freePortRange, requireBuild, sleep } from './helpers.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitGone(pids: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const left = pids.filter(alive);
    if (left.length === 0) return [];
    await sleep(50);
  }
  return pids.filter(alive);
}

interface Dev {
  proc: ReturnType<typeof spawn>;
  out: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  pids: number[];
  httpBase: number;
}

/** Dev processes still running: a failed assertion must not leave a cluster keeping the test alive. */
const live = new Set<ChildProcess>();
process.on('exit', () => { for (const p of live) p.kill('SIGKILL'); });

/** Starts `gossamer dev` directly, or through `npm start` in a process group of its own (as a terminal would). */
async function startDev(dataDir: string, via: 'bin' | 'npm-start' = 'bin'): Promise<Dev> {
  requireBuild();
  const listen = await freePortRange(9);
  const http = listen + 3;
  const resp = listen + 6;
  const args = ['--nodes', '3', '--data', dataDir, '--partitions', '64',
    '--listen-port', String(listen), '--http-port', String(http), '--resp-port', String(resp)];
  const proc = via === 'bin'
    ? spawn(process.execPath, [CLI, 'dev', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn('npm', ['start', '--silent', '--', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  proc.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  live.add(proc);
  void exit.then(() => live.delete(proc));
  const deadline = Date.now() + 60_000;
  while (!out.includes('Press Ctrl-C') && Date.now() < deadline && proc.exitCode === null) await sleep(50);
  assert.ok(out.includes('Press Ctrl-C'), `dev never got ready:\n${out}`);
  const pids = [...out.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
  assert.equal(pids.length, 3, out);
  return { proc, out: () => out, exit, pids, httpBase: http };
}

describe('gossamer dev', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gossamer-dev-'));
  after(async () => {
    for (const p of live) {
      if (p.spawnargs[0] === 'npm' && p.pid !== undefined) {
        try { process.kill(-p.pid, 'SIGINT'); } catch { /* gone */ }
      } else {
        p.kill('SIGINT');
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts 3 nodes, prints their URLs, serves, and stops every child on SIGINT', async () => {
    const dev = await startDev(path.join(dir, 'a'));
    const out = dev.out();
    for (let i = 0; i < 3; i++) {
      assert.match(out, new RegExp(`node-${i}  HTTP http://127\\.0\\.0\\.1:${dev.httpBase + i}  RESP redis://127\\.0\\.0\\.1:\\d+  pid=`));
      assert.match(out, new RegExp(`^\\[node-${i}\\] .*node started`, 'm'), 'child lines are prefixed with the node id');
    }
    assert.match(out, new RegExp(`open http://127\\.0\\.0\\.1:${dev.httpBase}/ui`), 'the banner names the dashboard');
    assert.equal((await request(dev.httpBase, 'GET', '/ui')).status, 200, 'and it is served');
    assert.equal((await request(dev.httpBase, 'PUT', '/kv/dev-key', { body: 'v' })).status, 204);
    assert.equal((await request(dev.httpBase + 2, 'GET', '/kv/dev-key')).text, 'v');
    dev.proc.kill('SIGINT');
    const exit = await dev.exit;
    assert.deepEqual(exit, { code: 0, signal: null }, dev.out());
    assert.deepEqual(await waitGone(dev.pids, 5_000), [], 'every child exited');
  });

  it('children exit by themselves when dev is SIGKILLed (no orphans)', async () => {
    const dev = await startDev(path.join(dir, 'b'));
    dev.proc.kill('SIGKILL');
    await dev.exit;
    assert.deepEqual(await waitGone(dev.pids, 10_000), [], 'orphans left behind');
  });

  it('npm start: Ctrl-C (SIGINT to its process group) leaves no process behind', async () => {
    const dev = await startDev(path.join(dir, 'c'), 'npm-start');
    assert.equal((await request(dev.httpBase + 1, 'PUT', '/kv/npm-start', { body: 'v' })).status, 204);
    const group = dev.proc.pid!;
    process.kill(-group, 'SIGINT');
    await dev.exit;
    assert.deepEqual(await waitGone(dev.pids, 10_000), [], 'every node exited');
    let groupAlive = true;
    for (let i = 0; i < 100 && groupAlive; i++) {
      try {
        process.kill(-group, 0);
        await sleep(50);
      } catch {
        groupAlive = false;
      }
    }
    assert.equal(groupAlive, false, `processes of the npm start group remain:\n${dev.out()}`);
  });
});
