/**
 * The status an operator sees: built live from a running GovernanceSystem (the daemon answers
 * `status` on the control socket) or, when no daemon runs, from the database opened read-only.
 */
import type { LifecycleState, ShutdownLatch } from '../../machines/types.js';
import type { Store } from '../../persistence/index.js';
import { fallbackPathFor, readFallbackRecord } from '../fallback-file.js';
import type { GovernanceSystem } from '../governor.js';

export interface StatusReport {
  readonly running: boolean;
  readonly pid: number | null;
  readonly db: string;
  /** The live state, or (not running) the state a start would begin from: SHUTDOWN when latched. */
  readonly state: LifecycleState | null;
  /** The state the database last recorded (for a process that was killed, it may be stale). */
  readonly recordedState: LifecycleState | null;
  readonly canDeployCapital: boolean;
  readonly reason: string | null;
  readonly cause: string | null;
  readonly trigger: string | null;
  readonly desiredMode: string;
  readonly latch: ShutdownLatch | null;
  readonly latchSource: 'database' | 'fallback-file' | null;
  readonly lifecycleId: string | null;
  readonly heartbeatAgeMs: number | null;
  readonly health: {
    readonly healthy: boolean;
    readonly reasons: readonly string[];
    readonly errorRate: number;
    readonly marketDataAgeMs: number;
    readonly eventLogWriteAgeMs: number;
    readonly snapshotWriteAgeMs: number;
  } | null;
  readonly startupChecks: { readonly passed: boolean; readonly failed: readonly string[] } | null;
  readonly unacknowledgedAlerts: number;
  readonly eventLogHead: { readonly seq: number; readonly hash: string } | null;
}

/** The live status of the daemon's GovernanceSystem. */
export function liveStatus(governance: GovernanceSystem): StatusReport {
  const store = governance.store;
  const system = store.systemState.get();
  const authorization = governance.authorize();
  const cause = governance.getCause();
  const health = governance.getSystemHealth();
  const ages = governance.healthMonitor.ages();
  const report = governance.getLastStartupReport();
  const heartbeatAgeMs = governance.heartbeatAgeMs();
  return {
    running: true,
    pid: process.pid,
    db: governance.dbPath,
    state: governance.getMode(),
    recordedState: system.lifecycleState,
    canDeployCapital: authorization.allowed,
    reason: authorization.reason,
    cause: cause.cause,
    trigger: cause.trigger,
    desiredMode: system.desiredMode,
    latch: system.latch,
    latchSource: system.latch === null ? null : 'database',
    lifecycleId: governance.getLifecycleId() || null,
    heartbeatAgeMs: Number.isFinite(heartbeatAgeMs) ? Math.round(heartbeatAgeMs) : null,
    health: {
      healthy: health.healthy,
      reasons: health.reasons,
      errorRate: health.errorRate,
      marketDataAgeMs: Math.round(ages.marketDataAgeMs),
      eventLogWriteAgeMs: Math.round(ages.eventLogWriteAgeMs),
      snapshotWriteAgeMs: Math.round(ages.snapshotWriteAgeMs),
    },
    startupChecks:
      report === null
        ? null
        : {
            passed: report.passed,
            failed: report.results.filter((r) => !r.passed).map((r) => r.name),
          },
    unacknowledgedAlerts: governance.alertManager.getUnacknowledgedAlerts().length,
    eventLogHead: store.events.head(),
  };
}

/** The status recorded in a database no daemon holds (opened read-only by the caller). */
export function recordedStatus(store: Store, dbPath: string): StatusReport {
  const system = store.systemState.get();
  const fallback = system.latch === null ? readFallbackRecord(fallbackPathFor(dbPath)) : null;
  const latch = system.latch ?? fallback?.latch ?? null;
  const latchSource =
    system.latch !== null ? 'database' : fallback !== null ? 'fallback-file' : null;
  return {
    running: false,
    pid: null,
    db: dbPath,
    state: latch !== null ? 'SHUTDOWN' : system.lifecycleState,
    recordedState: system.lifecycleState,
    canDeployCapital: false,
    reason:
      latch !== null
        ? `SHUTDOWN latched (${latch.trigger}): ${latch.reason}`
        : 'no daemon is running: nothing may deploy capital',
    cause: null,
    trigger: latch?.trigger ?? null,
    desiredMode: system.desiredMode,
    latch,
    latchSource,
    lifecycleId: system.lifecycleId,
    heartbeatAgeMs: null,
    health: null,
    startupChecks: null,
    unacknowledgedAlerts: store.alerts.list({ unacknowledgedOnly: true, limit: 10_000 }).length,
    eventLogHead: store.events.head(),
  };
}
