/**
 * governor's public API: what an execution engine imports to ask "may I deploy capital now?".
 * A small surface: the GovernanceSystem and its engine port, the statechart and its vocabulary,
 * thresholds, errors, time and logging, alert sinks, the health API and offline verification.
 * governor's own tables are reachable only through the GovernanceSystem's audited calls; test
 * harnesses and fault injection live in the `trading-governor/testing` entry point.
 */

// The statechart and its vocabulary
export { type GovernorMachine, governorMachine } from './machines/governor-machine.js';
export {
  CHECK_OUTCOMES,
  type CheckOutcome,
  HELD_CAUSES,
  type HeldCause,
  LIFECYCLE_STATES,
  type LifecycleState,
  MODES,
  type Mode,
  OBSERVE_CAUSES,
  type ObserveCause,
  type SafeModeHold,
  SHUTDOWN_TRIGGERS,
  type ShutdownLatch,
  type ShutdownTrigger,
  STARTUP_CHECK_NAMES,
  type StartupCheckName,
  type StartupCheckResult,
  type StartupReport,
} from './machines/types.js';
export { GOVERNOR_EVENT_TYPES } from './persistence/event-types.js';
// What the engine writes and reads through `governance.engine`
export type {
  AccountRecord,
  AmountMinor,
  AppendedEvent,
  ChainHead,
  EventInput,
  PoolMismatch,
  PoolRecord,
  Reconciliation,
  SnapshotInput,
  StoredEvent,
  StoredSnapshot,
  StrategyRecord,
  StrategyState,
  StrategyTransitionRecord,
  WrittenSnapshot,
} from './persistence/index.js';
export type { IntegrityViolation } from './persistence/integrity/index.js';
// Alerts: the shape, and the sinks they are delivered to
export type { AlertDeliveryStatus } from './services/alerts/delivery-status.js';
export {
  type AlertmanagerSinkOptions,
  alertmanagerSink,
} from './services/alerts/sinks/alertmanager-sink.js';
export {
  type PagerDutySinkOptions,
  pagerDutySink,
} from './services/alerts/sinks/pagerduty-sink.js';
export { type SlackSinkOptions, slackSink } from './services/alerts/sinks/slack-sink.js';
export { type WebhookSinkOptions, webhookSink } from './services/alerts/sinks/webhook-sink.js';
export type {
  Alert,
  AlertKind,
  AlertSeverity,
  AlertSink,
  AlertSinkContext,
  GovernorAlert,
} from './services/alerts/types.js';
// The read-only health API
export { type ApiServer, type ApiServerOptions, startApiServer } from './services/api/server.js';
// Time, thresholds, errors, logging
export { type Clock, SystemClock, type TimerHandle } from './services/clock.js';
export { DEFAULT_THRESHOLDS, THRESHOLD_RANGES, type Thresholds } from './services/config.js';
export { type ErrorCode, GovernorError, isGovernorError } from './services/errors.js';
export type {
  EngineCapital,
  EngineEvents,
  EnginePort,
  EngineSnapshots,
  EngineStrategies,
} from './services/governor/engine-port.js';
// The GovernanceSystem
export {
  type Authorization,
  type AuthorizeOptions,
  type Cause,
  GovernanceSystem,
  type GovernanceSystemOptions,
  type ModeChange,
  type ModeChangeListener,
} from './services/governor/governance-system.js';
export type { GovernorStatus, StatusAlert, VenueStatus } from './services/governor/status.js';
export type { FailSafeState } from './services/health/fail-safe-manager.js';
export type { ExecutionQueueStatus, SystemHealth } from './services/health/health-monitor.js';
export type {
  AdapterPing,
  AdaptersArgument,
  NamedAdapter,
} from './services/health/startup-checks.js';
// Offline verification (what `governor verify` runs) and live inspection (opt-in)
export {
  type VerifyDatabaseOptions,
  type VerifyDatabaseResult,
  verifyDatabase,
} from './services/health/verify-database.js';
export { createLiveInspector } from './services/inspection.js';
export { createLogger, type Logger, silentLogger } from './services/logger.js';
// Venues: what governor cancels at on SHUTDOWN, and the flatten it runs (also on its own)
export {
  FLATTEN_DEFAULTS,
  type FlattenEvent,
  type FlattenOptions,
  type FlattenReport,
  flattenVenues,
  type VenueFlattenResult,
} from './services/venues/flatten.js';
export type { Venue } from './services/venues/venue.js';
