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

/** Whose thresholds a pre-flight used. */
export type ThresholdsOrigin =
  /** This process owns the database: the thresholds it was configured with. */
  | { readonly source: 'owner' }
  /** Acting for a moment with no owner running: the ones the last owner recorded as it started. */
  | {
      readonly source: 'recorded';
      readonly pid: number;
      readonly host: string;
      readonly recordedAt: string;
    }
  /**
   * Acting for a moment with this command's own: no owner ever recorded any (`none`), or the
   * record cannot be used (`unusable`: malformed, or a threshold this version refuses).
   */
  | { readonly source: 'command'; readonly recorded: 'none' | 'unusable' };

export interface PreflightReport {
  /** True when nothing found would shut governor down again at once. */
  readonly ok: boolean;
  /** What would shut it down again at once. */
  readonly trips: readonly PreflightTrip[];
  /** What would not shut it down but keep it from AGGRESSIVE (e.g. a heartbeat still lost). */
  readonly warnings: readonly string[];
  /** Whose thresholds the rules were evaluated with. */
  readonly thresholds: ThresholdsOrigin;
}

export function preflight(inputs: {
  readonly health: HealthMonitor;
  readonly thresholds: Thresholds;
  readonly thresholdsOrigin: ThresholdsOrigin;
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
  return { ok: trips.length === 0, trips, warnings, thresholds: inputs.thresholdsOrigin };
}
