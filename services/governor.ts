/**
 * The GovernanceSystem: the object an execution engine embeds. It runs the lifecycle
 * statechart, wires health, heartbeat, fail-safe, integrity and alerts to it, persists every
 * mode change, and answers the gate: `canDeployCapital()`, O(1), allocation-free, no I/O.
 */
import { randomUUID } from 'node:crypto';
import {
  type Actor,
  type ActorOptions,
  createActor,
  fromPromise,
  type InspectionEvent,
} from 'xstate';
import { governorMachine, type StartupChecksInput } from '../machines/governor-machine.js';
import type {
  GovernorContext,
  GovernorEvent,
  LifecycleState,
  Mode,
  ObserveCause,
  ShutdownLatch,
  ShutdownTrigger,
  StartupReport,
} from '../machines/types.js';
import type { FaultInjector } from '../persistence/faults.js';
import { Store } from '../persistence/index.js';
import { AlertManager } from './alerts/alert-manager.js';
import {
  HEARTBEAT_LOSS_ALERT,
  INTEGRITY_ALERT,
  SHUTDOWN_ALERTS,
  STARTUP_FAILURE_ALERT,
} from './alerts/catalogue.js';
import type { DeliveryPolicy } from './alerts/delivery-policy.js';
import { createStoreAlertRepository } from './alerts/store-repository.js';
import type { AlertSink } from './alerts/types.js';
import { type Clock, SystemClock } from './clock.js';
import { parseMode, resolveThresholds, type Thresholds } from './config.js';
import { GovernorError } from './errors.js';
import {
  type FallbackRecord,
  fallbackPathFor,
  readFallbackRecord,
  retireFallbackRecord,
  writeFallbackRecord,
} from './fallback-file.js';
import { DataIntegrityVerifier, type IntegrityViolation } from './health/data-integrity.js';
import { FailSafeManager, type FailSafeState, type TriggerDecision } from './health/failsafe.js';
import { HEARTBEAT_EVENT_TYPE, HEARTBEAT_REASON, HeartbeatMonitor } from './health/heartbeat.js';
import {
  type AdaptersArgument,
  type NamedAdapter,
  normaliseAdapters,
  runStartupCheckSuite,
} from './health/startup-checks.js';
import { formatDuration, HealthMonitor, type SystemHealth } from './health/system-health.js';
import { transitionLogger } from './inspection.js';
import { componentLogger, type Logger, silentLogger } from './logger.js';
import { checkOperatorRequest, type OperatorRequest } from './operator.js';

export interface GovernanceSystemOptions {
  /** SQLite file (default `./governor.db`), or `:memory:`. */
  readonly dbPath?: string;
  /** Must be true (the default): governor's protections cannot be switched off. */
  readonly enableProductionHardening?: boolean;
  readonly thresholds?: Partial<Thresholds>;
  /** The mode to reach after passing startup checks (default AGGRESSIVE). */
  readonly desiredMode?: Mode;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly alertSinks?: readonly AlertSink[];
  /** Bounds of alert delivery: attempts, backoff, timeout, concurrency, queue (docs/alerts.md). */
  readonly alertDelivery?: Partial<DeliveryPolicy>;
  /** Opt-in: an uncaught exception or unhandled rejection triggers UNRECOVERABLE_EXCEPTION. */
  readonly handleProcessErrors?: boolean;
  /** Extra XState inspection observer (transitions are always logged). */
  readonly inspect?: (event: InspectionEvent) => void;
  /** Tests and the simulator only: a FaultInjector the store consults before every write. */
  readonly faults?: FaultInjector;
}

export interface ModeChange {
  readonly from: LifecycleState;
  readonly to: LifecycleState;
  readonly cause: ObserveCause | null;
  readonly trigger: ShutdownTrigger | null;
  readonly reason: string | null;
  readonly lifecycleId: string;
  readonly at: Date;
}

export type ModeChangeListener = (change: ModeChange) => void;

export interface Authorization {
  readonly allowed: boolean;
  readonly state: LifecycleState;
  readonly reason: string;
}

const ALLOWED: Authorization = Object.freeze({
  allowed: true,
  state: 'AGGRESSIVE',
  reason: 'AGGRESSIVE with a fresh heartbeat lease',
});

/** How long a governor write waits for another connection's lock before it fails. */
export const STORE_BUSY_TIMEOUT_MS = 250;

const SETTLED_STATES: ReadonlySet<LifecycleState> = new Set([
  'AGGRESSIVE',
  'OBSERVE_ONLY',
  'SHUTDOWN',
]);

type GovernorActor = Actor<typeof governorMachine>;

interface ShutdownInfo {
  trigger: ShutdownTrigger;
  reason: string;
  at: Date;
  persistedTo: 'database' | 'fallback-file' | null;
}

export class GovernanceSystem {
  readonly healthMonitor: HealthMonitor;
  readonly failSafeManager: FailSafeManager;
  readonly alertManager: AlertManager;
  readonly dataIntegrityVerifier: DataIntegrityVerifier;
  readonly thresholds: Thresholds;
  readonly dbPath: string;

  private readonly clock: Clock;
  private readonly logger: Logger;
  /** The SQLite store: the embedding engine may write snapshots, capital and strategies through it. */
  readonly store: Store;
  private readonly heartbeat: HeartbeatMonitor;
  private readonly configuredMode: Mode;
  private readonly fallbackPath: string | null;
  private readonly listeners = new Set<ModeChangeListener>();
  private readonly machine: typeof governorMachine;
  private readonly inspect: (event: InspectionEvent) => void;

