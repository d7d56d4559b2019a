/**
 * The vocabulary of the lifecycle statechart: modes, causes, triggers, the startup report,
 * and the machine's context, input and events. Pure types: no I/O, no runtime imports.
 */

/** The two modes an operator can desire. SHUTDOWN is a state, never a desired mode. */
export const MODES = ['AGGRESSIVE', 'OBSERVE_ONLY'] as const;
export type Mode = (typeof MODES)[number];

export const LIFECYCLE_STATES = [
  'STARTING',
  'CHECKING',
  'AGGRESSIVE',
  'OBSERVE_ONLY',
  'SHUTDOWN',
] as const;
export type LifecycleState = (typeof LIFECYCLE_STATES)[number];

/** Why the machine is in OBSERVE_ONLY. */
export const OBSERVE_CAUSES = [
  'CONFIGURED',
  'STARTUP_CHECKS_FAILED',
  'HEARTBEAT_LOST',
  'INTEGRITY_VIOLATION',
  'OPERATOR',
] as const;
export type ObserveCause = (typeof OBSERVE_CAUSES)[number];

/** What put the machine in SHUTDOWN (DESIGN.md: fail-safe triggers). */
export const SHUTDOWN_TRIGGERS = [
  'HEALTH_CHECK_FAILED',
  'MARKET_DATA_STALL',
  'EVENT_LOG_WRITE_FAILURE',
  'SNAPSHOT_WRITE_FAILURE',
  'CAPITAL_INCONSISTENT',
  'UNRECOVERABLE_EXCEPTION',
  'OPERATOR_KILL',
] as const;
export type ShutdownTrigger = (typeof SHUTDOWN_TRIGGERS)[number];

/** One startup check's verdict (spec: Startup Checks). */
export interface StartupCheckResult {
  readonly name: string;
  readonly passed: boolean;
  readonly details: string;
  readonly rootCause: string;
  readonly recommendedAction: string;
}

/** The report of one CHECKING visit. `visit` ties it to the visit that asked for it. */
export interface StartupReport {
  readonly lifecycleId: string;
  readonly visit: number;
  readonly passed: boolean;
  readonly results: readonly StartupCheckResult[];
}

/** A SHUTDOWN not yet cleared by an operator; it survives process restarts. */
export interface ShutdownLatch {
  readonly trigger: ShutdownTrigger;
  readonly reason: string;
  /** ISO-8601 wall time at which it was set. */
  readonly at: string;
}

export interface GovernorInput {
  readonly lifecycleId: string;
  readonly desiredMode: Mode;
  readonly latch: ShutdownLatch | null;
  /** How long CHECKING waits for the startup checks before failing safe (ms). */
  readonly startupChecksTimeoutMs: number;
}

export interface GovernorContext {
  readonly lifecycleId: string;
  readonly desiredMode: Mode;
  readonly latch: ShutdownLatch | null;
  readonly startupChecksTimeoutMs: number;
  /** Incremented on every entry to CHECKING; a report from another visit is ignored. */
  readonly visit: number;
  /** The report of the current (or last) CHECKING visit, null before it arrives. */
  readonly report: StartupReport | null;
  readonly observeCause: ObserveCause | null;
  /** Why OBSERVE_ONLY or SHUTDOWN was entered, in words. */
  readonly causeReason: string | null;
  readonly shutdown: { readonly trigger: ShutdownTrigger; readonly reason: string } | null;
}

export interface OperatorFields {
  readonly operator: string;
  readonly reason: string;
}

export type GovernorEvent =
  | { readonly type: 'heartbeat.lost'; readonly reason: string }
  | { readonly type: 'integrity.violated'; readonly reason: string }
  | ({ readonly type: 'operator.observe' } & OperatorFields)
  | ({ readonly type: 'operator.resume' } & OperatorFields)
  | ({ readonly type: 'operator.shutdown' } & OperatorFields)
  | {
      readonly type: 'failsafe.triggered';
      readonly trigger: ShutdownTrigger;
      readonly reason: string;
    };
