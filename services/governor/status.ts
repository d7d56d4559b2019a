/**
 * The status an operator sees, as one projection: live from a running GovernanceSystem, or from
 * the authority record in a database opened read-only (with the owner, when one runs without a
 * control socket). A database nobody owns is never shown as trading: its headline is NOT RUNNING
 * (or SHUTDOWN when latched), with the last recorded state beside it.
 */
import type { LifecycleState, Mode, SafeModeHold, ShutdownLatch } from '../../machines/types.js';
import type { Store } from '../../persistence/index.js';
import { ModeJournal } from '../../persistence/mode-journal.js';
import type { OwnerInfo } from '../../persistence/ownership.js';
import { fallbackPathFor, readFallbackRecord } from '../fallback-file.js';
import type { GovernanceSystem } from './governance-system.js';

export interface GovernorStatus {
  /** True when an owner process runs (live, or known from its lock). */
  readonly running: boolean;
  /** Where this came from: the owner itself (live), or the database (recorded). */
  readonly source: 'live' | 'recorded';
  readonly owner: { readonly pid: number; readonly host: string; readonly since: string } | null;
  readonly pid: number | null;
  readonly db: string;
  /**
   * The state to act on: live, or as recorded by a running owner; SHUTDOWN when latched; null
   * when nobody runs (nothing trades) and nothing is latched.
   */
  readonly state: LifecycleState | null;
  /** The state the database last recorded (for a process that was killed, it may be stale). */
  readonly recordedState: LifecycleState | null;
  readonly canDeployCapital: boolean;
  readonly reason: string | null;
  readonly cause: string | null;
  readonly trigger: string | null;
  readonly desiredMode: Mode;
  readonly latch: ShutdownLatch | null;
  readonly latchSource: 'database' | 'event-log' | 'fallback-file' | null;
  /** A failure's OBSERVE_ONLY, held until an operator resumes. */
  readonly hold: Pick<SafeModeHold, 'cause' | 'reason'> | null;
  /** Where the latch record and the event log disagree (tampering), or null. */
  readonly discrepancy: string | null;
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

const UNACKNOWLEDGED_COUNTED_MAX = 10_000;

/** The live status of a GovernanceSystem (the daemon answers `status` with it). */
export function liveStatus(governance: GovernanceSystem): GovernorStatus {
  const authorization = governance.authorize();
  const cause = governance.getCause();
  const health = governance.getSystemHealth();
  const ages = governance.healthMonitor.ages();
  const report = governance.getLastStartupReport();
  const heartbeatAgeMs = governance.heartbeatAgeMs();
  const latch = governance.getLatch();
  const state = governance.getMode();
  return {
    running: true,
    source: 'live',
    owner: null,
    pid: process.pid,
    db: governance.dbPath,
    state,
    recordedState: state,
    canDeployCapital: authorization.allowed,
    reason: authorization.reason,
    cause: cause.cause,
    trigger: cause.trigger,
    desiredMode: governance.getModes().desired,
    latch,
    latchSource: latch === null ? null : 'database',
    hold: governance.getHold(),
    discrepancy: null,
    lifecycleId: governance.getLifecycleId(),
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
    unacknowledgedAlerts: governance.alertManager.getUnacknowledgedAlerts(
      UNACKNOWLEDGED_COUNTED_MAX,
    ).length,
    eventLogHead: governance.engine.events.head(),
  };
}

/**
 * The status recorded in a database (opened read-only by the caller). `owner` is the running
 * owner when its lock is held (an embedded engine has no control socket), else null.
 */
export function recordedStatus(
  store: Store,
  dbPath: string,
  owner: OwnerInfo | null,
): GovernorStatus {
  const record = new ModeJournal(store).read();
  const fallback = readFallbackRecord(fallbackPathFor(dbPath));
  const latch = record.latch ?? record.loggedLatch ?? fallback?.latch ?? null;
  const latchSource =
    record.latch !== null
      ? 'database'
      : record.loggedLatch !== null
        ? 'event-log'
        : fallback?.latch !== null && fallback !== null
          ? 'fallback-file'
          : null;
  const hold = record.hold ?? fallback?.hold ?? null;
  const running = owner !== null;
  const state: LifecycleState | null =
    latch !== null ? 'SHUTDOWN' : running ? record.lifecycleState : null;
  const reason =
    latch !== null
      ? `SHUTDOWN latched (${latch.trigger}): ${latch.reason}`
      : running
        ? `owner pid ${owner.pid} has no control socket: state as it recorded it (the gate also needs a fresh heartbeat lease)`
        : 'no owner is running: nothing may deploy capital';
  return {
    running,
    source: 'recorded',
    owner: owner === null ? null : { pid: owner.pid, host: owner.host, since: owner.since },
    pid: owner?.pid ?? null,
    db: dbPath,
    state,
    recordedState: record.lifecycleState,
    canDeployCapital: false,
    reason,
    cause: hold?.cause ?? null,
    trigger: latch?.trigger ?? null,
    desiredMode: record.desiredMode,
    latch,
    latchSource,
    hold: hold === null ? null : { cause: hold.cause, reason: hold.reason },
    discrepancy: record.discrepancy,
    lifecycleId: record.lifecycleId,
    heartbeatAgeMs: null,
    health: null,
    startupChecks: null,
    unacknowledgedAlerts: store.alerts.list({
      unacknowledgedOnly: true,
      limit: UNACKNOWLEDGED_COUNTED_MAX,
    }).length,
    eventLogHead: store.events.head(),
  };
}