  /** The gate's state flag: true only in AGGRESSIVE; the lease is checked at call time. */
  private gateOpen = false;
  private closed = false;
  private state: LifecycleState = 'STARTING';
  private actor: GovernorActor | null = null;
  private lifecycleId = '';
  private adapters: NamedAdapter[] = [];
  private latch: ShutdownLatch | null = null;
  private shutdownInfo: ShutdownInfo | null = null;
  private monitorsStarted = false;
  private integrityTimer: ReturnType<Clock['setTimeout']> | undefined;
  private lastCause: { cause: ObserveCause | null; reason: string | null } = {
    cause: null,
    reason: null,
  };
  private lastReport: StartupReport | null = null;
  private processHooksInstalled = false;
  /**
   * The first CHECKING visit of the process verifies the whole log; an operator's resume or
   * restart in the same process verifies from the head this process already verified (as the
   * hourly check does), so it costs what was appended since, not the whole log. Damage still
   * outstanding always forces a full verification.
   */
  private nextVisitVerifiesFully = true;

  constructor(options: GovernanceSystemOptions = {}) {
    if (options.enableProductionHardening === false) {
      throw new GovernorError(
        'GOV_INVALID_CONFIG',
        'enableProductionHardening: governor is a safety system; its protections cannot be disabled',
      );
    }
    this.thresholds = resolveThresholds(options.thresholds ?? {});
    this.configuredMode = parseMode(options.desiredMode ?? 'AGGRESSIVE');
    this.clock = options.clock ?? new SystemClock();
    this.logger = componentLogger(options.logger ?? silentLogger(), 'governor');
    this.dbPath = options.dbPath ?? './governor.db';
    this.fallbackPath = fallbackPathFor(this.dbPath);
    // A short busy timeout: a write blocked by another process must not stall the embedding
    // program's event loop for long; a failed write is an operating error the fail-safe handles.
    this.store = Store.open(this.dbPath, {
      clock: this.clock,
      busyTimeoutMs: STORE_BUSY_TIMEOUT_MS,
      ...(options.faults === undefined ? {} : { faults: options.faults }),
    });
    this.healthMonitor = new HealthMonitor(this.clock, this.thresholds);
    this.alertManager = new AlertManager(
      createStoreAlertRepository(this.store),
      this.clock,
      componentLogger(this.logger, 'alerts'),
      options.alertSinks ?? [],
      options.alertDelivery === undefined ? {} : { delivery: options.alertDelivery },
    );
    this.dataIntegrityVerifier = new DataIntegrityVerifier(this.store, { clock: this.clock });
    this.failSafeManager = new FailSafeManager(
      this.failSafeHost(),
      this.healthMonitor,
      this.clock,
      this.thresholds,
    );
    this.heartbeat = new HeartbeatMonitor(this.heartbeatHost(), this.clock, this.thresholds);
    this.healthMonitor.setChangeListener(() => this.failSafeManager.onHealthEvent());
    const logTransition = transitionLogger(componentLogger(this.logger, 'machine'));
    this.inspect = options.inspect
      ? (event) => {
          logTransition(event);
          options.inspect?.(event);
        }
      : logTransition;
    this.machine = this.provideMachine();
    try {
      this.initialiseDesiredMode();
    } catch (error) {
      // A file damaged beyond reading system_state: refuse with the store's clear error
      // (GOV_STORAGE_FAILURE / GOV_CORRUPT_RECORD), leaving no open handle behind.
      this.store.close();
      throw error;
    }
    if (options.handleProcessErrors === true) this.installProcessHooks();
  }

  // ---------------------------------------------------------------------------------------
  // The gate (hot path)

  /** True only in AGGRESSIVE, with no latch, while the heartbeat lease is fresh. O(1), no I/O. */
  canDeployCapital(): boolean {
    return this.gateOpen && this.clock.monotonicNow() < this.heartbeat.leaseExpiresAtMs;
  }

  /** The gate's decision with its reason. */
  authorize(): Authorization {
    if (this.canDeployCapital()) return ALLOWED;
    const state = this.state;
    if (this.closed) return { allowed: false, state, reason: 'governor is closed' };
    if (state === 'SHUTDOWN') {
      const info = this.shutdownInfo;
      return {
        allowed: false,
        state,
        reason: `SHUTDOWN (${info?.trigger ?? 'latched'}): ${info?.reason ?? ''}`,
      };
    }
    if (state === 'OBSERVE_ONLY') {
      return {
        allowed: false,
        state,
        reason: `OBSERVE_ONLY (${this.lastCause.cause}): ${this.lastCause.reason ?? ''}`,
      };
    }
    if (state !== 'AGGRESSIVE')
      return { allowed: false, state, reason: `${state}: not yet AGGRESSIVE` };
    const overdueMs = this.clock.monotonicNow() - this.heartbeat.leaseExpiresAtMs;
    return {
      allowed: false,
      state,
      reason: `heartbeat lease expired ${formatDuration(overdueMs)} ago: no capital until a heartbeat succeeds and the machine decides`,
    };
  }

  // ---------------------------------------------------------------------------------------
  // Lifecycle

