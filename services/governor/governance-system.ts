/**
 * The GovernanceSystem: the object an execution engine embeds, and a table of contents over the
 * modules beside it. It opens the database (assembly.ts), exposes the gate and the engine port,
 * validates operator requests and sends them to the statechart as events (dispatcher.ts, the one
 * `send`), answers queries from the machine's snapshot, and closes. The gate's answer,
 * `canDeployCapital()`, is O(1), allocation-free, no I/O.
 */
import type {
  GovernorContext,
  LifecycleState,
  Mode,
  ShutdownLatch,
  StartupReport,
} from '../../machines/types.js';
import type { PoolBalance } from '../../persistence/capital.js';
import type { Store } from '../../persistence/index.js';
import type { IntegrityScrubber } from '../../persistence/integrity/index.js';
import type { GovernorAlert } from '../alerts/types.js';
import type { Thresholds } from '../config.js';
import { GovernorError } from '../errors.js';
import type { LeaseView } from '../fleet/lease.js';
import type { SystemHealth } from '../health/health-monitor.js';
import type { AdaptersArgument } from '../health/startup-checks.js';
import type { OperatorRequest } from '../operator.js';
import { Assembly } from './assembly.js';
import { type Authorization, type Cause, causeOf } from './authority.js';
import type { ModeChangeListener } from './effects.js';
import type { EnginePort } from './engine-port.js';
import { authorize } from './gate-deadline.js';
import {
  ALERT_IN_ITS_OWN_TRANSACTION,
  FORCE_INCONSISTENCY,
  RAW_CONNECTION,
  SIMULATE_CRASH,
} from './internal-symbols.js';
import { forceInconsistency, type Inconsistency } from './invariants.js';
import * as operator from './operator-actions.js';
import { type AuthorizeOptions, checkOptions, type GovernanceSystemOptions } from './options.js';
import type { PreflightReport, ThresholdsOrigin } from './preflight.js';
import { checkDataIntegrity, runStartupChecks } from './startup.js';
import { type GovernorStatus, liveStatus } from './status.js';
import type { VenueStatus } from './venue-guard.js';
import {
  type AlertManagerView,
  alertManagerView,
  type DataIntegrityVerifierView,
  dataIntegrityVerifierView,
  type FailSafeManagerView,
  failSafeManagerView,
  type HealthMonitorView,
  healthMonitorView,
} from './views.js';

export type { Authorization, Cause } from './authority.js';
export type { ModeChange, ModeChangeListener } from './effects.js';
export type { AuthorizeOptions, GovernanceSystemOptions } from './options.js';
export { STORE_BUSY_TIMEOUT_MS } from './owner-database.js';

/** The raw SQLite handle's type, as the store gives it (no import of SQLite here). */
type RawDatabase = ReturnType<Store['rawHandleForFaultInjection']>;

function checkListener(name: string, listener: unknown): void {
  if (typeof listener !== 'function') {
    throw new GovernorError('GOV_INVALID_ARGUMENT', `${name}: expected a function`);
  }
}

export class GovernanceSystem {
  /** What the engine reports to (spec: `healthMonitor.update*`, `recordError`, health). */
  readonly healthMonitor: HealthMonitorView;
  /** The spec's fail-safe calls: check, trigger, and the shutdown state. */
  readonly failSafeManager: FailSafeManagerView;
  /** The alerts raised (read), their acknowledgement and delivery status. */
  readonly alertManager: AlertManagerView;
  /** The last verification's findings (read); `checkDataIntegrity()` acts on them. */
  readonly dataIntegrityVerifier: DataIntegrityVerifierView;
  readonly thresholds: Thresholds;
  /** Whose thresholds these are: this owner's own, or (acting owner) the last owner's record. */
  readonly thresholdsOrigin: ThresholdsOrigin;
  readonly dbPath: string;
  /** Where the engine writes its events, snapshots, capital and strategies (stamps health on commit). */
  readonly engine: EnginePort;

  private readonly runtime: Assembly;

  constructor(given: GovernanceSystemOptions = {}) {
    const runtime = new Assembly(checkOptions(given));
    this.runtime = runtime;
    this.healthMonitor = healthMonitorView(runtime.health);
    this.failSafeManager = failSafeManagerView(runtime.failSafe);
    this.alertManager = alertManagerView(runtime.alerts);
    this.dataIntegrityVerifier = dataIntegrityVerifierView(runtime.verifier);
    this.thresholds = runtime.thresholds;
    this.thresholdsOrigin = runtime.thresholdsOrigin;
    this.dbPath = runtime.dbPath;
    this.engine = runtime.engine;
  }

