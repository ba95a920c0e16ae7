/**
 * Concurrent clients that read and write a few hot keys through random nodes, carrying the
 * contexts they were given the way real clients do, and a history of everything they saw.
 */
import type { CausalContext } from '../core/clock/context.js';
import { EMPTY_CONTEXT, encodeContextToken, joinContexts } from '../core/clock/context.js';
import { fromUtf8, utf8 } from '../core/bytes.js';
import type { ClientReply } from '../core/types.js';
import type { SimCluster } from './cluster.js';
import type { Prng } from './prng.js';

export interface HistoryRecord {
  opId: number;
  client: number;
  node: string;
  kind: 'get' | 'put' | 'del';
  key: string;
  /** The version tag a write carries (its content type), unique per write. */
  tag?: string;
  contextIn?: string;
  startMs: number;
  endMs: number;
  outcome: 'ok' | 'error' | 'timeout';
  error?: string;
  /** For gets: the tags of the versions returned (`~tag` for a tombstone). */
  seen?: string[];
  /**
   * For writes: the tags of the writes this client observed through the context it sent (the
   * versions its reads returned, its own acknowledged writes). The checker lets a write supersede
   * only these, whatever the system's contexts claim.
   */
  basis?: string[];
  contextOut?: string;
}

export interface WorkloadOptions {
  clients: number;
  opsPerClient: number;
  keys: number;
  /** Share of writes sent with no context at all. */
  blindRate: number;
  deleteRate: number;
  readRate: number;
  /** A client gives up on a request after this long (virtual ms). */
  clientTimeoutMs: number;
  /** Think time between a client's operations (virtual ms). */
  maxThinkMs: number;
  /**
   * Clients join every context they receive for a key into what they send next (a session that
   * never forgets its own writes), instead of sending only the latest one.
   */
  sessionContexts?: boolean;
}

export class Workload {
  readonly history: HistoryRecord[] = [];
  private nextOp = 1;
  private running = 0;

  constructor(private readonly cluster: SimCluster, private readonly rng: Prng, readonly opts: WorkloadOptions) {}

  get keys(): string[] {
    return Array.from({ length: this.opts.keys }, (_, i) => `key-${i}`);
  }

  /** Starts every client; resolves when all have finished their operations. */
  start(): Promise<void> {
    const done: Promise<void>[] = [];
    for (let c = 0; c < this.opts.clients; c++) done.push(this.client(c, this.rng.fork()));
    return Promise.all(done).then(() => undefined);
  }

  get active(): number {
    return this.running;
  }

  private async client(c: number, rng: Prng): Promise<void> {
    this.running++;
    const contexts = new Map<string, Held>();
    for (let i = 0; i < this.opts.opsPerClient; i++) {
      await this.sleep(rng.next() * this.opts.maxThinkMs);
      const key = rng.pick(this.keys);
      const roll = rng.next();
      if (roll < this.opts.readRate) {
        const { reply, rec } = await this.run(c, rng, 'get', key, undefined);
        if (reply?.ok && reply.op === 'get') this.remember(contexts, key, { ctx: reply.context, basis: (rec.seen ?? []).map(tagOfSeen) });
      } else {
        const kind = rng.next() < this.opts.deleteRate ? 'del' : 'put';
        const blind = rng.next() < this.opts.blindRate;
        const held = blind ? undefined : contexts.get(key);
        const { reply, rec } = await this.run(c, rng, kind, key, held);
        if (reply?.ok && reply.op === 'put') this.remember(contexts, key, { ctx: reply.context, basis: [...(rec.basis ?? []), rec.tag!] });
      }
    }
    this.running--;
  }

  private remember(contexts: Map<string, Held>, key: string, got: Held): void {
    const prev = contexts.get(key);
    contexts.set(key, this.opts.sessionContexts && prev
      ? { ctx: joinContexts(prev.ctx, got.ctx), basis: [...new Set([...prev.basis, ...got.basis])] }
      : got);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.cluster.queue.schedule(ms, resolve));
  }

  private async run(c: number, rng: Prng, kind: 'get' | 'put' | 'del', key: string, held: Held | undefined):
    Promise<{ reply?: ClientReply; rec: HistoryRecord }> {
    const opId = this.nextOp++;
    const target = rng.pick(this.cluster.nodes);
    const rec: HistoryRecord = {
      opId, client: c, node: target.info.nodeId, kind, key, startMs: this.cluster.queue.now, endMs: 0, outcome: 'timeout',
    };
    const ctx = held?.ctx;
    if (ctx) rec.contextIn = encodeContextToken(ctx);
    if (kind !== 'get') rec.basis = held ? [...held.basis] : [];
    this.history.push(rec);
    const runtime = target.runtime;
    if (!target.up || !runtime) {
      rec.outcome = 'error';
      rec.error = 'connection refused';
      rec.endMs = this.cluster.queue.now;
      return { rec };
    }
    let reply: Promise<ClientReply>;
    if (kind === 'get') {
      reply = runtime.submit({ op: 'get', key });
    } else {
      const tag = `c${c}-op${opId}`;
      rec.tag = tag;
      reply = runtime.submit({
        op: 'put', key, value: kind === 'del' ? null : utf8(tag), contentType: tag, context: ctx ?? EMPTY_CONTEXT,
      });
    }
    const outcome = await new Promise<ClientReply | undefined>((resolve) => {
      const timer = this.cluster.queue.schedule(this.opts.clientTimeoutMs, () => resolve(undefined));
      void reply.then((r) => {
        timer.cancelled = true;
        resolve(r);
      });
    });
    rec.endMs = this.cluster.queue.now;
    if (!outcome) return { rec };
    if (!outcome.ok) {
      rec.outcome = 'error';
      rec.error = outcome.error;
      return { reply: outcome, rec };
    }
    rec.outcome = 'ok';
    rec.contextOut = encodeContextToken(outcome.context);
    if (outcome.op === 'get') {
      rec.seen = outcome.siblings.map((v) => (v.value === null ? `~${v.contentType}` : fromUtf8(v.value)));
    }
    return { reply: outcome, rec };
  }
}

/** A context a client holds for a key, and the tags of the writes it observed to get it. */
interface Held {
  ctx: CausalContext;
  basis: string[];
}

function tagOfSeen(seen: string): string {
  return seen.startsWith('~') ? seen.slice(1) : seen;
}
