/**
 * Issue 8, defect 5: seeds are matched by address, not by text. Nodes given their seeds as
 * `localhost:port`, or listening on `0.0.0.0` without `--advertise`, still form a ring; a node
 * that waits for seeds says which, every few seconds.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CLI, freePorts, requireBuild, waitHealthy } from '../cluster/helpers.js';
import { missingSeeds, resolveNodeAddresses } from '../../src/cli/addresses.js';
import { CliError } from '../../src/cli/errors.js';
import { silentLogger } from '../../src/ports/index.js';

const dir = mkdtempSync(path.join(tmpdir(), 'gossamer-seeds-'));
const procs: ChildProcess[] = [];
after(async () => {
  await Promise.all(procs.map((p) => new Promise<void>((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) return resolve();
    p.once('exit', () => resolve());
    p.kill('SIGKILL');
  })));
  rmSync(dir, { recursive: true, force: true });
});

interface Started { nodeId: string; httpPort: number; log: string[] }

async function start(nodeId: string, httpPort: number, args: string[]): Promise<Started> {
  const [respPort] = await freePorts(1);
  const p = spawn(process.execPath, [CLI, 'start', '--node-id', nodeId, '--http', `127.0.0.1:${httpPort}`, '--data', path.join(dir, nodeId),
    '--resp', `127.0.0.1:${respPort}`,
    '--parent-pid', String(process.pid), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GOSSAMER_LOG_LEVEL: 'info' } });
  procs.push(p);
  const n: Started = { nodeId, httpPort, log: [] };
  p.stdout!.on('data', (d: Buffer) => n.log.push(d.toString()));
  p.stderr!.on('data', (d: Buffer) => n.log.push(d.toString()));
  return n;
}

describe('address resolution', () => {
  it('resolves names, finds a node listening on 0.0.0.0 among its seeds, refuses when it cannot', async () => {
    const r = await resolveNodeAddresses({ listen: '127.0.0.1:7000', advertise: 'localhost:7000', seeds: ['localhost:7000', 'localhost:7001'], logger: silentLogger });
    assert.deepEqual(r, { advertise: '127.0.0.1:7000', seeds: ['127.0.0.1:7000', '127.0.0.1:7001'] });
    const any = await resolveNodeAddresses({ listen: '0.0.0.0:7001', advertise: '0.0.0.0:7001', seeds: ['localhost:7000', 'localhost:7001'], logger: silentLogger });
    assert.equal(any.advertise, '127.0.0.1:7001');
    await assert.rejects(resolveNodeAddresses({ listen: '0.0.0.0:7005', advertise: '0.0.0.0:7005', seeds: ['127.0.0.1:7000'], logger: silentLogger }),
      (e: unknown) => e instanceof CliError && e.exitCode === 2 && /--advertise/.test(e.message));
    assert.deepEqual(missingSeeds(['a:1', 'b:1', 'c:1'], 'a:1', ['c:1']), ['b:1']);
  });
});

describe('rings form whatever names the seeds are given by', { timeout: 90_000 }, () => {
  requireBuild();

  it('three nodes with seeds as localhost:port, one of them listening on 0.0.0.0 without --advertise', async () => {
    const ports = await freePorts(6);
    const seeds = [0, 1, 2].map((i) => `localhost:${ports[i]}`).join(',');
    const nodes = await Promise.all([0, 1, 2].map((i) => start(`s${i}`, ports[3 + i]!, ['--listen', `${i === 0 ? '0.0.0.0' : '127.0.0.1'}:${ports[i]}`, '--seeds', seeds])));
    await Promise.all(nodes.map((n) => waitHealthy(n, 30_000)));
  });

  it('a node waiting for a seed says which, every few seconds', async () => {
    const [listen, http, absent] = await freePorts(3);
    const n = await start('lonely', http!, ['--listen', `127.0.0.1:${listen}`, '--seeds', `127.0.0.1:${listen},localhost:${absent}`]);
    const deadline = Date.now() + 20_000;
    const wanted = new RegExp(`waiting for seeds.*missing(?:=|":")127\\.0\\.0\\.1:${absent}`);
    while (!wanted.test(n.log.join('')) && Date.now() < deadline) {
      await new Promise<void>((resolve) => { const p = procs[procs.length - 1]!; p.stderr!.once('data', () => resolve()); setTimeout(resolve, 1000).unref(); });
    }
    assert.match(n.log.join(''), wanted);
  });
});
