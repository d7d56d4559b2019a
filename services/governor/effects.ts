/**
 * What the machine's entry actions do: persist each mode change through the mode journal (a
 * failure's OBSERVE_ONLY with its hold), carry out the spec's shutdown sequence (the gate is
 * already closed; events, latch and the one CRITICAL alert in one transaction, or the fallback
 * file; the alert delivered after the commit; the head anchor after it), raise the incident of
 * a failure, and tell the listeners.
 * Effects never throw into the machine: a failed write is logged and counted as an error.
 */
import type {
  GovernorContext,
  LifecycleState,
  SafeModeHold,
  ShutdownLatch,
} from '../../machines/types.js';
import { isHeldCause } from '../../machines/types.js';
import type { ModeJournal } from '../../persistence/mode-journal.js';
import type { StagedAlert } from '../alerts/alert-manager.js';
import type { Clock } from '../clock.js';
import { type FallbackRecord, readFallbackRecord, writeFallbackRecord } from '../fallback-file.js';
import type { HealthMonitor } from '../health/health-monitor.js';
import type { Logger } from '../logger.js';
import type { Incidents } from './incidents.js';

export interface ModeChange {
  readonly from: LifecycleState;
  readonly to: LifecycleState;
  readonly cause: GovernorContext['observeCause'];
  /** True when OBSERVE_ONLY's cause is a failure held from earlier (no new incident). */
  readonly causeHeld: boolean;
  readonly trigger: ShutdownLatch['trigger'] | null;
  readonly reason: string | null;
  readonly lifecycleId: string;
  readonly at: Date;
}

export type ModeChangeListener = (change: ModeChange) => void;

/** Where the final state of the last SHUTDOWN went. */
export type PersistedTo = 'database' | 'fallback-file' | null;

export interface EffectsDependencies {
  readonly journal: ModeJournal;
  readonly incidents: Incidents;
  readonly health: HealthMonitor;
  readonly heartbeatAgeMs: () => number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly fallbackPath: string | null;
  /** Verifies what was appended since the last verification and anchors the head (after a shutdown). */
  readonly anchorHead: () => void;
  /** SHUTDOWN entered, the gate closed: called first, before the latch is persisted (the venues' cancels). */
  readonly shutdownEntered?: (latch: ShutdownLatch) => void;
}

export class Effects {
  private readonly listeners = new Set<ModeChangeListener>();
  /** Changes entered but not yet told: listeners hear of them once the machine has settled. */
  private readonly untold: ModeChange[] = [];
  private lastPersistedTo: PersistedTo = null;
  /**
   * The shutdown's CRITICAL alert in a transaction of its own, after the latch's: the former
   * path, two commits. For bench/detection.ts only, which times both paths in one run.
   */
  alertInItsOwnTransaction = false;

  constructor(private readonly deps: EffectsDependencies) {}

