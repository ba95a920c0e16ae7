/** The compiled `gossamer` bin: exit statuses and one-line errors, without a cluster. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { freePorts, requireBuild, runCli } from '../cluster/helpers.js';

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
});
