/**
 * The startup report as the lifecycle statechart reads it: the event that carries it (the
 * startup-checks actor's done event), its shape checked before any guard trusts it, whether it
 * is this visit's, and what it says failed (the checks, or a capital mismatch). Pure.
 */
import type { EventObject } from 'xstate';
import type { GovernorContext, StartupReport } from './types.js';

/** The id of the invoked startup-checks actor: its events are `xstate.done.actor.startupChecks` etc. */
export const STARTUP_CHECKS_ACTOR_ID = 'startupChecks';

/** The type of the event that carries the startup report of the current visit. */
export const STARTUP_CHECKS_DONE_EVENT = `xstate.done.actor.${STARTUP_CHECKS_ACTOR_ID}`;

/** What the `startupChecks` actor receives: the visit it reports on. */
export interface StartupChecksInput {
  readonly lifecycleId: string;
  readonly visit: number;
}

function isCheckResult(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return (
    typeof candidate.name === 'string' &&
    typeof candidate.passed === 'boolean' &&
    (candidate.outcome === 'passed' ||
      candidate.outcome === 'failed' ||
      candidate.outcome === 'unreadable') &&
    candidate.passed === (candidate.outcome === 'passed')
  );
}

function isStartupReport(value: unknown): value is StartupReport {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return (
    typeof candidate.lifecycleId === 'string' &&
    typeof candidate.visit === 'number' &&
    typeof candidate.passed === 'boolean' &&
    typeof candidate.completedAt === 'string' &&
    Array.isArray(candidate.results) &&
    candidate.results.every(isCheckResult)
  );
}

/** The report an event carries, or null when it is not a well-formed startup-checks report. */
export function reportOf(event: EventObject): StartupReport | null {
  if (event.type !== STARTUP_CHECKS_DONE_EVENT || !('output' in event)) return null;
  return isStartupReport(event.output) ? event.output : null;
}

export function reportIsThisVisit(report: StartupReport | null, context: GovernorContext): boolean {
  return (
    report !== null && report.visit === context.visit && report.lifecycleId === context.lifecycleId
  );
}

/** Why a report does not allow trading in this visit, for `causeReason`. */
export function reportFailure(report: StartupReport | null, context: GovernorContext): string {
  if (report === null) return 'startup checks returned a malformed report';
  if (report.lifecycleId !== context.lifecycleId) {
    return `startup report belongs to lifecycle ${report.lifecycleId}, not ${context.lifecycleId}`;
  }
  if (report.visit !== context.visit) {
    return `stale startup report from visit ${report.visit} (current visit ${context.visit})`;
  }
  const failed = report.results.filter((result) => !result.passed).map((result) => result.name);
  return failed.length > 0
    ? `startup checks failed: ${failed.join(', ')}`
    : 'startup checks failed';
}

/** The capital mismatch a report of this visit found (a check that ran and failed), or null. */
export function capitalMismatchOf(
  report: StartupReport | null,
  context: GovernorContext,
): string | null {
  if (!reportIsThisVisit(report, context)) return null;
  const capital = report?.results.find((r) => r.name === 'capital_reconciliation');
  return capital?.outcome === 'failed' ? capital.details : null;
}
