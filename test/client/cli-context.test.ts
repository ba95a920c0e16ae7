/** `gossamer put` and `gossamer del` read the key's context first unless --context or --blind (issue 8, defect 6). */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster, runCli } from '../cluster/helpers.js';
import { request } from '../api/http-client.js';

describe('gossamer put/del and contexts', { timeout: 120_000 }, () => {
  let cluster: TestCluster;
  let host: string;
  let port: number;
  before(async () => {
    cluster = await TestCluster.create({ size: 1, extraArgs: ['--n', '1', '--partitions', '16'] });
    cluster.startAll();
    await cluster.waitAllHealthy();
    port = cluster.nodes[0]!.httpPort;
    host = `127.0.0.1:${port}`;
  });
  after(async () => { await cluster.destroy(); });

  const cli = async (...args: string[]): Promise<void> => {
    const r = await runCli([...args, '--host', host]);
    assert.equal(r.code, 0, r.stderr);
  };

  it('put twice then get: one value, not siblings; del then get: 404', async () => {
    await cli('put', 'k', 'first');
    await cli('put', 'k', 'second');
    const get = await request(port, 'GET', '/kv/k');
    assert.equal(get.status, 200, get.text);
    assert.equal(get.text, 'second');
    await cli('del', 'k');
    assert.equal((await request(port, 'GET', '/kv/k')).status, 404);
  });

  it('--blind writes supersede nothing: two blind puts are siblings, and a blind del leaves them', async () => {
    await cli('put', 'b', 'x', '--blind');
    await cli('put', 'b', 'y', '--blind');
    assert.equal((await request(port, 'GET', '/kv/b')).status, 300);
    await cli('del', 'b', '--blind');
    const after = await request(port, 'GET', '/kv/b');
    assert.equal(after.status, 300);
    const values = (after.json() as { siblings: { value: string | null }[] }).siblings.map((s) => s.value);
    assert.equal(values.length, 3);
    assert.ok(values.includes(null));
    await cli('del', 'b');
    assert.equal((await request(port, 'GET', '/kv/b')).status, 404, 'a plain del supersedes all three');
  });

  it('--context and --blind together are bad usage (exit 2)', async () => {
    const r = await runCli(['put', 'c', 'v', '--blind', '--context', 'AQAA', '--host', host]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /either --context or --blind/);
  });
});
