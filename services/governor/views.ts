/**
 * The GovernanceSystem's component fields as the spec names them (`healthMonitor`,
 * `failSafeManager`, `alertManager`, `dataIntegrityVerifier`), as views: the spec's calls and
 * read-only ones, and no path to governor's own tables (no raising or resolving alerts, no
 * restoring state, no stopping a component).
 */

import type { ShutdownTrigger } from '../../machines/types.js';
import type {
  DataIntegrityVerifier,
  IntegrityViolation,
  VerificationRun,
  VerifiedHead,
  VerifyRunOptions,
} from '../../persistence/integrity/index.js';
import type { AlertManager, SinkStats } from '../alerts/alert-manager.js';
import type { DispatcherStats } from '../alerts/delivery-dispatcher.js';
import type { AlertDeliveryStatus } from '../alerts/delivery-status.js';
import type { GovernorAlert } from '../alerts/types.js';
import type { FailSafeManager, FailSafeState } from '../health/fail-safe-manager.js';
import type {
  ExecutionQueueStatus,
  HealthMonitor,
  InputAges,
  SystemHealth,
} from '../health/health-monitor.js';

/** What the engine reports to, and the health it can read. */
export interface HealthMonitorView {
  updateMarketDataTimestamp(): void;
  updateEventLogWriteTimestamp(): void;
  updateSnapshotWriteTimestamp(): void;
  recordError(): void;
  setExecutionQueueStatus(status: ExecutionQueueStatus): void;
  getExecutionQueueStatus(): ExecutionQueueStatus;
  getSystemHealth(): SystemHealth;
  getUptimeString(): string;
  uptimeMs(): number;
  ages(): InputAges;
  unhealthyReasons(): string[];
  errorRatePerMinute(): number;
}

export interface FailSafeManagerView {
  checkFailSafeConditions(options?: { includeCapital?: boolean }): ShutdownTrigger | null;
  triggerShutdown(trigger: ShutdownTrigger, reason: string): void;
  isInShutdown(): boolean;
  getFailSafeState(): FailSafeState;
}

export interface AlertManagerView {
  getAlerts(limit?: number): GovernorAlert[];
  getUnacknowledgedAlerts(limit?: number): GovernorAlert[];
  /** Acknowledges an alert in the name of an operator (audited). */
  acknowledge(alertId: string, operator: string): GovernorAlert;
  getDeliveryStatus(alertId?: string, limit?: number): AlertDeliveryStatus[];
  deliveryStats(): DispatcherStats & { pending: number };
  /** Each configured sink's delivery counters since start, and its watchdog's beats. */
  sinkStats(): SinkStats[];
  /** Resolves when no delivery attempt is in flight or due. */
  flush(): Promise<void>;
}

export interface DataIntegrityVerifierView {
  /** Verifies without changing the mode (`checkDataIntegrity()` acts on what it finds). */
  verify(options?: VerifyRunOptions): IntegrityViolation[];
  getCriticalViolations(): IntegrityViolation[];
  getLastViolations(): IntegrityViolation[];
  getLastRun(): VerificationRun | null;
  getVerifiedHead(): VerifiedHead | null;
}

export function healthMonitorView(health: HealthMonitor): HealthMonitorView {
  return Object.freeze({
    updateMarketDataTimestamp: () => health.updateMarketDataTimestamp(),
    updateEventLogWriteTimestamp: () => health.updateEventLogWriteTimestamp(),
    updateSnapshotWriteTimestamp: () => health.updateSnapshotWriteTimestamp(),
    recordError: () => health.recordError(),
    setExecutionQueueStatus: (status: ExecutionQueueStatus) =>
      health.setExecutionQueueStatus(status),
    getExecutionQueueStatus: () => health.getExecutionQueueStatus(),
    getSystemHealth: () => health.getSystemHealth(),
    getUptimeString: () => health.getUptimeString(),
    uptimeMs: () => health.uptimeMs(),
    ages: () => health.ages(),
    unhealthyReasons: () => health.unhealthyReasons(),
    errorRatePerMinute: () => health.errorRatePerMinute(),
  });
}

export function failSafeManagerView(failSafe: FailSafeManager): FailSafeManagerView {
  return Object.freeze({
    checkFailSafeConditions: (options?: { includeCapital?: boolean }) =>
      failSafe.checkFailSafeConditions(options),
    triggerShutdown: (trigger: ShutdownTrigger, reason: string) =>
      failSafe.triggerShutdown(trigger, reason),
    isInShutdown: () => failSafe.isInShutdown(),
    getFailSafeState: () => failSafe.getFailSafeState(),
  });
}

export function alertManagerView(alerts: AlertManager): AlertManagerView {
  return Object.freeze({
    getAlerts: (limit?: number) => alerts.getAlerts(limit),
    getUnacknowledgedAlerts: (limit?: number) => alerts.getUnacknowledgedAlerts(limit),
    acknowledge: (alertId: string, operator: string) => alerts.acknowledge(alertId, operator),
    getDeliveryStatus: (alertId?: string, limit?: number) =>
      alerts.getDeliveryStatus(alertId, limit),
    deliveryStats: () => alerts.deliveryStats(),
    sinkStats: () => alerts.sinkStats(),
    flush: () => alerts.flush(),
  });
}

export function dataIntegrityVerifierView(
  verifier: DataIntegrityVerifier,
): DataIntegrityVerifierView {
  return Object.freeze({
    verify: (options?: VerifyRunOptions) => verifier.verify(options),
    getCriticalViolations: () => verifier.getCriticalViolations(),
    getLastViolations: () => verifier.getLastViolations(),
    getLastRun: () => verifier.getLastRun(),
    getVerifiedHead: () => verifier.getVerifiedHead(),
  });
}
