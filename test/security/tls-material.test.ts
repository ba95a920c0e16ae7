/**
 * What a certificate reload accepts: a set a listener can serve with. Each broken set is refused
 * with its reason and leaves the targets untouched; a good set reaches every target.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateDevCertificates } from '../../src/api/auth/dev-certs.js';
import { checkTlsMaterial, reloadTls } from '../../src/api/auth/tls-reload.js';
import type { TlsTarget } from '../../src/api/auth/tls-reload.js';
import type { TransportTls } from '../../src/adapters/transport-auth.js';

const DAY_MS = 86_400_000;

describe('TLS material checks', () => {
  const a = generateDevCertificates({ days: 30 });
  const b = generateDevCertificates({ days: 30 });
  const now = Date.now();
  const good: TransportTls = { cert: a.cert, key: a.key, ca: a.caCert, mutual: true };

  it('accepts a matching certificate, key and CA and returns the leaf', () => {
    assert.equal(checkTlsMaterial(good, now).fingerprint256, new X509Certificate(a.cert).fingerprint256);
  });

  const cases: [string, TransportTls, number, RegExp][] = [
    ['a key of another certificate', { ...good, key: b.key }, now, /key values mismatch/],
    ['an empty certificate file', { ...good, cert: '' }, now, /holds no PEM certificate/],
    ['a truncated certificate', { ...good, cert: a.cert.slice(0, a.cert.length - 80) }, now, /holds no PEM certificate/],
    ['a garbled certificate body', { ...good, cert: a.cert.replace(/\n[A-Za-z0-9+/]{20}/, '\n!!!!!!!!!!!!!!!!!!!!') }, now, /does not parse|TLS context/],
    ['a garbled key', { ...good, key: 'not a key' }, now, /TLS context/],
    ['a CA file without a certificate', { ...good, ca: 'nonsense' }, now, /CA file holds no PEM certificate/],
    ['an expired certificate', good, now + 31 * DAY_MS, /expired/],
    ['a certificate not yet valid', good, now - DAY_MS, /not valid before/],
    ['under mutual TLS, a certificate another CA signed', { ...good, ca: b.caCert }, now, /signed by a certificate of the CA file/],
  ];
  for (const [name, material, at, reason] of cases) {
    it(`refuses ${name}`, () => {
      assert.throws(() => checkTlsMaterial(material, at), reason);
    });
  }

  it('without mutual TLS, a CA that did not sign the certificate is allowed (the CA then only checks peers)', () => {
    assert.doesNotThrow(() => checkTlsMaterial({ ...good, ca: b.caCert, mutual: false }, now));
  });
});

describe('reloadTls', () => {
  let dir: string;
  const a = generateDevCertificates();
  const b = generateDevCertificates();
  const logged: string[] = [];
  const logger = { debug() {}, info: (m: string) => logged.push(m), warn: (m: string) => logged.push(m), error: (m: string) => logged.push(m) };
  before(() => { dir = mkdtempSync(path.join(tmpdir(), 'gossamer-tls-material-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('applies a good set to every target and refuses a broken one without touching them', () => {
    const files = { cert: path.join(dir, 'c.pem'), key: path.join(dir, 'k.pem'), ca: path.join(dir, 'ca.pem'), mutual: true };
    const seen: Record<string, string[]> = { x: [], y: [] };
    const targets: TlsTarget[] = ['x', 'y'].map((name) => ({ name, apply: (next) => seen[name]!.push(String(next.cert)) }));
    writeFileSync(files.cert, b.cert);
    writeFileSync(files.key, b.key);
    writeFileSync(files.ca, b.caCert);
    const ok = reloadTls(files, targets, logger);
    assert.equal(ok.kind, 'reloaded');
    assert.deepEqual(seen, { x: [b.cert], y: [b.cert] });

    writeFileSync(files.key, a.key);
    const bad = reloadTls(files, targets, logger);
    assert.equal(bad.kind, 'invalid');
    assert.deepEqual(seen, { x: [b.cert], y: [b.cert] }, 'the targets keep B');
    rmSync(files.ca);
    const gone = reloadTls(files, targets, logger);
    assert.ok(gone.kind === 'invalid' && /cannot read .*ca\.pem: ENOENT/.test(gone.reason), JSON.stringify(gone));
    assert.match(logged.at(-1)!, /TLS certificates not reloaded, keeping the ones in force/);
  });

  it('a target that fails keeps its certificates; the others get the new set', () => {
    const files = { cert: path.join(dir, 'c2.pem'), key: path.join(dir, 'k2.pem') };
    writeFileSync(files.cert, a.cert);
    writeFileSync(files.key, a.key);
    const got: string[] = [];
    const r = reloadTls(files, [{ name: 'broken', apply: () => { throw new Error('boom'); } }, { name: 'fine', apply: () => got.push('fine') }], logger);
    assert.deepEqual(r.kind === 'reloaded' ? r.targets : r, ['fine']);
    assert.deepEqual(got, ['fine']);
  });
});
