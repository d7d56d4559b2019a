/**
 * The system health monitor (spec: System Health Monitor). It records when each input was last
 * updated, on the monotonic clock, counts errors in a bounded sliding window, and computes the
 * spec's SystemHealth. Computing health is deterministic, cheap and read-only.
 */
import { type Clock, formatDuration } from '../clock.js';
import { THRESHOLD_RANGES, type Thresholds } from '../config.js';
import { assert, GovernorError } from '../errors.js';
import { ErrorWindow, type ErrorWindowState } from './error-window.js';
import {
  exactDuration,
  FROM_LAST_UPDATE,
  freshThroughMs,
  isStale,
  type LatchFrom,
} from './staleness.js';

export const EXECUTION_QUEUE_STATUSES = ['IDLE', 'PROCESSING', 'STALLED'] as const;
export type ExecutionQueueStatus = (typeof EXECUTION_QUEUE_STATUSES)[number];

export interface SystemHealth {
  healthy: boolean;
  /** Process uptime in ms (monotonic). */
  uptime: number;
  /** Wall time of the last update; null before the first one (its age then counts from start). */
  lastMarketDataUpdate: Date | null;
  lastEventLogWrite: Date | null;
  lastSnapshotWrite: Date | null;
  executionQueueStatus: ExecutionQueueStatus;
  memoryUsage: { heapUsed: number; heapTotal: number; rss: number };
  /** Errors in the last error window, scaled to errors per minute. */
  errorRate: number;
  timestamp: Date;
  /** Why the system is unhealthy, one line per rule broken; empty when healthy. */
  reasons: string[];
}

/** The ages of the monitored inputs, in ms on the monotonic clock. */
export interface InputAges {
  marketDataAgeMs: number;
  eventLogWriteAgeMs: number;
  snapshotWriteAgeMs: number;
}

// The error-rate rule is reachable at every accepted setting: the most errors it can need
// (the top of both ranges: 100,000/min over 1 h) is far below 2^53, where counts stay exact.
assert(
  (THRESHOLD_RANGES.errorRatePerMinuteMax[1] * THRESHOLD_RANGES.errorWindowMs[1]) / 60_000 <
    Number.MAX_SAFE_INTEGER,
  'the error count that breaks the rate rule is countable',
);

interface InputStamp {
  monotonicMs: number;
  wallMs: number | null;
}

export type HealthChangeListener = (kind: 'error' | 'queue' | 'input') => void;

/**
 * How many errors within the error window break the error-rate rule: the fewest `n` with
 * `n × 60 000 / errorWindowMs > errorRatePerMinuteMax` (both are integers), as
 * `unhealthyReasons` computes the rate.
 */
export function errorsThatBreakTheRate(
  thresholds: Pick<Thresholds, 'errorRatePerMinuteMax' | 'errorWindowMs'>,
): number {
  return Math.floor((thresholds.errorRatePerMinuteMax * thresholds.errorWindowMs) / 60_000) + 1;
}

