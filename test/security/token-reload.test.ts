/**
 * Rotating API tokens without a restart: a real `gossamer start` node reads its tokens file again
 * on SIGHUP. A token added to the file works afterwards, one removed from it is refused (401), a
 * file that does not parse keeps the tokens in force, and the node serves throughout.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { request } from '../api/http-client.js';
import { TestCluster, sleep } from '../cluster/helpers.js';

const OLD = 'old-token-0123456789abcdef';
const NEW = 'new-token-0123456789abcdef';

describe('API tokens reload on SIGHUP', { timeout: 120_000 }, () => {
  let c: TestCluster;
  const file = (): string => path.join(c.dir, 'tokens.json');
  const write = (tokens: string[]): void => writeFileSync(file(), JSON.stringify(tokens.map((token) => ({ token, permissions: ['read', 'write'] }))));
  const status = async (token: string): Promise<number> =>
    (await request(c.nodes[0]!.httpPort, 'GET', '/kv/some-key', { headers: { Authorization: `Bearer ${token}` } })).status;

  async function waitFor(what: string, cond: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (!(await cond())) {
      if (Date.now() > deadline) throw new Error(`${what}: not within 20 s\n${c.logs().slice(-3000)}`);
      await sleep(50);
    }
  }

  before(async () => {
    c = await TestCluster.create({ size: 1, extraArgs: ['--n', '1', '--partitions', '16'], nodeArgs: () => ['--tokens-file', file()] });
    write([OLD]);
    c.startAll();
    await c.waitAllHealthy();
  });
  after(async () => {
    await c.destroy();
  });

  it('a new token works and a removed one is refused after SIGHUP; a broken file keeps the tokens in force', async () => {
    assert.equal(await status(OLD), 404, 'the old token is accepted (the key is absent)');
    assert.equal(await status(NEW), 401);
    write([NEW]);
    assert.equal(await status(OLD), 404, 'nothing changes before the signal');
    c.nodes[0]!.proc!.kill('SIGHUP');
    await waitFor('the new token accepted', async () => (await status(NEW)) === 404);
    assert.equal(await status(OLD), 401, 'the removed token is refused');
    assert.match(c.logs(), /API tokens reloaded/);

    writeFileSync(file(), '[{"token": "short"');
    c.nodes[0]!.proc!.kill('SIGHUP');
    await waitFor('the refusal logged', async () => /API tokens not reloaded, keeping the 1 in force/.test(c.logs()));
    assert.equal(await status(NEW), 404, 'the tokens in force stay');
    assert.equal((await request(c.nodes[0]!.httpPort, 'GET', '/health')).status, 200, 'the node still serves');
  });
});