  /**
   * Runs a lifecycle from STARTING: latch check, then the startup checks (pinging the given
   * adapters). Resolves true only when AGGRESSIVE, or a configured OBSERVE_ONLY, was reached
   * with every check passed.
   */
  async runStartupChecks(adapters?: AdaptersArgument): Promise<boolean> {
    this.assertOpen();
    const named = normaliseAdapters(adapters);
    if (this.actor !== null && this.state !== 'SHUTDOWN') {
      throw new GovernorError(
        'GOV_LIFECYCLE_RUNNING',
        `a lifecycle is running (state ${this.state})`,
      );
    }
    this.adapters = named;
    this.startLifecycle();
    const settled = await this.waitUntilSettled();
    return (
      settled === 'AGGRESSIVE' ||
      (settled === 'OBSERVE_ONLY' && this.lastCause.cause === 'CONFIGURED')
    );
  }

  getMode(): LifecycleState {
    return this.state;
  }

  getLifecycleId(): string {
    return this.lifecycleId;
  }

  getSystemHealth(): SystemHealth {
    return this.healthMonitor.getSystemHealth();
  }

  /** The report of the last CHECKING visit, or null. */
  getLastStartupReport(): StartupReport | null {
    return this.lastReport;
  }

  /** Why the machine is where it is. */
  getCause(): {
    cause: ObserveCause | null;
    trigger: ShutdownTrigger | null;
    reason: string | null;
  } {
    if (this.state === 'SHUTDOWN') {
      return {
        cause: null,
        trigger: this.shutdownInfo?.trigger ?? null,
        reason: this.shutdownInfo?.reason ?? null,
      };
    }
    if (this.state === 'OBSERVE_ONLY') return { ...this.lastCause, trigger: null };
    return { cause: null, trigger: null, reason: null };
  }

  heartbeatAgeMs(): number {
    return this.heartbeat.ageMs();
  }

