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
import type { Clock, TimerHandle } from '../clock.js';
import { describeValue, type Thresholds } from '../config.js';
import { GovernorError } from '../errors.js';
import type { HealthMonitor } from './health-monitor.js';
import {
  arrivalLatchFrom,
  exactDuration,
  FROM_LAST_UPDATE,
  freshThroughMs,
  isStale,
  type LatchFrom,
} from './staleness.js';

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

/** A rule that time alone can break: which input, its limit, and how its reason reads. */
interface TimeRule {
  readonly input: 'marketData' | 'eventLogWrite' | 'snapshotWrite';
  readonly limitMs: number;
  readonly trigger: 'MARKET_DATA_STALL' | 'EVENT_LOG_WRITE_FAILURE' | 'SNAPSHOT_WRITE_FAILURE';
  readonly describe: (age: string, limit: string) => string;
}

/** The staleness triggers, most specific first (HEALTH_CHECK_FAILED's rules are the health monitor's). */
function shutdownRules(thresholds: Thresholds): readonly TimeRule[] {
  return [
    {
      input: 'marketData',
      limitMs: thresholds.marketDataShutdownAfterMs,
      trigger: 'MARKET_DATA_STALL',
      describe: (age, limit) => `no market data for ${age} (threshold ${limit})`,
    },
    {
      input: 'eventLogWrite',
      limitMs: thresholds.eventLogShutdownAfterMs,
      trigger: 'EVENT_LOG_WRITE_FAILURE',
      describe: (age, limit) => `no successful event-log write for ${age} (threshold ${limit})`,
    },
    {
      input: 'snapshotWrite',
      limitMs: thresholds.snapshotShutdownAfterMs,
      trigger: 'SNAPSHOT_WRITE_FAILURE',
      describe: (age, limit) => `no successful snapshot write for ${age} (threshold ${limit})`,
    },
  ];
}

/**
 * The staleness triggers at `nowMs` (monotonic; default now), most specific first;
 * HEALTH_CHECK_FAILED comes after them. One clock read: a check on a boundary judges once, by
 * `isStale`, as the gate does, from the instant `from` gives; reasons quote true ages.
 */
export function detectStalenessTrigger(
  health: HealthMonitor,
  thresholds: Thresholds,
  nowMs: number = health.monotonicNow(),
  from: LatchFrom = FROM_LAST_UPDATE,
): TriggerDecision | null {
  const last = health.lastUpdateMonotonicMs();
  for (const rule of shutdownRules(thresholds)) {
    const lastMs = last[rule.input];
    if (isStale(nowMs, from(lastMs, rule.limitMs), rule.limitMs)) {
      return {
        trigger: rule.trigger,
        reason: rule.describe(exactDuration(nowMs - lastMs), exactDuration(rule.limitMs)),
      };
    }
  }
  const reasons = health.unhealthyReasons(nowMs, from);
  if (reasons.length > 0) {
    return { trigger: 'HEALTH_CHECK_FAILED', reason: `system unhealthy: ${reasons.join('; ')}` };
  }
  return null;
}

/**
 * Every staleness rule (the triggers' and health's) broken at `nowMs`, one line each with exact
 * figures: what closed the gate when its deadline passed.
 */
export function staleRuleReasons(
  health: HealthMonitor,
  thresholds: Thresholds,
  nowMs: number,
): string[] {
  const last = health.lastUpdateMonotonicMs();
  const reasons: string[] = [];
  for (const rule of shutdownRules(thresholds)) {
    const lastMs = last[rule.input];
    if (isStale(nowMs, lastMs, rule.limitMs)) {
      reasons.push(rule.describe(exactDuration(nowMs - lastMs), exactDuration(rule.limitMs)));
    }
  }
  return [...health.unhealthyReasons(nowMs), ...reasons];
}

/** The last monotonic instant before a staleness rule (health or trigger) breaks. */
export function nextStalenessDeadlineMs(
  health: HealthMonitor,
  thresholds: Thresholds,
  from: LatchFrom = FROM_LAST_UPDATE,
): number {
  const last = health.lastUpdateMonotonicMs();
  let deadlineMs = health.nextHealthDeadlineMs(from);
  for (const rule of shutdownRules(thresholds)) {
    const limitMs = rule.limitMs;
    deadlineMs = Math.min(deadlineMs, freshThroughMs(from(last[rule.input], limitMs), limitMs));
  }
  return deadlineMs;
}

const SHUTDOWN_TRIGGER_LIST = SHUTDOWN_TRIGGERS.join(', ');

export class FailSafeManager {
  private deadlineTimer: TimerHandle | undefined;
  private deadlineAtMs = Number.POSITIVE_INFINITY;
  private periodicTimer: TimerHandle | undefined;
  private running = false;
  /**
   * How a latch judges inputs: one stale on arrival latches only once the engine has had
   * `startupChecksTimeoutMs` (or its limit, if shorter) since this process started to report.
   */
  private readonly latchFrom: LatchFrom;

  constructor(
    private readonly host: FailSafeHost,
    private readonly health: HealthMonitor,
    private readonly clock: Clock,
    private readonly thresholds: Thresholds,
  ) {
    this.latchFrom = arrivalLatchFrom(health.startedAtMs(), thresholds.startupChecksTimeoutMs);
  }

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
    const deadlineMs = nextStalenessDeadlineMs(this.health, this.thresholds, this.latchFrom);
    if (this.deadlineTimer !== undefined && this.deadlineAtMs <= deadlineMs) return;
    this.clock.clearTimeout(this.deadlineTimer);
    this.deadlineAtMs = deadlineMs;
    // +1 ms: the deadline is the last fresh instant (isStale is "older than"); past it, stale.
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
    const nowMs = this.health.monotonicNow();
    const staleness = detectStalenessTrigger(this.health, this.thresholds, nowMs, this.latchFrom);
    if (staleness !== null && staleness.trigger !== 'HEALTH_CHECK_FAILED') return staleness;
    if (includeCapital) {
      const mismatch = this.host.capitalMismatch();
      if (mismatch !== null) return { trigger: 'CAPITAL_INCONSISTENT', reason: mismatch };
    }
    return staleness;
  }
}
