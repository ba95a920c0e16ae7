/**
 * Which peers a node believes alive. Until the gossip failure detector lands (M2.4) the runtime
 * implements it with the transport's connection state; the detector will implement the same
 * interface. It only lets coordinators skip peers known to be dead without trying them first:
 * a peer believed alive that does not answer in time is still passed over per request.
 */
import type { NodeId } from '../types.js';

export interface FailureDetector {
  /** Whether `nodeId` is believed reachable now (this node itself always is). */
  isAlive(nodeId: NodeId): boolean;
}

/** Every peer believed alive: the behaviour without any detector (timeouts alone pass over). */
export const ALWAYS_ALIVE: FailureDetector = { isAlive: () => true };
