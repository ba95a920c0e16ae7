/**
 * The dashboard in a real browser (Debian's chromium, driven by playwright-core; no browser is
 * ever downloaded): three real nodes, /ui on one of them shows all three alive, one is killed,
 * and the page turns it suspect or faulty by itself (it polls). Screenshots go to
 * test-results/ui/. Skipped, visibly, where /usr/bin/chromium is missing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ROOT, TestCluster } from '../cluster/helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const OUT = path.join(ROOT, 'test-results', 'ui');

describe('dashboard in chromium', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} not installed (Debian package chromium)` }, () => {
  let cluster: TestCluster;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    mkdirSync(OUT, { recursive: true });
    cluster = await TestCluster.create({ size: 3 });
    cluster.startAll();
    await cluster.waitAllHealthy();
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--disable-background-networking', '--disable-component-update', '--disable-default-apps', '--disable-sync', '--no-first-run'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
  });

  after(async () => {
    await browser?.close();
    await cluster?.destroy();
  });

  it('shows three alive members and the ring coloured by owner, then a killed node turning suspect or faulty', async () => {
    await page.goto(`http://127.0.0.1:${cluster.nodes[0]!.httpPort}/ui`);
    // Waits with selectors, not a string predicate: the page's CSP forbids eval, and Playwright
    // evaluates a string predicate with eval in the page (a CI run failed on that).
    await page.locator('tr[data-state="alive"]').nth(2).waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('tr[data-state="alive"]').count(), 3);
    const nodes = await page.$$eval('tr[data-node]', (rows) => rows.map((r) => r.getAttribute('data-node')));
    assert.deepEqual(nodes.sort(), ['n0', 'n1', 'n2']);
    const owners = await page.$$eval('#ring rect[data-owner]', (ps) => [...new Set(ps.map((p) => p.getAttribute('data-owner')))].sort());
    assert.deepEqual(owners, ['n0', 'n1', 'n2'], 'the ring has cells for each owner');
    const fills = await page.$$eval('#ring rect[data-owner]', (ps) => new Set(ps.map((p) => `${p.getAttribute('data-owner')}=${p.getAttribute('fill')}`)).size);
    assert.equal(fills, 3, 'one colour per owner');
    assert.equal(await page.textContent('#serving'), 'serving');
    assert.equal(await page.textContent('#hints'), '0', 'no hints pending on a healthy cluster');
    await page.screenshot({ path: path.join(OUT, 'dashboard-3-alive.png'), fullPage: true });

    await cluster.kill(2);
    await page.waitForSelector('tr[data-node="n2"][data-state="suspect"], tr[data-node="n2"][data-state="faulty"]', { timeout: 30_000 });
    const states = await page.$$eval('tr[data-node]', (rows) => Object.fromEntries(rows.map((r) => [r.getAttribute('data-node'), r.getAttribute('data-state')])));
    assert.equal(states.n0, 'alive');
    assert.equal(states.n1, 'alive');
    assert.match(await page.textContent('#member-count') ?? '', /2 of 3 alive/);
    await page.screenshot({ path: path.join(OUT, 'dashboard-n2-killed.png'), fullPage: true });
    assert.ok(existsSync(path.join(OUT, 'dashboard-n2-killed.png')));
    assert.deepEqual(pageErrors, [], 'no script errors in the page');
  });
});
