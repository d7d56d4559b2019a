/**
 * The alert manager core (spec: Alerting). It raises alerts only for the listed kinds, keeps
 * one alert per incident (dedup key), persists each one with its outbox rows, logs it, and lets
 * the dispatcher deliver it to the sinks with bounded retries, off the gate's and machine's path.
 *
 * This file raises, stages, lists, acknowledges and resolves alerts; its parts:
 * alert-repository.ts (where alerts are kept: the repository contract), sink-delivery.ts (the
 * sinks and the bounded delivery to them, resumed at start, with its counters and status) and
 * unpersisted-alerts.ts (the alerts the database could not take, kept in memory and the spill).
 */
import { randomUUID } from 'node:crypto';
import { checkOperator } from '../../persistence/validation.js';
import type { Clock } from '../clock.js';
import { GovernorError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { AlertRepository, OutboxRowRef } from './alert-repository.js';
import type { AlertSpill } from './alert-spill.js';
import type { DispatcherStats } from './delivery-dispatcher.js';
import { DEFAULT_DELIVERY_POLICY, type DeliveryPolicy } from './delivery-policy.js';
import type { AlertDeliveryStatus } from './delivery-status.js';
import { SinkDelivery, type SinkStats } from './sink-delivery.js';
import {
  ALERT_KINDS,
  ALERT_SEVERITIES,
  type AlertKind,
  type AlertSeverity,
  type AlertSink,
  type GovernorAlert,
} from './types.js';
import { UnpersistedAlerts } from './unpersisted-alerts.js';

export type { AlertRepository, OutboxRowRef } from './alert-repository.js';
export type { SinkStats } from './sink-delivery.js';
export { UNPERSISTED_ALERTS_MAX } from './unpersisted-alerts.js';

export interface RaiseAlertInput {
  kind: AlertKind;
  dedupKey: string;
  severity: AlertSeverity;
  title: string;
  message: string;
  rootCause: string;
  recommendedAction: string;
  metadata?: Record<string, unknown>;
}

/** An alert written inside a caller's transaction, not yet logged, delivered or told (`stage`). */
export interface StagedAlert {
  readonly alert: GovernorAlert;
  /** The caller's transaction committed: log the alert, deliver it, tell the listeners. Once. */
  release(): void;
}

/** An alert built for raising, with the sinks that fit in the delivery queue. */
interface BuiltAlert {
  readonly alert: GovernorAlert;
  readonly sinks: readonly AlertSink[];
  /** Sinks left out because the queue is full (counted and logged when the alert goes out). */
  readonly dropped: number;
}

export interface AlertManagerOptions {
  /** Bounds of delivery (attempts, backoff, timeout, concurrency, queue); defaults in docs/alerts.md. */
  readonly delivery?: Partial<DeliveryPolicy>;
  /** Where alerts the database could not store are kept across restarts (alert-spill.ts). */
  readonly spill?: AlertSpill | null;
  /** Source of jitter, in [0, 1); default Math.random. */
  readonly random?: () => number;
  /** The governor's instance name, handed to each sink's `start` (services/alerts/instance.ts). */
  readonly instance?: string;
}

/** Deliveries waiting beyond this are dropped (and logged): the queue is bounded. */
export const DELIVERY_QUEUE_MAX = DEFAULT_DELIVERY_POLICY.queueMax;

export class AlertManager {
  private readonly delivery: SinkDelivery;
  private readonly unpersisted: UnpersistedAlerts;
  private readonly raiseListeners = new Set<(alert: GovernorAlert) => void>();

  constructor(
    private readonly repository: AlertRepository,
    private readonly clock: Clock,
    private readonly logger: Logger,
    sinks: readonly AlertSink[] = [],
    options: AlertManagerOptions = {},
  ) {
    // The dispatcher tells of a delivery on a later turn, when `unpersisted` is set.
    this.delivery = new SinkDelivery(
      repository,
      clock,
      logger,
      sinks,
      options,
      (alertId, sink, operation) => this.unpersisted.deliveredInMemory(alertId, sink, operation),
    );
    this.unpersisted = new UnpersistedAlerts(
      repository,
      this.delivery,
      logger,
      options.spill ?? null,
    );
    this.unpersisted.inherit();
  }

  /**
   * Stores the alerts kept in memory because the database could not take them (call it when
   * writes succeed again: governor does after each heartbeat). An alert kept by an earlier
   * process is delivered once stored; one of this process was delivered when it was raised.
   * Returns how many were stored.
   */
  storeUnpersisted(): number {
    return this.unpersisted.store();
  }

  /**
   * Raises an alert for `input.kind`, unless an open alert with the same dedup key exists
   * (one alert per incident). Returns the alert, or null when it was deduplicated.
   * Never throws for a storage failure: the alert is still logged and delivered.
   */
  raise(input: RaiseAlertInput): GovernorAlert | null {
    const built = this.build(input);
    if (built === null) return null;
    this.countDropped(built);
    this.logAlert(built.alert);
    const rows = this.persist(built);
    if (rows === null) this.unpersisted.keep(built.alert);
    this.finish(built, rows);
    return built.alert;
  }

  /**
   * Raises an alert as `raise` does, but writes it inside the caller's open write transaction
   * (a savepoint of it: a failed alert write is rolled back alone, and the caller's writes stay)
   * and holds back its log line, its delivery and the listeners until the caller, once its
   * transaction has committed, calls `release`. When that transaction rolls back instead, the
   * caller drops the staged alert (its row went with the transaction) and raises it again.
   * Returns null when deduplicated. Never throws for a storage failure.
   */
  stage(input: RaiseAlertInput): StagedAlert | null {
    const built = this.build(input);
    if (built === null) return null;
    const rows = this.persist(built);
    let released = false;
    return {
      alert: built.alert,
      release: () => {
        if (released) return;
        released = true;
        this.countDropped(built);
        this.logAlert(built.alert);
        if (rows === null) this.unpersisted.keep(built.alert);
        this.finish(built, rows);
      },
    };
  }

  /** The alert of `input` and the sinks it fits in the delivery queue for; null when deduplicated. */
  private build(input: RaiseAlertInput): BuiltAlert | null {
    if (!(ALERT_KINDS as readonly string[]).includes(input.kind)) {
      throw new GovernorError(
        'GOV_INVALID_ARGUMENT',
        `alert kind must be one of ${ALERT_KINDS.join(', ')}`,
      );
    }
    if (!(ALERT_SEVERITIES as readonly string[]).includes(input.severity)) {
      throw new GovernorError(
        'GOV_INVALID_ARGUMENT',
        'alert severity must be CRITICAL, WARNING or INFO',
      );
    }
    if (this.isOpen(input.dedupKey)) return null;
    const alert: GovernorAlert = {
      alertId: randomUUID(),
      timestamp: new Date(this.clock.wallNow()),
      severity: input.severity,
      title: input.title,
      message: input.message,
      rootCause: input.rootCause,
      recommendedAction: input.recommendedAction,
      ...(input.metadata === undefined ? {} : { metadata: input.metadata }),
      acknowledged: false,
      kind: input.kind,
      dedupKey: input.dedupKey,
      acknowledgedBy: null,
      acknowledgedAt: null,
      resolvedAt: null,
    };
    const capacity = this.delivery.isStopped ? 0 : this.delivery.capacity();
    return {
      alert,
      sinks: this.delivery.sinks.slice(0, capacity),
      dropped: this.delivery.isStopped ? 0 : Math.max(0, this.delivery.sinks.length - capacity),
    };
  }

  /** Writes the alert and its outbox rows; null (logged) when the repository refused them. */
  private persist(built: BuiltAlert): OutboxRowRef[] | null {
    try {
      return this.repository.insert(
        built.alert,
        built.sinks.map((sink) => sink.name),
      );
    } catch (error) {
      this.logger.error(
        { err: error, alertId: built.alert.alertId },
        'alert could not be persisted',
      );
      return null;
    }
  }

  private countDropped(built: BuiltAlert): void {
    if (built.dropped > 0) this.delivery.countDropped(built.dropped, built.alert.alertId);
  }

  /** Queues the deliveries (from the outbox rows, or memory only) and tells the listeners. */
  private finish(built: BuiltAlert, rows: OutboxRowRef[] | null): void {
    this.delivery.dispatch(built.alert, built.sinks, 'deliver', rows);
    for (const listener of this.raiseListeners) {
      try {
        listener(built.alert);
      } catch (error) {
        this.logger.error({ err: error }, 'an alert listener threw; ignored');
      }
    }
  }

  /** Registers a listener told, synchronously, of each alert raised; returns its remover. */
  onRaise(listener: (alert: GovernorAlert) => void): () => void {
    this.raiseListeners.add(listener);
    return () => this.raiseListeners.delete(listener);
  }

  /** Every alert (newest first), unpersisted ones included. */
  getAlerts(limit = 1_000): GovernorAlert[] {
    return this.merge(this.safeList(false, limit), limit);
  }

  getUnacknowledgedAlerts(limit = 1_000): GovernorAlert[] {
    return this.merge(this.safeList(true, limit), limit).filter((a) => !a.acknowledged);
  }

  /** Acknowledges an alert in the name of `operator` (trimmed; checked as any operator name). */
  acknowledge(alertId: string, operator: string): GovernorAlert {
    const name = checkOperator(operator, 'acknowledging an alert');
    const at = new Date(this.clock.wallNow());
    const memory = this.unpersisted.alerts.find((a) => a.alertId === alertId);
    if (memory !== undefined) {
      Object.assign(memory, { acknowledged: true, acknowledgedBy: name, acknowledgedAt: at });
      return memory;
    }
    this.repository.acknowledge(alertId, name, at);
    const stored = this.repository.get(alertId);
    if (stored === undefined) throw new GovernorError('GOV_UNKNOWN_ALERT', `no alert ${alertId}`);
    return stored;
  }

  /**
   * Resolves an incident (an operator's restart): later raises of the key alert again, and each
   * sink that can resolve (Alertmanager `endsAt`, PagerDuty `resolve`) is told, through the outbox.
   */
  resolveIncident(dedupKey: string): void {
    const at = new Date(this.clock.wallNow());
    const resolvers = this.delivery.sinks.filter((sink) => sink.resolve !== undefined);
    for (const alert of this.unpersisted.alerts) {
      if (alert.dedupKey !== dedupKey || alert.resolvedAt !== null) continue;
      alert.resolvedAt = at;
      this.delivery.dispatch(alert, this.delivery.admit(resolvers, alert), 'resolve', null);
    }
    let resolved: Array<{ alert: GovernorAlert; deliveries: OutboxRowRef[] }> = [];
    const admitted = this.delivery.admit(resolvers, null);
    try {
      resolved = this.repository.resolve(
        dedupKey,
        at,
        admitted.map((sink) => sink.name),
      );
    } catch (error) {
      this.logger.error({ err: error, dedupKey }, 'incident could not be marked resolved');
    }
    for (const { alert, deliveries } of resolved) {
      this.delivery.dispatch(alert, admitted, 'resolve', deliveries);
    }
  }

  /** Resolves every open incident of these kinds (an operator's resume or restart). */
  resolveOpenIncidents(kinds: readonly AlertKind[]): void {
    let keys: string[] = [];
    try {
      keys = this.repository.openIncidentKeys(kinds);
    } catch (error) {
      this.logger.error({ err: error }, 'open incidents could not be read');
    }
    for (const alert of this.unpersisted.alerts) {
      if (alert.resolvedAt === null && kinds.includes(alert.kind)) keys.push(alert.dedupKey);
    }
    for (const key of new Set(keys)) this.resolveIncident(key);
  }

  isOpen(dedupKey: string): boolean {
    if (this.unpersisted.alerts.some((a) => a.dedupKey === dedupKey && a.resolvedAt === null))
      return true;
    try {
      return this.repository.findOpenByDedupKey(dedupKey) !== undefined;
    } catch {
      return false;
    }
  }

  /**
   * Delivery counters since this manager started: successful and failed attempts, deliveries
   * abandoned after their last attempt or dropped because the queue was full, and how many wait.
   */
  deliveryStats(): DispatcherStats & { pending: number } {
    return this.delivery.deliveryStats();
  }

  /**
   * Each configured sink's counters since this manager started (zeros until its first attempt),
   * in configuration order, with its watchdog's beats when it runs one.
   */
  sinkStats(): SinkStats[] {
    return this.delivery.sinkStats();
  }

  /**
   * Where each delivery stands (pending, delivered, failed; attempts; last error), newest first:
   * the outbox rows (of one alert, or of all) plus deliveries of alerts that could not be persisted.
   */
  getDeliveryStatus(alertId?: string, limit = 100): AlertDeliveryStatus[] {
    return this.delivery.getDeliveryStatus(alertId, limit);
  }

  /** Resolves when no delivery attempt is in flight or due (retries waiting on backoff excepted). */
  async flush(): Promise<void> {
    await this.delivery.flush();
  }

  /**
   * Stops delivering and stops the sinks' timers (watchdog). Rows still pending stay in the
   * outbox and are delivered by the next AlertManager over the same database. Idempotent.
   */
  stop(): void {
    this.delivery.stop();
  }

  private logAlert(alert: GovernorAlert): void {
    const level =
      alert.severity === 'CRITICAL' ? 'error' : alert.severity === 'WARNING' ? 'warn' : 'info';
    this.logger[level](
      {
        alert: {
          alertId: alert.alertId,
          kind: alert.kind,
          severity: alert.severity,
          rootCause: alert.rootCause,
          recommendedAction: alert.recommendedAction,
        },
      },
      `ALERT ${alert.severity}: ${alert.title}: ${alert.message}`,
    );
  }

  private safeList(unacknowledgedOnly: boolean, limit: number): GovernorAlert[] {
    try {
      return this.repository.list({ unacknowledgedOnly, limit });
    } catch (error) {
      this.logger.error({ err: error }, 'alerts could not be read');
      return [];
    }
  }

  private merge(stored: GovernorAlert[], limit: number): GovernorAlert[] {
    if (this.unpersisted.alerts.length === 0) return stored;
    return [...this.unpersisted.alerts, ...stored]
      .sort((a, b) => b.timestamp.getTime() - a.timestamp.getTime())
      .slice(0, limit);
  }
}
