import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCommand, runScript } from './datadriven.js';

const SCRIPT = '# doubles a number\ndouble x=2\n----\n4\n\ndouble x=5\n----\n11\n\nsay\n----\n';
const double = async (cmd: ReturnType<typeof parseCommand>): Promise<string[]> =>
  cmd.name === 'double' ? [String(2 * Number(cmd.kv.get('x')))] : [];

describe('the data-driven script runner', () => {
  it('parses words and key=value pairs', () => {
    const c = parseCommand('partition n0 | n1 n2 heal=no', 3);
    assert.deepEqual([c.name, c.args, [...c.kv], c.lineNo], ['partition', ['n0', '|', 'n1', 'n2'], [['heal', 'no']], 3]);
  });

  it('reports each output that differs, with its command', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dd-'));
    try {
      writeFileSync(join(dir, 's.txt'), SCRIPT);
      const mismatches = await runScript(join(dir, 's.txt'), double, false);
      assert.deepEqual(mismatches.map((m) => [m.command.line, m.expected, m.actual]), [['double x=5', '11', '10'], ['say', '', 'ok']]);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('with update, rewrites the outputs and keeps comments and spacing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dd-'));
    try {
      writeFileSync(join(dir, 's.txt'), SCRIPT);
      assert.deepEqual(await runScript(join(dir, 's.txt'), double, true), []);
      assert.equal(readFileSync(join(dir, 's.txt'), 'utf8'), '# doubles a number\ndouble x=2\n----\n4\n\ndouble x=5\n----\n10\n\nsay\n----\nok\n');
      assert.deepEqual(await runScript(join(dir, 's.txt'), double, false), []);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('refuses a command without its ---- line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dd-'));
    try {
      writeFileSync(join(dir, 's.txt'), 'double x=1\n2\n');
      await assert.rejects(runScript(join(dir, 's.txt'), double, false), /s\.txt:1: a command must be followed by ----/);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
