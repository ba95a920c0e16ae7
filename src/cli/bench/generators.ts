/**
 * The request generators of YCSB's core workload, ported from YCSB (site.ycsb.generator.*) with
 * the same constants and arithmetic, so that "workload A" means here what it means in a YCSB
 * report:
 * - ZipfianGenerator: Gray et al., "Quickly Generating Billion-Record Synthetic Databases"
 *   (SIGMOD 1994), theta 0.99, with YCSB's incremental zeta when the item count grows (and its
 *   quirk of computing eta from the item count given at construction).
 * - ScrambledZipfianGenerator: a zipfian over 10^10 items (zeta precomputed, 26.46902820178302)
 *   hashed with FNV-1a 64 into the key space, so the popular keys are scattered, not clustered.
 * - SkewedLatestGenerator ("latest"): the most recently inserted keys are the most popular.
 * - UniformLongGenerator, CounterGenerator, AcknowledgedCounterGenerator, DiscreteGenerator.
 * All draw from an injected `Random`, so one seed reproduces a run's request sequence.
 */
import type { Random } from '../../ports/index.js';

export const ZIPFIAN_CONSTANT = 0.99;
/** YCSB's ScrambledZipfianGenerator: zeta(10^10, 0.99), precomputed. */
export const SCRAMBLED_ZETAN = 26.46902820178302;
export const SCRAMBLED_ITEM_COUNT = 10_000_000_000;

export interface NumberGenerator {
  nextValue(): number;
  lastValue(): number;
}

export function zetaStatic(st: number, n: number, theta: number, initialSum: number): number {
  let sum = initialSum;
  for (let i = st; i < n; i++) sum += 1 / Math.pow(i + 1, theta);
  return sum;
}

export class ZipfianGenerator implements NumberGenerator {
  private readonly items: number;
  private readonly base: number;
  private readonly theta: number;
  private readonly zeta2theta: number;
  private readonly alpha: number;
  private zetan: number;
  private eta: number;
  private countForZeta: number;
  private last = 0;

  /** Items min..max (inclusive); `zetan` precomputed when known (it costs O(items) otherwise). */
  constructor(private readonly random: Random, min: number, max: number, theta = ZIPFIAN_CONSTANT, zetan?: number) {
    this.items = max - min + 1;
    this.base = min;
    this.theta = theta;
    this.zeta2theta = zetaStatic(0, 2, theta, 0);
    this.alpha = 1 / (1 - theta);
    this.zetan = zetan ?? zetaStatic(0, this.items, theta, 0);
    this.countForZeta = this.items;
    this.eta = (1 - Math.pow(2 / this.items, 1 - theta)) / (1 - this.zeta2theta / this.zetan);
    this.nextValue();
  }

  /** A value in [base, base + itemCount): YCSB's nextLong(itemcount). */
  nextLong(itemCount: number): number {
    if (itemCount > this.countForZeta) {
      // Incremental: extend the zeta sum to the new count (YCSB keeps eta's `items` as built).
      this.zetan = zetaStatic(this.countForZeta, itemCount, this.theta, this.zetan);
      this.countForZeta = itemCount;
      this.eta = (1 - Math.pow(2 / this.items, 1 - this.theta)) / (1 - this.zeta2theta / this.zetan);
    }
    const u = this.random.next();
    const uz = u * this.zetan;
    if (uz < 1) return this.setLast(this.base);
    if (uz < 1 + Math.pow(0.5, this.theta)) return this.setLast(this.base + 1);
    return this.setLast(this.base + Math.floor(itemCount * Math.pow(this.eta * u - this.eta + 1, this.alpha)));
  }

  nextValue(): number {
    return this.nextLong(this.items);
  }

  lastValue(): number {
    return this.last;
  }

  private setLast(v: number): number {
    this.last = v;
    return v;
  }
}

const FNV_OFFSET_BASIS_64 = 0xcbf29ce484222325n;
const FNV_PRIME_64 = 1099511628211n;
const MASK_64 = (1n << 64n) - 1n;

