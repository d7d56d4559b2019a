/**
 * Starting a lifecycle and checking it: `runStartupChecks` (the timers started, the fail-safe
 * armed, `lifecycle.start` sent), the startup-checks actor's work (the suite, its report
 * persisted or failed), and the integrity check the periodic timer (timers.ts) runs.
 */
import type { StartupChecksInput } from '../../machines/governor-machine.js';
import type { StartupCheckResult, StartupReport } from '../../machines/types.js';
import type { IntegrityViolation } from '../../persistence/integrity/index.js';
import { describeError, GovernorError } from '../errors.js';
import {
  type AdaptersArgument,
  normaliseAdapters,
  runStartupCheckSuite,
} from '../health/startup-checks.js';
import { dispatch, heartbeatLost, integrityViolations } from './dispatcher.js';
import { assertOpen } from './operator-actions.js';
import { nowIso, type Runtime } from './runtime.js';

/**
 * Runs the lifecycle from STARTING; resolves true only when AGGRESSIVE, or a configured
 * OBSERVE_ONLY, was reached with every check passed; false at once when latched.
 */
export async function runStartupChecks(
  runtime: Runtime,
  adapters?: AdaptersArgument,
): Promise<boolean> {
  assertOpen(runtime);
  const named = normaliseAdapters(adapters);
  const lifecycle = runtime.lifecycle;
  if (lifecycle.latch !== null) {
    // Latched from the start: an operator restart from another process runs the new
    // lifecycle with these adapters (without them it would stay in STARTING).
    runtime.flags.adapters = named;
    return false;
  }
  if (!lifecycle.accepts({ type: 'lifecycle.start', at: nowIso(runtime) })) {
    const state = lifecycle.state;
    throw new GovernorError('GOV_LIFECYCLE_RUNNING', `a lifecycle is running (state ${state})`);
  }
  // The fleet authority is a startup check: no lease, no gate (a killed scope fails it too).
  const fleet = runtime.fleet;
  runtime.flags.adapters =
    fleet !== null && !named.some((a) => a.name === 'fleet-authority')
      ? [...named, { name: 'fleet-authority', ping: () => fleet.ping() }]
      : named;
  startTimers(runtime);
  // A restart into stale inputs (or a SHUTDOWN disarmed deadline) never opens the gate:
  // re-arm detection and evaluate the fail-safe first (a trip leaves STARTING: the chart then
  // ignores the start).
  runtime.failSafe.arm();
  runtime.failSafe.checkFailSafeConditions({ includeCapital: false });
  dispatch(runtime, { type: 'lifecycle.start', at: nowIso(runtime) });
  // A heartbeat still lost (since before an operator restart) is a loss of this lifecycle too.
  if (runtime.heartbeat.isLost()) heartbeatLost(runtime, runtime.heartbeat.ageMs());
  const settled = await lifecycle.settled();
  return (
    settled === 'AGGRESSIVE' ||
    (settled === 'OBSERVE_ONLY' && lifecycle.context.observeCause === 'CONFIGURED')
  );
}

/** The startup-checks actor: the suite for this visit, its report persisted (or failed). */
export async function performStartupChecks(
  runtime: Runtime,
  input: StartupChecksInput,
): Promise<StartupReport> {
  const report = await runStartupCheckSuite(
    {
      store: runtime.store,
      verifier: runtime.verifier,
      clock: runtime.clock,
      adapterPingTimeoutMs: runtime.thresholds.adapterPingTimeoutMs,
      // Damage seen and not yet cleared by a full check needs a full check to clear it.
      fullVerification:
        runtime.flags.nextVisitVerifiesFully || runtime.verifier.getLastViolations().length > 0,
      signal: runtime.verifications.signal,
    },
    [...(runtime.flags.adapters ?? []), ...runtime.venues.asAdapters()],
    input,
  );
  runtime.flags.nextVisitVerifiesFully = false;
  return persistReport(runtime, report);
}

/** A report that cannot be persisted does not pass: nothing unrecorded may open the gate. */
export function persistReport(runtime: Runtime, report: StartupReport): StartupReport {
  const store = runtime.store;
  try {
    store.transaction(() => {
      store.events.append({
        eventType: 'STARTUP_CHECKS_COMPLETED',
        reason: report.passed ? 'startup checks passed' : 'startup checks failed',
        metadata: {
          lifecycleId: report.lifecycleId,
          visit: report.visit,
          passed: report.passed,
          results: report.results,
        },
      });
      store.startupReports.record(report);
    });
    return report;
  } catch (error) {
    const failed: StartupCheckResult = {
      name: 'report_persisted',
      outcome: 'failed',
      passed: false,
      details: `startup report could not be persisted: ${describeError(error)}`,
      rootCause: 'the event log cannot be written',
      recommendedAction: 'Check the database file, disk space and permissions.',
    };
    return { ...report, passed: false, results: [...report.results, failed] };
  }
}

/**
 * Verifies data integrity (incrementally after the first run); what is new goes to the
 * dispatcher as one finding. Returns true when nothing was found.
 */
export function checkDataIntegrity(runtime: Runtime): boolean {
  assertOpen(runtime);
  let violations: IntegrityViolation[];
  try {
    violations = runtime.verifier.verify();
  } catch (error) {
    runtime.logger.error({ err: error }, 'integrity verification could not run');
    runtime.health.recordError();
    return false;
  }
  if (violations.length === 0) return true;
  // One incident per finding: what an earlier run already reported is not raised again.
  if (runtime.verifier.getNewViolations().length > 0) integrityViolations(runtime, violations);
  return false;
}

/**
 * The timers (the machine's invoked actors, timers.ts) start with the first lifecycle and run
 * until the authority actor stops: `timers.start` sent once; the chart ignores it afterwards.
 */
function startTimers(runtime: Runtime): void {
  if (runtime.flags.monitorsStarted) return;
  runtime.flags.monitorsStarted = true;
  dispatch(runtime, { type: 'timers.start', at: nowIso(runtime) });
}
