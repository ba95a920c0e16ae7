/**
 * Ring balance and movement: Gossamer's Q-partition claim (Dynamo strategy 3) against classic
 * consistent hashing with T random tokens per node (Dynamo strategy 1), on the same member sets.
 * Everything is deterministic (no randomness but the seeded PRNG of the classic scheme), so the
 * figures are exactly reproducible.
 *
 *   node --import tsx bench/ring.ts        (or: npm run bench -- ring)
 *
 * Prints tables and writes bench/results/ring.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { utf8 } from '../src/core/bytes.js';
import {
  createRing, keyHash, loadStats, movedPartitions, movedReplicas, ownership, rebalance,
} from '../src/core/ring/index.js';
import type { RingMember } from '../src/core/ring/index.js';
import {
  classicLoadStats, classicMovedFraction, classicOwnership, classicRing,
} from '../src/core/ring/classic.js';

const Q = 1024;
const N = 3;
const NODE_COUNTS = [3, 10, 100] as const;
const TOKENS = [8, 64, 256] as const;
const CLASSIC_SEEDS = Array.from({ length: 10 }, (_, i) => i + 1);

const nodeId = (i: number): string => `node-${String(i).padStart(3, '0')}`;
const members = (n: number, weight: (i: number) => number = () => 1): RingMember[] =>
  Array.from({ length: n }, (_, i) => ({ nodeId: nodeId(i), dc: 'dc1', rack: 'rack1', weight: weight(i) }));

export interface PartitionRow {
  nodes: number;
  partitionCount: number;
  maxOverMean: number;
  minOverMean: number;
  replicaMaxOverMean: number;
  createMs: number;
  join: { moved: number; ideal: number; ratio: number; replicasMoved: number; replicasIdeal: number; rebalanceMs: number };
  /** Mean over every choice of leaving node (a sample of 20 at 100 nodes), and the worst. */
  leave: { moved: number; ideal: number; ratio: number; worstRatio: number; leavers: number };
}

export interface ClassicRow {
  nodes: number;
  tokensPerNode: number;
  /** Means over CLASSIC_SEEDS, and the worst seed. */
  maxOverMean: number;
  worstMaxOverMean: number;
  minOverMean: number;
  join: { moved: number; ideal: number; ratio: number; worstRatio: number };
  leave: { moved: number; ideal: number; ratio: number; worstRatio: number };
}

export interface WeightRow { nodeId: string; weight: number; share: number; ownership: number; ratio: number }

function partitionRow(n: number, q: number): PartitionRow {
  const ms = members(n);
  let t = performance.now();
  const ring = createRing(ms, { partitionCount: q, n: N });
  const createMs = performance.now() - t;
  const s = loadStats(ring);

  t = performance.now();
  const joined = rebalance(ring, [...ms, { nodeId: 'joiner', dc: 'dc1', rack: 'rack1', weight: 1 }]);
  const rebalanceMs = performance.now() - t;
  const joinMoved = movedPartitions(ring, joined) / q;
  const joinIdeal = 1 / (n + 1);
  const replicasMoved = movedReplicas(ring, joined) / (q * Math.min(N, n + 1));
  // The joiner should end up holding its share of the replica slots: 1/(n+1) of them.
  const replicasIdeal = 1 / (n + 1);

  const leavers = n <= 10 ? ms : ms.filter((_, i) => i % 5 === 0);
  let sum = 0;
  let worst = 1;
  for (const leaver of leavers) {
    const left = rebalance(ring, ms.filter((m) => m !== leaver));
    const moved = movedPartitions(ring, left) / q;
    sum += moved;
    const r = moved * n;
    if (Math.abs(r - 1) > Math.abs(worst - 1)) worst = r;
  }
  const leaveMoved = sum / leavers.length;
  return {
    nodes: n, partitionCount: q, maxOverMean: s.maxOverMean, minOverMean: s.minOverMean,
    replicaMaxOverMean: s.replicaMaxOverMean, createMs,
    join: { moved: joinMoved, ideal: joinIdeal, ratio: joinMoved / joinIdeal, replicasMoved, replicasIdeal, rebalanceMs },
    leave: { moved: leaveMoved, ideal: 1 / n, ratio: leaveMoved * n, worstRatio: worst, leavers: leavers.length },
  };
}

