/**
 * YCSB's CoreWorkload for a key-value store: the operation mixes of the core workloads and the
 * way YCSB chooses keys (site.ycsb.workloads.CoreWorkload). Workload E (short range scans) is
 * left out on purpose: Gossamer partitions keys by hash, so it has no ordered scan to offer.
 */
import type { Random } from '../../ports/index.js';
import type { NumberGenerator } from './generators.js';
import {
  AcknowledgedCounterGenerator, DiscreteGenerator, ScrambledZipfianGenerator, SkewedLatestGenerator,
  UniformLongGenerator, fnvHash64,
} from './generators.js';

export type OpName = 'READ' | 'UPDATE' | 'INSERT' | 'READ-MODIFY-WRITE';
export type Distribution = 'zipfian' | 'latest' | 'uniform';

export interface WorkloadSpec {
  readonly name: string;
  readonly description: string;
  readonly read: number;
  readonly update: number;
  readonly insert: number;
  readonly readModifyWrite: number;
  readonly distribution: Distribution;
}

/** The property files workloada..workloadf of YCSB, less E. */
export const WORKLOADS = {
  a: { name: 'A', description: 'update heavy: 50% reads, 50% updates, zipfian', read: 0.5, update: 0.5, insert: 0, readModifyWrite: 0, distribution: 'zipfian' },
  b: { name: 'B', description: 'read mostly: 95% reads, 5% updates, zipfian', read: 0.95, update: 0.05, insert: 0, readModifyWrite: 0, distribution: 'zipfian' },
  c: { name: 'C', description: 'read only: 100% reads, zipfian', read: 1, update: 0, insert: 0, readModifyWrite: 0, distribution: 'zipfian' },
  d: { name: 'D', description: 'read latest: 95% reads, 5% inserts, latest', read: 0.95, update: 0, insert: 0.05, readModifyWrite: 0, distribution: 'latest' },
  f: { name: 'F', description: 'read-modify-write: 50% reads, 50% read-modify-writes, zipfian', read: 0.5, update: 0, insert: 0, readModifyWrite: 0.5, distribution: 'zipfian' },
} as const satisfies Record<string, WorkloadSpec>;

export type WorkloadName = keyof typeof WORKLOADS;

export function isWorkloadName(s: string): s is WorkloadName {
  return Object.prototype.hasOwnProperty.call(WORKLOADS, s);
}

export interface CoreWorkloadOptions {
  recordCount: number;
  operationCount: number;
  /** YCSB's fieldcount × fieldlength: 10 × 100 bytes, the "1 KB record". */
  fieldCount?: number;
  fieldLengthBytes?: number;
  /** Override the workload's request distribution. */
  distribution?: Distribution;
}

export interface NextOp {
  op: OpName;
  keynum: number;
}

export class CoreWorkload {
  readonly fieldCount: number;
  readonly fieldLengthBytes: number;
  private readonly opChooser: DiscreteGenerator<OpName>;
  private readonly keyChooser: NumberGenerator;
  private readonly insertSequence: AcknowledgedCounterGenerator;
  private readonly pool: Uint8Array;

  constructor(readonly spec: WorkloadSpec, readonly opts: CoreWorkloadOptions, private readonly random: Random) {
    if (!Number.isInteger(opts.recordCount) || opts.recordCount < 1) throw new Error('recordCount must be ≥ 1');
    this.fieldCount = opts.fieldCount ?? 10;
    this.fieldLengthBytes = opts.fieldLengthBytes ?? 100;
    this.opChooser = new DiscreteGenerator<OpName>(random)
      .add('READ', spec.read).add('UPDATE', spec.update).add('INSERT', spec.insert).add('READ-MODIFY-WRITE', spec.readModifyWrite);
    this.insertSequence = new AcknowledgedCounterGenerator(opts.recordCount);
    const distribution = opts.distribution ?? spec.distribution;
    if (distribution === 'uniform') this.keyChooser = new UniformLongGenerator(random, 0, opts.recordCount - 1);
    else if (distribution === 'latest') this.keyChooser = new SkewedLatestGenerator(random, this.insertSequence);
    else {
      // YCSB leaves room for the keys inserted during the run ("2 is fudge factor").
      const expectedNewKeys = Math.floor(opts.operationCount * spec.insert * 2);
      this.keyChooser = new ScrambledZipfianGenerator(random, 0, opts.recordCount + expectedNewKeys);
    }
    this.pool = new Uint8Array(64 * 1024);
    for (let i = 0; i < this.pool.length; i++) this.pool[i] = 0x21 + random.int(94); // printable, as YCSB's values
  }

  get recordBytes(): number {
    return this.fieldCount * this.fieldLengthBytes;
  }

  /** YCSB's buildKeyName with insertorder=hashed: "user" + fnvhash64(keynum). */
  keyName(keynum: number): string {
    return `user${fnvHash64(keynum).toString()}`;
  }

  /** The next transaction: its operation and key number (inserts take the next new key). */
  nextOp(): NextOp {
    const op = this.opChooser.next();
    if (op === 'INSERT') return { op, keynum: this.insertSequence.nextValue() };
    return { op, keynum: this.nextKeynum() };
  }

  /** YCSB's nextKeynum: never a key whose insert has not been acknowledged yet. */
  nextKeynum(): number {
    let keynum: number;
    do {
      keynum = this.keyChooser.nextValue();
    } while (keynum > this.insertSequence.lastValue());
    return keynum;
  }

  acknowledgeInsert(keynum: number): void {
    this.insertSequence.acknowledge(keynum);
  }

  /** The highest key number every insert up to which has completed. */
  lastInserted(): number {
    return this.insertSequence.lastValue();
  }

  /** A fresh record value (random printable bytes, a slice of a seeded pool). */
  value(): Uint8Array {
    const n = this.recordBytes;
    const off = this.random.int(this.pool.length - n + 1);
    return this.pool.slice(off, off + n);
  }

  /** F's modify step: the record read, with one field rewritten (YCSB updates one field). */
  modify(old: Uint8Array | undefined): Uint8Array {
    const out = new Uint8Array(this.recordBytes);
    if (old) out.set(old.subarray(0, out.length));
    else out.set(this.value());
    const field = this.random.int(this.fieldCount);
    const fresh = this.value();
    out.set(fresh.subarray(0, this.fieldLengthBytes), field * this.fieldLengthBytes);
    return out;
  }
}
