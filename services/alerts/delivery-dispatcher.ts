/**
 * The delivery dispatcher: it hands each queued (alert, sink, operation) to its sink off the
 * caller's stack, at most `concurrencyMax` at once, retries failures with capped exponential
 * backoff on the injected clock, gives up after `attemptsMax`, and records each outcome.
 */
import type { OutboxAttempt, OutboxOperation } from '../../persistence/index.js';
import type { Clock, TimerHandle } from '../clock.js';
import { describeError, GovernorError } from '../errors.js';
import type { Logger } from '../logger.js';
import { backoffDelayMs, type DeliveryPolicy } from './delivery-policy.js';
import type { AlertSink, GovernorAlert } from './types.js';

/** Where the dispatcher records attempts: the outbox (absent for alerts that were not persisted). */
export interface DeliveryJournal {
  recordAttempt(outboxId: number, attempt: OutboxAttempt): void;
  /** A delivery of an alert that is not stored (no outbox row) succeeded. */
  deliveredInMemory?(alertId: string, sink: string, operation: OutboxOperation): void;
}

export interface DeliveryRequest {
  /** The outbox row, or null when the alert could not be persisted (memory only). */
  readonly outboxId: number | null;
  readonly alert: GovernorAlert;
  readonly sink: AlertSink;
  readonly operation: OutboxOperation;
  /** Attempts already made (a row resumed after a restart keeps its count). */
  readonly attempts: number;
}

/** A delivery still queued, as `getDeliveryStatus` shows it. */
export interface QueuedDelivery {
  readonly outboxId: number | null;
  readonly alertId: string;
  readonly dedupKey: string;
  readonly sink: string;
  readonly operation: OutboxOperation;
  readonly attempts: number;
  readonly inFlight: boolean;
  readonly lastError: string | null;
}

export interface DispatcherStats {
  /** Successful attempts. */
  delivered: number;
  /** Failed attempts (each retry counts). */
  failed: number;
  /** Deliveries given up after their last attempt. */
  abandoned: number;
  /** Deliveries refused because the queue was full. */
  dropped: number;
}

/** A sink's share of the counters (queue-full drops are counted for the queue, not per sink). */
export type SinkDeliveryStats = Omit<DispatcherStats, 'dropped'>;

interface Job {
  readonly request: DeliveryRequest;
  attempts: number;
  dueMs: number;
  inFlight: boolean;
  lastError: string | null;
}

/** An error a retry cannot fix (e.g. HTTP 400): the dispatcher gives up at once. */
function isPermanent(error: unknown): boolean {
  return error instanceof GovernorError && error.details.retryable === false;
}

