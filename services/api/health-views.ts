/**
 * The bodies the health API serves. The detailed status and the status page's view render the
 * one status projection (`governance.status()`, services/governor/status.ts); the health verdict,
 * readiness and the gate are cheap reads of the governor's memory for the endpoints probes poll
 * hardest. Nothing here writes, and every time shown comes from the governor's injected clock.
 */
import type { LifecycleState } from '../../machines/types.js';
import type { GovernanceSystem } from '../governor/governance-system.js';
import type { GovernorStatus } from '../governor/status.js';
import type { DatabaseReader } from './database-reader.js';

export type HealthStatus = 'pass' | 'warn' | 'fail';

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
  const mode = governance.getState();
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

/** The `application/health+json` document of `GET /api/health`; `time` when it was read. */
export function healthDocument(
  governance: GovernanceSystem,
  verdict: HealthVerdict,
): Record<string, unknown> {
  // The health reading's own timestamp: the injected clock's wall time.
  const time = governance.getSystemHealth().timestamp.toISOString();
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

/** The states in which the lifecycle has settled: the process serves what it decided. */
const SETTLED: ReadonlySet<LifecycleState> = new Set(['AGGRESSIVE', 'OBSERVE_ONLY', 'SHUTDOWN']);

const UNSETTLED_REASON: Readonly<Record<string, string>> = {
  STARTING: 'STARTING: the lifecycle has not begun (runStartupChecks not called yet)',
  CHECKING: 'CHECKING: the startup checks are running',
};

export interface Readiness {
  readonly httpStatus: 200 | 503;
  readonly body: {
    readonly ready: boolean;
    readonly mode: LifecycleState;
    readonly checks: { readonly store: string; readonly lifecycle: string };
    readonly reason: string | null;
  };
}

/** A short description of why a read failed: its `code` when it has one. */
function failureText(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.message.slice(0, 200) : 'unreadable';
}

/**
 * `GET /readyz`: 200 while this process serves, whatever the gate says: the governor's store
 * and the API's own connection answer a read, and the lifecycle has settled (AGGRESSIVE,
 * OBSERVE_ONLY or SHUTDOWN). 503 in STARTING and CHECKING, and when a store cannot be read
 * (the governor was closed, the file is gone).
 */
export function readiness(governance: GovernanceSystem, reader: DatabaseReader): Readiness {
  const mode = governance.getState();
  let store = 'ok';
  try {
    governance.engine.events.head();
    reader.eventLogHeadSeq();
  } catch (error) {
    store = failureText(error);
  }
  const settled = SETTLED.has(mode);
  const lifecycle = settled ? 'settled' : (UNSETTLED_REASON[mode] ?? mode);
  const ready = settled && store === 'ok';
  const reason = ready
    ? null
    : store !== 'ok'
      ? `the database cannot be read: ${store}`
      : lifecycle;
  return {
    httpStatus: ready ? 200 : 503,
    body: { ready, mode, checks: { store, lifecycle }, reason },
  };
}

/** `GET /api/health/gate`: 200 only while capital may be deployed, with `authorize()`'s reason. */
export function gateDocument(governance: GovernanceSystem): {
  httpStatus: 200 | 503;
  body: { open: boolean; mode: LifecycleState; reason: string };
} {
  const authorization = governance.authorize();
  return {
    httpStatus: authorization.allowed ? 200 : 503,
    body: { open: authorization.allowed, mode: authorization.state, reason: authorization.reason },
  };
}

/** The live status's health, which a live status always carries. */
function liveHealth(status: GovernorStatus): NonNullable<GovernorStatus['health']> {
  if (status.health === null || status.state === null) {
    throw new TypeError('Expected a live status (with health and a state)');
  }
  return status.health;
}

/** The body of `GET /api/health/status`: the status projection, in the documented shape. */
export function statusDocument(status: GovernorStatus): Record<string, unknown> {
  const health = liveHealth(status);
  const latch = status.latch;
  return {
    mode: status.state,
    gateOpen: status.canDeployCapital,
    authorization: { allowed: status.canDeployCapital, reason: status.reason },
    cause: status.cause,
    trigger: status.trigger,
    reason: status.stateReason,
    desiredMode: status.desiredMode,
    lifecycleId: status.lifecycleId,
    health: {
      healthy: health.healthy,
      uptime: health.uptimeMs,
      lastMarketDataUpdate: health.lastMarketDataUpdate,
      lastEventLogWrite: health.lastEventLogWrite,
      lastSnapshotWrite: health.lastSnapshotWrite,
      executionQueueStatus: health.executionQueueStatus,
      memoryUsage: health.memoryUsage,
      errorRate: health.errorRate,
      timestamp: status.time,
      reasons: health.reasons,
    },
    inputAgesMs: inputAgesMs(health),
    heartbeatAgeMs: status.heartbeatAgeMs,
    failSafe: {
      inShutdown: latch !== null,
      trigger: latch?.trigger ?? null,
      reason: latch?.reason ?? null,
      at: latch?.at ?? null,
      latched: latch !== null,
      persistedTo: status.latchSource,
    },
    hold: status.hold,
    lastStartupReport: status.lastStartupReport,
    unacknowledgedAlerts: status.unacknowledgedAlerts,
    unacknowledgedAlertsBySeverity: status.unacknowledgedAlertsBySeverity,
    eventLogHeadSeq: status.eventLogHead?.seq ?? 0,
    time: status.time,
  };
}

function inputAgesMs(health: NonNullable<GovernorStatus['health']>): Record<string, number> {
  return {
    marketData: health.marketDataAgeMs,
    eventLogWrite: health.eventLogWriteAgeMs,
    snapshotWrite: health.snapshotWriteAgeMs,
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

/** What the status page shows, and what its event stream pushes: the status, rendered. */
export function pageView(status: GovernorStatus): Record<string, unknown> {
  const health = liveHealth(status);
  return {
    mode: status.state,
    gateOpen: status.canDeployCapital,
    authorization: status.reason,
    cause: status.cause,
    trigger: status.trigger,
    reason: status.stateReason,
    desiredMode: status.desiredMode,
    lifecycleId: status.lifecycleId,
    heartbeatAgeMs: status.heartbeatAgeMs,
    heartbeatLossMs: status.heartbeatLossMs,
    inputAgesMs: inputAgesMs(health),
    healthReasons: health.reasons,
    uptime: health.uptime,
    unacknowledgedAlerts: status.unacknowledgedAlerts,
    alerts: status.alerts,
    venues: status.venues,
    db: status.db,
    time: status.time,
  };
}