function classicRow(n: number, tokens: number): ClassicRow {
  const ids = members(n).map((m) => m.nodeId);
  let max = 0;
  let worstMax = 0;
  let min = 0;
  let join = 0;
  let joinWorst = 1;
  let leave = 0;
  let leaveWorst = 1;
  for (const seed of CLASSIC_SEEDS) {
    const ring = classicRing(ids, tokens, seed);
    const s = classicLoadStats(ring);
    max += s.maxOverMean;
    min += s.minOverMean;
    worstMax = Math.max(worstMax, s.maxOverMean);
    const j = classicMovedFraction(ring, classicRing([...ids, 'joiner'], tokens, seed)) * (n + 1);
    join += j;
    if (Math.abs(j - 1) > Math.abs(joinWorst - 1)) joinWorst = j;
    // The leaver: the last node (any fixed choice; seeds vary the tokens).
    const l = classicMovedFraction(ring, classicRing(ids.slice(0, -1), tokens, seed)) * n;
    leave += l;
    if (Math.abs(l - 1) > Math.abs(leaveWorst - 1)) leaveWorst = l;
  }
  const k = CLASSIC_SEEDS.length;
  return {
    nodes: n, tokensPerNode: tokens, maxOverMean: max / k, worstMaxOverMean: worstMax, minOverMean: min / k,
    join: { moved: join / k / (n + 1), ideal: 1 / (n + 1), ratio: join / k, worstRatio: joinWorst },
    leave: { moved: leave / k / n, ideal: 1 / n, ratio: leave / k, worstRatio: leaveWorst },
  };
}

function weightRows(): { rows: WeightRow[]; classicWeighted: WeightRow[] } {
  const weight = (i: number): number => 1 + (i % 4);
  const ms = members(10, weight);
  const total = ms.reduce((s, m) => s + m.weight, 0);
  const own = ownership(createRing(ms, { partitionCount: Q, n: N }));
  const rows = ms.map((m) => {
    const share = m.weight / total;
    return { nodeId: m.nodeId, weight: m.weight, share, ownership: own.get(m.nodeId)!, ratio: own.get(m.nodeId)! / share };
  });
  // Classic with weights: tokens proportional to weight (64 per unit), seed 1.
  const tokensFor = ms.map((m) => ({ id: m.nodeId, t: 64 * m.weight }));
  const parts = tokensFor.map(({ id, t }) => classicRing([id], t, 1));
  const merged = {
    tokens: [] as number[], tokenOwners: [] as string[], nodes: ms.map((m) => m.nodeId),
  };
  const all = parts.flatMap((p) => p.tokens.map((t, i) => ({ t, id: p.tokenOwners[i]! }))).sort((a, b) => a.t - b.t);
  merged.tokens = all.map((x) => x.t);
  merged.tokenOwners = all.map((x) => x.id);
  const cown = classicOwnership(merged);
  const classicWeighted = ms.map((m) => {
    const share = m.weight / total;
    return { nodeId: m.nodeId, weight: m.weight, share, ownership: cown.get(m.nodeId)!, ratio: cown.get(m.nodeId)! / share };
  });
  return { rows, classicWeighted };
}

/** Written by the hash loop so the JIT cannot drop it. */
export let hashSink = 0;

function hashRate(): number {
  const keys = Array.from({ length: 10_000 }, (_, i) => utf8(`user:${i}:profile`));
  let x = 0;
  for (let i = 0; i < 20; i++) for (const k of keys) x ^= keyHash(k); // warm-up
  const start = performance.now();
  let ops = 0;
  while (performance.now() - start < 300) {
    for (const k of keys) x ^= keyHash(k);
    ops += keys.length;
  }
  hashSink = x;
  return ops / ((performance.now() - start) / 1000);
}

const f = (x: number, d = 3): string => x.toFixed(d);
const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;