  /** True only in AGGRESSIVE, before the gate's deadline (heartbeat lease, input staleness). */
  canDeployCapital(): boolean {
    return this.runtime.gate.canDeployCapital();
  }

  /**
   * The gate's decision with its reason. An order that only reduces exposure
   * (`reducesExposure: true`) is also allowed in OBSERVE_ONLY, and in SHUTDOWN only with
   * `allowRiskReducingInShutdown`.
   */
  authorize(options?: AuthorizeOptions): Authorization {
    return authorize(this.runtime, options);
  }

  /**
   * Runs the lifecycle from STARTING: the startup checks (pinging the given adapters). Resolves
   * true only when AGGRESSIVE, or a configured OBSERVE_ONLY, was reached with every check
   * passed; false at once when a latch holds the machine in SHUTDOWN.
   */
  runStartupChecks(adapters?: AdaptersArgument): Promise<boolean> {
    return runStartupChecks(this.runtime, adapters);
  }

  /** The lifecycle state (STARTING, CHECKING, AGGRESSIVE, OBSERVE_ONLY, SHUTDOWN), from the machine. */
  getState(): LifecycleState {
    return this.runtime.lifecycle.state;
  }

  /**
   * @deprecated Use `getState()`: this returns the lifecycle state, while a `Mode` is the
   * desired mode (AGGRESSIVE or OBSERVE_ONLY, `getModes()`). Kept for embedders written
   * against it.
   */
  getMode(): LifecycleState {
    return this.getState();
  }

  getLifecycleId(): string {
    return this.runtime.lifecycle.context.lifecycleId;
  }

  getSystemHealth(): SystemHealth {
    return this.runtime.health.getSystemHealth();
  }

  /** The report of the last CHECKING visit of this lifecycle, or null. */
  getLastStartupReport(): StartupReport | null {
    return this.runtime.lifecycle.context.report;
  }

  /** Why the machine is where it is. */
  getCause(): Cause {
    return causeOf(this.runtime.lifecycle);
  }

  /**
   * The status view: state, gate and reason, cause, latch, hold, health, heartbeat, the last
   * startup report and the unacknowledged alerts, read at once (docs/api.md). What `governor
   * status`, the health API and the status page show.
   */
  status(): GovernorStatus {
    return liveStatus(this);
  }

  /** The SHUTDOWN latch in force, or null. */
  getLatch(): ShutdownLatch | null {
    return this.runtime.lifecycle.latch;
  }

  /** The failure held (OBSERVE_ONLY until an operator resumes), or null. */
  getHold(): GovernorContext['hold'] {
    return this.runtime.lifecycle.context.hold;
  }

  /** The desired mode the machine works towards, and the configured ceiling. */
  getModes(): { desired: Mode; configured: Mode } {
    const context = this.runtime.lifecycle.context;
    return { desired: context.desiredMode, configured: context.configuredMode };
  }

  /**
   * The fleet authority lease (null without the `authority` option): its status, end and
   * epochs. What a venue's dead man's switch renewal asks: renew only while `status` is 'held'.
   */
  authorityLease(): LeaseView | null {
    return this.runtime.fleet?.lease.view() ?? null;
  }

