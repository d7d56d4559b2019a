/**
 * The pre-flight of an operator restart: what a restart now would run into, so that the
 * operator hears it before, not from a second SHUTDOWN alert. It evaluates the fail-safe rules
 * on the inputs as they are (a trigger that fires at once on restart: stale market data, an
 * error storm still inside its window, a stalled queue, the event log or snapshots overdue),
 * capital reconciliation, and a heartbeat still lost (OBSERVE_ONLY after the checks). Read-only.
 */

import type { ShutdownTrigger } from '../../machines/types.js';
import type { Thresholds } from '../config.js';
import { describeError } from '../errors.js';
import { detectStalenessTrigger } from '../health/fail-safe-manager.js';
import type { HealthMonitor } from '../health/health-monitor.js';

export interface PreflightTrip {
  readonly trigger: ShutdownTrigger;
  readonly reason: string;
}

export interface PreflightReport {
  /** True when nothing found would shut governor down again at once. */
  readonly ok: boolean;
  /** What would shut it down again at once. */
  readonly trips: readonly PreflightTrip[];
  /** What would not shut it down but keep it from AGGRESSIVE (e.g. a heartbeat still lost). */
  readonly warnings: readonly string[];
}

export function preflight(inputs: {
  readonly health: HealthMonitor;
  readonly thresholds: Thresholds;
  readonly capitalMismatch: () => string | null;
  readonly heartbeatLost: boolean;
}): PreflightReport {
  const trips: PreflightTrip[] = [];
  const staleness = detectStalenessTrigger(inputs.health, inputs.thresholds);
  if (staleness !== null) trips.push(staleness);
  let mismatch: string | null = null;
  try {
    mismatch = inputs.capitalMismatch();
  } catch (error) {
    mismatch = `capital could not be reconciled: ${describeError(error)}`;
  }
  if (mismatch !== null) trips.push({ trigger: 'CAPITAL_INCONSISTENT', reason: mismatch });
  const warnings = inputs.heartbeatLost
    ? [
        'the heartbeat is still lost (the event log cannot be written): the checks would end in OBSERVE_ONLY',
      ]
    : [];
  return { ok: trips.length === 0, trips, warnings };
}
