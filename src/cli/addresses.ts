/**
 * Inter-node addresses in one canonical form, so that nodes agree on who is who.
 *
 * The first ring forms once a node knows the facts of every seed, matched by the address each
 * peer advertises. Matching text would fail on `localhost:7000` against `127.0.0.1:7000`, or on
 * a node that listens on `0.0.0.0` and advertises that. So at start-up every seed and the
 * advertised address are resolved to `ip:port` (`[ip]:port` for IPv6), and a node listening on
 * an unspecified address without `--advertise` takes as its advertised address the seed that
 * names it (a seed with its port on one of this host's addresses) — or refuses to start, since
 * no peer could reach it.
 */
import { lookup } from 'node:dns/promises';
import { networkInterfaces } from 'node:os';
import type { Logger } from '../ports/index.js';
import { CliError } from './errors.js';
import { splitHostPort } from './config.js';

/** How often a node that has no ring yet says which seeds it still waits for. */
export const SEED_WAIT_LOG_INTERVAL_MS = 5_000;

function join(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

function isUnspecified(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '0:0:0:0:0:0:0:0';
}

/**
 * `host:port` with the host resolved to an IP: its first IPv4 address if it has one (every node
 * must pick the same for one name, and `localhost` may also resolve to `::1`), else its first.
 */
export async function resolveAddress(address: string): Promise<string> {
  const { host, port } = splitHostPort(address);
  const all = await lookup(host, { all: true });
  const ip = (all.find((a) => a.family === 4) ?? all[0])?.address;
  if (ip === undefined) throw new Error(`${host} has no address`);
  return join(ip, port);
}

function localIps(): Set<string> {
  const ips = new Set<string>(['127.0.0.1', '::1']);
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) ips.add(a.address);
  return ips;
}

export interface ResolvedAddresses {
  advertise: string;
  seeds: string[];
}

/**
 * Resolves the seeds and the advertised address. A seed that does not resolve now is kept as
 * written (and logged): it may resolve later, and the wait log names it.
 */
export async function resolveNodeAddresses(opts: { listen: string; advertise: string; seeds: readonly string[]; logger: Logger }):
  Promise<ResolvedAddresses> {
  const seeds: string[] = [];
  for (const s of opts.seeds) {
    try {
      seeds.push(await resolveAddress(s));
    } catch (e) {
      opts.logger.warn('a seed does not resolve; keeping it as written', { seed: s, error: (e as Error).message });
      seeds.push(s);
    }
  }
  const adv = splitHostPort(opts.advertise);
  if (!isUnspecified(adv.host)) {
    let advertise: string;
    try {
      advertise = await resolveAddress(opts.advertise);
    } catch (e) {
      throw new CliError(`cannot resolve the advertised address ${opts.advertise}: ${(e as Error).message}`, 2);
    }
    return { advertise, seeds: unique(seeds) };
  }
  // Listening on every interface, and no --advertise: find this node among the seeds.
  const mine = localIps();
  const self = seeds.find((s) => {
    const { host, port } = splitHostPort(s);
    return port === adv.port && mine.has(host);
  });
  if (self) return { advertise: self, seeds: unique(seeds) };
  if (seeds.length === 0) return { advertise: join('127.0.0.1', adv.port), seeds };
  throw new CliError(`this node listens on ${opts.listen}, an address peers cannot dial, and none of the seeds names it: ` +
    'give --advertise host:port (the address other nodes reach this one at), or list it among the --seeds', 2);
}

function unique(list: string[]): string[] {
  return [...new Set(list)];
}

/** The seeds (other than `self`) no known peer advertises yet. */
export function missingSeeds(seeds: readonly string[], self: string, knownAddresses: readonly string[]): string[] {
  const known = new Set(knownAddresses);
  return seeds.filter((s) => s !== self && !known.has(s));
}
