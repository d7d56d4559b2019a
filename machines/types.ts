/**
 * The vocabulary of the lifecycle statechart: modes, causes, triggers, the startup report,
 * the shutdown latch and the safe-mode hold, and the machine's context, input and events.
 * Pure types and constant lists: no I/O.
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
  'AUTHORITY_LOST',
] as const;
export type ObserveCause = (typeof OBSERVE_CAUSES)[number];

/**
 * The observe causes that are failures: OBSERVE_ONLY entered for one of them is held (persisted)
 * across process restarts until an operator resumes. CONFIGURED and OPERATOR are modes, not holds.
 * AUTHORITY_LOST is held too: a restart after the authority came back would otherwise pass its
 * checks (the lease is granted again) and trade with no operator having looked.
 */
export const HELD_CAUSES = [
  'STARTUP_CHECKS_FAILED',
  'HEARTBEAT_LOST',
  'INTEGRITY_VIOLATION',
  'AUTHORITY_LOST',
] as const;
export type HeldCause = (typeof HELD_CAUSES)[number];

export function isHeldCause(cause: ObserveCause | null): cause is HeldCause {
  return cause !== null && (HELD_CAUSES as readonly string[]).includes(cause);
}

/** What put the machine in SHUTDOWN (DESIGN.md: fail-safe triggers). */
export const SHUTDOWN_TRIGGERS = [
  'HEALTH_CHECK_FAILED',
  'MARKET_DATA_STALL',
  'EVENT_LOG_WRITE_FAILURE',
  'SNAPSHOT_WRITE_FAILURE',
  'CAPITAL_INCONSISTENT',
  'UNRECOVERABLE_EXCEPTION',
  'OPERATOR_KILL',
  'VENUE_DEAD_MANS_SWITCH_FIRED',
  'INVARIANT_VIOLATED',
] as const;
export type ShutdownTrigger = (typeof SHUTDOWN_TRIGGERS)[number];

export function isShutdownTrigger(value: unknown): value is ShutdownTrigger {
  return typeof value === 'string' && (SHUTDOWN_TRIGGERS as readonly string[]).includes(value);
}

/** The startup checks of the spec, in its order, plus the check that the report was recorded. */
export const STARTUP_CHECK_NAMES = [
  'event_log_integrity',
  'snapshot_consistency',
  'capital_reconciliation',
  'strategy_state_consistency',
  'system_mode_valid',
  'adapters_reachable',
  'report_persisted',
] as const;
export type StartupCheckName = (typeof STARTUP_CHECK_NAMES)[number];

/**
 * A check's verdict: `passed`; `failed` (it ran and found a problem); `unreadable` (it could not
 * run: the data could not be read reliably, so it says nothing about the data either way).
 */
export const CHECK_OUTCOMES = ['passed', 'failed', 'unreadable'] as const;
export type CheckOutcome = (typeof CHECK_OUTCOMES)[number];

/** One startup check's verdict (spec: Startup Checks). `passed` is `outcome === 'passed'`. */
export interface StartupCheckResult {
  readonly name: StartupCheckName;
  readonly outcome: CheckOutcome;
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
  /** ISO-8601 wall time at which the checks completed. */
  readonly completedAt: string;
}

/** A SHUTDOWN not yet cleared by an operator; it survives process restarts. */
export interface ShutdownLatch {
  readonly trigger: ShutdownTrigger;
  readonly reason: string;
  /** ISO-8601 wall time at which it was set. */
  readonly at: string;
}

/** OBSERVE_ONLY entered for a failure; it survives process restarts until an operator resumes. */
export interface SafeModeHold {
  readonly cause: HeldCause;
  readonly reason: string;
  /** ISO-8601 wall time at which it was entered. */
  readonly at: string;
}

/** The machine's view of a hold: the cause and its reason (the shell stamps the time). */
export interface HeldFailure {
  readonly cause: HeldCause;
  readonly reason: string;
}

export interface GovernorInput {
  readonly lifecycleId: string;
  /** The configured mode: a ceiling no operator action exceeds. */
  readonly configuredMode: Mode;
  /** The operator's persisted choice (observe sets OBSERVE_ONLY, resume AGGRESSIVE). */
  readonly desiredMode: Mode;
  readonly latch: ShutdownLatch | null;
  readonly hold: SafeModeHold | null;
  /** How long CHECKING waits for the startup checks before failing safe (ms). */
  readonly startupChecksTimeoutMs: number;
}

