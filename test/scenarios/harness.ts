/**
 * The scenario tests' cluster: the simulator's cluster (src/sim: the real runtime and core on
 * virtual time, messages through the real codec) with its network in scripted mode — every
 * inter-node frame waits until a `deliver` or `drop` command moves it. It reads the nodes only
 * through the runtime's public methods (submit, ring, localState), never the core's internals,
 * so a reshape of the core changes outputs only where behaviour changes.
 */
import type { CausalContext } from '../../src/core/clock/context.js';
import { EMPTY_CONTEXT } from '../../src/core/clock/context.js';
import type { KeyState } from '../../src/core/clock/state.js';
import { fromUtf8, utf8 } from '../../src/core/bytes.js';
import type { ClientOp, ClientReply, Consistency } from '../../src/core/types.js';
import { decodeWireMessage } from '../../src/codec/frame.js';
import { SimCluster } from '../../src/sim/cluster.js';
import type { HeldFrame } from '../../src/sim/network.js';
import { Prng } from '../../src/sim/prng.js';
import { runFor, runUntil } from '../../src/sim/run.js';
import type { Command } from './datadriven.js';
import { ScriptError } from './datadriven.js';

/** A gossip interval no script lasts (an hour of virtual time). */
const GOSSIP_QUIET_MS = 3_600_000;

/** Virtual time every command lets pass after it acts: enough for a simulated fsync (≤ 2 ms). */
const SETTLE_MS = 5;

interface Pending {
  label: string;
  node: string;
  done: boolean;
}

export class ScenarioCluster {
  private cluster: SimCluster | undefined;
  private out: string[] = [];
  private heldSeen = 0;
  private readonly contexts = new Map<string, CausalContext>();
  private readonly pending: Pending[] = [];
  private opCount = 0;

  async run(cmd: Command): Promise<string[]> {
    this.out = [];
    const handler = this.handlers[cmd.name];
    if (!handler) throw new ScriptError(`unknown command ${cmd.name}`);
    if (cmd.name !== 'start' && !this.cluster) throw new ScriptError('start the cluster first');
    await handler(cmd);
    if (cmd.name !== 'start') {
      await runFor(this.sim, num(cmd, 'settle-ms', SETTLE_MS));
      this.reportSent();
    }
    return this.out;
  }

  private get sim(): SimCluster {
    return this.cluster!;
  }

  private readonly handlers: Record<string, (cmd: Command) => Promise<void> | void> = {
    start: (cmd) => this.start(cmd),
    ring: (cmd) => this.ring(cmd),
    put: (cmd) => this.submit(cmd, 'put'),
    del: (cmd) => this.submit(cmd, 'del'),
    get: (cmd) => this.submit(cmd, 'get'),
    held: () => { for (const h of this.sim.network.held) this.out.push(`held: ${describe(h)}`); },
    deliver: (cmd) => this.deliver(cmd),
    drop: (cmd) => this.drop(cmd),
    settle: (cmd) => this.settle(cmd),
    tick: async (cmd) => { await runFor(this.sim, num(cmd, 'ms', 10)); },
    partition: (cmd) => this.partition(cmd),
    heal: () => { this.sim.network.partition([]); },
    crash: (cmd) => this.crash(cmd),
    restart: (cmd) => this.restart(cmd),
    state: (cmd) => this.state(cmd),
  };

  private async start(cmd: Command): Promise<void> {
    const nodes = num(cmd, 'nodes', 3);
    const fsync = num(cmd, 'fsync-ms', 0);
    this.cluster = new SimCluster(new Prng(num(cmd, 'seed', 1)), {
      nodes,
      settings: {
        n: num(cmd, 'n', 3), partitions: num(cmd, 'partitions', 16), tickMs: 10,
        requestTimeoutMs: num(cmd, 'timeout-ms', 300), r: 'quorum', w: 'quorum', maxValueBytes: 1 << 20,
        // The scripts move every frame by hand: gossip rounds (and the probes they pace) stay out
        // of them, so every member is believed alive unless a script says otherwise.
        gossipIntervalMs: GOSSIP_QUIET_MS,
      },
      engine: 'sim-disk',
      ...(fsync > 0 ? { fsyncMs: { min: fsync, max: fsync } } : {}),
    });
    this.sim.startAll();
    // Gossip forms the ring (the seeds answer each other), then the first round settles.
    await runUntil(this.sim, () => this.sim.allUp);
    await runFor(this.sim, 50);
    this.sim.network.holding = true;
    const ring = this.sim.nodes[0]!.runtime!.ring()!;
    this.out.push(`${this.sim.ids.join(' ')} up; ring of ${ring.partitionCount} partitions, n=${ring.n}`);
  }