  addListener(listener: ModeChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Where the final state of the last SHUTDOWN of this process went. */
  get persistedTo(): PersistedTo {
    return this.lastPersistedTo;
  }

  /**
   * The entry action of `to`, called by the machine with its updated context. Listeners are
   * told later, by `tellListeners`, once the machine's snapshot shows the new state.
   */
  enter(from: LifecycleState, to: LifecycleState, context: GovernorContext): void {
    try {
      if (to === 'SHUTDOWN') {
        this.startCancels(context);
        this.shutdownSequence(from, context);
      } else this.modeChange(from, to, context);
    } catch (error) {
      // Never throw into the machine: the state (and the gate) already hold.
      this.deps.logger.fatal({ err: error, from, to }, 'effect of a mode change failed');
      this.deps.health.recordError();
    }
    this.untold.push(this.changeOf(from, to, context));
  }

  /** Tells the listeners of every change entered since the last call (the machine has settled). */
  tellListeners(): void {
    while (this.untold.length > 0) {
      const change = this.untold.shift();
      if (change !== undefined) this.tell(change);
    }
  }

  private nowIso(): string {
    return new Date(this.deps.clock.wallNow()).toISOString();
  }

  /** The venues' cancels go out before the latch's write and fsync, never after them. */
  private startCancels(context: GovernorContext): void {
    if (this.deps.shutdownEntered === undefined) return;
    try {
      this.deps.shutdownEntered(this.latchOf(context));
    } catch (error) {
      this.deps.logger.fatal({ err: error }, 'the venues could not be told to cancel');
      this.deps.health.recordError();
    }
  }

  private modeChange(
    from: LifecycleState,
    to: Exclude<LifecycleState, 'SHUTDOWN'>,
    context: GovernorContext,
  ): void {
    const cause = to === 'OBSERVE_ONLY' ? context.observeCause : null;
    const freshFailure = to === 'OBSERVE_ONLY' && isHeldCause(cause) && !context.causeHeld;
    const hold: SafeModeHold | null =
      freshFailure && isHeldCause(cause)
        ? { cause, reason: context.causeReason ?? cause, at: this.nowIso() }
        : null;
    try {
      this.deps.journal.recordModeChange({
        from,
        to,
        lifecycleId: context.lifecycleId,
        visit: context.visit,
        cause,
        causeReason: to === 'OBSERVE_ONLY' ? context.causeReason : null,
        hold,
      });
    } catch (error) {
      this.deps.logger.error({ err: error, from, to }, 'mode change could not be persisted');
      this.deps.health.recordError();
      // A failure's hold that the database could not take: a restart must not forget it.
      if (hold !== null) this.writeFallbackHold(hold, context.lifecycleId);
    }
    if (!freshFailure) return;
    const reason = context.causeReason ?? 'failure';
    if (cause === 'STARTUP_CHECKS_FAILED') {
      this.deps.incidents.startupFailure(
        context.report,
        reason,
        context.lifecycleId,
        context.visit,
      );
    } else if (cause === 'HEARTBEAT_LOST') {
      this.deps.incidents.heartbeatLoss(reason, context.lifecycleId, { state: from });
    }
    // INTEGRITY_VIOLATION: dispatcher.ts raises it with the findings (no event carries them);
    // AUTHORITY_LOST: the chart's alertFailure raises it, once per held loss (dispatcher.ts).
  }

  /**
   * The spec's fail-safe flow after the gate closed: shutdown event logged, mode change, state,
   * latch and the CRITICAL alert persisted in one transaction (one fsync), or the fallback file;
   * then the alert goes out (logged, delivered, told) and the head is anchored.
   */
  private shutdownSequence(from: LifecycleState, context: GovernorContext): void {
    const latch = this.latchOf(context);
    const latchedRestart = from === 'STARTING' && context.latch !== null;
    // A latch whose alert only the fallback file remembers was alerted by the process that set
    // it: a restart (even a crash loop on a broken disk) must not raise that alert again.
    const alerted = latchedRestart && this.fallbackAlerted(latch);
    const finalState = {
      ...this.finalState(from, latch, context),
      ...(alerted ? { alertRaised: true } : {}),
    };
    const details = { from, lifecycleId: context.lifecycleId };
    const record = { from, latch, lifecycleId: context.lifecycleId, finalState, latchedRestart };
    const withLatch = !alerted && !this.alertInItsOwnTransaction;
    const alert: { staged: StagedAlert | null; tried: boolean; failed: boolean } = {
      staged: null,
      tried: false,
      failed: false,
    };
    let persistedTo: PersistedTo;
    try {
      this.deps.journal.recordShutdown(
        record,
        withLatch
          ? () => {
              alert.tried = true;
              // An alert that cannot be written never rolls the latch back: its row's savepoint
              // fails alone, the latch commits, and the alert goes out from memory (and the spill).
              try {
                alert.staged = this.deps.incidents.stageShutdown(latch, {
                  ...details,
                  persistedTo: 'database',
                });
              } catch (error) {
                alert.failed = true;
                this.deps.logger.error({ err: error }, 'shutdown alert not written with the latch');
              }
            }
          : undefined,
      );
      persistedTo = 'database';
    } catch (error) {
      alert.staged = null; // its row was rolled back with the latch: raised again below
      alert.failed = true;
      persistedTo = this.persistLatchAlone(record, error, alert.tried);
    }
    this.lastPersistedTo = persistedTo;
    if (!alerted) {
      // The latch is durable (in the database or the fallback file, if either took it) before
      // the alert is logged, delivered or told.
      if (alert.staged !== null) alert.staged.release();
      else if (!withLatch || alert.failed) {
        this.deps.incidents.shutdown(latch, { ...details, persistedTo });
      }
      // Where the alert could not be stored with the latch, the fallback file remembers it.
      if (persistedTo === 'fallback-file' || !this.deps.incidents.shutdownAlertOpen(latch)) {
        this.writeFallback(latch, context.lifecycleId, { ...finalState, alertRaised: true });
      }
    }
    // The head anchor covers the shutdown's events (after the alert: the page goes out first).
    if (persistedTo === 'database') this.anchor();
  }

  /**
   * The shutdown's transaction failed. When it failed at or after the alert's rows (SQLite may
   * end the whole transaction on a full disk), the latch is written once more without them, so
   * an alert's failure never costs the latch its record; else, or then, the fallback file.
   */
  private persistLatchAlone(
    record: Parameters<ModeJournal['recordShutdown']>[0],
    error: unknown,
    alertTried: boolean,
  ): PersistedTo {
    if (alertTried) {
      try {
        this.deps.journal.recordShutdown(record);
        this.deps.logger.error({ err: error }, 'shutdown written without its alert');
        return 'database';
      } catch (again) {
        error = again;
      }
    }
    this.deps.logger.error(
      { err: error },
      'shutdown could not be written to the database; using the fallback file',
    );
    return this.writeFallback(record.latch, record.lifecycleId, record.finalState);
  }

  private latchOf(context: GovernorContext): ShutdownLatch {
    return (
      context.shutdown ?? {
        trigger: 'UNRECOVERABLE_EXCEPTION',
        reason: 'SHUTDOWN without a recorded cause',
        at: this.nowIso(),
      }
    );
  }

  private anchor(): void {
    try {
      this.deps.anchorHead();
    } catch (error) {
      this.deps.logger.error({ err: error }, 'head anchor could not be written after the shutdown');
    }
  }

  private fallbackAlerted(latch: ShutdownLatch): boolean {
    const record = readFallbackRecord(this.deps.fallbackPath);
    return (
      record !== null &&
      record.latch !== null &&
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
    const health = this.deps.health.getSystemHealth();
    const heartbeatAgeMs = this.deps.heartbeatAgeMs();
    return {
      from,
      to: 'SHUTDOWN',
      mode: 'OBSERVE_ONLY',
      latch,
      lifecycleId: context.lifecycleId,
      visit: context.visit,
      desiredMode: context.desiredMode,
      ages: this.deps.health.ages(),
      heartbeatAgeMs: Number.isFinite(heartbeatAgeMs) ? heartbeatAgeMs : null,
      health: { healthy: health.healthy, reasons: health.reasons, errorRate: health.errorRate },
    };
  }

  private writeFallbackHold(hold: SafeModeHold, lifecycleId: string): void {
    const path = this.deps.fallbackPath;
    if (path === null) return;
    const existing = readFallbackRecord(path);
    if (existing?.hold !== null && existing?.hold !== undefined) return; // the first one stays
    try {
      writeFallbackRecord(path, {
        version: 2,
        latch: existing?.latch ?? null,
        hold,
        lifecycleId,
        finalState: existing?.finalState ?? {},
      });
    } catch (error) {
      this.deps.logger.fatal({ err: error, path }, 'safe-mode hold could not be written anywhere');
    }
  }

  private writeFallback(
    latch: ShutdownLatch,
    lifecycleId: string,
    finalState: Record<string, unknown>,
  ): PersistedTo {
    const path = this.deps.fallbackPath;
    if (path === null) return null;
    const hold = readFallbackRecord(path)?.hold ?? null;
    const record: FallbackRecord = { version: 2, latch, hold, lifecycleId, finalState };
    try {
      writeFallbackRecord(path, record);
      return 'fallback-file';
    } catch (error) {
      this.deps.logger.fatal({ err: error, path }, 'shutdown fallback file could not be written');
      return null;
    }
  }

  /** An operator restart began a new lifecycle: SHUTDOWN → STARTING, told to the listeners. */
  announceRestart(lifecycleId: string, reason: string): void {
    this.tell({
      from: 'SHUTDOWN',
      to: 'STARTING',
      cause: null,
      causeHeld: false,
      trigger: null,
      reason,
      lifecycleId,
      at: new Date(this.deps.clock.wallNow()),
    });
  }

  private changeOf(from: LifecycleState, to: LifecycleState, context: GovernorContext): ModeChange {
    return {
      from,
      to,
      cause: to === 'OBSERVE_ONLY' ? context.observeCause : null,
      causeHeld: to === 'OBSERVE_ONLY' && context.causeHeld,
      trigger: to === 'SHUTDOWN' ? (context.shutdown?.trigger ?? null) : null,
      reason: to === 'SHUTDOWN' ? (context.shutdown?.reason ?? null) : context.causeReason,
      lifecycleId: context.lifecycleId,
      at: new Date(this.deps.clock.wallNow()),
    };
  }

  private tell(change: ModeChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        this.deps.logger.error({ err: error }, 'a mode-change listener threw; ignored');
      }
    }
  }
}
