/** Structured logs: one parseable JSON object per event, levels honoured, format chosen by TTY or env. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { JsonLogger, createLogger } from '../../src/adapters/json-logger.js';
import { ConsoleLogger } from '../../src/adapters/console-logger.js';

describe('JSON logger', () => {
  it('writes one JSON object per line with time, level, msg first, then base fields and event fields', () => {
    const lines: string[] = [];
    const log = new JsonLogger({ level: 'info', base: { nodeId: 'n1' }, write: (l) => lines.push(l), now: () => new Date(0) });
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    log.debug('hidden');
    log.info('ring ready', { members: 3, msg: 'not the message', big: 10n, err: new Error('boom'), cyclic, text: 'two\nlines' });
    log.error('bad');
    assert.equal(lines.length, 2, 'debug is below info');
    for (const l of lines) assert.ok(!l.includes('\n'), 'one line per event');
    const e = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.deepEqual(Object.keys(e).slice(0, 4), ['time', 'level', 'msg', 'nodeId']);
    assert.equal(e.time, '1970-01-01T00:00:00.000Z');
    assert.equal(e.level, 'info');
    assert.equal(e.msg, 'ring ready', 'a field cannot replace the message');
    assert.equal(e.members, 3);
    assert.equal(e.big, '10');
    assert.equal((e.err as { message: string }).message, 'boom');
    assert.equal((e.cyclic as { self: string }).self, '[circular]');
    assert.equal(e.text, 'two\nlines');
    assert.equal((JSON.parse(lines[1]!) as { level: string }).level, 'error');
  });

  it('silent logs nothing', () => {
    const lines: string[] = [];
    const log = new JsonLogger({ level: 'silent', write: (l) => lines.push(l) });
    log.error('x');
    assert.equal(lines.length, 0);
  });

  it('JSON off a terminal, text on one, GOSSAMER_LOG_FORMAT decides when set', () => {
    assert.ok(createLogger({ env: {}, stderrIsTty: false }) instanceof JsonLogger);
    assert.ok(createLogger({ env: {}, stderrIsTty: true }) instanceof ConsoleLogger);
    assert.ok(createLogger({ env: { GOSSAMER_LOG_FORMAT: 'json' }, stderrIsTty: true }) instanceof JsonLogger);
    assert.ok(createLogger({ env: { GOSSAMER_LOG_FORMAT: 'text' }, stderrIsTty: false }) instanceof ConsoleLogger);
  });
});
