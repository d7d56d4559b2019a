/**
 * The configured alert sinks and the delivery to them: each sink's name checked (unique, 1 to
 * 128 characters), the sinks started and stopped, the bounded delivery queue (a sink that does
 * not fit is dropped and counted), one delivery queued per sink from its outbox row or from
 * memory, the outbox rows still pending resumed at start, and the counters and delivery status
 * read back. The alert manager (alert-manager.ts) owns one.
 */
import type { OutboxEntry, OutboxOperation } from '../../persistence/index.js';
import type { Clock } from '../clock.js';
import { GovernorError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { AlertRepository, OutboxRowRef } from './alert-repository.js';
import {
  DeliveryDispatcher,
  type DispatcherStats,
  type SinkDeliveryStats,
} from './delivery-dispatcher.js';
import { type DeliveryPolicy, resolveDeliveryPolicy } from './delivery-policy.js';
import { type AlertDeliveryStatus, fromOutboxEntry } from './delivery-status.js';
import type { AlertSink, GovernorAlert, WatchdogStats } from './types.js';

/** One configured sink's delivery counters since start, and its watchdog's beats (or null). */
export interface SinkStats extends SinkDeliveryStats {
  readonly sink: string;
  readonly watchdog: WatchdogStats | null;
}

/** What the delivery reads and writes: delivery attempts and the outbox rows. */
export type DeliveryRepository = Pick<
  AlertRepository,
  'recordAttempt' | 'pendingDeliveries' | 'listDeliveries'
>;

/** The options of the manager's delivery (AlertManagerOptions, alert-manager.ts). */
export interface SinkDeliveryOptions {
  readonly delivery?: Partial<DeliveryPolicy>;
  readonly random?: () => number;
  readonly instance?: string;
}

export class SinkDelivery {
  readonly sinks: readonly AlertSink[];
  private readonly sinksByName = new Map<string, AlertSink>();
  private readonly dispatcher: DeliveryDispatcher;
  private stopped = false;

  /**
   * Checks the sinks' names (GOV_INVALID_CONFIG), resumes the pending outbox rows and starts the
   * sinks. `deliveredInMemory` is told of each delivery of an alert that is not stored.
   */
  constructor(
    private readonly repository: DeliveryRepository,
    private readonly clock: Clock,
    private readonly logger: Logger,
    sinks: readonly AlertSink[],
    options: SinkDeliveryOptions,
    deliveredInMemory: (alertId: string, sink: string, operation: OutboxOperation) => void,
  ) {
    this.sinks = [...sinks];
    for (const sink of this.sinks) {
      if (typeof sink?.name !== 'string' || sink.name.trim() === '' || sink.name.length > 128) {
        throw new GovernorError(
          'GOV_INVALID_CONFIG',
          'every alert sink needs a name of 1 to 128 characters',
        );
      }
      if (this.sinksByName.has(sink.name)) {
        throw new GovernorError(
          'GOV_INVALID_CONFIG',
          `two alert sinks are named ${sink.name}; names identify outbox rows and must be unique`,
          { field: 'alertSinks', sink: sink.name },
        );
      }
      this.sinksByName.set(sink.name, sink);
    }
    const policy = resolveDeliveryPolicy(options.delivery);
    this.dispatcher = new DeliveryDispatcher(
      clock,
      logger,
      policy,
      {
        recordAttempt: (id, attempt) => this.repository.recordAttempt(id, attempt),
        deliveredInMemory,
      },
      options.random,
    );
    this.resumePendingDeliveries(policy);
    for (const sink of this.sinks) {
      sink.start?.({
        clock,
        logger: logger.child({ sink: sink.name }),
        ...(options.instance === undefined ? {} : { instance: options.instance }),
      });
    }
  }

  /** True once stopped: nothing more is queued. */
  get isStopped(): boolean {
    return this.stopped;
  }

  /** How many more deliveries the queue accepts. */
  capacity(): number {
    return this.dispatcher.capacity();
  }

  /** Counts (and logs) deliveries of `alertId` dropped because the queue is full. */
  countDropped(count: number, alertId: string): void {
    this.dispatcher.countDropped(count, alertId);
  }

  /**
   * Delivery counters since this manager started: successful and failed attempts, deliveries
   * abandoned after their last attempt or dropped because the queue was full, and how many wait.
   */
  deliveryStats(): DispatcherStats & { pending: number } {
    return this.dispatcher.stats();
  }

  /**
   * Each configured sink's counters since this manager started (zeros until its first attempt),
   * in configuration order, with its watchdog's beats when it runs one.
   */
  sinkStats(): SinkStats[] {
    const bySink = this.dispatcher.statsBySink();
    return this.sinks.map((sink) => {
      let watchdog: WatchdogStats | null = null;
      try {
        watchdog = sink.watchdogStats?.() ?? null;
      } catch (error) {
        this.logger.warn({ err: error, sink: sink.name }, 'sink watchdog stats could not be read');
      }
      return {
        sink: sink.name,
        ...(bySink.get(sink.name) ?? { delivered: 0, failed: 0, abandoned: 0 }),
        watchdog,
      };
    });
  }

  /**
   * Where each delivery stands (pending, delivered, failed; attempts; last error), newest first:
   * the outbox rows (of one alert, or of all) plus deliveries of alerts that could not be persisted.
   */
  getDeliveryStatus(alertId?: string, limit = 100): AlertDeliveryStatus[] {
    const memory = this.dispatcher
      .queued()
      .filter((job) => job.outboxId === null && (alertId === undefined || job.alertId === alertId))
      .map(
        (job): AlertDeliveryStatus => ({
          outboxId: null,
          alertId: job.alertId,
          dedupKey: job.dedupKey,
          sink: job.sink,
          operation: job.operation,
          status: 'pending',
          attempts: job.attempts,
          createdAt: null,
          lastAttemptAt: null,
          nextAttemptAt: null,
          deliveredAt: null,
          lastError: job.lastError,
          persisted: false,
        }),
      );
    let stored: AlertDeliveryStatus[] = [];
    try {
      const options = alertId === undefined ? { limit } : { alertId, limit };
      stored = this.repository.listDeliveries(options).map(fromOutboxEntry);
    } catch (error) {
      this.logger.error({ err: error }, 'alert deliveries could not be read');
    }
    return [...memory, ...stored].slice(0, limit);
  }

  /** Resolves when no delivery attempt is in flight or due (retries waiting on backoff excepted). */
  async flush(): Promise<void> {
    await this.dispatcher.flush();
  }

  /** Stops delivering and stops the sinks' timers (watchdog). Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.dispatcher.stop();
    for (const sink of this.sinks) {
      try {
        sink.stop?.();
      } catch (error) {
        this.logger.warn({ err: error, sink: sink.name }, 'alert sink did not stop cleanly');
      }
    }
  }

  /** The sinks that still fit in the delivery queue; the others are dropped and logged. */
  admit(sinks: readonly AlertSink[], alert: GovernorAlert | null): AlertSink[] {
    if (this.stopped) return [];
    const capacity = this.dispatcher.capacity();
    if (sinks.length <= capacity) return [...sinks];
    this.dispatcher.countDropped(sinks.length - capacity, alert?.alertId ?? 'resolution');
    return sinks.slice(0, capacity);
  }

  /** Queues one delivery per sink; `rows` are the outbox rows written, or null (memory only). */
  dispatch(
    alert: GovernorAlert,
    sinks: readonly AlertSink[],
    operation: OutboxOperation,
    rows: readonly OutboxRowRef[] | null,
  ): void {
    for (const sink of sinks) {
      const outboxId = rows?.find((row) => row.sink === sink.name)?.outboxId ?? null;
      this.dispatcher.enqueue({ outboxId, alert, sink, operation, attempts: 0 });
    }
  }

  /** After a restart (or a crash), picks up the outbox rows still pending. */
  private resumePendingDeliveries(policy: DeliveryPolicy): void {
    let pending: Array<{ alert: GovernorAlert; entry: OutboxEntry }>;
    try {
      pending = this.repository.pendingDeliveries(policy.queueMax);
    } catch (error) {
      this.logger.error({ err: error }, 'pending alert deliveries could not be read');
      return;
    }
    let resumed = 0;
    const unknownSinks = new Set<string>();
    for (const { alert, entry } of pending) {
      const sink = this.sinksByName.get(entry.sink);
      if (sink === undefined) {
        unknownSinks.add(entry.sink); // left pending for a process that has this sink
        continue;
      }
      if (entry.operation === 'resolve' && sink.resolve === undefined) {
        this.closeUnresolvable(entry);
        continue;
      }
      this.dispatcher.enqueue({
        outboxId: entry.id,
        alert,
        sink,
        operation: entry.operation,
        attempts: Math.min(entry.attempts, policy.attemptsMax - 1),
      });
      resumed++;
    }
    if (resumed > 0 || unknownSinks.size > 0) {
      this.logger.info(
        { resumed, sinksNotConfigured: [...unknownSinks] },
        'resuming pending alert deliveries',
      );
    }
  }

  /** A resolution queued for a sink that has no resolve (a webhook, say): nothing to send. */
  private closeUnresolvable(entry: OutboxEntry): void {
    try {
      this.repository.recordAttempt(entry.id, {
        status: 'failed',
        attempts: entry.attempts,
        at: new Date(this.clock.wallNow()).toISOString(),
        error: `sink ${entry.sink} cannot resolve an incident`,
        nextAttemptAt: null,
      });
    } catch (error) {
      this.logger.warn({ err: error, outboxId: entry.id }, 'outbox row could not be closed');
    }
  }
}
