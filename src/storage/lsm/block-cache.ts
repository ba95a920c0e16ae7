/** A decoded data block: its bytes and, per entry, [keyOffset, keyLength, valueOffset, valueLength|-1]. */
export interface ParsedBlock {
  readonly data: Buffer;
  readonly entries: Int32Array;
  readonly count: number;
}

export function blockCost(block: ParsedBlock): number {
  return block.data.length + block.entries.byteLength + 96;
}

/**
 * Least-recently-used cache of decoded blocks, bounded in bytes. A Map keeps insertion order,
 * so re-inserting on a hit makes it the most recent and the first key is the eviction victim.
 */
export class BlockCache {
  private readonly map = new Map<number, ParsedBlock>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  constructor(private readonly capacityBytes: number) {}

  static key(tableNum: number, blockIndex: number): number {
    return tableNum * 0x1_0000_0000 + blockIndex;
  }

  get(key: number): ParsedBlock | undefined {
    const b = this.map.get(key);
    if (b === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.map.delete(key);
    this.map.set(key, b);
    return b;
  }

  set(key: number, block: ParsedBlock): void {
    const cost = blockCost(block);
    if (cost > this.capacityBytes) return;
    const old = this.map.get(key);
    if (old !== undefined) {
      this.bytes -= blockCost(old);
      this.map.delete(key);
    }
    this.map.set(key, block);
    this.bytes += cost;
    while (this.bytes > this.capacityBytes) {
      const first = this.map.keys().next();
      if (first.done) break;
      const victim = this.map.get(first.value)!;
      this.map.delete(first.value);
      this.bytes -= blockCost(victim);
    }
  }

  /** Drops every block of a table (when the table is deleted). */
  dropTable(tableNum: number, blockCount: number): void {
    for (let i = 0; i < blockCount; i++) {
      const key = BlockCache.key(tableNum, i);
      const b = this.map.get(key);
      if (b !== undefined) {
        this.map.delete(key);
        this.bytes -= blockCost(b);
      }
    }
  }

  get sizeBytes(): number {
    return this.bytes;
  }
}
