/**
 * Summarises a V8 CPU profile (`node --cpu-prof`): self time by function and by file, the top
 * entries first. Used to find what the request path spends its time on (docs/benchmarks.md).
 *
 *   node --import tsx bench/profile-summary.ts <file.cpuprofile> [top=40]
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

export function summarise(profile: Profile, top = 40): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i]!, (self.get(profile.samples[i]!) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const total = [...self.values()].reduce((s, x) => s + x, 0);
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const url = n.callFrame.url.replace(/^file:\/\//, '').replace(/.*\/(node_modules\/)/, '$1').replace(/.*\/(src|bench|dist)\//, '$1/');
    const name = `${n.callFrame.functionName || '(anonymous)'} ${url}:${n.callFrame.lineNumber + 1}`;
    fn.set(name, (fn.get(name) ?? 0) + us);
    const f = url === '' ? `(${n.callFrame.functionName})` : url;
    file.set(f, (file.get(f) ?? 0) + us);
  }
  // Inclusive time: a node's self time plus its subtree's, summed per function (a recursive
  // function counts once per call chain: at its outermost frame).
  const incl = new Map<string, number>();
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
  for (const [id, us] of self) {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parentOf.get(cur)) {
      const n = byId.get(cur)!;
      const url = n.callFrame.url.replace(/^file:\/\//, '').replace(/.*\/(node_modules\/)/, '$1').replace(/.*\/(src|bench|dist)\//, '$1/');
      const name = `${n.callFrame.functionName || '(anonymous)'} ${url}:${n.callFrame.lineNumber + 1}`;
      if (seen.has(name)) continue;
      seen.add(name);
      incl.set(name, (incl.get(name) ?? 0) + us);
    }
  }
  const fmt = (m: Map<string, number>): string[] => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([k, us]) => `${((us / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
  return [`total ${(total / 1e6).toFixed(2)} s sampled`, '', 'self time by function:', ...fmt(fn), '', 'self time by file:', ...fmt(file), '', 'inclusive time (src/ functions):', ...fmt(new Map([...incl].filter(([k]) => / src\//.test(k))))].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [path, top] = process.argv.slice(2);
  if (!path) { console.error('usage: profile-summary.ts <file.cpuprofile> [top]'); process.exit(2); }
  console.log(summarise(JSON.parse(readFileSync(path, 'utf8')) as Profile, Number(top ?? 40)));
}
