/**
 * `gossamer bench` end to end: against a real node over HTTP, and over RESP against a
 * redis-server started on a spare port (the RESP transport; skipped visibly without redis).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { TestCluster, freePorts, runCli } from '../cluster/helpers.js';
import { RespConnection } from '../../src/cli/bench/transports.js';
import type { BenchReport } from '../../src/cli/bench/command.js';

function opsOf(r: BenchReport['run']): Record<string, { count: number; errors: number }> {
  return Object.fromEntries(r.ops.map((o) => [o.op, { count: o.count, errors: o.errors }]));
}

describe('gossamer bench over HTTP against a node', () => {
  let c: TestCluster;
  before(async () => {
    c = await TestCluster.create({ size: 1 });
    c.startAll();
    await c.waitAllHealthy();
  });
  after(async () => { await c.destroy(); });

  it('workload A loads the records, runs the mix, and reports every operation without errors', async () => {
    const host = `127.0.0.1:${c.nodes[0]!.httpPort}`;
    const r = await runCli(['bench', '--host', host, '--workload', 'a', '--records', '100', '--operations', '400', '--clients', '4', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout) as BenchReport;
    assert.equal(rep.workload, 'A');
    assert.equal(rep.recordBytes, 1000);
    assert.deepEqual(opsOf(rep.load!), { INSERT: { count: 100, errors: 0 } });
    const ops = opsOf(rep.run);
    assert.equal(ops.READ!.count + ops.UPDATE!.count, 400);
    assert.equal(ops.READ!.errors + ops.UPDATE!.errors, 0);
    assert.equal(rep.run.ops.find((o) => o.op === 'READ')!.notFound, 0, 'every key read was loaded');
    for (const o of rep.run.ops) assert.ok(o.p50Ms > 0 && o.p50Ms <= o.p99Ms && o.p99Ms <= o.p999Ms && o.p999Ms <= o.maxMs, `${o.op} quantiles ordered`);
    // The records are really there: the node answers a loaded key with its 1000-byte value.
    const get = await runCli(['get', '--host', host, `user${(await import('../../src/cli/bench/generators.js')).fnvHash64(7)}`]);
    assert.equal(get.code, 0, get.stderr);
    assert.ok(get.stdout.length >= 1000);
  });

  it('workload D with --no-load reads what an earlier load wrote and inserts new keys', async () => {
    const host = `127.0.0.1:${c.nodes[0]!.httpPort}`;
    const r = await runCli(['bench', '--host', host, '--workload', 'd', '--records', '100', '--operations', '300', '--clients', '4', '--no-load', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout) as BenchReport;
    assert.equal(rep.load, null);
    const ops = opsOf(rep.run);
    assert.ok(ops.INSERT!.count > 0);
    assert.equal(ops.READ!.errors + ops.INSERT!.errors, 0);
  });

  it('the human summary is a table per phase', async () => {
    const host = `127.0.0.1:${c.nodes[0]!.httpPort}`;
    const r = await runCli(['bench', '--host', host, '--workload', 'c', '--records', '50', '--operations', '100', '--clients', '2']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^YCSB workload C \(read only/);
    assert.match(r.stdout, /^OP +COUNT +ERRORS +OPS\/S +MEAN +P50 +P95 +P99 +P99\.9 +MAX \(ms\)$/m);
    assert.match(r.stdout, /^READ +100 +0 /m);
    assert.doesNotMatch(r.stderr, /\r/, 'no progress bar drawn into a pipe');
  });
});

const REDIS = '/usr/bin/redis-server';

describe('gossamer bench over RESP (against redis-server)', { skip: existsSync(REDIS) ? false : `${REDIS} not installed (Debian package redis-server)` }, () => {
  let redis: ChildProcess;
  let port: number;
  before(async () => {
    [port] = (await freePorts(1)) as [number];
    redis = spawn(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const c = new RespConnection({ host: '127.0.0.1', port });
      try {
        await c.ready;
        c.close();
        break;
      } catch {
        c.close();
        if (Date.now() > deadline) throw new Error('redis-server did not start');
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });
  after(() => { redis.kill('SIGKILL'); });

  it('workload F runs GET and SET through the RESP transport and leaves the records in the server', async () => {
    const r = await runCli(['bench', '--transport', 'resp', '--host', `127.0.0.1:${port}`, '--workload', 'f', '--records', '200', '--operations', '500', '--clients', '4', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout) as BenchReport;
    assert.equal(rep.transport, 'resp');
    for (const o of rep.run.ops) assert.equal(o.errors, 0, `${o.op} errors`);
    assert.equal(rep.run.ops.find((o) => o.op === 'READ')!.count, 500);
    const conn = new RespConnection({ host: '127.0.0.1', port });
    await conn.ready;
    assert.equal(await conn.command('DBSIZE'), 200);
    const v = await conn.command('GET', `user${(await import('../../src/cli/bench/generators.js')).fnvHash64(0)}`);
    assert.ok(Buffer.isBuffer(v) && v.length === 1000);
    conn.close();
  });
});