  private ring(cmd: Command): void {
    const key = str(cmd, 'key');
    const ring = this.runtimeOf(cmd.kv.get('node') ?? 'n0').ring()!;
    const p = ring.partitionForKey(key);
    this.out.push(`${key}: partition ${p}, preference list ${ring.preferenceList(p).join(' ')}`);
  }

  private submit(cmd: Command, kind: 'put' | 'del' | 'get'): void {
    const node = str(cmd, 'node');
    const key = str(cmd, 'key');
    const label = cmd.kv.get('as') ?? `${kind}#${++this.opCount}`;
    let op: ClientOp;
    if (kind === 'get') {
      op = { op: 'get', key, ...opt('r', consistency(cmd.kv.get('r'))) };
    } else {
      const ctxLabel = cmd.kv.get('ctx');
      const context = ctxLabel === undefined ? EMPTY_CONTEXT : this.contexts.get(ctxLabel);
      if (!context) throw new ScriptError(`no context recorded as ${ctxLabel}`);
      const value = kind === 'del' ? null : utf8(str(cmd, 'value'));
      op = { op: 'put', key, value, contentType: 'text/plain', context, ...opt('w', consistency(cmd.kv.get('w'))) };
    }
    const p: Pending = { label, node, done: false };
    this.pending.push(p);
    void this.runtimeOf(node).submit(op).then((reply) => {
      if (p.done) return;
      p.done = true;
      this.out.push(`reply ${label}: ${this.describeReply(label, reply)}`);
    });
  }

  private describeReply(label: string, r: ClientReply): string {
    if (!r.ok) {
      const counts = r.required !== undefined ? ` (required ${r.required}, received ${r.received})` : '';
      return `${r.error}${counts}${r.error === 'bad_request' ? `: ${r.message}` : ''}`;
    }
    this.contexts.set(label, r.context);
    if (r.op === 'put') return `ok ctx=${ctx(r.context)}`;
    const values = r.siblings.map((v) => (v.value === null ? '(deleted)' : fromUtf8(v.value)));
    return `ok ${values.length === 0 ? '(not found)' : values.join(' | ')} ctx=${ctx(r.context)}`;
  }

  /** Takes the held frames that match the command's from=, to=, type= (all when none given). */
  private take(cmd: Command): HeldFrame[] {
    const net = this.sim.network;
    const match = (h: HeldFrame): boolean => {
      const { from, to, kv } = { from: cmd.kv.get('from'), to: cmd.kv.get('to'), kv: cmd.kv.get('type') };
      return (from === undefined || h.from === from) && (to === undefined || h.to === to) && (kv === undefined || typeOf(h) === kv);
    };
    const taken = net.held.filter(match);
    net.held = net.held.filter((h) => !match(h));
    this.heldSeen = net.held.length;
    if (taken.length === 0) throw new ScriptError('no held message matches');
    return taken;
  }

  private deliver(cmd: Command): void {
    const copies = num(cmd, 'copies', 1);
    for (const h of this.take(cmd)) {
      if (!this.sim.network.deliverable(h.from, h.to)) {
        this.out.push(`lost (partition): ${describe(h)}`);
        continue;
      }
      if (!this.sim.network.reaches(h)) {
        this.out.push(`lost (${h.to} crashed since it was sent): ${describe(h)}`);
        continue;
      }
      this.out.push(`delivered${copies > 1 ? ` ×${copies}` : ''}: ${describe(h)}`);
      for (let i = 0; i < copies; i++) h.deliver();
    }
  }

  private drop(cmd: Command): void {
    for (const h of this.take(cmd)) this.out.push(`dropped: ${describe(h)}`);
  }

  /** Delivers everything held, and what that sends, until the network is quiet. */
  private async settle(cmd: Command): Promise<void> {
    const rounds = num(cmd, 'rounds', 20);
    for (let i = 0; i < rounds && this.sim.network.held.length > 0; i++) {
      this.reportSent();
      this.deliver({ ...cmd, kv: new Map() });
      await runFor(this.sim, SETTLE_MS);
    }
  }

