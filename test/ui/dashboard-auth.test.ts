/**
 * The dashboard with API tokens on, in a real browser (Debian's chromium through playwright-core;
 * skipped, visibly, where it is missing). The page loads without a token but shows no data and
 * says why; a token entered in its field is kept in sessionStorage and sent as
 * `Authorization: Bearer` with every poll; a token without the read permission is named as such.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ROOT, TestCluster } from '../cluster/helpers.js';
import { request } from '../api/http-client.js';

const CHROMIUM = '/usr/bin/chromium';
const OUT = path.join(ROOT, 'test-results', 'ui');
const READER = 'ui-reader-token-0123456789abcdef';
const WRITER = 'ui-writer-token-0123456789abcdef';

describe('dashboard in chromium with API tokens', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} not installed (Debian package chromium)` }, () => {
  let cluster: TestCluster;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    mkdirSync(OUT, { recursive: true });
    cluster = await TestCluster.create({
      size: 1,
      extraArgs: ['--n', '1', '--partitions', '16'],
      nodeArgs: () => ['--tokens-file', path.join(cluster.dir, 'tokens.json')],
    });
    writeFileSync(path.join(cluster.dir, 'tokens.json'), JSON.stringify([
      { token: READER, permissions: ['read'] }, { token: WRITER, permissions: ['write'] },
    ]));
    cluster.startAll();
    await cluster.waitAllHealthy();
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--disable-background-networking', '--disable-component-update', '--disable-default-apps', '--disable-sync', '--no-first-run'],
    });
    // The page's CSP allows no eval; the test's waits are strings evaluated in the page.
    page = await browser.newPage({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
    page.on('pageerror', (e) => pageErrors.push(String(e)));
  });

  after(async () => {
    await browser?.close();
    await cluster?.destroy();
  });

  it('asks for a token, then polls with the one entered (kept for the session), and names a token that cannot read', async () => {
    const port = cluster.nodes[0]!.httpPort;
    assert.equal((await request(port, 'GET', '/ui/data')).status, 401, '/ui/data itself needs a token');
    await page.goto(`http://127.0.0.1:${port}/ui`);
    await page.waitForFunction('/needs an API token \\(401\\)/.test(document.getElementById("error").textContent)', undefined, { timeout: 30_000 });
    assert.equal(await page.$$eval('tr[data-node]', (rows) => rows.length), 0, 'no data without a token');

    await page.fill('#token', WRITER);
    await page.click('#auth button');
    await page.waitForFunction('/lacks the read permission \\(403\\)/.test(document.getElementById("error").textContent)', undefined, { timeout: 30_000 });

    await page.fill('#token', READER);
    await page.click('#auth button');
    await page.waitForFunction('document.querySelectorAll(\'tr[data-state="alive"]\').length === 1', undefined, { timeout: 30_000 });
    assert.equal(await page.textContent('#error'), '');
    assert.equal(await page.textContent('#token-state'), 'token set');
    assert.equal(await page.inputValue('#token'), '', 'the field is cleared once the token is kept');
    assert.equal(await page.evaluate('sessionStorage.getItem("gossamer-token")'), READER);
    await page.screenshot({ path: path.join(OUT, 'dashboard-token.png'), fullPage: true });

    // A reload keeps the session's token: the page polls with it at once.
    await page.reload();
    await page.waitForFunction('document.querySelectorAll(\'tr[data-state="alive"]\').length === 1', undefined, { timeout: 30_000 });
    assert.deepEqual(pageErrors, [], 'no script errors in the page');
  });
});