  /** Registers a listener told after each mode change is persisted; returns its remover. */
  onModeChange(listener: ModeChangeListener): () => void {
    if (typeof listener !== 'function') {
      throw new GovernorError('GOV_INVALID_ARGUMENT', 'onModeChange: expected a function');
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Verifies data integrity (incrementally after the first run). A capital mismatch shuts
   * down (CAPITAL_INCONSISTENT); any other violation moves AGGRESSIVE to OBSERVE_ONLY. Both
   * need an operator. Returns true when nothing was found.
   */
  checkDataIntegrity(): boolean {
    this.assertOpen();
    let violations: IntegrityViolation[];
    try {
      violations = this.dataIntegrityVerifier.verify();
    } catch (error) {
      this.logger.error({ err: error }, 'integrity verification could not run');
      this.healthMonitor.recordError();
      return false;
    }
    if (violations.length === 0) return true;
    // One incident per finding: what the previous run (startup or periodic) already reported
    // and routed is not raised again every hour.
    const fresh = this.dataIntegrityVerifier.getNewViolations();
    if (fresh.length > 0) this.handleViolations(violations);
    return false;
  }

  // ---------------------------------------------------------------------------------------
  // Operator actions: each names who and why, and is audited.

  /** The kill switch: SHUTDOWN now, from any state. Works even when the audit cannot be written. */
  operatorShutdown(request: OperatorRequest): void {
    const checked = checkOperatorRequest(request, 'operatorShutdown');
    this.assertOpen();
    this.gateOpen = false;
    this.audit(checked, 'SHUTDOWN', { required: false });
    if (this.state === 'SHUTDOWN') return;
    const reason = `operator ${checked.operator}: ${checked.reason}`;
    if (this.actor === null) {
      this.shutdownOutsideLifecycle({ trigger: 'OPERATOR_KILL', reason });
      return;
    }
    this.actor.send({ type: 'operator.shutdown', ...checked });
  }

  /** AGGRESSIVE (or CHECKING) → OBSERVE_ONLY; the desired mode becomes OBSERVE_ONLY. */
  operatorObserve(request: OperatorRequest): void {
    const checked = checkOperatorRequest(request, 'operatorObserve');
    this.assertOpen();
    const event: GovernorEvent = { type: 'operator.observe', ...checked };
    this.assertAccepted(event, 'operatorObserve');
    this.gateOpen = false;
    this.audit(checked, 'OBSERVE', { required: false });
    this.persistDesiredMode('OBSERVE_ONLY');
    this.actor?.send(event);
  }

  /**
   * OBSERVE_ONLY → CHECKING: the only way back toward AGGRESSIVE. Resolves like
   * `runStartupChecks` once the checks of the new visit have settled.
   */
  async operatorResume(request: OperatorRequest): Promise<boolean> {
    const checked = checkOperatorRequest(request, 'operatorResume');
    this.assertOpen();
    const event: GovernorEvent = { type: 'operator.resume', ...checked };
    this.assertAccepted(event, 'operatorResume');
    this.audit(checked, 'RESUME', { required: true });
    this.persistDesiredMode('AGGRESSIVE');
    this.resolveLifecycleIncidents();
    this.actor?.send(event);
    const settled = await this.waitUntilSettled();
    return settled === 'AGGRESSIVE';
  }

  /**
   * Clears the SHUTDOWN latch in the name of an operator. The next `runStartupChecks` starts
   * a new lifecycle, which must pass CHECKING again.
   */
  operatorRestart(request: OperatorRequest): void {
    const checked = checkOperatorRequest(request, 'operatorRestart');
    this.assertOpen();
    const latch = this.readLatch();
    if (this.state !== 'SHUTDOWN' && latch === null) {
      throw new GovernorError(
        'GOV_INVALID_OPERATOR_ACTION',
        `operatorRestart: nothing to restart (state ${this.state}, no latch)`,
      );
    }
    const at = new Date(this.clock.wallNow()).toISOString();
    this.store.transaction(() => {
      this.audit(checked, 'RESTART', { required: true });
      this.store.systemState.clearLatch({ operator: checked.operator, reason: checked.reason, at });
      this.store.systemState.setLifecycle('STARTING', this.lifecycleId || 'none');
    });
    retireFallbackRecord(this.fallbackPath, at);
    if (latch !== null) this.alertManager.resolveIncident(shutdownKey(latch));
    this.resolveLifecycleIncidents();
    this.actor?.stop();
    this.actor = null;
    this.latch = null;
    this.shutdownInfo = null;
    this.state = 'STARTING';
    this.logger.warn(
      { operator: checked.operator, reason: checked.reason },
      'operator restart: latch cleared',
    );
  }

  /** Stops timers and the machine, records the stop, and closes the database. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.gateOpen = false;
    this.heartbeat.stop();
    this.failSafeManager.stop();
    this.clock.clearTimeout(this.integrityTimer);
    this.actor?.stop();
    this.removeProcessHooks();
    try {
      this.store.events.append({
        eventType: 'GOVERNOR_STOPPED',
        reason: 'governor closed',
        metadata: { state: this.state },
      });
    } catch (error) {
      this.logger.warn({ err: error }, 'stop event could not be written');
    }
    // Pending deliveries stay in the outbox; the next GovernanceSystem on this file sends them.
    this.alertManager.stop();
    this.store.close();
  }

  // ---------------------------------------------------------------------------------------
  // Readers: for the read-only health API (services/api), which imports no persistence code.

  /**
   * Opens a second connection to this system's database, read-only (SQLite refuses every
   * write through it, and it never migrates), for readers such as the health API. Null for a
   * `:memory:` database, which no second connection can see. The caller closes it.
   */
  openReadOnlyStore(): Store | null {
    if (this.dbPath === ':memory:') return null;
    return Store.open(this.dbPath, { readonly: true });
  }

  // ---------------------------------------------------------------------------------------
  // Internals: the machine and its effects

  private provideMachine(): typeof governorMachine {
    const enter =
      (to: LifecycleState) =>
      ({ context }: { context: GovernorContext }): void =>
        this.onEnter(to, context);
    return governorMachine.provide({
      actions: {
        onEnterChecking: enter('CHECKING'),
        onEnterAggressive: enter('AGGRESSIVE'),
        onEnterObserveOnly: enter('OBSERVE_ONLY'),
        onEnterShutdown: enter('SHUTDOWN'),
      },
      actors: {
        startupChecks: fromPromise<StartupReport, StartupChecksInput>(({ input }) =>
          this.performStartupChecks(input),
        ),
      },
    });
  }

  private startLifecycle(): void {
    this.actor?.stop();
    this.lifecycleId = randomUUID();
    this.state = 'STARTING';
    this.gateOpen = false;
    const latch = this.readLatch();
    this.startMonitors();
    const actor = createActor(this.machine, {
      input: {
        lifecycleId: this.lifecycleId,
        desiredMode: this.effectiveDesiredMode(),
        latch,
        startupChecksTimeoutMs: this.thresholds.startupChecksTimeoutMs,
      },
      clock: this.clock as unknown as NonNullable<ActorOptions<typeof governorMachine>['clock']>,
      inspect: this.inspect,
    });
    actor.subscribe({ error: (error) => this.onActorError(error) });
    this.actor = actor;
    actor.start();
    // A SHUTDOWN disarmed deadline-driven detection: re-arm it for the new lifecycle and
    // evaluate the fail-safe now, so a restart into stale inputs never opens the gate.
    this.failSafeManager.arm();
    this.failSafeManager.checkFailSafeConditions({ includeCapital: false });
  }

  private waitUntilSettled(): Promise<LifecycleState> {
    const actor = this.actor;
    if (actor === null) return Promise.resolve(this.state);
    return new Promise((resolve) => {
      const current = actor.getSnapshot().value as LifecycleState;
      if (SETTLED_STATES.has(current)) {
        resolve(current);
        return;
      }
      const subscription = actor.subscribe({
        next: (snapshot) => {
          const value = snapshot.value as LifecycleState;
          if (SETTLED_STATES.has(value)) {
            subscription.unsubscribe();
            resolve(value);
          }
        },
        error: () => {
          subscription.unsubscribe();
          resolve(this.state);
        },
      });
    });
  }

  private onEnter(to: LifecycleState, context: GovernorContext): void {
    const from = this.state;
    this.state = to;
    this.gateOpen = to === 'AGGRESSIVE' && !this.closed;
    try {
      if (to === 'SHUTDOWN') this.shutdownSequence(from, context);
      else this.recordModeChange(from, to, context);
      if (to === 'OBSERVE_ONLY')
        this.lastCause = { cause: context.observeCause, reason: context.causeReason };
      if (to === 'OBSERVE_ONLY' && context.observeCause === 'STARTUP_CHECKS_FAILED')
        this.alertStartupFailure(context);
    } catch (error) {
      // Never throw into the machine: log loudly; the gate state above already holds.
      this.logger.fatal({ err: error, from, to }, 'effect of a mode change failed');
      this.healthMonitor.recordError();
    }
    this.notify(from, to, context);
    // A heartbeat lost during CHECKING (which ignores it) still counts on arrival in AGGRESSIVE,
    // with the alert of this lifecycle's incident (the previous one was resolved by the restart).
    if (to === 'AGGRESSIVE' && this.heartbeat.isLost()) {
      const sinceMs = this.heartbeat.ageMs();
      this.onHeartbeatLost(Number.isFinite(sinceMs) ? sinceMs : this.thresholds.heartbeatLossMs);
    }
  }

  private recordModeChange(
    from: LifecycleState,
    to: LifecycleState,
    context: GovernorContext,
  ): void {
    const reason = `${from} -> ${to}${context.causeReason && to === 'OBSERVE_ONLY' ? `: ${context.causeReason}` : ''}`;
    try {
      this.store.transaction(() => {
        this.store.events.append({
          eventType: 'SYSTEM_MODE_CHANGE',
          reason,
          metadata: {
            from,
            to,
            cause: to === 'OBSERVE_ONLY' ? context.observeCause : null,
            causeReason: to === 'OBSERVE_ONLY' ? context.causeReason : null,
            lifecycleId: context.lifecycleId,
            visit: context.visit,
          },
        });
        this.store.systemState.setLifecycle(to, context.lifecycleId);
      });
      this.healthMonitor.updateEventLogWriteTimestamp();
    } catch (error) {
      this.logger.error({ err: error, from, to }, 'mode change could not be persisted');
      this.healthMonitor.recordError();
    }
  }

  /**
   * The spec's fail-safe flow after the gate closed: shutdown event logged, mode change,
   * state and latch persisted in one transaction (or the fallback file), CRITICAL alert.
   */
  private shutdownSequence(from: LifecycleState, context: GovernorContext): void {
    const shutdown = context.shutdown ?? {
      trigger: 'UNRECOVERABLE_EXCEPTION' as const,
      reason: 'unknown',
    };
    const restartedLatched = from === 'STARTING' && context.latch !== null;
    const latch: ShutdownLatch =
      restartedLatched && context.latch !== null
        ? context.latch
        : {
            trigger: shutdown.trigger,
            reason: shutdown.reason,
            at: new Date(this.clock.wallNow()).toISOString(),
          };
    this.latch = latch;
    const info: ShutdownInfo = {
      trigger: latch.trigger,
      reason: latch.reason,
      at: new Date(latch.at),
      persistedTo: null,
    };
    this.shutdownInfo = info;
    // A latch whose alert only the fallback file remembers was alerted by the process that set
    // it: a restart (even a crash loop on a broken disk) must not raise that alert again.
    const alerted = restartedLatched && this.fallbackAlerted(latch);
    const finalState = {
      ...this.finalState(from, latch, context),
      ...(alerted ? { alertRaised: true } : {}),
    };
    info.persistedTo = this.persistShutdown(from, latch, restartedLatched, finalState);
    if (alerted) return;
    const text = SHUTDOWN_ALERTS[latch.trigger];
    this.alertManager.raise({
      kind: 'SHUTDOWN',
      dedupKey: shutdownKey(latch),
      severity: 'CRITICAL',
      title: text.title,
      message: `${from} -> SHUTDOWN: ${latch.reason}`,
      rootCause: `${latch.trigger}: ${text.rootCause}`,
      recommendedAction: text.recommendedAction,
      metadata: {
        trigger: latch.trigger,
        lifecycleId: context.lifecycleId,
        persistedTo: info.persistedTo,
      },
    });
    // Where the alert could not be stored with the latch, the fallback file remembers it.
    if (info.persistedTo === 'fallback-file' || !this.alertStored(shutdownKey(latch)))
      this.writeFallback(latch, { ...finalState, alertRaised: true });
  }

  private alertStored(dedupKey: string): boolean {
    try {
      return this.store.alerts.findOpenByDedupKey(dedupKey) !== null;
    } catch {
      return false;
    }
  }

  private fallbackAlerted(latch: ShutdownLatch): boolean {
    const record = readFallbackRecord(this.fallbackPath);
    return (
      record !== null &&
      record.latch.at === latch.at &&
      record.latch.trigger === latch.trigger &&
      record.finalState.alertRaised === true
    );
  }

  private finalState(
    from: LifecycleState,
    latch: ShutdownLatch,
    context: GovernorContext,
  ): Record<string, unknown> {
    const health = this.healthMonitor.getSystemHealth();
    return {
      from,
      to: 'SHUTDOWN',
      mode: 'OBSERVE_ONLY',
      latch,
      lifecycleId: context.lifecycleId,
      visit: context.visit,
      desiredMode: context.desiredMode,
      ages: this.healthMonitor.ages(),
      heartbeatAgeMs: Number.isFinite(this.heartbeat.ageMs()) ? this.heartbeat.ageMs() : null,
      health: { healthy: health.healthy, reasons: health.reasons, errorRate: health.errorRate },
    };
  }

  private persistShutdown(
    from: LifecycleState,
    latch: ShutdownLatch,
    restartedLatched: boolean,
    finalState: Record<string, unknown>,
  ): 'database' | 'fallback-file' | null {
    try {
      this.store.transaction(() => {
        const events = this.store.events;
        if (!restartedLatched) {
          events.append({
            eventType: 'SYSTEM_SHUTDOWN',
            reason: latch.reason,
            metadata: { trigger: latch.trigger, from },
          });
        }
        events.append({
          eventType: 'SYSTEM_MODE_CHANGE',
          reason: `${from} -> SHUTDOWN: ${latch.reason}`,
          metadata: {
            from,
            to: 'SHUTDOWN',
            mode: 'OBSERVE_ONLY',
            trigger: latch.trigger,
            lifecycleId: this.lifecycleId,
          },
        });
        this.store.systemState.setLifecycle('SHUTDOWN', this.lifecycleId);
        if (this.store.systemState.get().latch === null) this.store.systemState.setLatch(latch);
        if (!restartedLatched) {
          events.append({
            eventType: 'FINAL_STATE_PERSISTED',
            reason: 'final state persisted',
            metadata: finalState,
          });
        }
      });
      this.healthMonitor.updateEventLogWriteTimestamp();
      return 'database';
    } catch (error) {
      this.logger.error(
        { err: error },
        'shutdown could not be written to the database; using the fallback file',
      );
      return this.writeFallback(latch, finalState);
    }
  }

  private writeFallback(
    latch: ShutdownLatch,
    finalState: Record<string, unknown>,
  ): 'fallback-file' | null {
    if (this.fallbackPath === null) return null;
    const record: FallbackRecord = { version: 1, latch, lifecycleId: this.lifecycleId, finalState };
    try {
      writeFallbackRecord(this.fallbackPath, record);
      return 'fallback-file';
    } catch (error) {
      this.logger.fatal(
        { err: error, path: this.fallbackPath },
        'shutdown fallback file could not be written',
      );
      return null;
    }
  }

  private alertStartupFailure(context: GovernorContext): void {
    const failed = context.report?.results.filter((r) => !r.passed) ?? [];
    const rootCause =
      failed.length > 0
        ? `failed checks: ${failed.map((r) => `${r.name} (${r.rootCause || r.details})`).join('; ')}`
        : (context.causeReason ?? 'startup checks did not pass');
    this.alertManager.raise({
      kind: 'STARTUP_FAILURE',
      dedupKey: `startup:${context.lifecycleId}:${context.visit}`,
      severity: 'CRITICAL',
      title: STARTUP_FAILURE_ALERT.title,
      message: context.causeReason ?? 'startup checks failed',
      rootCause,
      recommendedAction: failed[0]?.recommendedAction || STARTUP_FAILURE_ALERT.recommendedAction,
      metadata: {
        lifecycleId: context.lifecycleId,
        visit: context.visit,
        failedChecks: failed.map((r) => r.name),
      },
    });
  }

  private notify(from: LifecycleState, to: LifecycleState, context: GovernorContext): void {
    const change: ModeChange = {
      from,
      to,
      cause: to === 'OBSERVE_ONLY' ? context.observeCause : null,
      trigger: to === 'SHUTDOWN' ? (context.shutdown?.trigger ?? null) : null,
      reason: to === 'SHUTDOWN' ? (context.shutdown?.reason ?? null) : context.causeReason,
      lifecycleId: context.lifecycleId,
      at: new Date(this.clock.wallNow()),
    };
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        this.logger.error({ err: error }, 'a mode-change listener threw; ignored');
      }
    }
  }

