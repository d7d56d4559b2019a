/**
 * The fail-safe manager (spec: Fail-Safe Shutdown Logic). It decides, from input ages, health
 * and capital reconciliation, whether a trigger has fired, schedules a timer at the next
 * instant a threshold can be crossed (deadline-driven detection), runs the periodic check, and
 * asks its host to shut down. Ages are read on the monotonic clock only.
 */
import {
  isShutdownTrigger,
  type LifecycleState,
  SHUTDOWN_TRIGGERS,
  type ShutdownTrigger,
} from '../../machines/types.js';
import { type Clock, formatDuration, type TimerHandle } from '../clock.js';
import { describeValue, type Thresholds } from '../config.js';
import { GovernorError } from '../errors.js';
import type { HealthMonitor } from './health-monitor.js';

export interface TriggerDecision {
  readonly trigger: ShutdownTrigger;
  readonly reason: string;
}

export interface FailSafeState {
  inShutdown: boolean;
  trigger: ShutdownTrigger | null;
  reason: string | null;
  /** Wall time of the shutdown. */
  at: Date | null;
  /** True while a SHUTDOWN latch is recorded (it survives restarts until an operator restart). */
  latched: boolean;
  /** Where the final state went: the database, the fallback file, or nowhere yet. */
  persistedTo: 'database' | 'fallback-file' | null;
}

/** What the fail-safe manager needs from the GovernanceSystem that owns it. */
export interface FailSafeHost {
  lifecycleState(): LifecycleState;
  failSafeState(): FailSafeState;
  /** Sends `failsafe.triggered` to the machine (gate closed first). */
  shutdown(decision: TriggerDecision): void;
  /** Exact capital reconciliation: null when clean, else a one-line description. */
  capitalMismatch(): string | null;
}

/** The staleness triggers, most specific first; HEALTH_CHECK_FAILED comes after them. */
export function detectStalenessTrigger(
  health: HealthMonitor,
  thresholds: Thresholds,
): TriggerDecision | null {
  const ages = health.ages();
  if (ages.marketDataAgeMs > thresholds.marketDataShutdownAfterMs) {
    return {
      trigger: 'MARKET_DATA_STALL',
      reason: `no market data for ${formatDuration(ages.marketDataAgeMs)} (threshold ${formatDuration(thresholds.marketDataShutdownAfterMs)})`,
    };
  }
  if (ages.eventLogWriteAgeMs > thresholds.eventLogShutdownAfterMs) {
    return {
      trigger: 'EVENT_LOG_WRITE_FAILURE',
      reason: `no successful event-log write for ${formatDuration(ages.eventLogWriteAgeMs)} (threshold ${formatDuration(thresholds.eventLogShutdownAfterMs)})`,
    };
  }
  if (ages.snapshotWriteAgeMs > thresholds.snapshotShutdownAfterMs) {
    return {
      trigger: 'SNAPSHOT_WRITE_FAILURE',
      reason: `no successful snapshot write for ${formatDuration(ages.snapshotWriteAgeMs)} (threshold ${formatDuration(thresholds.snapshotShutdownAfterMs)})`,
    };
  }
  // The same ages as the rules above (one clock read): a check on a boundary judges once.
  const reasons = health.unhealthyReasons(ages);
  if (reasons.length > 0) {
    return { trigger: 'HEALTH_CHECK_FAILED', reason: `system unhealthy: ${reasons.join('; ')}` };
  }
  return null;
}

/** The monotonic instant at which the next staleness threshold is crossed. */
export function nextStalenessDeadlineMs(health: HealthMonitor, thresholds: Thresholds): number {
  const last = health.lastUpdateMonotonicMs();
  return Math.min(
    health.nextHealthDeadlineMs(),
    last.marketData + thresholds.marketDataShutdownAfterMs,
    last.eventLogWrite + thresholds.eventLogShutdownAfterMs,
    last.snapshotWrite + thresholds.snapshotShutdownAfterMs,
  );
}

const SHUTDOWN_TRIGGER_LIST = SHUTDOWN_TRIGGERS.join(', ');

export class FailSafeManager {
  private deadlineTimer: TimerHandle | undefined;
  private deadlineAtMs = Number.POSITIVE_INFINITY;
  private periodicTimer: TimerHandle | undefined;
  private running = false;

  constructor(
    private readonly host: FailSafeHost,
    private readonly health: HealthMonitor,
    private readonly clock: Clock,
    private readonly thresholds: Thresholds,
  ) {}

