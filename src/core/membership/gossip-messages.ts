/**
 * Membership's messages: push-pull gossip (`gossip-syn` → `gossip-ack` → `gossip-ack2`) and
 * SWIM's probes (`probe-ping` → `probe-ack`, and `probe-req` asking a helper to ping for us).
 *
 * A syn carries digests (id, generation, heartbeat, suspecters) and the sender's cluster
 * document summary; the ack carries the entries the sender is behind on, the ids the receiver
 * wants, and the document when the receiver's wins; the ack2 answers the wants (and the
 * document, if asked). Every validator is strict: a malformed message is dropped and counted.
 */
import { CORE_LIMITS } from '../constants.js';
import { GOSSIP_LIMITS } from './gossip-constants.js';

/** The (cluster id, version, digest) of a node's cluster document. */
export interface DocSummary {
  readonly clusterId: string;
  readonly version: number;
  readonly digest: string;
}

/** What a syn says about one member. */
export interface GossipDigest {
  readonly id: string;
  readonly gen: number;
  readonly hb: number;
  /** Who suspects the member at this generation and heartbeat (sorted, bounded). */
  readonly sus: readonly string[];
}

/** One member as gossip spreads it. */
export interface GossipEntry extends GossipDigest {
  readonly address: string;
  readonly http: string | null;
  readonly dc: string;
  readonly rack: string;
  readonly weight: number;
  /** The member's cluster document, as of this heartbeat (null: it has none yet). */
  readonly doc: DocSummary | null;
}

export type GossipMessage =
  | { readonly type: 'gossip-syn'; readonly id: number; readonly doc: DocSummary | null; readonly digests: readonly GossipDigest[]; readonly complete: boolean }
  | {
    readonly type: 'gossip-ack'; readonly id: number; readonly doc: DocSummary | null; readonly meta: Uint8Array | null; readonly wantDoc: boolean;
    readonly entries: readonly GossipEntry[]; readonly wants: readonly string[];
  }
  | { readonly type: 'gossip-ack2'; readonly id: number; readonly doc: DocSummary | null; readonly meta: Uint8Array | null; readonly entries: readonly GossipEntry[] }
  | { readonly type: 'probe-ping'; readonly id: number }
  | { readonly type: 'probe-ack'; readonly id: number; readonly entry: GossipEntry }
  | { readonly type: 'probe-req'; readonly id: number; readonly target: string };

export type GossipMessageType = GossipMessage['type'];

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= GOSSIP_LIMITS.stringCharsMax;
const isStrs = (v: unknown, max: number): boolean => Array.isArray(v) && v.length <= max && v.every(isStr);

function isDoc(v: unknown): boolean {
  if (v === null) return true;
  return isObj(v) && isStr(v['clusterId']) && isCount(v['version']) && isStr(v['digest']);
}

function isDigest(v: unknown): boolean {
  return isObj(v) && isStr(v['id']) && isCount(v['gen']) && isCount(v['hb']) && isStrs(v['sus'], GOSSIP_LIMITS.suspectersMax);
}

function isEntry(v: unknown): boolean {
  if (!isDigest(v)) return false;
  const e = v as Obj;
  const w = e['weight'];
  return isStr(e['address']) && (e['http'] === null || isStr(e['http'])) && isStr(e['dc']) && isStr(e['rack'])
    && typeof w === 'number' && Number.isFinite(w) && w >= 0 && w <= CORE_LIMITS.memberWeightMax && isDoc(e['doc']);
}

const isEntries = (v: unknown): boolean => Array.isArray(v) && v.length <= GOSSIP_LIMITS.entriesPerMessageMax && v.every(isEntry);
const isMeta = (v: unknown): boolean => v === null || (v instanceof Uint8Array && v.length <= CORE_LIMITS.ringMetaBytesMax);

export const GOSSIP_VALIDATORS: { readonly [K in GossipMessageType]: (m: Obj) => boolean } = {
  'gossip-syn': (m) => isCount(m['id']) && isDoc(m['doc']) && typeof m['complete'] === 'boolean' && Array.isArray(m['digests'])
    && m['digests'].length <= GOSSIP_LIMITS.digestsPerMessageMax && m['digests'].every(isDigest),
  'gossip-ack': (m) => isCount(m['id']) && isDoc(m['doc']) && isMeta(m['meta']) && typeof m['wantDoc'] === 'boolean' && isEntries(m['entries'])
    && isStrs(m['wants'], GOSSIP_LIMITS.wantsPerMessageMax),
  'gossip-ack2': (m) => isCount(m['id']) && isDoc(m['doc']) && isMeta(m['meta']) && isEntries(m['entries']),
  'probe-ping': (m) => isCount(m['id']),
  'probe-ack': (m) => isCount(m['id']) && isEntry(m['entry']),
  'probe-req': (m) => isCount(m['id']) && isStr(m['target']),
};
