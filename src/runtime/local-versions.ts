/**
 * What one node holds for a key, for `/admin/local`: its own versions, and the copies it keeps as
 * a stand-in (hinted handoff) with the node each belongs to. Each version carries its own
 * context — its dot alone — so writing with it supersedes exactly that version.
 */
import type { StorageEngine } from '../ports/index.js';
import type { Node } from '../core/node.js';
import { decodeHintRecord } from '../core/handoff/index.js';
import { decodeState } from '../core/clock/state.js';
import type { KeyState } from '../core/clock/state.js';
import { versionContext } from '../core/clock/client-context.js';
import type { LocalVersionView } from './service.js';

export function localVersionsOf(node: Node, engine: StorageEngine, key: string): LocalVersionView[] {
  const out = views(node.localState(key), null);
  for (const h of node.hintsForKey(key)) {
    const raw = engine.get(h.storageKey);
    const rec = raw === undefined ? undefined : decodeHintRecord(raw);
    if (!rec) continue;
    try {
      out.push(...views(decodeState(rec.state), h.target));
    } catch {
      // a damaged hint record is counted by the hint store; it shows nothing here
    }
  }
  return out;
}

function views(state: KeyState, hintFor: string | null): LocalVersionView[] {
  return state.siblings.map((v) => ({ value: v.value, context: versionContext(v), contentType: v.contentType, tsMs: v.tsMs, hintFor }));
}
