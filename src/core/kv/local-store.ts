/**
 * This node's own key states: read synchronously from the engine (through `StoreReader`), with
 * an overlay of the writes not yet durable so the node always reads what it wrote. A write goes
 * into the Ready being built; once the runtime has made that Ready durable (`advance`), the
 * engine serves it and the overlay lets go.
 */
import type { KeyState } from '../clock/state.js';
import { EMPTY_STATE, decodeState, encodeState, isEmptyEncoding, isEmptyState, statesEqual, syncStates } from '../clock/state.js';
import { storageWrite } from '../keys.js';
import type { Effects } from '../ready.js';
import { keyFacts } from './key-facts.js';
import type { StoreReader } from '../types.js';

export class LocalStore {
  private readonly overlay = new Map<string, { state: KeyState; seq: number }>();
  private readonly keysBySeq = new Map<number, string[]>();

  constructor(private readonly store: StoreReader, private readonly fx: Effects) {}

  read(key: string): KeyState {
    const o = this.overlay.get(key);
    if (o) return o.state;
    const raw = this.store.get(keyFacts(key).dataKey);
    return raw === undefined ? EMPTY_STATE : decodeState(raw);
  }

  /**
   * The encoded state of `key` (null: none) when it is durable — no write of it waits in a
   * Ready — else undefined. Only a durable state may be answered outside the Ready pipeline
   * (KvProtocol.getNow). The bytes may be the store's own (`peek`): read them at once.
   */
  durableBytes(key: string): Uint8Array | null | undefined {
    if (this.overlay.has(key)) return undefined;
    const k = keyFacts(key).dataKey;
    return (this.store.peek ? this.store.peek(k) : this.store.get(k)) ?? null;
  }

  /**
   * The local state of `key` as `replica-get-reply` carries it: `null` when empty. A durable state
   * goes out as the engine's bytes, without decoding and re-encoding it: both ends decode to the
   * same state (decoding normalizes, and normalizing a normalized state changes nothing).
   */
  readEncoded(key: string): Uint8Array | null {
    const o = this.overlay.get(key);
    if (o) return isEmptyState(o.state) ? null : encodeState(o.state);
    const raw = this.store.get(keyFacts(key).dataKey);
    return raw === undefined || isEmptyEncoding(raw) ? null : raw;
  }

  /** Writes `state` (whose encoding is `bytes`, when the caller has it already). */
  write(key: string, state: KeyState, bytes: Uint8Array = encodeState(state)): void {
    this.put(key, state, bytes);
  }

  /** Removes this node's copy of `key` (a partition it no longer replicates): reads see it empty. */
  drop(key: string): void {
    this.put(key, EMPTY_STATE, null);
  }

  private put(key: string, state: KeyState, bytes: Uint8Array | null): void {
    const seq = this.fx.seq;
    this.overlay.set(key, { state, seq });
    this.fx.write(storageWrite('data', keyFacts(key).dataKey, bytes));
    const keys = this.keysBySeq.get(seq);
    if (keys) keys.push(key);
    else this.keysBySeq.set(seq, [key]);
  }

  /**
   * Joins `incoming` into the local state of `key`; writes only when that changes it. With
   * `incomingBytes` (the encoding `incoming` was decoded from), a merge that comes out equal to
   * `incoming` — always, where this node had nothing — stores those bytes instead of encoding
   * the state again (a hint replay writes thousands of keys a second this way). Returns the
   * resulting local state and whether the merge changed it (anti-entropy reads no more).
   */
  merge(key: string, incoming: KeyState, overwrite = false, incomingBytes?: Uint8Array): { state: KeyState; changed: boolean } {
    const local = this.read(key);
    const merged = overwrite ? incoming : syncStates(local, incoming);
    if (statesEqual(merged, local)) return { state: local, changed: false };
    if (incomingBytes !== undefined && statesEqual(merged, incoming)) this.write(key, merged, incomingBytes);
    else this.write(key, merged);
    return { state: merged, changed: true };
  }

  /** The Ready `seq` is durable: the engine now serves its writes. */
  advance(seq: number): void {
    const keys = this.keysBySeq.get(seq);
    if (!keys) return;
    this.keysBySeq.delete(seq);
    for (const k of keys) {
      const o = this.overlay.get(k);
      if (o && o.seq <= seq) this.overlay.delete(k);
    }
  }
}
