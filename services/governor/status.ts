/**
 * The status an operator sees, as one projection: live from a running GovernanceSystem (the
 * `governor status` command, the health API's documents and the status page all render it), or
 * from the authority record in a database opened read-only (with the owner, when one runs
 * without a control socket). A database nobody owns is never shown as trading: its headline is
 * NOT RUNNING (or SHUTDOWN when latched), with the last recorded state beside it.
 */
import type {
  HeldFailure,
  LifecycleState,
  Mode,
  SafeModeHold,
  ShutdownLatch,
  StartupReport,
} from '../../machines/types.js';
import type { StoreCore } from '../../persistence/index.js';
import { readAuthorityRecord } from '../../persistence/mode-journal.js';
import type { GovernorAlert } from '../alerts/types.js';
import type { Thresholds } from '../config.js';
import { clip } from '../display-text.js';
import { fallbackPathFor, readFallbackRecord } from '../fallback-file.js';
import type { ExecutionQueueStatus, SystemHealth } from '../health/health-monitor.js';
import { type Authorization, authorityInForce, type Cause, type LatchSource } from './authority.js';
import type { EnginePort } from './engine-port.js';
import type { OwnerInfo } from './ownership/find-owner.js';
import type { VenueStatus } from './venue-guard.js';
import type { AlertManagerView, FailSafeManagerView, HealthMonitorView } from './views.js';

export type { VenueStatus } from './venue-guard.js';

/** An alert as the status shows it (strings only: the status travels as JSON). */
export interface StatusAlert {
  readonly alertId: string;
  readonly severity: GovernorAlert['severity'];
  /** SHUTDOWN, STARTUP_FAILURE, HEARTBEAT_LOSS, INTEGRITY_VIOLATION (null for an old row). */
  readonly kind: string | null;
  readonly title: string;
  readonly message: string;
  readonly recommendedAction: string;
  readonly timestamp: string;
  /** When an operator's restart or resume ended the incident, or null while it is open. */
  readonly resolvedAt: string | null;
}

export interface GovernorStatus {
  /** True when an owner process runs (live, or known from its lock). */
  readonly running: boolean;
  /** Where this came from: the owner itself (live), or the database (recorded). */
  readonly source: 'live' | 'recorded';
  readonly owner: { readonly pid: number; readonly host: string; readonly since: string } | null;
  readonly pid: number | null;
  readonly db: string;
  /** When this status was read (ISO-8601): the governor's injected clock, live. */
  readonly time: string;
  /**
   * The state to act on: live, or as recorded by a running owner; SHUTDOWN when latched; null
   * when nobody runs (nothing trades) and nothing is latched.
   */
  readonly state: LifecycleState | null;
  /** The state the database last recorded (for a process that was killed, it may be stale). */
  readonly recordedState: LifecycleState | null;
  readonly canDeployCapital: boolean;
  /** Why the gate is open or closed (`authorize()`'s reason, live). */
  readonly reason: string | null;
  readonly cause: string | null;
  readonly trigger: string | null;
  /** Why the machine is where it is: the latch's or the cause's reason (`getCause().reason`). */
  readonly stateReason: string | null;
  readonly desiredMode: Mode;
  readonly latch: ShutdownLatch | null;
  /** Where the latch is kept: live, where this process persisted it (null: nowhere it could). */
  readonly latchSource: LatchSource | null;
  /** A failure's OBSERVE_ONLY, held until an operator resumes. */
  readonly hold: Pick<SafeModeHold, 'cause' | 'reason'> | null;
  /** Where the latch record and the event log disagree (tampering), or null. */
  readonly discrepancy: string | null;
  readonly lifecycleId: string | null;
  readonly heartbeatAgeMs: number | null;
  /** The heartbeat is lost after this long (live only). */
  readonly heartbeatLossMs: number | null;
  readonly health: {
    readonly healthy: boolean;
    readonly reasons: readonly string[];
    readonly errorRate: number;
    readonly marketDataAgeMs: number;
    readonly eventLogWriteAgeMs: number;
    readonly snapshotWriteAgeMs: number;
    /** Wall time of each input's last update (ISO-8601), null before the first one. */
    readonly lastMarketDataUpdate: string | null;
    readonly lastEventLogWrite: string | null;
    readonly lastSnapshotWrite: string | null;
    readonly executionQueueStatus: ExecutionQueueStatus;
    /** MB. */
    readonly memoryUsage: {
      readonly heapUsed: number;
      readonly heapTotal: number;
      readonly rss: number;
    };
    /** On the monotonic clock, since the GovernanceSystem started. */
    readonly uptimeMs: number;
    /** The spec's `2d 5h 30m`. */
    readonly uptime: string;
  } | null;
  readonly startupChecks: { readonly passed: boolean; readonly failed: readonly string[] } | null;
  /** The report of the last CHECKING visit of this lifecycle (live only). */
  readonly lastStartupReport: StartupReport | null;
  readonly unacknowledgedAlerts: number;
  readonly unacknowledgedAlertsBySeverity: Readonly<Record<GovernorAlert['severity'], number>>;
  /** The newest unacknowledged alerts (at most STATUS_ALERTS_MAX), resolved ones marked. */
  readonly alerts: readonly StatusAlert[];
  readonly eventLogHead: { readonly seq: number; readonly hash: string } | null;
  /**
   * The venues: flat or not since the last SHUTDOWN, open orders, last cancel latency, dead
   * man's switch expiry. Live from the owner, else as recorded (the `venues` table).
   */
  readonly venues: readonly VenueStatus[];
}

