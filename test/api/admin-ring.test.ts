/**
 * The ring admin routes of the sans-IO router over real core nodes (no sockets): each route is
 * the core's operation, its refusals the API's statuses, and /cluster and /ring show the document.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planRequest } from '../../src/api/http/router.js';
import type { HttpResponse } from '../../src/api/http/router.js';
import type { AdminOp } from '../../src/core/membership/admin.js';
import { memberViews, ringStateOf } from '../../src/runtime/ring-admin.js';
import type { AdminReply } from '../../src/runtime/ring-admin.js';
import { FakeService } from './fake-service.js';
import { httpNeed } from '../../src/api/auth/tokens.js';
import { AdminCluster, member } from '../core/membership/admin-cluster.js';

/** A NodeService whose ring administration is a real core node of `c`. */
function serviceOf(c: AdminCluster, id: string): FakeService {
  const s = new FakeService(id);
  const node = c.node(id);
  return Object.assign(s, {
    admin: (op: AdminOp): Promise<AdminReply> => {
      const r = node.admin(op);
      c.flush();
      c.deliver();
      return Promise.resolve(r);
    },
    ringState: () => ringStateOf(node),
    members: () => memberViews(node, { ...member(Number(id.slice(1))), http: 'h' }, () => undefined, new Map()),
  });
}

async function call(s: FakeService, method: string, url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const plan = planRequest(s, {}, method, url, {});
  assert.equal(plan.kind, 'respond');
  const r: HttpResponse = await (plan.kind === 'respond' ? plan.response : assert.fail('no body expected'));
  return { status: r.status, body: JSON.parse(String(r.body ?? '{}')) as Record<string, unknown> };
}

describe('ring admin routes (router, real core nodes)', () => {
  it('stage, plan, commit, transition: 200 JSON; /cluster and /ring carry version, staged and transition', async () => {
    const c = new AdminCluster(4);
    const s = serviceOf(c, 'n0');
    const staged = await call(s, 'POST', '/admin/removenode/n3');
    assert.equal(staged.status, 200);
    assert.deepEqual(staged.body, { op: 'stage-remove', version: 2, staged: [{ kind: 'remove', nodeId: 'n3' }], change: { kind: 'remove', nodeId: 'n3' } });
    const cluster = await call(s, 'GET', '/cluster');
    assert.equal(cluster.body['version'], 2);
    assert.deepEqual(cluster.body['staged'], [{ kind: 'remove', nodeId: 'n3' }]);
    assert.equal(cluster.body['transition'], null);
    const plan = await call(s, 'GET', '/admin/plan');
    assert.equal(plan.status, 200);
    assert.deepEqual((plan.body['plan'] as { membersAfter: string[] }).membersAfter, ['n0', 'n1', 'n2']);
    assert.equal((await call(s, 'HEAD', '/admin/plan')).status, 200);
    assert.equal((await call(s, 'POST', '/admin/commit')).status, 200);
    const ring = await call(serviceOf(c, 'n2'), 'GET', '/ring');
    assert.equal(ring.body['version'], 3, 'the commit reached n2 (ring-push)');
    assert.deepEqual((ring.body['transition'] as { members: string[] }).members, ['n0', 'n1', 'n2']);
    const t = await call(s, 'GET', '/admin/transition');
    assert.deepEqual((t.body['transition'] as { leaving: string[] }).leaving, ['n3']);
    const members = (await call(s, 'GET', '/cluster')).body['members'] as { nodeId: string; state: string; nextOwnership: number }[];
    assert.equal(members.find((m) => m.nodeId === 'n3')?.state, 'leaving');
    assert.equal(members.find((m) => m.nodeId === 'n3')?.nextOwnership, 0);
    // Transfer's flip (simulated): the transition's ring in force, no transition. n3 is `left` at
    // every node that watched, itself included; the others own everything.
    const doc = c.meta('n0');
    const flipped = { clusterId: doc.clusterId, version: doc.version + 1, partitions: doc.partitions, n: doc.n, members: doc.transition!.members, owners: doc.transition!.owners };
    for (const id of ['n0', 'n1', 'n2', 'n3']) c.push(id, flipped);
    for (const id of ['n0', 'n3']) {
      const after = (await call(serviceOf(c, id), 'GET', '/cluster')).body;
      const views = after['members'] as { nodeId: string; state: string; ownership: number }[];
      assert.deepEqual(views.map((m) => `${m.nodeId}:${m.state}`), ['n0:alive', 'n1:alive', 'n2:alive', 'n3:left'], id);
      assert.equal(views.find((m) => m.nodeId === 'n3')?.ownership, 0);
      assert.equal(after['transition'], null);
    }
  });

  it('refusals map to 400, 404, 405 (with Allow), 409 and 503; an unknown admin route stays 404', async () => {
    const c = new AdminCluster(3);
    const s = serviceOf(c, 'n0');
    const expect = async (method: string, url: string, status: number, error: string): Promise<void> => {
      const r = await call(s, method, url);
      assert.equal(r.status, status, `${method} ${url}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body['error'], error);
      assert.equal(typeof r.body['message'], 'string');
    };
    await expect('POST', '/admin/removenode/ghost', 404, 'not_found');
    await expect('POST', '/admin/removenode/', 400, 'bad_request');
    await expect('POST', '/admin/removenode/a/b', 400, 'bad_request');
    await expect('POST', '/admin/removenode/%ZZ', 400, 'bad_request');
    await expect('POST', '/admin/leave', 409, 'conflict');
    await expect('POST', '/admin/join', 409, 'conflict');
    await expect('POST', '/admin/commit', 409, 'conflict');
    await expect('GET', '/admin/join', 405, 'method_not_allowed');
    await expect('DELETE', '/admin/plan', 405, 'method_not_allowed');
    await expect('POST', '/admin/frobnicate', 404, 'not_found');
    const bare = new FakeService('x');
    const r = await call(bare, 'GET', '/admin/plan');
    assert.equal(r.status, 503, 'a service without ring administration is unavailable, not a crash');
    assert.equal(c.meta('n0').version, 1, 'no refusal changed the document');
  });

  it('every ring admin route needs the admin permission when tokens are on', () => {
    for (const [method, path] of [['POST', '/admin/join'], ['POST', '/admin/leave'], ['POST', '/admin/removenode/n1'], ['GET', '/admin/plan'],
      ['POST', '/admin/commit'], ['POST', '/admin/clear'], ['GET', '/admin/transition']] as const) {
      assert.equal(httpNeed(method, path), 'admin', `${method} ${path}`);
    }
  });
});