export class HealthMonitor {
  private readonly startedAtMonotonicMs: number;
  private readonly marketData: InputStamp;
  private readonly eventLogWrite: InputStamp;
  private readonly snapshotWrite: InputStamp;
  private queueStatus: ExecutionQueueStatus = 'IDLE';
  private readonly errors: ErrorWindow;
  private listener: HealthChangeListener | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly thresholds: Thresholds,
  ) {
    this.startedAtMonotonicMs = clock.monotonicNow();
    const fromStart = (): InputStamp => ({ monotonicMs: this.startedAtMonotonicMs, wallMs: null });
    this.marketData = fromStart();
    this.eventLogWrite = fromStart();
    this.snapshotWrite = fromStart();
    this.errors = new ErrorWindow(clock, { windowMs: thresholds.errorWindowMs });
  }

  /** Called after an error is recorded or the queue status changes (the fail-safe listens). */
  setChangeListener(listener: HealthChangeListener | null): void {
    this.listener = listener;
  }

  updateMarketDataTimestamp(): void {
    this.stamp(this.marketData);
  }

  updateEventLogWriteTimestamp(): void {
    this.stamp(this.eventLogWrite);
  }

  updateSnapshotWriteTimestamp(): void {
    this.stamp(this.snapshotWrite);
  }

  recordError(): void {
    this.errors.record();
    this.listener?.('error');
  }

  /** The error window relative to now, to persist (see {@link restoreErrorWindow}). */
  exportErrorWindow(): ErrorWindowState {
    return this.errors.exportState();
  }

  /**
   * Adds the errors of a window exported by an earlier process, `elapsedSinceExportMs` ago
   * (wall-clock difference; negative counts as 0). The change listener is not called: the
   * caller evaluates health after restoring. GOV_INVALID_ARGUMENT for a malformed state.
   */
  restoreErrorWindow(state: ErrorWindowState, elapsedSinceExportMs: number): void {
    this.errors.restore(state, elapsedSinceExportMs);
  }

  setExecutionQueueStatus(status: ExecutionQueueStatus): void {
    if (!(EXECUTION_QUEUE_STATUSES as readonly string[]).includes(status)) {
      throw new GovernorError(
        'GOV_INVALID_ARGUMENT',
        `executionQueueStatus: expected one of ${EXECUTION_QUEUE_STATUSES.join(', ')}`,
        { value: String(status) },
      );
    }
    const changed = status !== this.queueStatus;
    this.queueStatus = status;
    if (changed) this.listener?.('queue');
  }

  getExecutionQueueStatus(): ExecutionQueueStatus {
    return this.queueStatus;
  }

  /** The monotonic clock this monitor reads (one read for a judgment made at once). */
  /** The monotonic instant this process's monitor was made: the process's start, for ages. */
  startedAtMs(): number {
    return this.startedAtMonotonicMs;
  }

  monotonicNow(): number {
    return this.clock.monotonicNow();
  }

  uptimeMs(): number {
    return this.clock.monotonicNow() - this.startedAtMonotonicMs;
  }

  /** Uptime as the spec writes it: `2d 5h 30m` (seconds only below a minute). */
  getUptimeString(): string {
    return formatDuration(this.uptimeMs());
  }

  ages(): InputAges {
    const now = this.clock.monotonicNow();
    return {
      marketDataAgeMs: now - this.marketData.monotonicMs,
      eventLogWriteAgeMs: now - this.eventLogWrite.monotonicMs,
      snapshotWriteAgeMs: now - this.snapshotWrite.monotonicMs,
    };
  }

  /** Monotonic instants of the last updates (start time before the first). */
  lastUpdateMonotonicMs(): { marketData: number; eventLogWrite: number; snapshotWrite: number } {
    return {
      marketData: this.marketData.monotonicMs,
      eventLogWrite: this.eventLogWrite.monotonicMs,
      snapshotWrite: this.snapshotWrite.monotonicMs,
    };
  }

  /**
   * Seeds the input ages a previous process left (persisted with its heartbeats): each input is
   * as old as it was then, so a restart forgets no staleness. An age never shrinks below what
   * this process has already counted since its start.
   */
  seedAges(
    ages: InputAges,
    lastWallMs: {
      marketData: number | null;
      eventLogWrite: number | null;
      snapshotWrite: number | null;
    },
  ): void {
    const now = this.clock.monotonicNow();
    const seed = (input: InputStamp, ageMs: number, wallMs: number | null): void => {
      if (!Number.isFinite(ageMs) || ageMs < 0) return;
      const monotonicMs = now - ageMs;
      if (monotonicMs >= input.monotonicMs) return;
      input.monotonicMs = monotonicMs;
      input.wallMs = wallMs;
    };
    seed(this.marketData, ages.marketDataAgeMs, lastWallMs.marketData);
    seed(this.eventLogWrite, ages.eventLogWriteAgeMs, lastWallMs.eventLogWrite);
    seed(this.snapshotWrite, ages.snapshotWriteAgeMs, lastWallMs.snapshotWrite);
  }

  /** Wall times of the last updates (null before the first), for persistence and display. */
  lastUpdateWallMs(): {
    marketData: number | null;
    eventLogWrite: number | null;
    snapshotWrite: number | null;
  } {
    return {
      marketData: this.marketData.wallMs,
      eventLogWrite: this.eventLogWrite.wallMs,
      snapshotWrite: this.snapshotWrite.wallMs,
    };
  }

  /**
   * Errors whose monotonic time falls within the last error window: exact up to 4,096 of
   * them; beyond, it may include errors up to windowMs / 120 older, never fewer (error-window.ts).
   */
  errorsInWindow(): number {
    return this.errors.count();
  }

  errorRatePerMinute(): number {
    return (this.errorsInWindow() * 60_000) / this.thresholds.errorWindowMs;
  }

  /**
   * The spec's four rules at `nowMs` (monotonic; default now); each broken rule gives one line
   * with exact figures (true ages). Staleness is judged by `isStale`, as the gate and the
   * fail-safe judge it, from the instant `from` gives (the last update, unless the fail-safe
   * judges an input stale on arrival). Pure: reads, never writes.
   */
  unhealthyReasons(
    nowMs: number = this.clock.monotonicNow(),
    from: LatchFrom = FROM_LAST_UPDATE,
  ): string[] {
    const t = this.thresholds;
    const reasons: string[] = [];
    const rate = this.errorRatePerMinute();
    if (rate > t.errorRatePerMinuteMax) {
      reasons.push(`error rate ${rate.toFixed(1)}/min is above ${t.errorRatePerMinuteMax}/min`);
    }
    const market = this.marketData.monotonicMs;
    if (isStale(nowMs, from(market, t.marketDataUnhealthyAfterMs), t.marketDataUnhealthyAfterMs)) {
      reasons.push(
        `market data is ${exactDuration(nowMs - market)} old (limit ${exactDuration(t.marketDataUnhealthyAfterMs)})`,
      );
    }
    const eventLog = this.eventLogWrite.monotonicMs;
    if (isStale(nowMs, from(eventLog, t.eventLogUnhealthyAfterMs), t.eventLogUnhealthyAfterMs)) {
      reasons.push(
        `last event-log write was ${exactDuration(nowMs - eventLog)} ago (limit ${exactDuration(t.eventLogUnhealthyAfterMs)})`,
      );
    }
    if (this.queueStatus === 'STALLED') reasons.push('execution queue is STALLED');
    return reasons;
  }

  /** The last monotonic instant at which every health rule that time alone can break holds. */
  nextHealthDeadlineMs(from: LatchFrom = FROM_LAST_UPDATE): number {
    const t = this.thresholds;
    const market = t.marketDataUnhealthyAfterMs;
    const eventLog = t.eventLogUnhealthyAfterMs;
    return Math.min(
      freshThroughMs(from(this.marketData.monotonicMs, market), market),
      freshThroughMs(from(this.eventLogWrite.monotonicMs, eventLog), eventLog),
    );
  }

  getSystemHealth(): SystemHealth {
    const reasons = this.unhealthyReasons();
    const memory = process.memoryUsage();
    const toMb = (bytes: number): number => Math.round((bytes / 1_048_576) * 10) / 10;
    const toDate = (stamp: InputStamp): Date | null =>
      stamp.wallMs === null ? null : new Date(stamp.wallMs);
    return {
      healthy: reasons.length === 0,
      uptime: this.uptimeMs(),
      lastMarketDataUpdate: toDate(this.marketData),
      lastEventLogWrite: toDate(this.eventLogWrite),
      lastSnapshotWrite: toDate(this.snapshotWrite),
      executionQueueStatus: this.queueStatus,
      memoryUsage: {
        heapUsed: toMb(memory.heapUsed),
        heapTotal: toMb(memory.heapTotal),
        rss: toMb(memory.rss),
      },
      errorRate: this.errorRatePerMinute(),
      timestamp: new Date(this.clock.wallNow()),
      reasons,
    };
  }

  private stamp(input: InputStamp): void {
    input.monotonicMs = this.clock.monotonicNow();
    input.wallMs = this.clock.wallNow();
    this.listener?.('input');
  }
}