/** Unacknowledged alerts are counted up to this many. */
export const UNACKNOWLEDGED_COUNTED_MAX = 10_000;
/** The newest unacknowledged alerts the status carries. */
export const STATUS_ALERTS_MAX = 10;
/**
 * An alert's texts in the status are cut to these lengths (`…` marks a cut; `governor alerts`
 * has them whole): the status answers `governor status` over the control socket, whose
 * messages are bounded (64 KiB), and the page shows a summary.
 */
export const STATUS_ALERT_TEXT_CHARS_MAX = { title: 200, message: 500, recommendedAction: 300 };

/** What alertsOf reads of an alert: the alert manager's (dates) or the store's (ISO strings). */
interface AlertFields extends Omit<StatusAlert, 'timestamp' | 'resolvedAt'> {
  readonly timestamp: Date | string;
  readonly resolvedAt: Date | string | null;
}

function isoText(date: Date | string): string {
  return typeof date === 'string' ? date : date.toISOString();
}

function alertsOf(alerts: readonly AlertFields[]): {
  count: number;
  bySeverity: Record<GovernorAlert['severity'], number>;
  newest: StatusAlert[];
} {
  const bySeverity = { CRITICAL: 0, WARNING: 0, INFO: 0 };
  for (const alert of alerts) bySeverity[alert.severity]++;
  return {
    count: alerts.length,
    bySeverity,
    newest: alerts.slice(0, STATUS_ALERTS_MAX).map((alert) => ({
      alertId: alert.alertId,
      severity: alert.severity,
      kind: alert.kind,
      title: clip(alert.title, STATUS_ALERT_TEXT_CHARS_MAX.title),
      message: clip(alert.message, STATUS_ALERT_TEXT_CHARS_MAX.message),
      recommendedAction: clip(
        alert.recommendedAction,
        STATUS_ALERT_TEXT_CHARS_MAX.recommendedAction,
      ),
      timestamp: isoText(alert.timestamp),
      resolvedAt: alert.resolvedAt === null ? null : isoText(alert.resolvedAt),
    })),
  };
}

function isoOrNull(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}

/** What the live status reads of a GovernanceSystem (which is one), read-only. */
export interface StatusSource {
  readonly dbPath: string;
  readonly thresholds: Thresholds;
  readonly healthMonitor: HealthMonitorView;
  readonly alertManager: AlertManagerView;
  readonly failSafeManager: FailSafeManagerView;
  readonly engine: EnginePort;
  authorize(): Authorization;
  getCause(): Cause;
  getSystemHealth(): SystemHealth;
  getLastStartupReport(): StartupReport | null;
  heartbeatAgeMs(): number;
  getLatch(): ShutdownLatch | null;
  getState(): LifecycleState;
  getModes(): { desired: Mode; configured: Mode };
  getHold(): HeldFailure | null;
  getLifecycleId(): string;
  venueStatus(): VenueStatus[];
}

/**
 * The live status of a GovernanceSystem (`governance.status()`; the daemon answers `status` with
 * it). Reads memory and a few indexed SQLite reads; `time` is the injected clock's.
 */
