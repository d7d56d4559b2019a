/**
 * The bodies the health API serves, built from cheap reads of a GovernanceSystem: the
 * `application/health+json` verdict, the detailed status, the uptime, and the status page's
 * view. Nothing here writes; every function reads the governor's memory or the reader.
 */
import type { LifecycleState } from '../../machines/types.js';
import type { GovernorAlert } from '../alerts/types.js';
import type { GovernanceSystem } from '../governor/governance-system.js';
import type { DatabaseReader } from './database-reader.js';

export type HealthStatus = 'pass' | 'warn' | 'fail';

/** The most recent unacknowledged alerts the status page and its stream carry. */
export const PAGE_ALERTS_MAX = 20;
/** The most unacknowledged alerts read to count them (the alert manager's own list bound). */
export const COUNTED_ALERTS_MAX = 1_000;

export interface HealthVerdict {
  readonly status: HealthStatus;
  readonly httpStatus: 200 | 503;
  readonly mode: LifecycleState;
  readonly gateOpen: boolean;
  readonly reasons: readonly string[];
}

/**
 * The verdict of `GET /api/health`:
 * - fail (503): the state is SHUTDOWN, or a rule of the spec's System Health Monitor is broken;
 * - warn (200): otherwise, when the gate is closed: STARTING, CHECKING, OBSERVE_ONLY, or
 *   AGGRESSIVE with an expired heartbeat lease;
 * - pass (200): AGGRESSIVE, the gate open, every health rule kept.
 */
export function healthVerdict(governance: GovernanceSystem): HealthVerdict {
  const mode = governance.getMode();
  const gateOpen = governance.canDeployCapital();
  const reasons = governance.healthMonitor.unhealthyReasons();
  let status: HealthStatus = 'pass';
  if (mode === 'SHUTDOWN' || reasons.length > 0) status = 'fail';
  else if (!gateOpen) status = 'warn';
  return { status, httpStatus: status === 'fail' ? 503 : 200, mode, gateOpen, reasons };
}

/** Milliseconds, or null for "never" (an infinite age before the first heartbeat). */
export function finiteOrNull(ms: number): number | null {
  return Number.isFinite(ms) ? Math.round(ms) : null;
}

