/**
 * `npm run bench -- [suite...]`: runs the named benchmark suites (all when none is named).
 * Each prints a table, writes JSON to bench/results/<suite>.json, and compares against a
 * reference system run on this machine in the same run where the suite has one.
 */
type Suite = () => Promise<unknown>;

const suites: Record<string, Suite> = {
  ring: async () => (await import('./ring.js')).runRingBench(),
  sim: async () => (await import('./sim.js')).runSimBench(),
  codec: async () => (await import('./codec.js')).runCodecBench(),
  storage: async () => {
    await (await import('./storage.js')).runStorageBench();
    await (await import('./storage-sustained.js')).runSustainedStorageBench();
  },
  'storage-sustained': async () => (await import('./storage-sustained.js')).runSustainedStorageBench(),
  'http-sustained': async () => (await import('./http-sustained.js')).runSustainedHttpBench(),
  http: async () => (await import('./http.js')).runHttpBench(),
  ratelimit: async () => (await import('./ratelimit.js')).runRateLimitBench(),
  ycsb: async () => (await import('./ycsb.js')).runYcsbBench(),
  resp: async () => (await import('./resp.js')).runRespBench(),
  handoff: async () => (await import('./handoff.js')).runHandoffBench(),
  antientropy: async () => (await import('./antientropy.js')).runAntiEntropyBench(),
  security: async () => (await import('./security.js')).runSecurityBench(),
  'security-cluster': async () => (await import('./security-cluster.js')).runSecurityClusterBench(process.argv.slice(2)),
  'request-path': async () => (await import('./request-path.js')).runRequestPathBench(),
  peers: async () => (await import('./peers.js')).runPeersBench(process.argv.slice(2)),
};

async function main(): Promise<void> {
  // Suite names; a flag's value (`--minutes 1`) is not one: suites read their own flags.
  const args = process.argv.slice(2);
  const names = args.filter((a, i) => !a.startsWith('-') && !(i > 0 && args[i - 1]!.startsWith('--') && !args[i - 1]!.includes('=') && !(a in suites)));
  for (const name of names) {
    if (!(name in suites)) {
      console.error(`gossamer bench: unknown suite "${name}" (known: ${Object.keys(suites).join(', ')})`);
      process.exit(2);
    }
  }
  for (const name of names.length > 0 ? names : Object.keys(suites)) {
    console.log(`\n=== bench: ${name} ===`);
    await suites[name]!();
  }
}

await main();
