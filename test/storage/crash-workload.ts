/**
 * The acknowledged-writes workload shared by the crash tests (real processes and the memory
 * disk). Each writer owns its keys and writes them one at a time, so every key has a version
 * sequence and at most one unacknowledged write in flight. After a crash a key must hold its
 * last acknowledged version or the one after it (which may or may not have become durable).
 * Every `version % 4 === 3` is a delete. Each writer also writes a two-key batch whose keys
 * must always agree (batches are atomic).
 */
import { seededRandom } from '../../src/sim/prng.js';
import assert from 'node:assert/strict';
import type { StorageEngine } from '../../src/ports/storage.js';

export interface WorkloadConfig {
  writers: number;
  keysPerWriter: number;
  seed: number;
}

export type Versions = Record<string, number>;

export const isDelete = (v: number): boolean => v % 4 === 3;

export function keyName(w: number, k: number): string {
  return `w${String(w).padStart(2, '0')}-k${String(k).padStart(3, '0')}`;
}

const rng = seededRandom;

/** Deterministic, poorly compressible value of 20..400 bytes naming key and version. */
export function valueFor(key: string, version: number): Uint8Array {
  const head = Buffer.from(`${key}:${version}:`);
  let x = (version * 2654435761) ^ key.length ^ key.charCodeAt(key.length - 1);
  const len = 20 + ((version * 7919 + key.charCodeAt(key.length - 1)) % 380);
  const out = Buffer.alloc(head.length + len);
  head.copy(out);
  for (let i = head.length; i < out.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) | 0;
    out[i] = (x >>> 16) & 0xff;
  }
  return out;
}

export function versionOf(key: string, value: Uint8Array): number {
  const s = Buffer.from(value.subarray(0, key.length + 16)).toString('latin1');
  assert.ok(s.startsWith(`${key}:`), `value of ${key} names another key: ${s}`);
  const v = Number(s.slice(key.length + 1, s.indexOf(':', key.length + 1)));
  assert.deepEqual(Buffer.from(value), Buffer.from(valueFor(key, v)), `value of ${key} v${v} is damaged`);
  return v;
}

const enc = (s: string): Uint8Array => Buffer.from(s);

/**
 * Runs the writers until `stop()` or a write fails. `confirmed` is each key's version known to
 * be on disk; `onAck` is called synchronously after each acknowledgement, before the writer
 * issues its next write.
 */
export async function runWriters(
  engine: StorageEngine, cfg: WorkloadConfig, confirmed: Versions,
  onAck: (key: string, version: number) => void, stop: () => boolean,
): Promise<void> {
  const next: Versions = {};
  const writer = async (w: number): Promise<void> => {
    const r = rng(cfg.seed * 1000 + w + 1);
    while (!stop()) {
      if (r() < 0.1) {
        const a = `pair-${w}-a`;
        const b = `pair-${w}-b`;
        const v = (next[a] ?? confirmed[a] ?? 0) + 1;
        next[a] = v;
        await engine.write([{ key: enc(a), value: valueFor(a, v) }, { key: enc(b), value: valueFor(b, v) }]);
        onAck(a, v);
        continue;
      }
      const key = keyName(w, Math.floor(r() * cfg.keysPerWriter));
      const v = (next[key] ?? confirmed[key] ?? 0) + 1;
      next[key] = v;
      await engine.write([{ key: enc(key), value: isDelete(v) ? null : valueFor(key, v) }]);
      onAck(key, v);
    }
  };
  const results = await Promise.allSettled(Array.from({ length: cfg.writers }, (_, w) => writer(w)));
  const failed = results.find((x) => x.status === 'rejected');
  if (failed && !stop()) throw (failed as PromiseRejectedResult).reason;
}

/**
 * Checks the engine against the acknowledgements; returns the versions now confirmed on disk.
 */
export function verify(engine: StorageEngine, cfg: WorkloadConfig, confirmed: Versions, acked: Versions): { confirmed: Versions; checked: number } {
  const out: Versions = {};
  let checked = 0;
  const check = (key: string): number => {
    const base = acked[key] ?? confirmed[key] ?? 0;
    const value = engine.get(enc(key));
    if (value === undefined) {
      const ok = base === 0 || isDelete(base) ? base : isDelete(base + 1) ? base + 1 : -1;
      assert.ok(ok >= 0, `${key}: acknowledged version ${base} (or ${base + 1}) lost: key is absent`);
      return ok;
    }
    const v = versionOf(key, value);
    assert.ok(v === base || v === base + 1, `${key}: found version ${v}, acknowledged ${base}`);
    return v;
  };
  for (let w = 0; w < cfg.writers; w++) {
    for (let k = 0; k < cfg.keysPerWriter; k++) {
      const key = keyName(w, k);
      out[key] = check(key);
      checked++;
    }
    const a = `pair-${w}-a`;
    const b = `pair-${w}-b`;
    out[a] = check(a);
    const vb = engine.get(enc(b));
    const va = engine.get(enc(a));
    assert.equal(vb === undefined ? 0 : versionOf(b, vb), va === undefined ? 0 : out[a], `batch ${a}/${b} applied partly`);
    checked += 2;
  }
  return { confirmed: out, checked };
}
