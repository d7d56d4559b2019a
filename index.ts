/**
 * governor's public API: what an execution engine imports to ask "may I deploy capital now?".
 */

// machines: the lifecycle statechart
export * from './machines/index.js';
// persistence: the SQLite store
export * from './persistence/index.js';
// services: the GovernanceSystem and its parts
export { AlertManager, type RaiseAlertInput } from './services/alerts/alert-manager.js';
export {
  ALERT_KINDS,
  ALERT_SEVERITIES,
  type Alert,
  type AlertKind,
  type AlertSeverity,
  type AlertSink,
  type GovernorAlert,
} from './services/alerts/types.js';
// services: time, errors, logging
export { type Clock, SimulatedClock, SystemClock, type TimerHandle } from './services/clock.js';
export { DEFAULT_THRESHOLDS, THRESHOLD_RANGES, type Thresholds } from './services/config.js';
export {
  AssertionError,
  ERROR_CATALOGUE,
  type ErrorCode,
  GovernorError,
  isGovernorError,
} from './services/errors.js';
export {
  type Authorization,
  GovernanceSystem,
  type GovernanceSystemOptions,
  type ModeChange,
  type ModeChangeListener,
} from './services/governor.js';
export {
  DataIntegrityVerifier,
  type IntegrityViolation,
} from './services/health/data-integrity.js';
export { FailSafeManager, type FailSafeState } from './services/health/failsafe.js';
export type {
  AdapterPing,
  AdaptersArgument,
  NamedAdapter,
} from './services/health/startup-checks.js';
export {
  type ExecutionQueueStatus,
  HealthMonitor,
  type SystemHealth,
} from './services/health/system-health.js';
export { createLogger, type Logger, silentLogger } from './services/logger.js';