  private partition(cmd: Command): void {
    const groups: string[][] = [[]];
    for (const a of cmd.args) {
      if (a === '|') groups.push([]);
      else groups[groups.length - 1]!.push(a);
    }
    this.sim.network.partition(groups);
  }

  private crash(cmd: Command): void {
    const node = str(cmd, 'node');
    this.sim.crash(this.indexOf(node));
    for (const p of this.pending) {
      if (p.node !== node || p.done) continue;
      p.done = true;
      this.out.push(`reply ${p.label}: connection lost (${node} crashed)`);
    }
  }

  private async restart(cmd: Command): Promise<void> {
    const i = this.indexOf(str(cmd, 'node'));
    this.sim.restart(i);
    await runUntil(this.sim, () => this.sim.nodes[i]!.up);
  }

  private state(cmd: Command): void {
    const key = str(cmd, 'key');
    for (const n of this.sim.nodes) {
      const s = n.runtime?.localState(key);
      this.out.push(`${n.info.nodeId}: ${s ? describeState(s) : '(down)'}`);
    }
  }

  /** Reports frames sent since the last report (they wait in the network until delivered). */
  private reportSent(): void {
    const held = this.sim.network.held;
    for (let i = this.heldSeen; i < held.length; i++) this.out.push(`sent: ${describe(held[i]!)}`);
    this.heldSeen = held.length;
  }

  private indexOf(node: string): number {
    const i = this.sim.ids.indexOf(node);
    if (i < 0) throw new ScriptError(`no node ${node}`);
    return i;
  }

  private runtimeOf(node: string): NonNullable<SimCluster['nodes'][number]['runtime']> {
    const r = this.sim.nodes[this.indexOf(node)]!.runtime;
    if (!r) throw new ScriptError(`${node} is down`);
    return r;
  }
}

function str(cmd: Command, name: string): string {
  const v = cmd.kv.get(name);
  if (v === undefined) throw new ScriptError(`${cmd.name} needs ${name}=`);
  return v;
}

function num(cmd: Command, name: string, dflt: number): number {
  const v = cmd.kv.get(name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new ScriptError(`${name}= takes a number`);
  return n;
}

function consistency(v: string | undefined): Consistency | undefined {
  if (v === undefined) return undefined;
  return /^\d+$/.test(v) ? Number(v) : (v as Consistency);
}

function opt<K extends string, V>(name: K, v: V | undefined): Partial<Record<K, V>> {
  return v === undefined ? {} : ({ [name]: v } as Record<K, V>);
}

/** The message's kind and key, as a reader needs them (whatever else it carries). */
function typeOf(h: HeldFrame): string {
  const wire = decodeWireMessage(h.frame.subarray(4));
  const msg = (wire.kind === 'envelope' ? wire.envelope.msg : {}) as Record<string, unknown>;
  return String(msg['type'] ?? msg['kind'] ?? wire.kind);
}

function describe(h: HeldFrame): string {
  const wire = decodeWireMessage(h.frame.subarray(4));
  const msg = (wire.kind === 'envelope' ? wire.envelope.msg : {}) as Record<string, unknown>;
  const op = msg['op'] as Record<string, unknown> | undefined;
  const reply = msg['reply'] as Record<string, unknown> | undefined;
  const key = msg['key'] ?? op?.['key'];
  const outcome = reply ? ` ${reply['ok'] === true ? 'ok' : String(reply['error'])}` : '';
  return `${h.from}→${h.to} ${typeOf(h)}${key !== undefined ? ` ${String(key)}` : ''}${outcome}`;
}

function ctx(c: CausalContext): string {
  const entries = c.clock.map((e) => `${e.node}:${e.counter}`);
  const cloud = c.cloud.map((d) => `+${d.node}:${d.counter}`);
  return `{${[...entries, ...cloud].join(',')}}`;
}

function describeState(s: KeyState): string {
  if (s.siblings.length === 0) return '(nothing)';
  const versions = s.siblings.map((v) => `${v.value === null ? '(deleted)' : fromUtf8(v.value)}@${v.dot.node}:${v.dot.counter}`);
  return `${versions.join(' | ')} ctx=${ctx(s.context)}`;
}
