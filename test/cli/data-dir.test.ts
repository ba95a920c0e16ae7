/**
 * Issue 8, defects 3 and 4: a data directory pins its node (another id is refused with exit 2),
 * and a node that cannot prove its counters survived (a new or wiped directory) signs its
 * versions with a fresh actor id, so other replicas never take its new writes for old ones.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CliError } from '../../src/cli/errors.js';
import { NODE_FILE, WRONG_NODE_EXIT, actorIdFor, pinDataDir } from '../../src/cli/data-dir.js';
import { CLI, TestCluster, freePorts, requireBuild } from '../cluster/helpers.js';
import { request } from '../api/http-client.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'gossamer-datadir-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('the data directory names its node', () => {
  it('a new directory records its node and a fresh actor; reopening gives the same; another node id is refused', () => {
    const dir = path.join(tmp, 'a');
    const first = pinDataDir(dir, 'node-a');
    assert.equal(first.created, true);
    assert.match(first.actorId, /^node-a~[0-9a-z]+$/);
    assert.deepEqual(JSON.parse(readFileSync(path.join(dir, NODE_FILE), 'utf8')), { format: 1, nodeId: 'node-a', actorId: first.actorId, clusterId: null });
    const again = pinDataDir(dir, 'node-a');
    assert.deepEqual({ ...again, created: true }, first);
    assert.equal(again.created, false);
    assert.throws(() => pinDataDir(dir, 'node-b'), (e: unknown) => e instanceof CliError && e.exitCode === WRONG_NODE_EXIT
      && /belongs to node "node-a"; refusing to start it as "node-b"/.test(e.message));
    // Two new directories of one node id never share an actor.
    assert.notEqual(pinDataDir(path.join(tmp, 'a2'), 'node-a').actorId, first.actorId);
  });

  it('a directory with data from before the NODE file is adopted, keeping the plain node id as its actor', () => {
    const dir = path.join(tmp, 'legacy');
    pinDataDir(dir, 'x'); // make it exist, then pretend it predates the file
    rmSync(path.join(dir, NODE_FILE));
    writeFileSync(path.join(dir, 'commitlog-000001.log'), 'old');
    const id = pinDataDir(dir, 'node-l');
    assert.deepEqual([id.actorId, id.created], ['node-l', false]);
  });

  it('a garbled NODE file is a clear error, not a crash', () => {
    const dir = path.join(tmp, 'garbled');
    pinDataDir(dir, 'g');
    writeFileSync(path.join(dir, NODE_FILE), '{nope');
    assert.throws(() => pinDataDir(dir, 'g'), (e: unknown) => e instanceof CliError && /not valid JSON/.test(e.message));
  });

  it('only group commit over a kept directory reuses the directory actor', () => {
    const id = { nodeId: 'n', actorId: 'n~abc', clusterId: null, created: false };
    assert.equal(actorIdFor('n', id, true, 35), 'n~abc');
    assert.equal(actorIdFor('n', id, false, 35), 'n~z');
    assert.equal(actorIdFor('n', undefined, true, 35), 'n~z', '--memory');
  });
});

describe('gossamer start on another node\'s data directory', () => {
  requireBuild();

  it('refuses with exit 2 and one line naming the owner, before serving anything', async () => {
    const dir = path.join(tmp, 'owned');
    pinDataDir(dir, 'n0');
    const [listen, http] = await freePorts(2);
    const p = spawn(process.execPath, [CLI, 'start', '--node-id', 'n9', '--data', dir, '--listen', `127.0.0.1:${listen}`,
      '--http', `127.0.0.1:${http}`, '--seeds', `127.0.0.1:${listen}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = new Promise<number | null>((resolve) => p.on('exit', (code) => resolve(code)));
    // Either it exits, or (the defect) it comes up and serves: poll its port until one happens.
    let served = false;
    const probe = (async () => {
      for (let i = 0; i < 200 && p.exitCode === null; i++) {
        try {
          await request(http!, 'GET', '/health', { timeoutMs: 500 });
          served = true;
          return;
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    })();
    await Promise.race([exited, probe]);
    if (p.exitCode === null) p.kill('SIGKILL');
    const code = await exited;
    assert.equal(served, false, 'the node served on another node\'s data');
    assert.equal(code, 2, stderr);
    assert.match(stderr.trim(), /^gossamer: the data directory .* belongs to node "n0"; refusing to start it as "n9"/);
    assert.equal(stderr.trim().split('\n').length, 1, stderr);
  });
});

describe('a node restarted on a wiped directory', { timeout: 60_000 }, () => {
  let c: TestCluster | undefined;
  after(async () => { await c?.destroy(); });

  it('signs with a new actor, so its new writes are not dropped as already seen', async () => {
    c = await TestCluster.create({ size: 3 });
    c.startAll();
    await c.waitAllHealthy();
    const put = async (body: string): Promise<void> => {
      const a = await request(c!.nodes[0]!.httpPort, 'PUT', '/kv/k?w=all', { body });
      assert.equal(a.status, 204, a.text);
    };
    await put('before-wipe');
    await c.kill(0, 'SIGKILL');
    rmSync(c.nodes[0]!.dataDir, { recursive: true, force: true });
    c.start(0);
    await c.waitHealthy(0);
    await put('after-wipe'); // blind: a sibling of the first
    for (let i = 0; i < 3; i++) {
      const a = await request(c.nodes[i]!.httpPort, 'GET', '/kv/k?r=all');
      assert.equal(a.status, 300, `via n${i}: ${a.status} ${a.text}`);
      const values = (a.json() as { siblings: { value: string }[] }).siblings.map((s) => Buffer.from(s.value, 'base64').toString()).sort();
      assert.deepEqual(values, ['after-wipe', 'before-wipe'], `via n${i}`);
    }
  });
});
