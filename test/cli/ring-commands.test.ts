/**
 * The ring commands of the compiled bin against a stand-in node: what they send, what they
 * print, exit statuses; `commit --wait` follows `/admin/transition` to its end.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { requireBuild, runCli } from '../cluster/helpers.js';
import { formatPlan } from '../../src/cli/ring-commands.js';
import { partitionRanges } from '../../src/cli/client-commands.js';

type Handler = (method: string, path: string) => { status: number; body: unknown };

async function fakeNode(handler: Handler): Promise<{ host: string; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const r = handler(req.method ?? '', req.url ?? '');
    res.statusCode = r.status;
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(r.body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return { host: `127.0.0.1:${port}`, seen, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

const PLAN = {
  version: 5, partitionCount: 8, n: 3,
  staged: [{ kind: 'join', nodeId: 'd', member: { address: '10.0.0.4:7000', dc: 'dc1', rack: 'r4', weight: 1 } }],
  lost: [{ kind: 'remove', nodeId: 'c' }],
  membersBefore: ['a', 'b', 'c'], membersAfter: ['a', 'b', 'c', 'd'],
  ownerChanges: [{ partition: 1, from: 'a', to: 'd' }, { partition: 6, from: 'b', to: 'd' }],
  replicaMoves: [{ partition: 1, from: 'c', to: 'd' }, { partition: 2, from: null, to: 'd' }, { partition: 6, from: 'a', to: 'd' }],
  movingPartitions: [1, 2, 6],
  ownership: [
    { nodeId: 'a', before: 3 / 8, after: 2 / 8 }, { nodeId: 'b', before: 3 / 8, after: 2 / 8 },
    { nodeId: 'c', before: 2 / 8, after: 2 / 8 }, { nodeId: 'd', before: 0, after: 2 / 8 },
  ],
};

describe('gossamer ring commands', () => {
  requireBuild();

  it('a plan reads as the changes, what moves (with the estimate), each node before and after, and what was lost', () => {
    const out = formatPlan(PLAN as Parameters<typeof formatPlan>[0], { bytes: 3 * 1024 * 1024, basis: 'x' });
    assert.match(out, /^lost: remove c was staged through this node but a concurrent change replaced it: stage it again$/m);
    assert.match(out, /^staged changes \(cluster version 5\):\n {2}join d \(10\.0\.0\.4:7000, dc1\/r4, weight 1\)$/m);
    assert.match(out, /^2 of 8 partitions change owner; 3 partitions gain replicas, 3 partition replicas move \(~3\.0 MiB, estimated\)$/m);
    assert.match(out, /^NODE +BEFORE +AFTER +CHANGE$/m);
    assert.match(out, /^a +37\.5% +25\.0% +-12\.5%$/m);
    assert.match(out, /^d +0\.0% +25\.0% +\+25\.0%$/m);
    assert.match(formatPlan({ ...PLAN, staged: [], lost: [] } as Parameters<typeof formatPlan>[0], undefined), /^nothing staged \(cluster version 5\)\n$/);
  });

  it('ranges join consecutive partitions with the same preference list (and the same next one)', () => {
    const p = (id: number, list: string[], next?: string[]) => ({ id, owner: list[0]!, preferenceList: list, ...(next ? { next: { owner: next[0]!, preferenceList: next } } : {}) });
    const r = partitionRanges([p(0, ['a', 'b']), p(1, ['a', 'b']), p(2, ['b', 'a']), p(3, ['b', 'a'], ['c', 'a']), p(4, ['b', 'a'], ['c', 'a'])]);
    assert.deepEqual(r.map((x) => [x.first, x.last]), [[0, 1], [2, 2], [3, 4]]);
  });

  it('join, leave, removenode and clear POST to their routes and print what is staged; refusals are one line', async () => {
    const node = await fakeNode((method, path) => {
      if (path === '/admin/join') return { status: 200, body: { op: 'stage-join', version: 2, staged: [PLAN.staged[0]], change: PLAN.staged[0] } };
      if (path === '/admin/removenode/n%201') return { status: 200, body: { op: 'stage-remove', version: 3, staged: [{ kind: 'remove', nodeId: 'n 1' }], change: { kind: 'remove', nodeId: 'n 1' } } };
      if (path === '/admin/clear') return { status: 200, body: { op: 'clear', version: 4, staged: [] } };
      if (path === '/admin/leave') return { status: 409, body: { error: 'conflict', message: 'the ring would keep 2 members, fewer than N=3 replicas per key: add a node first' } };
      return { status: 400, body: { error: 'bad_request', message: `no ${method} ${path}` } };
    });
    try {
      const join = await runCli(['join', '--host', node.host]);
      assert.equal(join.code, 0, join.stderr);
      assert.match(join.stdout, /^staged join d \(10\.0\.0\.4:7000, dc1\/r4, weight 1\) \(cluster version 2\)$/m);
      assert.match(join.stdout, /gossamer plan/);
      const rm = await runCli(['removenode', 'n 1', '--host', node.host]);
      assert.equal(rm.code, 0, rm.stderr);
      assert.match(rm.stdout, /^staged remove n 1 \(cluster version 3\)$/m);
      const clear = await runCli(['clear', '--host', node.host]);
      assert.match(clear.stdout, /^nothing staged \(cluster version 4\)$/m);
      const leave = await runCli(['leave', '--host', node.host]);
      assert.equal(leave.code, 1);
      assert.equal(leave.stderr, 'gossamer: leave: conflict: the ring would keep 2 members, fewer than N=3 replicas per key: add a node first\n');
      assert.deepEqual(node.seen, ['POST /admin/join', 'POST /admin/removenode/n%201', 'POST /admin/clear', 'POST /admin/leave']);
      const missing = await runCli(['removenode', '--host', node.host]);
      assert.equal(missing.code, 2, 'removenode without an id is bad usage');
      for (const cmd of ['join', 'leave', 'removenode', 'plan', 'commit', 'clear']) {
        const h = await runCli([cmd, '--help']);
        assert.equal(h.code, 0);
        assert.match(h.stdout, /Examples:\n {2}\$ gossamer /, `${cmd} --help has examples`);
      }
    } finally {
      await node.close();
    }
  });

  it('commit --wait follows the transition until the new ring is in force', async () => {
    let polls = 0;
    let commitVersion = 6;
    const node = await fakeNode((method, path) => {
      if (method === 'POST' && path === '/admin/commit') return { status: 200, body: { op: 'commit', version: commitVersion, plan: PLAN, estimate: { bytes: 10, basis: 'x' } } };
      if (method === 'GET' && path === '/admin/transition') {
        polls++;
        if (polls > 3) return { status: 200, body: { op: 'transition', version: 7, transition: null } };
        return { status: 200, body: { op: 'transition', version: 6, transition: { members: ['a', 'b', 'c', 'd'], joining: ['d'], leaving: [], moving: [1, 2, 6], done: [1, 2, 6].slice(0, polls - 1) } } };
      }
      return { status: 404, body: { error: 'not_found', message: 'no route' } };
    });
    try {
      const r = await runCli(['commit', '--wait', '--poll-ms', '5', '--host', node.host]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^committed at cluster version 6: 3 partitions move to their new replicas$/m);
      assert.match(r.stdout, /^transition done: the new ring is in force \(cluster version 7\)$/m);
      assert.equal(polls, 4);
      const plain = await runCli(['commit', '--host', node.host]);
      assert.equal(plain.code, 0);
      assert.equal(polls, 4, 'without --wait, commit does not follow the transition');
      // A concurrent change won: the document in force (7) has no transition and is not newer than the commit (7).
      commitVersion = 7;
      const lost = await runCli(['commit', '--wait', '--poll-ms', '5', '--host', node.host]);
      assert.equal(lost.code, 1);
      assert.match(lost.stderr, /^gossamer: commit: a concurrent change replaced the commit \(cluster version 7\): run gossamer plan, then commit again\n$/);

    } finally {
      await node.close();
    }
  });
});