  private async performStartupChecks(input: StartupChecksInput): Promise<StartupReport> {
    const report = await runStartupCheckSuite(
      {
        store: this.store,
        verifier: this.dataIntegrityVerifier,
        clock: this.clock,
        adapterPingTimeoutMs: this.thresholds.adapterPingTimeoutMs,
        // Damage seen and not yet cleared by a full check needs a full check to clear it.
        fullVerification:
          this.nextVisitVerifiesFully || this.dataIntegrityVerifier.getLastViolations().length > 0,
      },
      this.adapters,
      input,
    );
    this.nextVisitVerifiesFully = false;
    const persisted = this.persistReport(report);
    this.lastReport = persisted;
    // Precedence (DESIGN): a capital mismatch found at startup shuts down rather than observes.
    const capital = report.results.find((r) => r.name === 'capital_reconciliation');
    const unreadable = capital?.details.startsWith('check could not run') === true;
    if (capital !== undefined && !capital.passed && !unreadable) {
      this.requestShutdown({ trigger: 'CAPITAL_INCONSISTENT', reason: capital.details });
    }
    return persisted;
  }

  /** A report that cannot be persisted does not pass: nothing unrecorded may open the gate. */
  private persistReport(report: StartupReport): StartupReport {
    try {
      this.store.transaction(() => {
        this.store.events.append({
          eventType: 'STARTUP_CHECKS_COMPLETED',
          reason: report.passed ? 'startup checks passed' : 'startup checks failed',
          metadata: {
            lifecycleId: report.lifecycleId,
            visit: report.visit,
            passed: report.passed,
            results: report.results,
          },
        });
        this.store.startupReports.record(report);
      });
      this.healthMonitor.updateEventLogWriteTimestamp();
      return report;
    } catch (error) {
      const detail = `startup report could not be persisted: ${(error as Error).message}`;
      return {
        ...report,
        passed: false,
        results: [
          ...report.results,
          {
            name: 'report_persisted',
            passed: false,
            details: detail,
            rootCause: 'the event log cannot be written',
            recommendedAction: 'Check the database file, disk space and permissions.',
          },
        ],
      };
    }
  }

