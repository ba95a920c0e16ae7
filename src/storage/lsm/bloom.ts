/**
 * A bloom filter with k probes derived from two 32-bit murmur3 hashes (Kirsch–Mitzenmacher
 * double hashing). Sized for the configured false-positive rate p: m/n = -ln p / ln²2 bits per
 * key, k = round(m/n · ln 2). Serialized as [u32 k][bit array].
 */
import { murmur3x86_32 } from '../../core/ring/hash.js';

/** MurmurHash3 x86_32 — the ring's key hash with a seed (part of the table format, as it is). */
export const murmur3 = murmur3x86_32;

const SEED1 = 0x9747b28c;
const SEED2 = 0x5bd1e995;

export function keyHash1(key: Uint8Array): number {
  return murmur3(key, SEED1);
}

export function keyHash2(key: Uint8Array): number {
  return murmur3(key, SEED2);
}

export function bloomBitsPerKey(fpRate: number): number {
  return -Math.log(fpRate) / (Math.LN2 * Math.LN2);
}

export class BloomFilter {
  private constructor(readonly bits: Uint8Array, readonly k: number) {}

  /** A filter for the keys whose hash pairs (see `hashes`) are given. */
  static build(hashes: readonly number[], fpRate: number): BloomFilter {
    const filter = BloomFilter.sized(hashes.length / 2, fpRate);
    for (let i = 0; i < hashes.length; i += 2) filter.add(hashes[i]!, hashes[i + 1]!);
    return filter;
  }

  /**
   * An empty filter sized for `keys` keys, to fill with `add` as keys come: a table writer that
   * knows its entry count up front builds its filter along the way instead of in one synchronous
   * pass at the end (100–300 ms for 250,000 keys on this machine). More keys than planned only
   * raise the false-positive rate; fewer lower it.
   */
  static sized(keys: number, fpRate: number): BloomFilter {
    const n = Math.max(1, keys);
    const bitsPerKey = bloomBitsPerKey(fpRate);
    const mBits = Math.max(64, Math.ceil(n * bitsPerKey));
    const k = Math.max(1, Math.min(30, Math.round(bitsPerKey * Math.LN2)));
    return new BloomFilter(new Uint8Array(Math.ceil(mBits / 8)), k);
  }

  addKey(key: Uint8Array): void {
    this.add(murmur3(key, SEED1), murmur3(key, SEED2));
  }

  static hashes(key: Uint8Array, out: number[]): void {
    out.push(murmur3(key, SEED1), murmur3(key, SEED2));
  }

  static decode(data: Uint8Array): BloomFilter {
    if (data.length < 5) throw new Error('bloom filter too short');
    const k = data[0]! | (data[1]! << 8) | (data[2]! << 16) | (data[3]! << 24);
    if (k < 1 || k > 30) throw new Error(`bad bloom filter k=${k}`);
    return new BloomFilter(data.subarray(4), k);
  }

  encode(): Uint8Array {
    const out = new Uint8Array(4 + this.bits.length);
    out[0] = this.k;
    out.set(this.bits, 4);
    return out;
  }

  add(h1: number, h2: number): void {
    const m = this.bits.length * 8;
    let h = h1;
    for (let i = 0; i < this.k; i++) {
      const bit = h % m;
      this.bits[bit >>> 3]! |= 1 << (bit & 7);
      h = (h + h2) >>> 0;
    }
  }

  mayContain(key: Uint8Array): boolean {
    return this.mayContainHashes(murmur3(key, SEED1), murmur3(key, SEED2));
  }

  /** The same, with the key's two hashes computed once for all tables (see `hashes`). */
  mayContainHashes(h1: number, h2: number): boolean {
    const m = this.bits.length * 8;
    let h = h1;
    for (let i = 0; i < this.k; i++) {
      const bit = h % m;
      if ((this.bits[bit >>> 3]! & (1 << (bit & 7))) === 0) return false;
      h = (h + h2) >>> 0;
    }
    return true;
  }
}
