/**
 * The autoscale metrics (docs/metrics.md), ready to register in any prom-client registry: a
 * node's (`node.observability.metrics.registry`) once a node runs the policy, or the dev
 * actuator's. Plus the event loop's busy time, which the policy reads from every node.
 */
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import { REASONS } from '../core/autoscale/index.js';
import type { Decision } from '../core/autoscale/index.js';

export interface AutoscaleMetrics {
  /** Records one decision: the gauges follow it, the counter counts it by action and reason. */
  record(d: Decision): void;
}

export function registerAutoscaleMetrics(registry: Registry): AutoscaleMetrics {
  const registers = [registry];
  const desired = new Gauge({ name: 'gossamer_autoscale_desired_nodes', help: 'Nodes the autoscale policy aims at now.', registers });
  const actual = new Gauge({ name: 'gossamer_autoscale_actual_nodes', help: 'Members the autoscale policy counted at its last decision.', registers });
  const decisions = new Counter({
    name: 'gossamer_autoscale_decisions_total', help: 'Autoscale decisions, by decision (out, in, hold) and reason.',
    labelNames: ['decision', 'reason'], registers,
  });
  return {
    record(d) {
      // Reasons come from a fixed list, so the label set stays bounded.
      if (!(REASONS as readonly string[]).includes(d.reason)) return;
      desired.set(d.desiredNodes);
      actual.set(d.actualNodes);
      decisions.inc({ decision: d.action, reason: d.reason });
    },
  };
}

/**
 * `gossamer_event_loop_busy_seconds_total`: time the event loop spent busy (Node's
 * `performance.eventLoopUtilization()`); its rate is the node's event-loop utilisation.
 */
export function registerEventLoopBusy(registry: Registry): void {
  const start = performance.eventLoopUtilization();
  new Counter({
    name: 'gossamer_event_loop_busy_seconds_total', help: 'Time the event loop was busy since the node started (its rate is the event-loop utilisation).',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(performance.eventLoopUtilization(start).active / 1000);
    },
  });
}
