/** The progress bar and terminal styling: drawn only where a person watches, plain everywhere else. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createProgress, formatDuration } from '../../src/cli/progress.js';
import { colorEnabled, createStyle, table, visibleLength } from '../../src/cli/style.js';

function stream(isTTY: boolean): { isTTY: boolean; out: string[]; write(s: string): void } {
  const out: string[] = [];
  return { isTTY, out, write: (s: string) => { out.push(s); } };
}

describe('progress bar', () => {
  it('on a TTY redraws one line in place, throttled, and ends it on stop', () => {
    let t = 0;
    const s = stream(true);
    const bar = createProgress({ total: 100, label: 'load', stream: s, now: () => t, intervalMs: 100 });
    for (let i = 0; i < 50; i++) { t += 10; bar.tick(); }
    assert.ok(s.out.length >= 4 && s.out.length <= 6, `about one draw per 100 ms, got ${s.out.length}`);
    assert.ok(s.out.every((l) => l.startsWith('\r')), 'redrawn in place');
    assert.match(s.out.at(-1)!, /^\rload .* +\d+% \d+\/100 \d+\/s ETA/);
    t += 10;
    bar.update(100);
    bar.stop();
    assert.match(s.out.at(-1)!, /100% 100\/100 .*\n$/);
    const drawn = s.out.length;
    bar.tick();
    assert.equal(s.out.length, drawn, 'nothing after stop');
    assert.equal(bar.state().done, 101);
  });

  it('off a TTY it is silent unless asked for plain lines', () => {
    let t = 0;
    const quiet = stream(false);
    const a = createProgress({ total: 10, label: 'x', stream: quiet, now: () => t });
    for (let i = 0; i < 10; i++) { t += 100; a.tick(); }
    a.stop();
    assert.deepEqual(quiet.out, []);
    const plain = stream(false);
    const b = createProgress({ total: 10, label: 'x', stream: plain, now: () => t, enabled: true, plainEveryMs: 300 });
    for (let i = 0; i < 10; i++) { t += 100; b.tick(); }
    b.stop();
    assert.ok(plain.out.length >= 3 && plain.out.length <= 5, `${plain.out.length} lines`);
    assert.ok(plain.out.every((l) => !l.includes('\r') && !l.includes('\u001b')), 'no control characters off a TTY');
  });

  it('rate and ETA from elapsed time', () => {
    let t = 0;
    const s = stream(true);
    const bar = createProgress({ total: 1000, label: 'run', stream: s, now: () => t, intervalMs: 0 });
    t = 2000;
    bar.update(500);
    assert.equal(Math.round(bar.state().ratePerSec), 250);
    assert.match(s.out.at(-1)!, /250\/s ETA 2s/);
    assert.equal(formatDuration(125_000), '2m05s');
  });
});

describe('terminal style', () => {
  it('colour only on a TTY and never with NO_COLOR', () => {
    assert.equal(colorEnabled({ isTTY: true }, {}), true);
    assert.equal(colorEnabled({ isTTY: false }, {}), false);
    assert.equal(colorEnabled({ isTTY: true }, { NO_COLOR: '1' }), false);
    assert.equal(colorEnabled({ isTTY: true }, { NO_COLOR: '' }), true, 'an empty NO_COLOR does not count (no-color.org)');
    assert.equal(colorEnabled({ isTTY: true }, { TERM: 'dumb' }), false);
  });

  it('states in their colours; tables align on what is visible', () => {
    const on = createStyle(true);
    assert.equal(on.state('alive'), '\u001b[32malive\u001b[0m');
    assert.equal(on.state('faulty'), '\u001b[31mfaulty\u001b[0m');
    assert.equal(createStyle(false).state('alive'), 'alive');
    const t = table([['A', 'B'], [on.state('suspect'), 'x'], ['longer', 'y']]).split('\n');
    assert.equal(visibleLength(t[1]!), visibleLength(t[2]!), 'colour codes take no columns');
  });
});
