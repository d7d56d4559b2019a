/**
 * governor's public API: what an execution engine imports to ask "may I deploy capital now?".
 */

// machines: the lifecycle statechart
export * from './machines/index.js';
// persistence: the SQLite store
export * from './persistence/index.js';
// services: the GovernanceSystem and its parts
// services/alerts
export {
  AlertManager,
  type AlertManagerOptions,
  type AlertRepository,
  DELIVERY_QUEUE_MAX,
  type OutboxRowRef,
  type RaiseAlertInput,
} from './services/alerts/alert-manager.js';
export {
  backoffDelayMs,
  DEFAULT_DELIVERY_POLICY,
  DELIVERY_POLICY_RANGES,
  type DeliveryPolicy,
  resolveDeliveryPolicy,
} from './services/alerts/delivery-policy.js';
export {
  type AlertDeliveryReport,
  type AlertDeliveryStatus,
  readAlertDeliveryStatus,
} from './services/alerts/delivery-status.js';
export type { DispatcherStats } from './services/alerts/dispatcher.js';
export {
  ALERTMANAGER_FIRING_FOR_MS_DEFAULT,
  type AlertmanagerSinkOptions,
  alertmanagerAlertName,
  alertmanagerPayload,
  alertmanagerSink,
  type PostableAlert,
} from './services/alerts/sinks/alertmanager-sink.js';
export {
  PAGERDUTY_EVENTS_URL,
  type PagerDutySinkOptions,
  pagerDutyDedupKey,
  pagerDutySink,
} from './services/alerts/sinks/pagerduty-sink.js';
export {
  type SlackSinkOptions,
  slackPayload,
  slackSink,
} from './services/alerts/sinks/slack-sink.js';
export {
  startWatchdog,
  Watchdog,
  type WatchdogOptions,
  type WatchdogSettings,
} from './services/alerts/sinks/watchdog.js';
export {
  type WebhookPayload,
  type WebhookSinkOptions,
  webhookPayload,
  webhookSink,
} from './services/alerts/sinks/webhook-sink.js';
export { createStoreAlertRepository } from './services/alerts/store-repository.js';
export type { AlertSinkContext } from './services/alerts/types.js';
export {
  ALERT_KINDS,
  ALERT_SEVERITIES,
  type Alert,
  type AlertKind,
  type AlertSeverity,
  type AlertSink,
  type GovernorAlert,
} from './services/alerts/types.js';
// services/api
export { type ApiServer, type ApiServerOptions, startApiServer } from './services/api/server.js';
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
// services/health: offline verification (what `governor verify` runs)
export {
  type ExpectedHead,
  parseExpectedHead,
  type VerifyDatabaseOptions,
  type VerifyDatabaseResult,
  verifyDatabase,
} from './services/health/verify-database.js';
// services: live inspection (opt-in) and the transition log
export { combineInspectors, createLiveInspector, transitionLogger } from './services/inspection.js';
export { createLogger, type Logger, silentLogger } from './services/logger.js';