export function liveStatus(governance: StatusSource): GovernorStatus {
  const authorization = governance.authorize();
  const cause = governance.getCause();
  const health = governance.getSystemHealth();
  const ages = governance.healthMonitor.ages();
  const report = governance.getLastStartupReport();
  const heartbeatAgeMs = governance.heartbeatAgeMs();
  const latch = governance.getLatch();
  const state = governance.getState();
  const alerts = alertsOf(
    governance.alertManager.getUnacknowledgedAlerts(UNACKNOWLEDGED_COUNTED_MAX),
  );
  return {
    running: true,
    source: 'live',
    owner: null,
    pid: process.pid,
    db: governance.dbPath,
    time: health.timestamp.toISOString(),
    state,
    recordedState: state,
    canDeployCapital: authorization.allowed,
    reason: authorization.reason,
    cause: cause.cause,
    trigger: cause.trigger,
    stateReason: cause.reason,
    desiredMode: governance.getModes().desired,
    latch,
    latchSource: latch === null ? null : governance.failSafeManager.getFailSafeState().persistedTo,
    hold: governance.getHold(),
    discrepancy: null,
    lifecycleId: governance.getLifecycleId() || null,
    heartbeatAgeMs: Number.isFinite(heartbeatAgeMs) ? Math.round(heartbeatAgeMs) : null,
    heartbeatLossMs: governance.thresholds.heartbeatLossMs,
    health: {
      healthy: health.healthy,
      reasons: health.reasons,
      errorRate: health.errorRate,
      marketDataAgeMs: Math.round(ages.marketDataAgeMs),
      eventLogWriteAgeMs: Math.round(ages.eventLogWriteAgeMs),
      snapshotWriteAgeMs: Math.round(ages.snapshotWriteAgeMs),
      lastMarketDataUpdate: isoOrNull(health.lastMarketDataUpdate),
      lastEventLogWrite: isoOrNull(health.lastEventLogWrite),
      lastSnapshotWrite: isoOrNull(health.lastSnapshotWrite),
      executionQueueStatus: health.executionQueueStatus,
      memoryUsage: health.memoryUsage,
      uptimeMs: Math.round(health.uptime),
      uptime: governance.healthMonitor.getUptimeString(),
    },
    startupChecks:
      report === null
        ? null
        : {
            passed: report.passed,
            failed: report.results.filter((r) => !r.passed).map((r) => r.name),
          },
    lastStartupReport: report,
    unacknowledgedAlerts: alerts.count,
    unacknowledgedAlertsBySeverity: alerts.bySeverity,
    alerts: alerts.newest,
    eventLogHead: governance.engine.events.head(),
    venues: governance.venueStatus(),
  };
}

/**
 * The status recorded in a database (opened read-only by the caller). `owner` is the running
 * owner when its lock is held (an embedded engine has no control socket), else null.
 */
export function recordedStatus(
  store: StoreCore,
  dbPath: string,
  owner: OwnerInfo | null,
  wallNowMs: number = Date.now(),
): GovernorStatus {
  const record = readAuthorityRecord(store);
  const { latch, latchSource, hold } = authorityInForce(
    record,
    readFallbackRecord(fallbackPathFor(dbPath)),
  );
  const running = owner !== null;
  const state: LifecycleState | null =
    latch !== null ? 'SHUTDOWN' : running ? record.lifecycleState : null;
  const reason =
    latch !== null
      ? `SHUTDOWN latched (${latch.trigger}): ${latch.reason}`
      : running
        ? `owner pid ${owner.pid} was not asked over a control socket: state as it recorded it (the gate also needs a fresh heartbeat lease)`
        : 'no owner is running: nothing may deploy capital';
  const alerts = alertsOf(
    store.alerts.list({ unacknowledgedOnly: true, limit: UNACKNOWLEDGED_COUNTED_MAX }),
  );
  return {
    running,
    source: 'recorded',
    owner: owner === null ? null : { pid: owner.pid, host: owner.host, since: owner.since },
    pid: owner?.pid ?? null,
    db: dbPath,
    time: new Date(wallNowMs).toISOString(),
    state,
    recordedState: record.lifecycleState,
    canDeployCapital: false,
    reason,
    cause: hold?.cause ?? null,
    trigger: latch?.trigger ?? null,
    stateReason: latch?.reason ?? hold?.reason ?? null,
    desiredMode: record.desiredMode,
    latch,
    latchSource,
    hold: hold === null ? null : { cause: hold.cause, reason: hold.reason },
    discrepancy: record.discrepancy,
    lifecycleId: record.lifecycleId,
    heartbeatAgeMs: null,
    heartbeatLossMs: null,
    health: null,
    startupChecks: null,
    lastStartupReport: null,
    unacknowledgedAlerts: alerts.count,
    unacknowledgedAlertsBySeverity: alerts.bySeverity,
    alerts: alerts.newest,
    eventLogHead: store.events.head(),
    venues: recordedVenues(store, running),
  };
}

/**
 * The venues as the database recorded them (no owner is asked). With no owner running, a venue
 * whose orders lived in its owner's process is flat with 0 open: that process is gone.
 */
export function recordedVenues(store: StoreCore, ownerRunning = true): VenueStatus[] {
  return store.venues.list().map((record) => {
    const gone = record.inProcess && !ownerRunning;
    return {
      name: record.name,
      flat: gone ? true : record.flat,
      openOrders: gone ? 0 : record.openOrders,
      lastCancelLatencyMs:
        record.lastCancelLatencyMs === null ? null : Math.round(record.lastCancelLatencyMs),
      cancelling: false,
      deadMansSwitch: record.switchTimeoutMs !== null,
      deadMansSwitchExpiresAt: record.switchExpiresAt,
      inProcess: record.inProcess,
    };
  });
}
