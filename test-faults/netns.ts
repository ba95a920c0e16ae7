/**
 * The fault suite's hosts: one network namespace per node (`gsm-<run>-<i>`, address
 * 10.77.<run>.<10+i>/24 on its `eth0`), one for the clients (`gsm-<run>-c`, 10.77.<run>.100), and
 * one of the suite's own holding the bridge (`gsm-<run>-br`, `br0` at 10.77.<run>.1, its address
 * set before any traffic), each host joined to it by a veth pair whose bridge end is `gv<i>`
 * (`gcl` for the clients, outside the `gv*` pattern of node-to-node rules). Nothing touches the root namespace's addresses or routes.
 *
 * Faults between nodes are nftables rules in a `bridge` family table of the bridge namespace,
 * matching the bridge ports: a partition drops the frames between the ports of two sides; packet
 * loss drops a share of node-to-node frames (`numgen random mod 100 < P`). The clients' port is
 * never filtered: clients reach every node (as Jepsen's do), nodes may not reach each other.
 *
 * `ip netns exec` execs its command, so the pid of a spawned `ip netns exec NS node ...` is the
 * node's own: signals reach it directly.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const NS_PREFIX = 'gsm-';

/** Why the namespace suite cannot run here, or undefined when it can (root, `ip` and `nft`). */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root (network namespaces and nftables need root)';
  for (const tool of ['ip', 'nft']) {
    try {
      execFileSync(tool, ['-V'], { stdio: 'ignore' });
    } catch {
      return `\`${tool}\` is not installed (apt-get install ${tool === 'ip' ? 'iproute2' : 'nftables'})`;
    }
  }
  return undefined;
}

/** The libfaketime preload library, when installed (Debian's `faketime` package). */
export function libfaketime(): string | undefined {
  for (const p of ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/faketime/libfaketime.so.1']) {
    if (existsSync(p)) return p;
  }
  return undefined;
}

const run = (args: string[], input?: string): void => {
  execFileSync(args[0]!, args.slice(1), { stdio: ['pipe', 'ignore', 'pipe'], ...(input !== undefined ? { input } : {}) });
};

/** Every namespace whose name starts with `prefix`. */
export function namespacesWith(prefix: string): string[] {
  const out = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return out.split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.startsWith(prefix));
}

/** Deletes every namespace named with `prefix` (their veths and bridge go with them). */
export function removeNamespaces(prefix: string): string[] {
  const gone = namespacesWith(prefix);
  for (const ns of gone) {
    try {
      run(['ip', 'netns', 'del', ns]);
    } catch { /* already gone */ }
  }
  return gone;
}

export type Side = number[];

export class NetHosts {
  readonly prefix: string;
  readonly bridgeNs: string;
  readonly clientNs: string;
  readonly subnet: string;
  private rules = '';

  /** `run` (1..250) names the namespaces and the subnet 10.77.<run>.0/24. */
  constructor(readonly run: number, readonly size: number) {
    this.prefix = `${NS_PREFIX}${run}-`;
    this.bridgeNs = `${this.prefix}br`;
    this.clientNs = `${this.prefix}c`;
    this.subnet = `10.77.${run}`;
  }

  nodeNs(i: number): string {
    return `${this.prefix}${i}`;
  }

  nodeIp(i: number): string {
    return `${this.subnet}.${10 + i}`;
  }

  get clientIp(): string {
    return `${this.subnet}.100`;
  }

  /** Builds the bridge, then the hosts (any leftovers of an earlier run with this prefix are removed first). */
  setUp(): void {
    removeNamespaces(this.prefix);
    const br = this.bridgeNs;
    run(['ip', 'netns', 'add', br]);
    run(['ip', '-n', br, 'link', 'set', 'lo', 'up']);
    run(['ip', '-n', br, 'link', 'add', 'br0', 'type', 'bridge']);
    // The bridge's own address before any host is attached or any packet flows.
    run(['ip', '-n', br, 'addr', 'add', `${this.subnet}.1/24`, 'dev', 'br0']);
    run(['ip', '-n', br, 'link', 'set', 'br0', 'up']);
    const hosts: [string, string, string][] = Array.from({ length: this.size }, (_, i) => [this.nodeNs(i), `gv${i}`, this.nodeIp(i)]);
    hosts.push([this.clientNs, 'gcl', this.clientIp]);
    for (const [ns, port, ip] of hosts) {
      run(['ip', 'netns', 'add', ns]);
      run(['ip', 'link', 'add', port, 'netns', br, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      run(['ip', '-n', br, 'link', 'set', port, 'master', 'br0', 'up']);
      run(['ip', '-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
      run(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
      run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
    this.apply('');
  }

  tearDown(): string[] {
    return removeNamespaces(this.prefix);
  }

  /** The command prefix that runs a program inside host `ns`. */
  exec(ns: string): string[] {
    return ['ip', 'netns', 'exec', ns];
  }

  /** Nodes `a` and `b` cannot reach each other for every pair in `blocked` (both directions). */
  block(blocked: [number, number][]): void {
    const lines = blocked.flatMap(([a, b]) => [`iifname "gv${a}" oifname "gv${b}" drop`, `iifname "gv${b}" oifname "gv${a}" drop`]);
    this.apply(lines.join('\n'));
  }

  /** Each side reaches only its own members. */
  partition(sides: Side[]): void {
    const sideOf = new Map<number, number>();
    sides.forEach((s, k) => s.forEach((i) => sideOf.set(i, k)));
    const blocked: [number, number][] = [];
    for (let a = 0; a < this.size; a++) {
      for (let b = a + 1; b < this.size; b++) if (sideOf.get(a) !== sideOf.get(b)) blocked.push([a, b]);
    }
    this.block(blocked);
  }

  /** Drops `percent`% of the frames between nodes, at random (clients unaffected). */
  loss(percent: number): void {
    this.apply(`iifname "gv*" oifname "gv*" numgen random mod 100 < ${Math.round(percent)} drop`);
  }

  heal(): void {
    this.apply('');
  }

  /** The rules in force now (for the report). */
  get current(): string {
    return this.rules;
  }

  /** Replaces the whole filter table atomically (one `nft -f` transaction). */
  private apply(rules: string): void {
    const table = [
      'table bridge gsm_faults',
      'delete table bridge gsm_faults',
      'table bridge gsm_faults {',
      '  chain filt {',
      '    type filter hook forward priority 0; policy accept;',
      ...rules.split('\n').filter((l) => l.trim() !== '').map((l) => `    ${l}`),
      '  }',
      '}',
    ].join('\n');
    run([...this.exec(this.bridgeNs), 'nft', '-f', '-'], `${table}\n`);
    this.rules = rules;
  }
}