  // ---------------------------------------------------------------------------------------
  // Internals: monitors and their hosts

  private startMonitors(): void {
    if (this.monitorsStarted) return;
    this.monitorsStarted = true;
    this.heartbeat.start();
    this.failSafeManager.start();
    this.scheduleIntegrityCheck();
  }

  private scheduleIntegrityCheck(): void {
    this.integrityTimer = this.clock.setTimeout(() => {
      if (this.closed) return;
      if (this.state !== 'SHUTDOWN') this.checkDataIntegrity();
      this.scheduleIntegrityCheck();
    }, this.thresholds.integrityCheckIntervalMs);
  }

  private failSafeHost() {
    return {
      lifecycleState: (): LifecycleState => this.state,
      failSafeState: (): FailSafeState => ({
        inShutdown: this.state === 'SHUTDOWN',
        trigger: this.shutdownInfo?.trigger ?? null,
        reason: this.shutdownInfo?.reason ?? null,
        at: this.shutdownInfo?.at ?? null,
        latched: this.latch !== null,
        persistedTo: this.shutdownInfo?.persistedTo ?? null,
      }),
      shutdown: (decision: TriggerDecision): void => this.requestShutdown(decision),
      capitalMismatch: (): string | null => {
        const { mismatches } = this.store.capital.reconcile();
        if (mismatches.length === 0) return null;
        return mismatches
          .map(
            (m) =>
              `pool ${m.poolId}: total ${m.totalMinor} != accounts ${m.accountsSumMinor} (diff ${m.differenceMinor})`,
          )
          .join('; ');
      },
    };
  }

