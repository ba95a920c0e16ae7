/** The compiled `gossamer` bin: exit statuses and one-line errors, without a cluster. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { CLI, freePorts, requireBuild, runCli } from '../cluster/helpers.js';

/** A stand-in node answering the operator routes with what a test sets. */
async function fakeNode(routes: Record<string, { status: number; body: unknown }>): Promise<{ host: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const r = routes[(req.url ?? '').split('?')[0]!];
    res.statusCode = r?.status ?? 404;
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(r?.body ?? { error: 'not_found', message: 'no route' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return { host: `127.0.0.1:${port}`, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

const MEMBERS = ['a', 'b', 'c'].map((id, i) => ({
  nodeId: id, address: `127.0.0.1:${7000 + i}`, dc: 'dc1', rack: 'rack1', weight: 1, state: i === 2 ? 'suspect' : 'alive', heartbeat: 1, ownership: 1 / 3,
}));

function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${stderr}`);
  return lines[0]!;
}

describe('gossamer bin', () => {
  requireBuild();

  it('--help and --version succeed', async () => {
    const h = await runCli(['--help']);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /start \[options\]/);
    assert.equal((await runCli(['--version'])).code, 0);
    const s = await runCli(['start', '--help']);
    assert.equal(s.code, 0);
    for (const flag of ['--node-id', '--data', '--listen', '--http', '--resp', '--seeds', '--dc', '--rack', '--weight',
      '--n', '--r', '--w', '--partitions', '--request-timeout-ms', '--max-value-bytes', '--commitlog-sync', '--config']) {
      assert.ok(s.stdout.includes(flag), `start --help lists ${flag}`);
    }
  });

  it('a wrong setting stops start-up: exit 2 and one line naming it', async () => {
    const r = await runCli(['start', '--partitions', '1000']);
    assert.equal(r.code, 2);
    assert.equal(oneLine(r.stderr), 'gossamer: invalid setting "partitions" (--partitions): must be a power of two');
    const e = await runCli(['start', '--config', '/nonexistent/gossamer.yaml']);
    assert.equal(e.code, 2);
    assert.match(oneLine(e.stderr), /^gossamer: cannot read config file/);
  });

  it('bad usage is exit 2 with one line', async () => {
    for (const args of [['frobnicate'], ['get'], ['get', 'k', '--host', 'http://x:1'], ['get', 'k', '--r', 'many'],
      ['put', 'k', 'v', '--file', 'f'], ['start', '--bogus'], ['dev', '--nodes', 'zero']]) {
      const r = await runCli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(oneLine(r.stderr), /^gossamer: /);
    }
  });

  it('an unreachable node is exit 1 with one line', async () => {
    const r = await runCli(['get', 'k', '--host', '127.0.0.1:1']);
    assert.equal(r.code, 1);
    assert.match(oneLine(r.stderr), /^gossamer: cannot reach 127\.0\.0\.1:1: ECONNREFUSED$/);
  });

  it('start on a port in use is exit 1 with one line', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const [http] = await freePorts(1);
      const r = await runCli(['start', '--memory', '--listen', `127.0.0.1:${port}`, '--http', `127.0.0.1:${http!}`, '--log-level', 'error']);
      assert.equal(r.code, 1);
      assert.match(oneLine(r.stderr), /^gossamer: cannot listen: .*EADDRINUSE/);
    } finally {
      blocker.close();
    }
  });

  it('no command: help on stderr and exit 2 (bad usage), nothing on stdout', async () => {
    const r = await runCli([]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /Usage: gossamer/);
    assert.match(r.stderr, /status/);
  });

  it('every command\'s --help ends with examples', async () => {
    for (const cmd of ['start', 'dev', 'get', 'put', 'del', 'status', 'ring', 'bench']) {
      const r = await runCli([cmd, '--help']);
      assert.equal(r.code, 0, cmd);
      assert.match(r.stdout, /Examples:\n {2}\$ gossamer /, `${cmd} --help has examples`);
    }
    const b = await runCli(['bench', '--help']);
    assert.match(b.stdout, /range scans/, 'bench --help says why there is no workload E');
  });

  it('status prints the members and exits 1 when the node does not serve (503); 0 when it does', async () => {
    const routes: Record<string, { status: number; body: unknown }> = {
      '/cluster': { status: 200, body: { nodeId: 'a', members: MEMBERS } },
      '/health': { status: 503, body: { error: 'unavailable', message: 'starting' } },
    };
    const node = await fakeNode(routes);
    try {
      const r = await runCli(['status', '--host', node.host]);
      assert.equal(r.code, 1);
      assert.match(r.stdout, /not serving/);
      assert.match(r.stdout, /^Datacenter: dc1 \(2 of 3 alive\)$/m);
      assert.match(r.stdout, /^NODE +ADDRESS +RACK +WEIGHT +STATE +LOAD +OWNERSHIP$/m);
      assert.match(r.stdout, /^c +127\.0\.0\.1:7002 +rack1 +1 +suspect +- +33\.3%$/m);
      assert.ok(!r.stdout.includes('\u001b['), 'no colour codes into a pipe');
      assert.match(oneLine(r.stderr), /^gossamer: node a at .* does not serve \(HTTP 503 on \/health\)$/);
      const j = await runCli(['status', '--json', '--host', node.host]);
      assert.equal(j.code, 1);
      assert.equal((JSON.parse(j.stdout) as { serving: boolean }).serving, false);
      routes['/health'] = { status: 200, body: { status: 'ok', nodeId: 'a' } };
      routes['/ui/data'] = { status: 200, body: { self: { nodeId: 'a', loadBytes: 2048 } } };
      const ok = await runCli(['status', '--host', node.host]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /^a\* +127\.0\.0\.1:7000 .* alive +2\.0 KiB +33\.3%$/m);
    } finally {
      await node.close();
    }
    const down = await runCli(['status', '--host', '127.0.0.1:1']);
    assert.equal(down.code, 1);
    assert.match(oneLine(down.stderr), /cannot reach 127\.0\.0\.1:1/);
  });

  it('ring --all into a reader that stops early (| head) ends quietly, not with EPIPE', async () => {
    const q = 65536;
    const partitions = Array.from({ length: q }, (_, id) => ({ id, owner: MEMBERS[id % 3]!.nodeId, preferenceList: ['a', 'b', 'c'] }));
    const node = await fakeNode({ '/ring': { status: 200, body: { partitionCount: q, n: 3, partitions } } });
    try {
      const r = await new Promise<{ code: number | null; stderr: string; got: string }>((resolve, reject) => {
        const p = spawn(process.execPath, [CLI, 'ring', '--all', '--host', node.host], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stderr = '';
        let got = '';
        p.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
        // Like `head`: read the first chunk, then close the pipe while the CLI is still writing.
        p.stdout.once('data', (d: Buffer) => { got = d.toString(); p.stdout.destroy(); });
        p.on('error', reject);
        p.on('exit', (code) => resolve({ code, stderr, got }));
      });
      assert.match(r.got, /65536 partitions, N=3/);
      assert.equal(r.stderr, '', 'no stack trace, no EPIPE message');
      assert.equal(r.code, 0);
    } finally {
      await node.close();
    }
  });

  it('bench: workload E and bad numbers are usage errors; an unreachable node is exit 1', async () => {
    const e = await runCli(['bench', '--workload', 'e']);
    assert.equal(e.code, 2);
    assert.match(oneLine(e.stderr), /workload E needs range scans/);
    for (const args of [['--workload', 'z'], ['--clients', '0'], ['--records', 'many'], ['--transport', 'grpc'], ['--distribution', 'normal'], ['--host', '127.0.0.1:8000,nope']]) {
      const r = await runCli(['bench', ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(oneLine(r.stderr), /^gossamer: /);
    }
    const down = await runCli(['bench', '--host', '127.0.0.1:1', '--operations', '10']);
    assert.equal(down.code, 1);
    assert.match(oneLine(down.stderr), /^gossamer: cannot reach 127\.0\.0\.1:1: ECONNREFUSED$/);
  });
});
