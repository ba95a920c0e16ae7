/**
 * The security cost bench's arithmetic: each mode's cost is paired with plain within a round (a
 * round measured under heavy load does not make a mode look cheap or dear), then the median over
 * rounds; throughput and CPU per operation alike.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseClusterArgs, summarize } from '../../bench/security-cluster.js';
import type { ClusterRow } from '../../bench/security-cluster.js';

function row(mode: ClusterRow['mode'], round: number, opsPerSec: number, cpuUsPerOp: number): ClusterRow {
  return { mode, round, phase: 'put', opsPerSec, cpuUsPerOp, requestsPerSec: opsPerSec, errors: 0, p50Ms: 1, p99Ms: 2, p999Ms: 3 };
}

describe('security-cluster summary', () => {
  it('pairs each mode with plain of the same round and takes the median over rounds', () => {
    // Round 2 ran on a loaded machine: everything halved. Paired, TLS costs 20% in every round.
    const rows = [
      row('plain', 1, 1000, 500), row('tls', 1, 800, 600), row('secure', 1, 700, 650),
      row('plain', 2, 500, 1000), row('tls', 2, 400, 1200), row('secure', 2, 350, 1300),
      row('plain', 3, 900, 500), row('tls', 3, 720, 600), row('secure', 3, 540, 700),
    ];
    const put = summarize(rows).filter((s) => s.phase === 'put');
    const tls = put.find((s) => s.mode === 'tls')!;
    assert.equal(tls.costPct, 20);
    assert.equal(tls.cpuCostPct, 20);
    assert.equal(tls.opsPerSec, 720);
    const secure = put.find((s) => s.mode === 'secure')!;
    assert.equal(secure.costPct, 30); // 30%, 30%, 40%: the median
    assert.equal(secure.cpuCostPct, 30); // +30%, +30%, +40%
    assert.equal(put.find((s) => s.mode === 'plain')!.costPct, 0);
  });

  it('reads its flags and refuses a bad one', () => {
    assert.deepEqual(parseClusterArgs(['security-cluster', '--seconds', '4', '--rounds', '1']), { seconds: 4, rounds: 1, records: 5000, connections: 48 });
    assert.throws(() => parseClusterArgs(['--rounds', 'x']), /--rounds must be a positive number/);
  });
});
