/**
 * Replies written once per event-loop turn, after the poll phase has run every socket's reads
 * (setImmediate), as Redis writes its clients' replies just before it sleeps.
 *
 * Why: a write to a loopback client that is asleep in epoll pays the client's wake-up inside the
 * write syscall — about 20 µs here, against 7.5 µs to a client that is busy (a bare node:net
 * server and redis-benchmark, docs/resp.md). Writing each reply as soon as its request is done
 * interleaves writes with the next connections' requests, so the client falls asleep between
 * them and every write pays the wake-up; one round of writes at the end of the turn wakes it
 * once. A reply waits at most for the rest of the turn's reads to be handled.
 */
export class TurnWrites {
  private due: (() => void)[] = [];
  private scheduled = false;

  /** `onError` hears a write that threw (a bug); by default the error is thrown again, on its own. */
  constructor(private readonly onError: (err: unknown) => void = (e) => { process.nextTick(() => { throw e; }); }) {}

  private readonly flush = (): void => {
    this.scheduled = false;
    const due = this.due;
    this.due = [];
    for (const write of due) {
      try {
        write();
      } catch (e) {
        this.onError(e); // one failing write must not cost the others theirs
      }
    }
  };

  /** Runs `write` at the end of this turn, after every write scheduled before it. */
  add(write: () => void): void {
    this.due.push(write);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flush);
  }
}
