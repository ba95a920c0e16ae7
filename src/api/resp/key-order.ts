/**
 * Per-connection ordering of commands on one key. A pipelining client expects a command to see
 * the effect of the commands it sent before it on the same connection (`SET k v` then `GET k`
 * returns v; `DEL k` then `SET k v` leaves v), but waiting for every earlier command would undo
 * pipelining. So a command waits only for the earlier in-flight commands of the same keys, and
 * only when it must:
 * - reads after reads and SETs after SETs start at once (a node takes requests in the order
 *   they are submitted, and SETs through one connection reach their coordinator in that order);
 * - anything else — a read after a write, a write after a read, and DEL (a read, then a write)
 *   before or after anything — waits until the earlier commands on that key have answered.
 */
export type KeyAccess = 'read' | 'write' | 'delete';

interface Group {
  kind: KeyAccess;
  /** What the members of this group waited for before starting. */
  gate: Promise<void>;
  /** Settles when every member of the group has answered. */
  done: Promise<void>;
}

const READY: Promise<void> = Promise.resolve();

export class KeyOrder {
  private readonly last = new Map<string, Group>();

  /** Keys with commands in flight (bounded by the connection's pipeline depth). */
  get size(): number {
    return this.last.size;
  }

  /** No command on `key` is in flight: a read of it may answer at once. */
  idle(key: string): boolean {
    return !this.last.has(key);
  }

  /**
   * Runs `start` once the earlier commands it must follow have answered; `start`'s promise
   * settling ends this command's hold on its keys.
   */
  schedule<T>(keys: readonly string[], kind: KeyAccess, start: () => Promise<T>): Promise<T> {
    const gates: Promise<void>[] = [];
    for (const k of keys) {
      const g = this.last.get(k);
      if (!g) continue;
      gates.push(g.kind === kind && kind !== 'delete' ? g.gate : g.done);
    }
    const gate = gates.length === 0 ? READY : gates.length === 1 ? gates[0]! : Promise.all(gates).then(() => undefined);
    const result = gates.length === 0 ? start() : gate.then(start);
    const mine: Promise<void> = result.then(() => undefined, () => undefined);
    for (const k of new Set(keys)) {
      const g = this.last.get(k);
      let group: Group;
      if (g && g.kind === kind && kind !== 'delete') {
        group = g;
        g.done = Promise.all([g.done, mine]).then(() => undefined);
      } else {
        group = { kind, gate: g ? g.done : READY, done: mine };
        this.last.set(k, group);
      }
      const settled = group.done;
      void settled.then(() => {
        if (this.last.get(k) === group && group.done === settled) this.last.delete(k);
      });
    }
    return result;
  }
}
