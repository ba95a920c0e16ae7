/**
 * Scenario tests: each file in testdata/ scripts a simulated cluster (start nodes, client
 * put/get/del with R and W, deliver/drop messages, partition, tick, crash/restart) and records
 * the exact outcome under each command. `UPDATE=1 node --import tsx --test test/scenarios/scenarios.test.ts`
 * rewrites the outcomes; review the diff like code.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runScript } from './datadriven.js';
import { ScenarioCluster } from './harness.js';

const dir = fileURLToPath(new URL('./testdata/', import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();

describe('scenarios', () => {
  it('there are at least a dozen', () => {
    assert.ok(files.length >= 12, `${files.length} scenario files`);
  });

  for (const file of files) {
    it(file.replace(/\.txt$/, ''), async () => {
      const cluster = new ScenarioCluster();
      const mismatches = await runScript(dir + file, (cmd) => cluster.run(cmd));
      const report = mismatches.map((m) =>
        `${file}:${m.command.lineNo}: ${m.command.line}\n--- expected\n${m.expected}\n--- actual\n${m.actual}`);
      assert.deepEqual(report, [], `outputs differ (UPDATE=1 rewrites them):\n${report.join('\n\n')}`);
    });
  }
});
