import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RespParser, RespProtocolError } from '../../src/api/resp/parser.js';

const strs = (cmds: Buffer[][]): string[][] => cmds.map((c) => c.map((a) => a.toString('latin1')));

function multibulk(args: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a) : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

const parser = (bulkBytesMax = 1024): RespParser => new RespParser({ bulkBytesMax, commandBytesMax: 8192, argsMax: 64, inlineBytesMax: 256 });

describe('RESP parser', () => {
  it('parses pipelined multibulk commands in one chunk, in order', () => {
    const p = parser();
    const out = p.push(Buffer.concat([multibulk(['SET', 'k', 'v']), multibulk(['GET', 'k']), multibulk(['PING'])]));
    assert.deepEqual(strs(out), [['SET', 'k', 'v'], ['GET', 'k'], ['PING']]);
    assert.equal(p.bufferedBytes, 0);
  });

  it('keeps binary values intact (CRLF and NUL inside a bulk string)', () => {
    const value = Buffer.from([0, 13, 10, 255, 42, 13, 10]);
    const out = parser().push(multibulk(['SET', 'k', value]));
    assert.deepEqual(out[0]![2], value);
  });

  it('parses inline commands, with \\n or \\r\\n, quotes grouping words, blank lines ignored', () => {
    const out = parser().push(Buffer.from('PING\r\n\r\nset a "hello world"\nGET   a\r\n'));
    assert.deepEqual(strs(out), [['PING'], ['set', 'a', 'hello world'], ['GET', 'a']]);
  });

  it('any split of a byte stream yields the same commands as the whole (property)', () => {
    const arg = fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a));
    const cmd = fc.array(arg, { minLength: 1, maxLength: 5 });
    fc.assert(fc.property(fc.array(cmd, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 20 }), (cmds, cuts) => {
      const stream = Buffer.concat(cmds.map((c) => multibulk(c)));
      const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
      const p = parser();
      const got: Buffer[][] = [];
      let prev = 0;
      for (const at of [...points, stream.length]) {
        got.push(...p.push(stream.subarray(prev, at)));
        prev = at;
      }
      assert.deepEqual(got.map((c) => c.map((a) => a.toString('hex'))), cmds.map((c) => c.map((a) => a.toString('hex'))));
      assert.equal(p.bufferedBytes, 0);
    }), { numRuns: 300 });
  });

  it('a value arriving one byte at a time completes once, without reparsing the prefix on every byte', () => {
    const p = parser();
    const stream = multibulk(['SET', 'k', 'x'.repeat(500)]);
    let done: Buffer[][] = [];
    for (let i = 0; i < stream.length; i++) done = done.concat(p.push(stream.subarray(i, i + 1)));
    assert.equal(done.length, 1);
    assert.equal(done[0]![2]!.length, 500);
  });

  it('refuses a huge bulk length before buffering it', () => {
    const p = parser();
    assert.throws(() => p.push(Buffer.from('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$999999999999\r\n')), /invalid bulk length/);
    assert.throws(() => parser().push(Buffer.from('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1025\r\n')), /invalid bulk length/);
    assert.throws(() => parser().push(Buffer.from('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$99999999999999999999999')), /invalid bulk length/);
  });

  it('refuses too many arguments, too long inline lines, and commands over the byte bound', () => {
    assert.throws(() => parser().push(Buffer.from('*65\r\n')), /invalid multibulk length/);
    assert.throws(() => parser().push(Buffer.from('x'.repeat(300))), /too big inline request/);
    const p = parser();
    const big = Buffer.concat(Array.from({ length: 12 }, () => multibulk(['SET', 'k', 'v'.repeat(1000)])).map((b) => b.subarray(4)));
    assert.throws(() => p.push(Buffer.concat([Buffer.from('*40\r\n'), big])), RespProtocolError);
  });

  it('refuses malformed frames with Redis-style messages', () => {
    const cases: [string, RegExp][] = [
      ['*2\r\n+GET\r\n', /expected '\$', got '\+'/],
      ['*x\r\n', /invalid multibulk length/],
      ['*1\r\n$-5\r\n', /invalid bulk length/],
      ['*1\r\n$3\r\nGETXY', /not terminated by CRLF/],
      ['*1\r\n$3\rX', /invalid bulk length/],
      ['set a "unbalanced\r\n', /unbalanced quotes/],
    ];
    for (const [input, re] of cases) {
      assert.throws(() => parser().push(Buffer.from(input)), (e: unknown) => e instanceof RespProtocolError && re.test(e.message), input);
    }
  });

  it('random bytes either parse or fail with a protocol error, never anything else (fuzz)', () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), (chunks) => {
      const p = parser();
      try {
        for (const c of chunks) p.push(Buffer.from(c));
      } catch (e) {
        assert.ok(e instanceof RespProtocolError, String(e));
      }
    }), { numRuns: 2000 });
  });
});
