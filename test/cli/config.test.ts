import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, deriveNodeId, loadConfig, splitHostPort } from '../../src/cli/config.js';

const dir = mkdtempSync(path.join(tmpdir(), 'gossamer-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

function error(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    assert.ok(!e.line.includes('\n'), 'one line');
    return e.line;
  }
  assert.fail('expected a ConfigError');
}

describe('config', () => {
  it('defaults per API.md', () => {
    const { config, sources } = loadConfig({ env: {}, cwd: '/srv' });
    assert.equal(config.nodeId, 'node-127.0.0.1-7000');
    assert.equal(config.dataDir, '/srv/data/node-127.0.0.1-7000');
    assert.equal(config.listen, '127.0.0.1:7000');
    assert.equal(config.advertise, '127.0.0.1:7000');
    assert.equal(config.http, '127.0.0.1:8000');
    assert.equal(config.resp, '127.0.0.1:6380');
    assert.deepEqual(config.seeds, []);
    assert.equal(config.dc, 'dc1');
    assert.equal(config.rack, 'rack1');
    assert.equal(config.weight, 1);
    assert.equal(config.n, 3);
    assert.equal(config.r, 'quorum');
    assert.equal(config.w, 'quorum');
    assert.equal(config.partitions, 1024);
    assert.equal(config.requestTimeoutMs, 2000);
    assert.equal(config.maxValueBytes, 1048576);
    assert.equal(config.commitlogSync, 'group');
    assert.equal(config.replication, undefined, 'no per-DC placement unless configured');
    assert.deepEqual(config.rateLimits, []);
    assert.equal(config.tickMs, 10);
    assert.equal(sources.partitions, 'default');
  });

  it('the node id derives from the listen address, and the data dir from the node id', () => {
    const { config } = loadConfig({ flags: { listen: '127.0.0.1:7002' }, env: {}, cwd: '/x' });
    assert.equal(config.nodeId, 'node-127.0.0.1-7002');
    assert.equal(config.dataDir, '/x/data/node-127.0.0.1-7002');
    assert.equal(deriveNodeId('[::1]:7000'), 'node-1-7000');
    assert.deepEqual(splitHostPort('[::1]:7000'), { host: '::1', port: 7000 });
  });

  it('precedence: flag > env > file > default', () => {
    const yaml = file('p.yaml', 'partitions: 64\nn: 2\ndc: east\nrequestTimeoutMs: 500\n');
    const { config, sources } = loadConfig({
      flags: { config: yaml, partitions: '16' },
      env: { GOSSAMER_PARTITIONS: '32', GOSSAMER_N: '1' },
      cwd: dir,
    });
    assert.equal(config.partitions, 16);
    assert.equal(sources.partitions, 'flag');
    assert.equal(config.n, 1);
    assert.equal(sources.n, 'env');
    assert.equal(config.dc, 'east');
    assert.equal(sources.dc, 'file');
    assert.equal(config.requestTimeoutMs, 500);
    assert.equal(config.maxValueBytes, 1048576);
    assert.equal(config.configFile, yaml);
  });

  it('reads JSON by extension; the config file may come from GOSSAMER_CONFIG', () => {
    const json = file('c.json', JSON.stringify({
      seeds: ['127.0.0.1:7000', '127.0.0.1:7001'], weight: 2.5, replication: { dc1: 2, dc2: 1 },
      rateLimits: [{ name: 'per-client', match: { clientIp: '0.0.0.0/0', routes: ['GET /kv'] }, algorithm: 'token_bucket', limit: 10, windowMs: 1000 }],
    }));
    const { config } = loadConfig({ env: { GOSSAMER_CONFIG: json }, cwd: dir });
    assert.deepEqual(config.seeds, ['127.0.0.1:7000', '127.0.0.1:7001']);
    assert.equal(config.weight, 2.5);
    assert.deepEqual(config.replication, { dc1: 2, dc2: 1 });
    assert.equal(config.n, 3, 'N is the sum of the per-DC replicas');
    assert.equal(config.rateLimits.length, 1);
  });

  it('per-DC replication must agree with an explicit n', () => {
    const json = file('r.json', JSON.stringify({ replication: { dc1: 3, dc2: 2 } }));
    assert.equal(loadConfig({ flags: { config: json }, env: {}, cwd: dir }).config.n, 5);
    assert.throws(() => loadConfig({ flags: { config: json, n: '3' }, env: {}, cwd: dir }), /invalid setting "n" \(--n\): n=3 but "replication" sums to 5/);
  });

  it('seeds as a comma list; r and w as numbers or names', () => {
    const { config } = loadConfig({ flags: { seeds: '127.0.0.1:7000, 127.0.0.1:7001,127.0.0.1:7000', r: '2', w: 'all' }, env: {} });
    assert.deepEqual(config.seeds, ['127.0.0.1:7000', '127.0.0.1:7001']);
    assert.equal(config.r, 2);
    assert.equal(config.w, 'all');
    assert.equal(loadConfig({ env: { GOSSAMER_R: 'local_quorum' } }).config.r, 'local_quorum');
  });

  it('a wrong setting is one clear line naming the setting and its source', () => {
    assert.equal(error(() => loadConfig({ flags: { partitions: '1000' }, env: {} })),
      'gossamer: invalid setting "partitions" (--partitions): must be a power of two');
    assert.equal(error(() => loadConfig({ env: { GOSSAMER_PARTITIONS: 'lots' } })),
      'gossamer: invalid setting "partitions" (GOSSAMER_PARTITIONS): must be a number');
    const y = file('bad.yaml', 'commitlogSync: sometimes\n');
    assert.match(error(() => loadConfig({ flags: { config: y }, env: {} })),
      /^gossamer: invalid setting "commitlogSync" \(in .*bad\.yaml\): must be group, periodic or none$/);
    assert.match(error(() => loadConfig({ flags: { listen: 'localhost' }, env: {} })), /"listen" \(--listen\): must be host:port/);
    assert.match(error(() => loadConfig({ flags: { http: '127.0.0.1:70000' }, env: {} })), /"http" .*port must be 1\.\.65535/);
    assert.match(error(() => loadConfig({ flags: { n: '0' }, env: {} })), /"n" \(--n\): must be at least 1/);
    assert.match(error(() => loadConfig({ flags: { r: '4' }, env: {} })), /"r" \(--r\): R=4 is above N=3/);
    assert.match(error(() => loadConfig({ flags: { w: 'most' }, env: {} })), /"w" \(--w\): must be/);
    assert.match(error(() => loadConfig({ flags: { weight: '-1' }, env: {} })), /"weight" \(--weight\): must be above 0/);
    assert.match(error(() => loadConfig({ flags: { nodeId: 'a b' }, env: {} })), /"nodeId" \(--node-id\)/);
    assert.match(error(() => loadConfig({ flags: { seeds: '127.0.0.1:7000,nope' }, env: {} })), /"seeds" \(--seeds\): 1: must be host:port/);
    assert.match(error(() => loadConfig({ flags: { http: '127.0.0.1:7000' }, env: {} })), /"http" .*same address as "listen"/);
    assert.match(error(() => loadConfig({ flags: { maxValueBytes: '1.5' }, env: {} })), /"maxValueBytes" .*whole number/);
  });

  it('config file problems: missing, unparsable, unknown key, wrong extension', () => {
    assert.match(error(() => loadConfig({ flags: { config: path.join(dir, 'none.yaml') }, env: {} })), /cannot read config file .*ENOENT/);
    assert.match(error(() => loadConfig({ flags: { config: file('x.json', '{nope') }, env: {} })), /is not valid JSON/);
    assert.match(error(() => loadConfig({ flags: { config: file('u.yaml', 'partitons: 8\n') }, env: {} })), /unknown setting "partitons"/);
    assert.match(error(() => loadConfig({ flags: { config: file('c.toml', 'a=1') }, env: {} })), /must end in \.json, \.yaml or \.yml/);
    assert.match(error(() => loadConfig({ flags: { config: file('l.yaml', '- 1\n- 2\n') }, env: {} })), /must hold an object/);
    assert.match(error(() => loadConfig({ flags: { config: file('rl.yaml', 'rateLimits:\n  - name: x\n    algorithm: magic\n    limit: 1\n    windowMs: 1\n') }, env: {} })),
      /"rateLimits" \(in .*\): 0\.algorithm:/);
  });

  it('an empty env variable counts as unset', () => {
    assert.equal(loadConfig({ env: { GOSSAMER_N: '' } }).config.n, 3);
  });

  it('a value must fit one replica\'s share of a key\'s state bound (issue 8, defect 2)', () => {
    assert.equal(loadConfig({ env: {}, flags: { n: 3, maxValueBytes: 2_000_000 } }).config.maxValueBytes, 2_000_000);
    assert.match(error(() => loadConfig({ env: {}, flags: { n: 3, maxValueBytes: 4_000_000 } })),
      /^gossamer: invalid setting "maxValueBytes" \(--max-value-bytes\): with N=3 a value may be at most \d+ bytes/);
    // The default 1 MiB shrinks to the share where N is large, instead of refusing to start.
    const big = loadConfig({ env: {}, flags: { n: 16 } }).config;
    assert.ok(big.maxValueBytes < 1_048_576 && big.maxValueBytes * 16 < 7 * 1024 * 1024);
  });
});
