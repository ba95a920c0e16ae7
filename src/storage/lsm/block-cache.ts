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
 * A cache of decoded blocks bounded in bytes, evicting by CLOCK (second chance): a hit only
 * sets the entry's reference bit; eviction walks from the oldest insertion, giving referenced
 * entries another round. Near-LRU behaviour without reordering a map on every hit, which cost
 * a tenth of a cached `get`.
 */
export class BlockCache {
  private readonly map = new Map<number, { block: ParsedBlock; referenced: boolean }>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  constructor(private readonly capacityBytes: number) {}

  static key(tableNum: number, blockIndex: number): number {
    return tableNum * 0x1_0000_0000 + blockIndex;
  }

  get(key: number): ParsedBlock | undefined {
    const e = this.map.get(key);
    if (e === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    e.referenced = true;
    return e.block;
  }

  set(key: number, block: ParsedBlock): void {
    const cost = blockCost(block);
    if (cost > this.capacityBytes) return;
    this.remove(key);
    this.map.set(key, { block, referenced: false });
    this.bytes += cost;
    while (this.bytes > this.capacityBytes) {
      const first = this.map.entries().next();
      if (first.done) break;
      const [k, e] = first.value;
      this.map.delete(k);
      if (e.referenced && k !== key) {
        e.referenced = false;
        this.map.set(k, e);
      } else {
        this.bytes -= blockCost(e.block);
      }
    }
  }

  private remove(key: number): void {
    const e = this.map.get(key);
    if (e !== undefined) {
      this.map.delete(key);
      this.bytes -= blockCost(e.block);
    }
  }

  /** Drops every block of a table (when the table is deleted). */
  dropTable(tableNum: number, blockCount: number): void {
    for (let i = 0; i < blockCount; i++) this.remove(BlockCache.key(tableNum, i));
  }

  get sizeBytes(): number {
    return this.bytes;
  }
}