export class DeliveryDispatcher {
  private readonly jobs: Job[] = [];
  private inFlight = 0;
  private timer: TimerHandle | undefined;
  private timerDueMs = Number.POSITIVE_INFINITY;
  private pumpScheduled = false;
  private stopped = false;
  private readonly counters: DispatcherStats = {
    delivered: 0,
    failed: 0,
    abandoned: 0,
    dropped: 0,
  };
  private readonly bySink = new Map<string, SinkDeliveryStats>();

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly policy: DeliveryPolicy,
    private readonly journal: DeliveryJournal,
    private readonly random: () => number = Math.random,
  ) {}

  /** How many more deliveries the queue accepts. */
  capacity(): number {
    return Math.max(0, this.policy.queueMax - this.jobs.length);
  }

  /** Queues a delivery for its first (or next) attempt on a later turn of the event loop. */
  enqueue(request: DeliveryRequest): boolean {
    if (this.stopped) return false;
    if (this.jobs.length >= this.policy.queueMax) {
      this.countDropped(1, request.alert.alertId);
      return false;
    }
    if (
      request.outboxId !== null &&
      this.jobs.some((job) => job.request.outboxId === request.outboxId)
    ) {
      return true;
    }
    this.jobs.push({
      request,
      attempts: request.attempts,
      dueMs: this.clock.monotonicNow(),
      inFlight: false,
      lastError: null,
    });
    this.schedulePump();
    return true;
  }

  countDropped(count: number, alertId: string): void {
    this.counters.dropped += count;
    this.logger.error(
      { alertId, dropped: count, queueMax: this.policy.queueMax },
      'alert delivery queue full; deliveries dropped',
    );
  }

  stats(): DispatcherStats & { pending: number } {
    return { ...this.counters, pending: this.jobs.length };
  }

  /** The counters of each sink that made an attempt, by sink name. */
  statsBySink(): ReadonlyMap<string, SinkDeliveryStats> {
    return new Map([...this.bySink].map(([sink, stats]) => [sink, { ...stats }]));
  }

  private sinkCounters(sink: string): SinkDeliveryStats {
    let counters = this.bySink.get(sink);
    if (counters === undefined) {
      counters = { delivered: 0, failed: 0, abandoned: 0 };
      this.bySink.set(sink, counters);
    }
    return counters;
  }

  queued(): QueuedDelivery[] {
    return this.jobs.map((job) => ({
      outboxId: job.request.outboxId,
      alertId: job.request.alert.alertId,
      dedupKey: job.request.alert.dedupKey,
      sink: job.request.sink.name,
      operation: job.request.operation,
      attempts: job.attempts,
      inFlight: job.inFlight,
      lastError: job.lastError,
    }));
  }

  /** Stops scheduling attempts; rows still pending stay in the outbox for the next start. */
  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Resolves once no attempt is in flight and none is due now (retries waiting on backoff excepted). */
  async flush(): Promise<void> {
    while (!this.stopped && (this.inFlight > 0 || this.pumpScheduled || this.hasDueJob())) {
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private hasDueJob(): boolean {
    const now = this.clock.monotonicNow();
    return this.jobs.some((job) => !job.inFlight && job.dueMs <= now && !this.isBlocked(job));
  }

  private schedulePump(): void {
    if (this.pumpScheduled || this.stopped) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.stopped) return;
    const now = this.clock.monotonicNow();
    for (const job of [...this.jobs]) {
      if (this.inFlight >= this.policy.concurrencyMax) break;
      if (job.inFlight || job.dueMs > now || this.isBlocked(job) || !this.jobs.includes(job)) {
        continue;
      }
      this.start(job);
    }
    this.armTimer(now);
  }

  /** A resolve waits until the delivery of the same alert to the same sink is done. */
  private isBlocked(job: Job): boolean {
    if (job.request.operation !== 'resolve') return false;
    return this.jobs.some(
      (other) =>
        other.request.operation === 'deliver' &&
        other.request.sink === job.request.sink &&
        other.request.alert.alertId === job.request.alert.alertId,
    );
  }

  private armTimer(now: number): void {
    let earliest = Number.POSITIVE_INFINITY;
    for (const job of this.jobs) {
      if (!job.inFlight && job.dueMs > now && job.dueMs < earliest) earliest = job.dueMs;
    }
    if (earliest === this.timerDueMs) return;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDueMs = earliest;
    if (earliest === Number.POSITIVE_INFINITY) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerDueMs = Number.POSITIVE_INFINITY;
      this.pump();
    }, earliest - now);
  }

  private start(job: Job): void {
    job.inFlight = true;
    job.attempts++;
    this.inFlight++;
    const { sink, alert, operation } = job.request;
    let settled = false;
    let timeout: TimerHandle | undefined;
    const finish = (error: unknown): void => {
      if (settled) return;
      settled = true;
      this.clock.clearTimeout(timeout);
      job.inFlight = false;
      this.inFlight--;
      if (error === undefined) this.succeeded(job);
      else this.attemptFailed(job, error);
      this.schedulePump();
    };
    timeout = this.clock.setTimeout(
      () => finish(new Error(`${sink.name}: no answer within ${this.policy.attemptTimeoutMs} ms`)),
      this.policy.attemptTimeoutMs,
    );
    let result: Promise<void> | void;
    try {
      result = operation === 'deliver' ? sink.deliver(alert) : sink.resolve?.(alert);
    } catch (error) {
      finish(error ?? new Error('sink threw'));
      return;
    }
    Promise.resolve(result).then(
      () => finish(undefined),
      (error: unknown) => finish(error ?? new Error('sink rejected')),
    );
  }

  private remove(job: Job): void {
    const index = this.jobs.indexOf(job);
    if (index >= 0) this.jobs.splice(index, 1);
  }

  private succeeded(job: Job): void {
    this.remove(job);
    this.counters.delivered++;
    const { sink, alert, operation } = job.request;
    this.sinkCounters(sink.name).delivered++;
    this.record(job, { status: 'delivered', attempts: job.attempts, at: this.wallIso() });
    if (job.request.outboxId === null) {
      this.journal.deliveredInMemory?.(alert.alertId, sink.name, operation);
    }
    this.logger.info(
      { sink: sink.name, alertId: alert.alertId, operation, attempts: job.attempts },
      'alert delivered',
    );
  }

  private attemptFailed(job: Job, error: unknown): void {
    this.counters.failed++;
    const { sink, alert, operation } = job.request;
    this.sinkCounters(sink.name).failed++;
    const message = describeError(error);
    job.lastError = message;
    const context = { sink: sink.name, alertId: alert.alertId, operation, attempts: job.attempts };
    if (job.attempts >= this.policy.attemptsMax || isPermanent(error) || this.stopped) {
      this.remove(job);
      if (this.stopped) return; // left pending in the outbox for the next start
      this.counters.abandoned++;
      this.sinkCounters(sink.name).abandoned++;
      this.record(job, {
        status: 'failed',
        attempts: job.attempts,
        at: this.wallIso(),
        error: message,
      });
      this.logger.error({ ...context, error: message }, 'alert delivery abandoned');
      return;
    }
    const delayMs = backoffDelayMs(this.policy, job.attempts, this.random());
    job.dueMs = this.clock.monotonicNow() + delayMs;
    this.record(job, {
      status: 'pending',
      attempts: job.attempts,
      at: this.wallIso(),
      error: message,
      nextAttemptAt: new Date(this.clock.wallNow() + delayMs).toISOString(),
    });
    this.logger.warn({ ...context, error: message, retryInMs: delayMs }, 'alert delivery failed');
  }

  private record(job: Job, attempt: OutboxAttempt): void {
    if (job.request.outboxId === null) return;
    try {
      this.journal.recordAttempt(job.request.outboxId, attempt);
    } catch (error) {
      this.logger.warn(
        { err: error, outboxId: job.request.outboxId },
        'alert delivery outcome could not be recorded',
      );
    }
  }

  private wallIso(): string {
    return new Date(this.clock.wallNow()).toISOString();
  }
}