  /**
   * Registers a listener told of each change of the fleet lease (granted, fenced by a kill,
   * lost, regained); returns its remover. The lease's end passes without a call: compare
   * `leaseEndsAtMs` with the monotonic clock, or ask `authorityLease()`.
   */
  onAuthorityLease(listener: (view: LeaseView) => void): () => void {
    checkListener('onAuthorityLease', listener);
    const listeners = this.runtime.leaseListeners;
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  heartbeatAgeMs(): number {
    return this.runtime.heartbeat.ageMs();
  }

  /** Registers a listener told after each mode change is persisted; returns its remover. */
  onModeChange(listener: ModeChangeListener): () => void {
    checkListener('onModeChange', listener);
    return this.runtime.effects.addListener(listener);
  }

  /**
   * Registers a listener told, synchronously, of each alert governor raises (after it was
   * stored, or kept in memory when it could not be); returns its remover. Sinks deliver it too.
   */
  onAlert(listener: (alert: GovernorAlert) => void): () => void {
    checkListener('onAlert', listener);
    return this.runtime.alerts.onRaise(listener);
  }

  /**
   * Verifies data integrity (incrementally after the first run). A capital mismatch shuts
   * down (CAPITAL_INCONSISTENT); any other violation moves CHECKING or AGGRESSIVE to
   * OBSERVE_ONLY. Both need an operator. Returns true when nothing was found.
   */
  checkDataIntegrity(): boolean {
    return checkDataIntegrity(this.runtime);
  }

  /** Each registered venue: flat or not, open orders, last cancel latency, switch expiry (live). */
  venueStatus(): VenueStatus[] {
    return this.runtime.venues.status();
  }

  /** The background scrub's progress (pass, rows checked, last pass completed), for metrics. */
  scrubProgress(): ReturnType<IntegrityScrubber['progress']> {
    return this.runtime.scrubber.progress();
  }

  // Operator actions: each names who and why, and is audited (operator-actions.ts).

  /**
   * The kill switch: SHUTDOWN now, from any state, through the machine (the gate closes first,
   * then the latch is persisted). Works even when the audit cannot be written.
   */
  operatorShutdown(request: OperatorRequest): void {
    operator.operatorShutdown(this.runtime, request);
  }

  /** CHECKING or AGGRESSIVE → OBSERVE_ONLY (before a lifecycle: OBSERVE_ONLY is desired). */
  operatorObserve(request: OperatorRequest): void {
    operator.operatorObserve(this.runtime, request);
  }

  /**
   * OBSERVE_ONLY → CHECKING: the only way back toward AGGRESSIVE (never above the configured
   * mode). Clears a held failure. Resolves like `runStartupChecks` once the new checks settle.
   */
  operatorResume(request: OperatorRequest): Promise<boolean> {
    return operator.operatorResume(this.runtime, request);
  }

  /**
   * What a restart now would run into: the fail-safe rules on the inputs as they are (a trigger
   * that would fire at once), and capital reconciliation. Read-only; cheap.
   */
  preflightRestart(): PreflightReport {
    return operator.preflightRestart(this.runtime);
  }

  /**
   * Clears the SHUTDOWN latch (and any held failure) in the name of an operator; accepted only
   * while a latch is in force, and only when the pre-flight finds nothing that would shut it
   * down again at once (`GOV_RESTART_WOULD_TRIP`, naming it), unless `force`. A new lifecycle
   * begins at STARTING: `runStartupChecks` must pass CHECKING again.
   */
  operatorRestart(request: OperatorRequest, options: { force?: boolean } = {}): void {
    operator.operatorRestart(this.runtime, request, options);
  }

  /**
   * An operator's audited correction of capital records (after CAPITAL_INCONSISTENT): moves one
   * account's balance (or, with no account, the pool's total) by a signed number of minor
   * units, in one transaction with its audit row and a CAPITAL_CORRECTED event. Any state.
   * Returns the pool's reconciliation before and after.
   */
  operatorAdjustCapital(
    request: OperatorRequest,
    correction: { poolId: string; accountId?: string | null; amountMinor: bigint },
  ): { before: PoolBalance; after: PoolBalance; reconciled: boolean } {
    return operator.operatorAdjustCapital(this.runtime, request, correction);
  }

  /** Acknowledges an alert in the name of an operator. */
  acknowledgeAlert(alertId: string, operatorName: string): unknown {
    return operator.acknowledgeAlert(this.runtime, alertId, operatorName);
  }

  /**
   * Carries out the operator commands other processes recorded in the database (normally done
   * by a timer within `operatorRequestPollMs`). Resolves with how many were carried out.
   */
  pollOperatorRequests(): Promise<number> {
    operator.assertOpen(this.runtime);
    return this.runtime.watcher.drain();
  }

  /** Stops timers and the machine, records the stop, and closes the database. Idempotent. */
  close(): void {
    this.runtime.close();
  }

  /**
   * Opens a second connection to this system's database, read-only (SQLite refuses every
   * write through it, and it never migrates), for readers such as the health API. Null for a
   * `:memory:` database, which no second connection can see. The caller closes it.
   * @internal
   */
  openReadOnlyStore(): Store | null {
    return this.runtime.openReadOnlyStore();
  }

  /** @internal The raw SQLite handle, to inject real storage faults (governor/testing). */
  [RAW_CONNECTION](): RawDatabase {
    return this.runtime.store.rawHandleForFaultInjection();
  }

  /** @internal Breaks an invariant without a step; the next step finds it (governor/testing). */
  [FORCE_INCONSISTENCY](kind: Inconsistency): void {
    forceInconsistency(kind, { gate: this.runtime.gate, invariants: this.runtime.invariants });
  }

  /** @internal The former two-commit incident path on (true) or off (bench/detection.ts). */
  [ALERT_IN_ITS_OWN_TRANSACTION](on: boolean): void {
    this.runtime.effects.alertInItsOwnTransaction = on;
  }

  /** @internal Dies like kill -9: no write, timers stopped, lock freed (governor/testing). */
  [SIMULATE_CRASH](): void {
    this.runtime.crash();
  }
}