  /**
   * Evaluates every trigger now, capital included, and shuts down when one fired (the more
   * conservative rule wins: a trigger here means SHUTDOWN even if another rule would only
   * observe). Returns the trigger that fired, or null.
   */
  checkFailSafeConditions(options: { includeCapital?: boolean } = {}): ShutdownTrigger | null {
    if (this.host.lifecycleState() === 'SHUTDOWN') return this.host.failSafeState().trigger;
    const decision = this.detect(options.includeCapital ?? true);
    if (decision !== null) this.host.shutdown(decision);
    return decision?.trigger ?? null;
  }

  /**
   * The embedding code's explicit trigger. An unknown trigger (a typo, any JS caller) still shuts
   * down, as UNRECOVERABLE_EXCEPTION with the caller's words in the reason and its CRITICAL
   * alert; then the call reports the bad argument (GOV_INVALID_ARGUMENT). A missing reason is
   * no reason to keep trading either: it shuts down too, then reports GOV_REASON_REQUIRED.
   */
  triggerShutdown(trigger: ShutdownTrigger, reason: string): void {
    const known = isShutdownTrigger(trigger);
    const hasReason = typeof reason === 'string' && reason.trim() !== '';
    const words = hasReason ? reason : '(no reason given)';
    const decision: TriggerDecision = known
      ? { trigger, reason: words }
      : {
          trigger: 'UNRECOVERABLE_EXCEPTION',
          reason: `unknown trigger ${describeValue(trigger)}: ${words}`,
        };
    if (this.host.lifecycleState() !== 'SHUTDOWN') this.host.shutdown(decision);
    if (!known) {
      throw new GovernorError(
        'GOV_INVALID_ARGUMENT',
        `triggerShutdown: unknown trigger ${describeValue(trigger)} (shut down as UNRECOVERABLE_EXCEPTION); expected one of ${SHUTDOWN_TRIGGER_LIST}`,
        { field: 'trigger' },
      );
    }
    if (!hasReason) {
      throw new GovernorError(
        'GOV_REASON_REQUIRED',
        'triggerShutdown needs a reason (shut down anyway)',
      );
    }
  }

  isInShutdown(): boolean {
    return this.host.failSafeState().inShutdown;
  }

  getFailSafeState(): FailSafeState {
    return this.host.failSafeState();
  }

  /** Starts the deadline timer and the periodic check. */
  start(): void {
    this.running = true;
    this.arm();
    this.schedulePeriodic();
  }

  stop(): void {
    this.running = false;
    this.clock.clearTimeout(this.deadlineTimer);
    this.clock.clearTimeout(this.periodicTimer);
    this.deadlineTimer = undefined;
    this.periodicTimer = undefined;
    this.deadlineAtMs = Number.POSITIVE_INFINITY;
  }

  /**
   * Arms the deadline timer at the next instant a threshold can be crossed, unless the armed
   * one fires earlier. Input updates only push deadlines later, so they never need to re-arm:
   * an early timer finds nothing, and re-arms at the new deadline.
   */
  arm(): void {
    if (!this.running || this.host.lifecycleState() === 'SHUTDOWN') return;
    const deadlineMs = nextStalenessDeadlineMs(this.health, this.thresholds);
    if (this.deadlineTimer !== undefined && this.deadlineAtMs <= deadlineMs) return;
    this.clock.clearTimeout(this.deadlineTimer);
    this.deadlineAtMs = deadlineMs;
    // +1 ms: staleness is "older than", so the first instant past the threshold.
    const delayMs = Math.max(0, deadlineMs - this.clock.monotonicNow()) + 1;
    this.deadlineTimer = this.clock.setTimeout(() => this.onDeadline(), delayMs);
  }

  /** Called by the host when health changed by an event (an error, the queue status). */
  onHealthEvent(): void {
    if (!this.running) return;
    this.checkFailSafeConditions({ includeCapital: false });
  }

  private onDeadline(): void {
    this.deadlineTimer = undefined;
    this.deadlineAtMs = Number.POSITIVE_INFINITY;
    this.checkFailSafeConditions({ includeCapital: false });
    this.arm();
  }

  private schedulePeriodic(): void {
    if (!this.running) return;
    this.periodicTimer = this.clock.setTimeout(() => {
      this.periodicTimer = undefined;
      this.checkFailSafeConditions({ includeCapital: true });
      this.schedulePeriodic();
    }, this.thresholds.failSafeCheckIntervalMs);
  }

  private detect(includeCapital: boolean): TriggerDecision | null {
    const staleness = detectStalenessTrigger(this.health, this.thresholds);
    if (staleness !== null && staleness.trigger !== 'HEALTH_CHECK_FAILED') return staleness;
    if (includeCapital) {
      const mismatch = this.host.capitalMismatch();
      if (mismatch !== null) return { trigger: 'CAPITAL_INCONSISTENT', reason: mismatch };
    }
    return staleness;
  }
}