export async function runRingBench(): Promise<void> {
  const partitionRows = [...NODE_COUNTS.map((n) => partitionRow(n, Q)), partitionRow(100, 4096)];
  console.log(`\nQ-partition claim (Q=${Q} unless noted, N=${N}, equal weights; leave = mean over leavers)`);
  console.table(partitionRows.map((r) => ({
    nodes: r.partitionCount === Q ? r.nodes : `${r.nodes} (Q=${r.partitionCount})`,
    'max/mean': f(r.maxOverMean, 4),
    'min/mean': f(r.minOverMean, 4),
    'replica max/mean': f(r.replicaMaxOverMean),
    'join moved': pct(r.join.moved),
    'join ideal 1/(n+1)': pct(r.join.ideal),
    'join ratio': f(r.join.ratio),
    'join replicas moved': pct(r.join.replicasMoved),
    'join replicas ratio': f(r.join.replicasMoved / r.join.replicasIdeal),
    'leave moved': pct(r.leave.moved),
    'leave ideal 1/n': pct(r.leave.ideal),
    'leave ratio': f(r.leave.ratio),
    'leave worst ratio': f(r.leave.worstRatio),
    'create ms': f(r.createMs, 1),
    'join ms': f(r.join.rebalanceMs, 1),
  })));

  const classicRows = NODE_COUNTS.flatMap((n) => TOKENS.map((t) => classicRow(n, t)));
  console.log(`\nClassic consistent hashing: T random tokens per node (key-space fractions; mean over ${CLASSIC_SEEDS.length} seeds, worst seed)`);
  console.table(classicRows.map((r) => ({
    nodes: r.nodes,
    tokens: r.tokensPerNode,
    'max/mean': f(r.maxOverMean),
    'worst max/mean': f(r.worstMaxOverMean),
    'min/mean': f(r.minOverMean),
    'join moved': pct(r.join.moved),
    'join ideal': pct(r.join.ideal),
    'join ratio': f(r.join.ratio),
    'join worst ratio': f(r.join.worstRatio),
    'leave moved': pct(r.leave.moved),
    'leave ideal': pct(r.leave.ideal),
    'leave ratio': f(r.leave.ratio),
    'leave worst ratio': f(r.leave.worstRatio),
  })));

  const w = weightRows();
  console.log(`\nWeights 1–4 at 10 nodes (Q=${Q}): ownership vs weight share; classic = 64 tokens per weight unit, seed 1`);
  console.table(w.rows.map((r, i) => ({
    node: r.nodeId,
    weight: r.weight,
    share: pct(r.share),
    ownership: pct(r.ownership),
    ratio: f(r.ratio),
    'classic ownership': pct(w.classicWeighted[i]!.ownership),
    'classic ratio': f(w.classicWeighted[i]!.ratio),
  })));
  const worstWeight = Math.max(...w.rows.map((r) => Math.abs(r.ratio - 1)));

  const hashesPerSec = hashRate();
  console.log(`\nkeyHash (MurmurHash3 x86_32) on 17–22 byte keys: ${(hashesPerSec / 1e6).toFixed(1)} M hashes/s`);

  const ten = partitionRows.find((r) => r.nodes === 10 && r.partitionCount === Q)!;
  const goals = {
    'max/mean ≤ 1.05 at 10 nodes': ten.maxOverMean <= 1.05,
    'join within 5% of ideal (3, 10, 100 nodes)': partitionRows.filter((r) => r.partitionCount === Q).every((r) => Math.abs(r.join.ratio - 1) <= 0.05),
    'leave within 5% of ideal (mean, 3, 10, 100 nodes)': partitionRows.filter((r) => r.partitionCount === Q).every((r) => Math.abs(r.leave.ratio - 1) <= 0.05),
    'leave within 5% of ideal (worst leaver, 3, 10, 100 nodes)': partitionRows.filter((r) => r.partitionCount === Q).every((r) => Math.abs(r.leave.worstRatio - 1) <= 0.05),
    'weights 1–4 within ±3% of share': worstWeight <= 0.03,
  };
  console.log('\nGoals:');
  for (const [goal, met] of Object.entries(goals)) console.log(`  ${met ? 'met   ' : 'MISSED'}  ${goal}`);

  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'ring.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({
    command: 'node --import tsx bench/ring.ts',
    partitionCount: Q, n: N,
    partitionScheme: partitionRows,
    classic: { seeds: CLASSIC_SEEDS, rows: classicRows },
    weights: { partition: w.rows, classic64PerUnit: w.classicWeighted, worstDeviation: worstWeight },
    keyHashPerSec: hashesPerSec,
    goals,
  }, null, 2)}\n`);
  console.log(`\nwrote ${out}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runRingBench();
}
