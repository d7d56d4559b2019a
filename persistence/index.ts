/**
 * The persistence layer's public surface: the `Store`, its record types, the hash-chain helpers
 * and the documented limits and strategy states.
 */
export {
  AlertOutbox,
  OUTBOX_ERROR_CHARS_MAX,
  OUTBOX_OPERATIONS,
  OUTBOX_STATUSES,
  type OutboxAttempt,
  type OutboxEntry,
  type OutboxOperation,
  type OutboxStatus,
} from './alert-outbox.js';
export {
  type AlertInput,
  Alerts,
  STORED_ALERT_SEVERITIES,
  type StoredAlert,
  type StoredAlertSeverity,
} from './alerts.js';
export {
  type AccountRecord,
  type AmountMinor,
  Capital,
  type PoolMismatch,
  type PoolRecord,
  type Reconciliation,
} from './capital.js';
export { BUSY_TIMEOUT_MS_DEFAULT, BUSY_TIMEOUT_MS_MAX } from './connection.js';
export {
  type AppendedEvent,
  type ChainHead,
  computeEventHash,
  type EventInput,
  EventLog,
  GENESIS_HASH,
  type HashedEventFields,
  type StoredEvent,
} from './event-log.js';
export {
  type ChainProblem,
  type ChainVerification,
  type EventFinding,
  type EventFindingKind,
  IntegrityScan,
  type ScanPosition,
} from './integrity/index.js';
export { GOVERNOR_APPLICATION_ID, SCHEMA_VERSION } from './migrations.js';
export {
  type OperatorActionInput,
  type OperatorActionRecord,
  OperatorActions,
} from './operator-actions.js';
export {
  type SnapshotInput,
  Snapshots,
  type StoredSnapshot,
  type WrittenSnapshot,
} from './snapshots.js';
export {
  type StartupCheckRecord,
  type StartupReportInput,
  StartupReports,
  type StoredStartupReport,
} from './startup-reports.js';
export { Store } from './store.js';
export { StoreCore, type StoreOpenOptions } from './store-core.js';
export {
  isStrategyTransitionAllowed,
  STRATEGY_INITIAL_STATES,
  STRATEGY_STATES,
  STRATEGY_TRANSITIONS,
  Strategies,
  type StrategyRecord,
  type StrategyState,
  type StrategyTransitionRecord,
} from './strategies.js';
export { type LatchClearance, SystemState, type SystemStateRecord } from './system-state.js';
export { AMOUNT_MINOR_MAX, LIMITS } from './validation.js';
