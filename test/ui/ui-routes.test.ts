/** /ui and /ui/data over HTTP against a fake node: a self-contained page and a truthful snapshot. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHttpServer } from '../../src/api/http/index.js';
import type { GossamerHttpServer } from '../../src/api/http/index.js';
import type { UiData, UiSource } from '../../src/api/http/ui/index.js';
import { RecentSeries } from '../../src/api/http/ui/series.js';
import { FakeService } from '../api/fake-service.js';
import { request } from '../api/http-client.js';

describe('dashboard routes', () => {
  let server: GossamerHttpServer;
  let port: number;
  const svc = new FakeService('node-a');
  let nowMs = 1_000_000;
  const series = new RecentSeries(() => nowMs, 5000, 12);
  const source: UiSource = { self: () => ({ nodeId: 'node-a', loadBytes: 1234 }), hintsPending: () => null, series: () => series.points() };

  before(async () => {
    server = createHttpServer(svc, { ui: source });
    ({ port } = await server.listen('127.0.0.1', 0));
  });
  after(async () => { await server.close(); });

  it('GET /ui is one HTML page that loads nothing from elsewhere', async () => {
    const a = await request(port, 'GET', '/ui');
    assert.equal(a.status, 200);
    assert.match(String(a.headers['content-type']), /^text\/html/);
    assert.match(String(a.headers['content-security-policy']), /default-src 'none'/);
    assert.match(a.text, /<title>Gossamer dashboard<\/title>/);
    assert.doesNotMatch(a.text, /(src|href)=["']?(https?:)?\/\//i, 'no external scripts, styles or images');
    assert.doesNotMatch(a.text, /@import|url\(http/i);
    assert.match(a.text, /fetch\('\/ui\/data'/, 'it polls its own node');
    assert.equal((await request(port, 'GET', '/ui/')).status, 200);
  });

  it('GET /ui/data: members, ring owners, load, hints (null: not tracked yet), recent traffic', async () => {
    series.record(2, false);
    series.record(4, true);
    nowMs += 5000;
    series.record(8, false);
    const d = (await request(port, 'GET', '/ui/data')).json() as UiData;
    assert.equal(d.nodeId, 'node-a');
    assert.equal(d.serving, true);
    assert.deepEqual(d.members.map((m) => [m.nodeId, m.state]), [['node-a', 'alive'], ['node-b', 'alive'], ['node-c', 'alive']]);
    assert.deepEqual(d.ring?.owners, svc.ring()!.owners);
    assert.equal(d.ring?.partitionCount, 8);
    assert.equal(d.self?.loadBytes, 1234);
    assert.equal(d.hintsPending, null);
    assert.equal(d.series.length, 12);
    const busy = d.series.filter((p) => p.requests > 0);
    assert.deepEqual(busy.map((p) => [p.requests, p.errors]), [[2, 1], [1, 0]]);
    assert.ok(busy[0]!.p99Ms! >= 3.5 && busy[0]!.p99Ms! <= 4.5, `p99 of 2 and 4 ms is about 4 ms: ${busy[0]!.p99Ms}`);
    const noRing = (await request(port, 'GET', '/ui/data?ring=0')).json() as UiData;
    assert.equal(noRing.ring, null);
  });

  it('a node that does not serve says so; bad input is a clear 4xx', async () => {
    svc.serving = false;
    try {
      const d = (await request(port, 'GET', '/ui/data')).json() as UiData;
      assert.equal(d.serving, false);
    } finally {
      svc.serving = true;
    }
    const bad = await request(port, 'GET', '/ui/data?ring=yes');
    assert.equal(bad.status, 400);
    assert.equal((bad.json() as { error: string }).error, 'bad_request');
    assert.equal((await request(port, 'POST', '/ui')).status, 405);
    assert.equal((await request(port, 'GET', '/ui/nothing')).status, 404);
  });
});