  private requestShutdown(decision: TriggerDecision): void {
    this.gateOpen = false;
    if (this.closed || this.state === 'SHUTDOWN') return;
    if (this.actor === null) {
      this.shutdownOutsideLifecycle(decision);
      return;
    }
    this.actor.send({
      type: 'failsafe.triggered',
      trigger: decision.trigger,
      reason: decision.reason,
    });
  }

  /** A shutdown before any lifecycle ran: latch it so the first lifecycle starts in SHUTDOWN. */
  private shutdownOutsideLifecycle(decision: TriggerDecision): void {
    const context: GovernorContext = {
      lifecycleId: this.lifecycleId || 'none',
      desiredMode: this.effectiveDesiredMode(),
      latch: null,
      startupChecksTimeoutMs: this.thresholds.startupChecksTimeoutMs,
      visit: 0,
      report: null,
      observeCause: null,
      causeReason: decision.reason,
      shutdown: { trigger: decision.trigger, reason: decision.reason },
    };
    this.onEnter('SHUTDOWN', context);
  }

  private heartbeatHost() {
    return {
      writeHeartbeat: (): void => {
        this.store.events.append({
          eventType: HEARTBEAT_EVENT_TYPE,
          reason: HEARTBEAT_REASON,
          metadata: { heartbeat: true, uptime: this.healthMonitor.getUptimeString() },
        });
        this.healthMonitor.updateEventLogWriteTimestamp();
      },
      heartbeatLost: (sinceMs: number): void => this.onHeartbeatLost(sinceMs),
      heartbeatRecovered: (): void => {
        this.logger.warn('heartbeat recovered; the mode stays as it is until an operator acts');
      },
      heartbeatFailed: (error: unknown): void => {
        this.logger.error({ err: error }, 'heartbeat could not be written');
        this.healthMonitor.recordError();
      },
    };
  }

  private onHeartbeatLost(sinceMs: number): void {
    if (this.closed || this.state === 'SHUTDOWN') return;
    const reason = `no successful heartbeat for ${formatDuration(sinceMs)} (threshold ${formatDuration(this.thresholds.heartbeatLossMs)})`;
    if (this.state === 'AGGRESSIVE') this.actor?.send({ type: 'heartbeat.lost', reason });
    if (this.getMode() === 'SHUTDOWN') return;
    this.alertManager.raise({
      kind: 'HEARTBEAT_LOSS',
      dedupKey: `heartbeat:${this.lifecycleId}`,
      severity: 'CRITICAL',
      title: HEARTBEAT_LOSS_ALERT.title,
      message: reason,
      rootCause: HEARTBEAT_LOSS_ALERT.rootCause,
      recommendedAction: HEARTBEAT_LOSS_ALERT.recommendedAction,
      metadata: { lifecycleId: this.lifecycleId, sinceMs, state: this.state },
    });
  }

  private handleViolations(violations: IntegrityViolation[]): void {
    const summary = violations
      .slice(0, 20)
      .map((v) => ({ check: v.check, description: v.description, location: v.location }));
    try {
      this.store.events.append({
        eventType: 'INTEGRITY_VIOLATION',
        reason: `${violations.length} integrity violation(s): ${violations[0]?.description ?? ''}`,
        metadata: { count: violations.length, violations: summary },
      });
    } catch (error) {
      this.logger.error({ err: error }, 'integrity incident could not be logged');
    }
    const capital = violations.filter((v) => v.check === 'CAPITAL');
    if (capital.length > 0) {
      this.requestShutdown({
        trigger: 'CAPITAL_INCONSISTENT',
        reason: capital.map((v) => v.description).join('; '),
      });
      return;
    }
    if (this.state === 'SHUTDOWN') return;
    const reason = violations.map((v) => v.description).join('; ');
    if (this.state === 'AGGRESSIVE') this.actor?.send({ type: 'integrity.violated', reason });
    this.alertManager.raise({
      kind: 'INTEGRITY_VIOLATION',
      dedupKey: `integrity:${this.lifecycleId}`,
      severity: 'CRITICAL',
      title: INTEGRITY_ALERT.title,
      message: reason,
      rootCause: violations.map((v) => v.rootCause).join('; '),
      recommendedAction: violations[0]?.recommendedAction ?? INTEGRITY_ALERT.recommendedAction,
      metadata: { violations: summary },
    });
  }