/** YCSB's Utils.fnvhash64: FNV-1a over the 8 bytes of a long, low byte first, then Math.abs. */
export function fnvHash64(value: number): bigint {
  let val = BigInt.asIntN(64, BigInt(value));
  let hash = FNV_OFFSET_BASIS_64;
  for (let i = 0; i < 8; i++) {
    const octet = val & 0xffn;
    val >>= 8n; // arithmetic shift, as Java's >> on a long
    hash ^= octet;
    hash = (hash * FNV_PRIME_64) & MASK_64;
  }
  const signed = BigInt.asIntN(64, hash);
  // Java's Math.abs(Long.MIN_VALUE) is Long.MIN_VALUE; keep that edge exactly.
  return signed < 0n && signed !== -(1n << 63n) ? -signed : signed;
}

export class ScrambledZipfianGenerator implements NumberGenerator {
  private readonly gen: ZipfianGenerator;
  private readonly itemCount: bigint;
  private last = 0;

  constructor(random: Random, private readonly min: number, max: number, theta = ZIPFIAN_CONSTANT) {
    this.itemCount = BigInt(max - min + 1);
    this.gen = theta === ZIPFIAN_CONSTANT
      ? new ZipfianGenerator(random, 0, SCRAMBLED_ITEM_COUNT, theta, SCRAMBLED_ZETAN)
      : new ZipfianGenerator(random, 0, SCRAMBLED_ITEM_COUNT, theta);
  }

  nextValue(): number {
    const r = this.gen.nextValue();
    // Java's % keeps the dividend's sign: a Long.MIN_VALUE hash gives a negative remainder.
    this.last = this.min + Number(fnvHash64(r) % this.itemCount);
    return this.last;
  }

  lastValue(): number {
    return this.last;
  }
}

export class UniformLongGenerator implements NumberGenerator {
  private last = 0;
  constructor(private readonly random: Random, private readonly lb: number, private readonly ub: number) {}
  nextValue(): number {
    this.last = this.lb + Math.floor(this.random.next() * (this.ub - this.lb + 1));
    return this.last;
  }
  lastValue(): number {
    return this.last;
  }
}

/** Hands out insert key numbers in order; lastValue is the highest one every insert below has acknowledged. */
export class AcknowledgedCounterGenerator implements NumberGenerator {
  private counter: number;
  private limit: number;
  private readonly acked = new Set<number>();

  constructor(countStart: number) {
    this.counter = countStart;
    this.limit = countStart - 1;
  }

  nextValue(): number {
    return this.counter++;
  }

  /** Called once the insert of `value` completed. */
  acknowledge(value: number): void {
    this.acked.add(value);
    while (this.acked.delete(this.limit + 1)) this.limit++;
  }

  lastValue(): number {
    return this.limit;
  }
}

export class SkewedLatestGenerator implements NumberGenerator {
  private readonly zipfian: ZipfianGenerator;
  private last = 0;

  constructor(random: Random, private readonly basis: NumberGenerator) {
    // YCSB: new ZipfianGenerator(basis.lastValue()), that is items 0..lastValue-1.
    this.zipfian = new ZipfianGenerator(random, 0, basis.lastValue() - 1);
    this.nextValue();
  }

  nextValue(): number {
    const max = this.basis.lastValue();
    this.last = max - this.zipfian.nextLong(max);
    return this.last;
  }

  lastValue(): number {
    return this.last;
  }
}

/** Picks one of several values by weight (YCSB's DiscreteGenerator). */
export class DiscreteGenerator<T> {
  private readonly values: { weight: number; value: T }[] = [];
  private sum = 0;
  constructor(private readonly random: Random) {}

  add(value: T, weight: number): this {
    if (weight > 0) {
      this.values.push({ weight, value });
      this.sum += weight;
    }
    return this;
  }

  next(): T {
    let val = this.random.next();
    for (const { weight, value } of this.values) {
      if (val < weight / this.sum) return value;
      val -= weight / this.sum;
    }
    return this.values[this.values.length - 1]!.value;
  }
}
