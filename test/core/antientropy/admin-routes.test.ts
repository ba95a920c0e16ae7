/** `/admin/repair` and `/admin/roots` through the sans-IO router, with a fake service. */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { planRequest } from '../../../src/api/http/router.js';
import type { HttpResponse } from '../../../src/api/http/router.js';
import { FakeService } from '../../api/fake-service.js';
import type { RepairProgress } from '../../../src/core/antientropy/index.js';

const IDLE: RepairProgress = { running: false, total: 0, done: 0, failed: 0, keysRepaired: 0, startedMs: 0, finishedMs: null };

class RepairService extends FakeService {
  asked: (number | undefined)[] = [];
  roots: Record<number, number> | undefined = { 0: 11, 3: 42 };
  repair(partition?: number): RepairProgress {
    this.asked.push(partition);
    return { ...IDLE, running: true, total: partition === undefined ? 8 : 2, startedMs: 5 };
  }
  repairProgress(): RepairProgress {
    return IDLE;
  }
  treeRoots(): Record<number, number> | undefined {
    return this.roots;
  }
}

async function call(svc: FakeService, method: string, url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const plan = planRequest(svc, {}, method, url, {});
  assert.equal(plan.kind, 'respond');
  const r: HttpResponse = await (plan as { response: Promise<HttpResponse> | HttpResponse }).response;
  return { status: r.status, body: r.body ? JSON.parse(String(r.body)) as Record<string, unknown> : {} };
}

describe('/admin/repair and /admin/roots', () => {
  it('POST starts a repair of every partition or of one; GET shows progress', async () => {
    const svc = new RepairService();
    const all = await call(svc, 'POST', '/admin/repair');
    assert.equal(all.status, 202);
    assert.equal(all.body['total'], 8);
    const one = await call(svc, 'POST', '/admin/repair?partition=3');
    assert.equal(one.status, 202);
    assert.equal(one.body['partition'], 3);
    assert.deepEqual(svc.asked, [undefined, 3]);
    const got = await call(svc, 'GET', '/admin/repair');
    assert.equal(got.status, 200);
    assert.equal(got.body['running'], false);
  });

  it('bad input is a clear 400 or 405 and starts nothing', async () => {
    const svc = new RepairService();
    for (const q of ['partition=8', 'partition=-1', 'partition=abc', 'partition=1&partition=2', 'partition=', 'partition=99999999999']) {
      const r = await call(svc, 'POST', `/admin/repair?${q}`);
      assert.equal(r.status, 400, q);
      assert.equal(r.body['error'], 'bad_request');
    }
    assert.equal((await call(svc, 'DELETE', '/admin/repair')).status, 405);
    assert.equal((await call(svc, 'POST', '/admin/roots')).status, 405);
    assert.deepEqual(svc.asked, []);
  });

  it('roots per partition; 503 while rebuilding or on a service without anti-entropy', async () => {
    const svc = new RepairService();
    const r = await call(svc, 'GET', '/admin/roots');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body['roots'], { 0: 11, 3: 42 });
    svc.roots = undefined;
    assert.equal((await call(svc, 'GET', '/admin/roots')).status, 503);
    const plain = new FakeService();
    assert.equal((await call(plain, 'POST', '/admin/repair')).status, 503);
    assert.equal((await call(plain, 'GET', '/admin/repair')).status, 503);
  });
});