function check(
  componentType: string,
  observedValue: unknown,
  status: HealthStatus,
  time: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown>[] {
  return [{ componentType, observedValue, status, time, ...extra }];
}

/** The `application/health+json` document of `GET /api/health`. */
export function healthDocument(
  governance: GovernanceSystem,
  verdict: HealthVerdict,
): Record<string, unknown> {
  const time = new Date().toISOString();
  const heartbeatAgeMs = finiteOrNull(governance.heartbeatAgeMs());
  const heartbeatFresh =
    heartbeatAgeMs !== null && heartbeatAgeMs < governance.thresholds.heartbeatLossMs;
  const modeStatus: HealthStatus =
    verdict.mode === 'SHUTDOWN' ? 'fail' : verdict.mode === 'AGGRESSIVE' ? 'pass' : 'warn';
  const authorization = verdict.gateOpen ? null : governance.authorize().reason;
  return {
    status: verdict.status,
    mode: verdict.mode,
    version: '1',
    serviceId: 'governor',
    description: 'governor: the mode authority that decides whether capital may be deployed',
    ...(verdict.status === 'pass' ? {} : { output: authorization ?? verdict.reasons.join('; ') }),
    checks: {
      'governor:mode': check('component', verdict.mode, modeStatus, time),
      'governor:gate': check(
        'component',
        verdict.gateOpen,
        verdict.gateOpen ? 'pass' : 'warn',
        time,
      ),
      'heartbeat:age': check('component', heartbeatAgeMs, heartbeatFresh ? 'pass' : 'warn', time, {
        observedUnit: 'ms',
      }),
      'system:health': check(
        'system',
        verdict.reasons.length === 0,
        verdict.reasons.length === 0 ? 'pass' : 'fail',
        time,
        verdict.reasons.length === 0 ? {} : { output: verdict.reasons.join('; ') },
      ),
    },
  };
}

export interface AlertSummary {
  readonly alertId: string;
  readonly severity: string;
  readonly kind: string;
  readonly title: string;
  readonly message: string;
  readonly recommendedAction: string;
  readonly timestamp: string;
}

function summarise(alert: GovernorAlert): AlertSummary {
  return {
    alertId: alert.alertId,
    severity: alert.severity,
    kind: alert.kind,
    title: alert.title,
    message: alert.message,
    recommendedAction: alert.recommendedAction,
    timestamp: alert.timestamp.toISOString(),
  };
}

/** Unacknowledged alerts: counted by severity, and the newest few summarised. */
export function unacknowledgedAlerts(governance: GovernanceSystem): {
  count: number;
  bySeverity: Record<'CRITICAL' | 'WARNING' | 'INFO', number>;
  newest: AlertSummary[];
} {
  const alerts = governance.alertManager.getUnacknowledgedAlerts(COUNTED_ALERTS_MAX);
  const bySeverity = { CRITICAL: 0, WARNING: 0, INFO: 0 };
  for (const alert of alerts) bySeverity[alert.severity]++;
  return {
    count: alerts.length,
    bySeverity,
    newest: alerts.slice(0, PAGE_ALERTS_MAX).map(summarise),
  };
}

function inputAgesMs(governance: GovernanceSystem): Record<string, number> {
  const ages = governance.healthMonitor.ages();
  return {
    marketData: Math.round(ages.marketDataAgeMs),
    eventLogWrite: Math.round(ages.eventLogWriteAgeMs),
    snapshotWrite: Math.round(ages.snapshotWriteAgeMs),
  };
}

/** The body of `GET /api/health/status`. */
export function statusDocument(
  governance: GovernanceSystem,
  reader: DatabaseReader,
): Record<string, unknown> {
  const authorization = governance.authorize();
  const alerts = unacknowledgedAlerts(governance);
  const failSafe = governance.failSafeManager.getFailSafeState();
  return {
    mode: governance.getMode(),
    gateOpen: authorization.allowed,
    authorization: { allowed: authorization.allowed, reason: authorization.reason },
    ...governance.getCause(),
    lifecycleId: governance.getLifecycleId() || null,
    health: governance.getSystemHealth(),
    inputAgesMs: inputAgesMs(governance),
    heartbeatAgeMs: finiteOrNull(governance.heartbeatAgeMs()),
    failSafe: { ...failSafe, at: failSafe.at?.toISOString() ?? null },
    lastStartupReport: governance.getLastStartupReport(),
    unacknowledgedAlerts: alerts.count,
    unacknowledgedAlertsBySeverity: alerts.bySeverity,
    eventLogHeadSeq: reader.eventLogHeadSeq(),
    time: new Date().toISOString(),
  };
}

/** The body of `GET /api/health/uptime`. */
export function uptimeDocument(governance: GovernanceSystem): Record<string, unknown> {
  const uptimeMs = Math.round(governance.healthMonitor.uptimeMs());
  return {
    uptimeMs,
    uptimeSeconds: Math.floor(uptimeMs / 1_000),
    uptime: governance.healthMonitor.getUptimeString(),
  };
}

/** What the status page shows, and what its event stream pushes. */
export function pageView(governance: GovernanceSystem): Record<string, unknown> {
  const authorization = governance.authorize();
  const alerts = unacknowledgedAlerts(governance);
  return {
    mode: governance.getMode(),
    gateOpen: authorization.allowed,
    authorization: authorization.reason,
    ...governance.getCause(),
    lifecycleId: governance.getLifecycleId() || null,
    heartbeatAgeMs: finiteOrNull(governance.heartbeatAgeMs()),
    heartbeatLossMs: governance.thresholds.heartbeatLossMs,
    inputAgesMs: inputAgesMs(governance),
    healthReasons: governance.healthMonitor.unhealthyReasons(),
    uptime: governance.healthMonitor.getUptimeString(),
    unacknowledgedAlerts: alerts.count,
    alerts: alerts.newest,
    time: new Date().toISOString(),
  };
}