  private onActorError(error: unknown): void {
    this.gateOpen = false;
    this.logger.fatal({ err: error }, 'the lifecycle machine failed');
    this.actor = null;
    this.shutdownOutsideLifecycle({
      trigger: 'UNRECOVERABLE_EXCEPTION',
      reason: `lifecycle machine failed: ${(error as Error)?.message ?? String(error)}`,
    });
  }

  // ---------------------------------------------------------------------------------------
  // Internals: persistence helpers

  private readLatch(): ShutdownLatch | null {
    let stored: ShutdownLatch | null = null;
    try {
      stored = this.store.systemState.get().latch;
    } catch (error) {
      this.logger.error({ err: error }, 'latch could not be read; assuming one is set');
      return {
        trigger: 'UNRECOVERABLE_EXCEPTION',
        reason: 'system state unreadable',
        at: new Date(0).toISOString(),
      };
    }
    return stored ?? readFallbackRecord(this.fallbackPath)?.latch ?? this.latch;
  }

  private initialiseDesiredMode(): void {
    const state = this.store.systemState.get();
    if (state.lifecycleState === null) this.persistDesiredMode(this.configuredMode);
  }

  /** The more conservative of the configured mode and the operator's persisted choice. */
  private effectiveDesiredMode(): Mode {
    if (this.configuredMode === 'OBSERVE_ONLY') return 'OBSERVE_ONLY';
    try {
      return this.store.systemState.get().desiredMode;
    } catch {
      return 'OBSERVE_ONLY';
    }
  }

  private persistDesiredMode(mode: Mode): void {
    try {
      this.store.systemState.setDesiredMode(mode);
    } catch (error) {
      this.logger.error({ err: error, mode }, 'desired mode could not be persisted');
    }
  }

  private audit(request: OperatorRequest, action: string, options: { required: boolean }): void {
    try {
      this.store.transaction(() => {
        this.store.operatorActions.record({
          operator: request.operator,
          action,
          reason: request.reason,
        });
        this.store.events.append({
          eventType: 'OPERATOR_ACTION',
          reason: request.reason,
          metadata: {
            operator: request.operator,
            action,
            state: this.state,
            lifecycleId: this.lifecycleId,
          },
        });
      });
    } catch (error) {
      this.logger.error(
        { err: error, action, operator: request.operator },
        'operator action could not be audited',
      );
      if (options.required) throw error;
    }
  }

  private assertAccepted(event: GovernorEvent, action: string): void {
    const snapshot = this.actor?.getSnapshot();
    if (snapshot === undefined || !snapshot.can(event)) {
      throw new GovernorError(
        'GOV_INVALID_OPERATOR_ACTION',
        `${action} is not allowed in state ${this.state}`,
        {
          state: this.state,
        },
      );
    }
  }

  private resolveLifecycleIncidents(): void {
    for (const key of [`heartbeat:${this.lifecycleId}`, `integrity:${this.lifecycleId}`]) {
      this.alertManager.resolveIncident(key);
    }
    const visit = this.actor?.getSnapshot().context.visit;
    if (visit !== undefined)
      this.alertManager.resolveIncident(`startup:${this.lifecycleId}:${visit}`);
  }

  private assertOpen(): void {
    if (this.closed) throw new GovernorError('GOV_CLOSED', 'the GovernanceSystem has been closed');
  }

  // ---------------------------------------------------------------------------------------
  // Opt-in process hooks

  private readonly onUncaughtException = (error: Error): void => {
    this.logger.fatal({ err: error }, 'uncaught exception');
    this.requestShutdown({
      trigger: 'UNRECOVERABLE_EXCEPTION',
      reason: `uncaught exception: ${error.message}`,
    });
  };

  private readonly onUnhandledRejection = (reason: unknown): void => {
    this.logger.fatal({ err: reason }, 'unhandled rejection');
    const message = reason instanceof Error ? reason.message : String(reason);
    this.requestShutdown({
      trigger: 'UNRECOVERABLE_EXCEPTION',
      reason: `unhandled rejection: ${message}`,
    });
  };

  private installProcessHooks(): void {
    process.on('uncaughtException', this.onUncaughtException);
    process.on('unhandledRejection', this.onUnhandledRejection);
    this.processHooksInstalled = true;
  }

  private removeProcessHooks(): void {
    if (!this.processHooksInstalled) return;
    process.off('uncaughtException', this.onUncaughtException);
    process.off('unhandledRejection', this.onUnhandledRejection);
    this.processHooksInstalled = false;
  }
}

function shutdownKey(latch: ShutdownLatch): string {
  return `shutdown:${latch.at}:${latch.trigger}`;
}
