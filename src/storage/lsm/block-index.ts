import { compareRange } from '../bytes.js';

/**
 * A table's block index held in a few typed arrays rather than an object per block: per data
 * block its last key (packed into one buffer), frame offset and frame length. A table of
 * 250,000 blocks (1 GiB of 4 KiB blocks) costs about its key bytes plus 16 bytes a block,
 * where a Buffer view per block cost ~100 bytes of heap more — memory that grew with the data.
 */
export class BlockIndex {
  constructor(
    private readonly keys: Buffer,
    /** keyEnds[i] is where block i's last key ends in `keys` (it starts at keyEnds[i - 1]). */
    private readonly keyEnds: Uint32Array,
    private readonly offsets: Float64Array,
    private readonly lengths: Uint32Array,
  ) {}

  static readonly empty = new BlockIndex(Buffer.alloc(0), new Uint32Array(0), new Float64Array(0), new Uint32Array(0));

  get count(): number {
    return this.lengths.length;
  }

  offset(i: number): number {
    return this.offsets[i]!;
  }

  length(i: number): number {
    return this.lengths[i]!;
  }

  lastKey(i: number): Buffer {
    return this.keys.subarray(i === 0 ? 0 : this.keyEnds[i - 1]!, this.keyEnds[i]!);
  }

  /** Index of the first block whose last key is >= key (count when none). */
  find(key: Uint8Array): number {
    let lo = 0;
    let hi = this.lengths.length;
    const ends = this.keyEnds;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      // compareRange(key, last) > 0  ⇔  last < key
      if (compareRange(key, this.keys, mid === 0 ? 0 : ends[mid - 1]!, ends[mid]!) > 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

export class BlockIndexBuilder {
  private readonly keys: Uint8Array[] = [];
  private readonly offsets: number[] = [];
  private readonly lengths: number[] = [];
  private keyBytes = 0;

  push(lastKey: Uint8Array, offset: number, length: number): void {
    this.keys.push(lastKey);
    this.keyBytes += lastKey.length;
    this.offsets.push(offset);
    this.lengths.push(length);
  }

  build(): BlockIndex {
    const keys = Buffer.allocUnsafe(this.keyBytes);
    const ends = new Uint32Array(this.keys.length);
    let p = 0;
    this.keys.forEach((k, i) => {
      keys.set(k, p);
      p += k.length;
      ends[i] = p;
    });
    return new BlockIndex(keys, ends, Float64Array.from(this.offsets), Uint32Array.from(this.lengths));
  }
}
