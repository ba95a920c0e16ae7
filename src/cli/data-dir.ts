/**
 * What a data directory says about the node that owns it, in a small file written durably:
 * `<data>/NODE`, JSON `{"format": 1, "nodeId": "...", "actorId": "...", "clusterId": null}`.
 *
 * - It pins the directory to its node: starting it under another node id is refused (a node
 *   restarted without `--node-id` would otherwise come up under a derived id, serve, and take the
 *   real node's data with it).
 * - It names the actor the node's dots carry. A directory created now cannot prove that no
 *   earlier run of the same node id handed out dots (the node may have been wiped or replaced),
 *   so a new directory gets a fresh actor id, kept for as long as the directory lives: counters
 *   restart at 1 under a name no one has seen, and no dot is ever reused.
 * - A directory holding data but no NODE file was written before this file existed: it is
 *   adopted under the node id it is started with, and its actor stays the plain node id (its
 *   counters did survive).
 * - `clusterId` is reserved for when the cluster has an id of its own.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { CliError } from './errors.js';

export const NODE_FILE = 'NODE';
const FORMAT = 1;

export interface DataDirIdentity {
  readonly nodeId: string;
  readonly actorId: string;
  readonly clusterId: string | null;
  /** The directory was created (or was empty) now: nothing in it predates this run. */
  readonly created: boolean;
}

/** Exit status of a node refused because its data directory belongs to another node. */
export const WRONG_NODE_EXIT = 2;

/** A fresh actor id for `nodeId`: the id plus a random suffix no earlier run used. */
export function freshActorId(nodeId: string): string {
  return `${nodeId}~${randomBytes(5).readUIntBE(0, 5).toString(36)}`;
}

/**
 * Reads (or, for a new directory, writes) the directory's identity; throws a CliError when the
 * directory belongs to another node or its NODE file is unreadable.
 */
export function pinDataDir(dir: string, nodeId: string): DataDirIdentity {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, NODE_FILE);
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new CliError(`cannot read ${file}: ${(e as Error).message}`);
  }
  if (text !== undefined) {
    const id = parseNodeFile(file, text);
    if (id.nodeId !== nodeId) {
      throw new CliError(`the data directory ${dir} belongs to node "${id.nodeId}"; refusing to start it as "${nodeId}" ` +
        `(start it with --node-id ${id.nodeId}, or give this node its own --data)`, WRONG_NODE_EXIT);
    }
    return { ...id, created: false };
  }
  const created = readdirSync(dir).every((f) => f === `${NODE_FILE}.tmp`);
  const id = { nodeId, actorId: created ? freshActorId(nodeId) : nodeId, clusterId: null };
  writeDurably(dir, file, JSON.stringify({ format: FORMAT, ...id }) + '\n');
  return { ...id, created };
}

function parseNodeFile(file: string, text: string): Omit<DataDirIdentity, 'created'> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new CliError(`${file} is not valid JSON; it names the node that owns this data directory`);
  }
  const o = v as Record<string, unknown>;
  if (typeof v !== 'object' || v === null || o.format !== FORMAT || typeof o.nodeId !== 'string' || typeof o.actorId !== 'string'
    || o.nodeId.length === 0 || o.actorId.length === 0 || !(o.clusterId === null || typeof o.clusterId === 'string')) {
    throw new CliError(`${file} is not a format-${FORMAT} node file ({"format":1,"nodeId":...,"actorId":...,"clusterId":...})`);
  }
  return { nodeId: o.nodeId, actorId: o.actorId, clusterId: o.clusterId as string | null };
}

/** Temp file, fsync, rename over, fsync the directory: the file is whole or absent after a crash. */
function writeDurably(dir: string, file: string, text: string): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const dfd = openSync(dir, 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

/**
 * The name this run's dots carry. Only a node that keeps its data under group commit (every
 * acknowledged dot durable) can prove its counters survived, and reuse its directory's actor;
 * `--memory` and the `periodic`/`none` commit logs get an actor of their own per run.
 */
export function actorIdFor(nodeId: string, identity: DataDirIdentity | undefined, groupCommit: boolean, incarnation: number): string {
  if (identity && groupCommit) return identity.actorId;
  return `${nodeId}~${incarnation.toString(36)}`;
}
