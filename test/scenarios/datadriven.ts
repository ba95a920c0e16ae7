/**
 * A small data-driven test format (after etcd raft's testdata/*.txt with cockroachdb/datadriven):
 * a file of commands, each followed by `----` and the exact output it must produce.
 *
 *     # comments and blank lines are kept as they are
 *     put node=n0 key=k value=a w=2
 *     ----
 *     n0 → n1 replica-put k
 *
 * An output ends at the next blank line (outputs never contain one). Run with UPDATE=1 to
 * rewrite every expected output with what the commands produce now; review the diff.
 */
import { readFileSync, writeFileSync } from 'node:fs';

export interface Command {
  /** The command's first word. */
  name: string;
  /** Words without `=`, in order (e.g. `partition n0 | n1 n2` → ['n0', '|', 'n1', 'n2']). */
  args: string[];
  /** `key=value` words. */
  kv: Map<string, string>;
  /** The whole line, and where it is in the file (1-based). */
  line: string;
  lineNo: number;
}

type Segment = { kind: 'text'; lines: string[] } | { kind: 'case'; command: Command; expected: string[] };

export class ScriptError extends Error {}

export function parseCommand(line: string, lineNo: number): Command {
  const words = line.trim().split(/\s+/);
  const kv = new Map<string, string>();
  const args: string[] = [];
  for (const w of words.slice(1)) {
    const eq = w.indexOf('=');
    if (eq > 0) kv.set(w.slice(0, eq), w.slice(eq + 1));
    else args.push(w);
  }
  return { name: words[0]!, args, kv, line: line.trim(), lineNo };
}

function parse(text: string, file: string): Segment[] {
  const lines = text.replace(/\n$/, '').split('\n');
  const segments: Segment[] = [];
  let text_: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '' || line.startsWith('#')) {
      text_.push(line);
      continue;
    }
    if (lines[i + 1] !== '----') throw new ScriptError(`${file}:${i + 1}: a command must be followed by ----`);
    if (text_.length > 0) segments.push({ kind: 'text', lines: text_ });
    text_ = [];
    const command = parseCommand(line, i + 1);
    const expected: string[] = [];
    for (i += 2; i < lines.length && lines[i]!.trim() !== ''; i++) expected.push(lines[i]!);
    i--;
    segments.push({ kind: 'case', command, expected });
  }
  if (text_.length > 0) segments.push({ kind: 'text', lines: text_ });
  return segments;
}

export interface Mismatch {
  command: Command;
  expected: string;
  actual: string;
}

/**
 * Runs every command of `file` in order through `run` (which returns the output lines) and
 * compares. With `update`, rewrites the file with the actual outputs and reports no mismatch.
 */
export async function runScript(
  file: string,
  run: (command: Command) => Promise<string[]>,
  update = process.env['UPDATE'] === '1',
): Promise<Mismatch[]> {
  const segments = parse(readFileSync(file, 'utf8'), file);
  const mismatches: Mismatch[] = [];
  const out: string[] = [];
  for (const seg of segments) {
    if (seg.kind === 'text') {
      out.push(...seg.lines);
      continue;
    }
    let actual: string[];
    try {
      actual = await run(seg.command);
    } catch (err) {
      if (!(err instanceof ScriptError)) throw err;
      actual = [`script error: ${err.message}`];
    }
    if (actual.length === 0) actual = ['ok'];
    if (actual.some((l) => l.trim() === '')) throw new Error(`${file}:${seg.command.lineNo}: an output may not contain a blank line`);
    if (actual.join('\n') !== seg.expected.join('\n')) {
      mismatches.push({ command: seg.command, expected: seg.expected.join('\n'), actual: actual.join('\n') });
    }
    out.push(seg.command.line, '----', ...actual);
  }
  if (update) {
    writeFileSync(file, out.join('\n') + '\n');
    return [];
  }
  return mismatches;
}
