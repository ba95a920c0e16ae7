/** The bounded per-peer queue of encoded frames both transports keep while a link is down. */

/**
 * A FIFO of encoded frames bounded by count and bytes. When full it drops the *oldest* frames:
 * anything that old has most likely timed out at its sender already, while the newest (a fresh
 * heartbeat, a retry) is worth delivering.
 */
export class FrameQueue {
  private items: Uint8Array[] = [];
  private head = 0;
  private bytesQueued = 0;

  constructor(private readonly framesMax: number, private readonly bytesMax: number) {}

  get length(): number {
    return this.items.length - this.head;
  }

  get bytes(): number {
    return this.bytesQueued;
  }

  /** Appends a frame; returns how many frames were dropped to respect the bounds. */
  push(frame: Uint8Array): number {
    if (frame.length > this.bytesMax) return 1;
    let dropped = 0;
    while (this.length > 0 && (this.length + 1 > this.framesMax || this.bytesQueued + frame.length > this.bytesMax)) {
      this.shift();
      dropped++;
    }
    this.items.push(frame);
    this.bytesQueued += frame.length;
    return dropped;
  }

  peek(): Uint8Array | undefined {
    return this.items[this.head];
  }

  shift(): Uint8Array | undefined {
    if (this.head >= this.items.length) return undefined;
    const frame = this.items[this.head]!;
    this.items[this.head] = EMPTY;
    this.head++;
    this.bytesQueued -= frame.length;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return frame;
  }

  /** Removes everything; returns the number of frames removed. */
  clear(): number {
    const n = this.length;
    this.items = [];
    this.head = 0;
    this.bytesQueued = 0;
    return n;
  }
}

const EMPTY = new Uint8Array(0);