export interface GovernorContext {
  readonly lifecycleId: string;
  readonly configuredMode: Mode;
  readonly desiredMode: Mode;
  /** The latch this lifecycle started with (a SHUTDOWN that survived the restart). */
  readonly latch: ShutdownLatch | null;
  /** The failure held: set on entering OBSERVE_ONLY for a failure, cleared by an operator's resume. */
  readonly hold: HeldFailure | null;
  readonly startupChecksTimeoutMs: number;
  /** Incremented on every entry to CHECKING; a report from another visit is ignored. */
  readonly visit: number;
  /** The report of the current (or last) CHECKING visit, null before it arrives. */
  readonly report: StartupReport | null;
  readonly observeCause: ObserveCause | null;
  /** Why OBSERVE_ONLY or SHUTDOWN was entered, in words. */
  readonly causeReason: string | null;
  /** True when OBSERVE_ONLY was entered for a failure held from earlier (no new incident). */
  readonly causeHeld: boolean;
  /** The SHUTDOWN of this lifecycle: what latched it, why and when. */
  readonly shutdown: ShutdownLatch | null;
}

export interface OperatorFields {
  readonly operator: string;
  readonly reason: string;
}

/** Every event carries the ISO-8601 wall time at which the shell saw it (`at`). */
export type GovernorEvent =
  | { readonly type: 'lifecycle.start'; readonly at: string }
  | { readonly type: 'heartbeat.lost'; readonly reason: string; readonly at: string }
  | { readonly type: 'authority.lost'; readonly reason: string; readonly at: string }
  | { readonly type: 'integrity.violated'; readonly reason: string; readonly at: string }
  | ({ readonly type: 'operator.observe'; readonly at: string } & OperatorFields)
  | ({ readonly type: 'operator.resume'; readonly at: string } & OperatorFields)
  | ({ readonly type: 'operator.shutdown'; readonly at: string } & OperatorFields)
  | {
      readonly type: 'failsafe.triggered';
      readonly trigger: ShutdownTrigger;
      readonly reason: string;
      readonly at: string;
    };

export type GovernorEventType = GovernorEvent['type'];

/** Every lifecycle event type: the authority statechart forwards each to the running lifecycle. */
export const GOVERNOR_EVENT_TYPES = [
  'lifecycle.start',
  'heartbeat.lost',
  'integrity.violated',
  'operator.observe',
  'operator.resume',
  'operator.shutdown',
  'failsafe.triggered',
  'authority.lost',
] as const satisfies readonly GovernorEventType[];
/** Compiles only while the list names every lifecycle event: one left out would never be forwarded. */
const EVENT_TYPES_COMPLETE: [
  Exclude<GovernorEventType, (typeof GOVERNOR_EVENT_TYPES)[number]>,
] extends [never]
  ? true
  : never = true;
void EVENT_TYPES_COMPLETE;

/** What the shell's restart pre-flight found: passed when nothing would shut down again at once. */
export interface RestartPreflight {
  readonly passed: boolean;
}

/** The durable authority a new lifecycle starts from (read after the operator's clear). */
export interface RestartAuthority {
  readonly desiredMode: Mode;
  readonly latch: ShutdownLatch | null;
  readonly hold: SafeModeHold | null;
}

/** An operator's restart of a halted governor: the one way out of a latch. */
export interface OperatorRestartEvent extends OperatorFields {
  readonly type: 'operator.restart';
  readonly at: string;
  /** The id of the lifecycle the restart begins. */
  readonly lifecycleId: string;
  readonly preflight: RestartPreflight;
  /** The operator restarts although the pre-flight did not pass. */
  readonly force: boolean;
  readonly authority: RestartAuthority;
}

/** The first lifecycle started: the timers (heartbeat, fail-safe, integrity, ...) begin. */
export interface TimersStartEvent {
  readonly type: 'timers.start';
  readonly at: string;
}

export type AuthorityEvent = GovernorEvent | OperatorRestartEvent | TimersStartEvent;

export const AUTHORITY_STATES = ['running', 'halted'] as const;
export type AuthorityState = (typeof AUTHORITY_STATES)[number];

export interface AuthorityContext {
  /** The input of the lifecycle running (or of the last one, while halted). */
  readonly lifecycle: GovernorInput;
  /** The last context of the lifecycle that ended in SHUTDOWN; null while one runs. */
  readonly ended: GovernorContext | null;
}
