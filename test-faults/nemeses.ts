/**
 * The nemeses of the separate-hosts suite. Each one breaks something at `start`, for a bounded
 * time, and `heal` undoes it; the cluster is then whole again (every node running, no rule in
 * the bridge's table). Partitions and loss are nftables rules on the bridge (netns.ts); latency is
 * the transport's own delay hook (`GOSSAMER_TEST_DELAY_MS`, set for one node's next start); clock
 * skew is libfaketime preloaded into one node.
 */
import { rmSync } from 'node:fs';
import type { FaultCluster } from './fault-cluster.js';
import type { NetHosts } from './netns.js';
import { libfaketime } from './netns.js';

export interface NemesisContext {
  cluster: FaultCluster;
  net: NetHosts;
  rand: () => number;
  note(s: string): void;
}

export interface Nemesis {
  name: string;
  /** What it does, for the report. */
  what: string;
  /** Why it cannot run here, if it cannot (the suite says so and skips it). */
  unavailable?: () => string | undefined;
  /**
   * Whether strict quorum's promise holds through it. Not through a wiped data directory: a
   * replica that forgot its acknowledged copies breaks the overlap R+W>N relies on until repaired.
   */
  strictHolds: boolean;
  start(ctx: NemesisContext): Promise<void>;
  heal(ctx: NemesisContext): Promise<void>;
}

const shuffled = (n: number, rand: () => number): number[] => {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
};

/** Restarts node `i` gracefully (SIGTERM) with `env` for its next run only, and waits until it serves. */
async function restartWith(ctx: NemesisContext, i: number, env: Record<string, string>): Promise<void> {
  const { cluster } = ctx;
  if (cluster.nodes[i]!.running) await cluster.stop(i, 'SIGTERM');
  cluster.nodes[i]!.nextEnv = env;
  cluster.start(i);
  await cluster.waitHealthy(i);
}

/** Nemeses that pick victims remember them between start and heal. */
function withVictims(make: (victims: number[]) => Pick<Nemesis, 'start' | 'heal'>, count: number): Pick<Nemesis, 'start' | 'heal'> {
  let current: Pick<Nemesis, 'start' | 'heal'> | undefined;
  return {
    start: async (ctx) => {
      current = make(shuffled(ctx.cluster.nodes.length, ctx.rand).slice(0, count));
      await current.start(ctx);
    },
    heal: async (ctx) => { await current?.heal(ctx); },
  };
}

const partition = (name: string, what: string, sidesOf: (order: number[]) => { blocked?: [number, number][]; sides?: number[][] }): Nemesis => ({
  name, what, strictHolds: true,
  start: async (ctx) => {
    const plan = sidesOf(shuffled(ctx.cluster.nodes.length, ctx.rand));
    if (plan.sides) {
      ctx.net.partition(plan.sides);
      ctx.note(`${name}: ${plan.sides.map((s) => s.map((i) => `n${i}`).join('+')).join(' | ')}`);
    } else {
      ctx.net.block(plan.blocked ?? []);
      ctx.note(`${name}: cut ${(plan.blocked ?? []).map(([a, b]) => `n${a}-n${b}`).join(' ')}`);
    }
  },
  heal: async (ctx) => {
    ctx.net.heal();
    ctx.note(`${name}: healed`);
  },
});

export const LOSS_PERCENT = 25;
export const DELAY_MS = 150;
export const SKEW = '+30s';

export const NEMESES: Nemesis[] = [
  {
    name: 'kill', what: 'SIGKILL two nodes, restart them on the same data', strictHolds: true,
    ...withVictims((v) => ({
      start: async (ctx) => { for (const i of v) { await ctx.cluster.stop(i, 'SIGKILL'); ctx.note(`SIGKILL n${i}`); } },
      heal: async (ctx) => { for (const i of v) { ctx.cluster.start(i); ctx.note(`restart n${i}`); } },
    }), 2),
  },
  {
    name: 'pause', what: 'SIGSTOP two nodes, then SIGCONT', strictHolds: true,
    ...withVictims((v) => ({
      start: async (ctx) => { for (const i of v) { ctx.cluster.pause(i); ctx.note(`SIGSTOP n${i}`); } },
      heal: async (ctx) => { for (const i of v) { ctx.cluster.resume(i); ctx.note(`SIGCONT n${i}`); } },
    }), 2),
  },
  partition('halves', 'a partition into random halves (2 | 3)', (o) => ({ sides: [o.slice(0, 2), o.slice(2)] })),
  partition('isolate', 'one node isolated from the other four', (o) => ({ sides: [o.slice(0, 1), o.slice(1)] })),
  partition('bridge', 'two halves that one bridge node sees both of (2 | 1 | 2, the middle one reaching all)', (o) => {
    const blocked: [number, number][] = [];
    for (const a of o.slice(0, 2)) for (const b of o.slice(3)) blocked.push([a, b]);
    return { blocked };
  }),
  partition('ring', 'a ring: each node reaches only its two neighbours', (o) => {
    const blocked: [number, number][] = [];
    const n = o.length;
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) if (j - i !== 1 && !(i === 0 && j === n - 1)) blocked.push([o[i]!, o[j]!]);
    }
    return { blocked };
  }),
  {
    name: 'loss', what: `random loss of ${LOSS_PERCENT}% of the frames between nodes (nft numgen)`, strictHolds: true,
    start: async (ctx) => { ctx.net.loss(LOSS_PERCENT); ctx.note(`loss ${LOSS_PERCENT}%`); },
    heal: async (ctx) => { ctx.net.heal(); ctx.note('loss healed'); },
  },
  {
    name: 'wipe', what: 'SIGKILL a node, delete its data directory, restart it empty (anti-entropy and hints refill it)', strictHolds: false,
    ...withVictims(([v]) => ({
      start: async (ctx) => {
        const n = ctx.cluster.nodes[v!]!;
        await ctx.cluster.stop(v!, 'SIGKILL');
        rmSync(n.dataDir, { recursive: true, force: true });
        ctx.cluster.start(v!);
        ctx.note(`wiped n${v} (SIGKILL, rm -rf, restart)`);
      },
      heal: async () => {},
    }), 1),
  },
  {
    name: 'skew', what: `one node's clock ${SKEW} (libfaketime preloaded)`, strictHolds: true,
    unavailable: () => (libfaketime() ? undefined : 'libfaketime is not installed (apt-get install faketime)'),
    ...withVictims(([v]) => ({
      start: async (ctx) => {
        await restartWith(ctx, v!, { LD_PRELOAD: libfaketime()!, FAKETIME: SKEW, FAKETIME_DONT_RESET: '1' });
        ctx.note(`n${v} restarted with its clock ${SKEW}`);
      },
      heal: async (ctx) => { await restartWith(ctx, v!, {}); ctx.note(`n${v} restarted on the true clock`); },
    }), 1),
  },
  {
    name: 'latency', what: `${DELAY_MS} ms added to every frame one node sends its peers (transport fault hook)`, strictHolds: true,
    ...withVictims(([v]) => ({
      start: async (ctx) => {
        await restartWith(ctx, v!, { GOSSAMER_TEST_DELAY_MS: String(DELAY_MS) });
        ctx.note(`n${v} restarted with ${DELAY_MS} ms on every outgoing frame`);
      },
      heal: async (ctx) => { await restartWith(ctx, v!, {}); ctx.note(`n${v} restarted without delay`); },
    }), 1),
  },
];
