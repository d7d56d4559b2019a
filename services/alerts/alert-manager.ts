/**
 * The alert manager core (spec: Alerting). It raises alerts only for the listed kinds, keeps
 * one alert per incident (dedup key), persists each one, logs it, and hands it to the sinks
 * asynchronously through a bounded queue so that delivery never blocks the gate or the machine.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { GovernorError } from '../errors.js';
import type { Logger } from '../logger.js';
import {
  ALERT_KINDS,
  ALERT_SEVERITIES,
  type AlertKind,
  type AlertSeverity,
  type AlertSink,
  type GovernorAlert,
} from './types.js';

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

/** Where alerts are kept. The GovernanceSystem backs it with the SQLite store. */
export interface AlertRepository {
  /** Persists the alert (and its ALERT_RAISED event) atomically; throws when it cannot. */
  insert(alert: GovernorAlert): void;
  findOpenByDedupKey(dedupKey: string): GovernorAlert | undefined;
  list(options: { unacknowledgedOnly: boolean; limit: number }): GovernorAlert[];
  get(alertId: string): GovernorAlert | undefined;
  acknowledge(alertId: string, operator: string, at: Date): void;
  /** Marks every open alert of the incident resolved; returns them. */
  resolve(dedupKey: string, at: Date): GovernorAlert[];
}

/** Pending deliveries beyond this are dropped (and logged): the queue is bounded. */
export const DELIVERY_QUEUE_MAX = 1_000;
/** Alerts kept in memory when the repository cannot be written. */
export const UNPERSISTED_ALERTS_MAX = 100;

export class AlertManager {
  private readonly sinks: AlertSink[];
  private readonly queue: Array<{
    sink: AlertSink;
    alert: GovernorAlert;
    op: 'deliver' | 'resolve';
  }> = [];
  private draining = false;
  private readonly unpersisted: GovernorAlert[] = [];
  private deliveredCount = 0;
  private failedDeliveries = 0;
  private droppedDeliveries = 0;

  constructor(
    private readonly repository: AlertRepository,
    private readonly clock: Clock,
    private readonly logger: Logger,
    sinks: readonly AlertSink[] = [],
  ) {
    this.sinks = [...sinks];
  }

  /**
   * Raises an alert for `input.kind`, unless an open alert with the same dedup key exists
   * (one alert per incident). Returns the alert, or null when it was deduplicated.
   * Never throws for a storage failure: the alert is still logged and delivered.
   */
  raise(input: RaiseAlertInput): GovernorAlert | null {
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
    try {
      this.repository.insert(alert);
    } catch (error) {
      this.keepUnpersisted(alert);
      this.logger.error({ err: error, alertId: alert.alertId }, 'alert could not be persisted');
    }
    this.logAlert(alert);
    for (const sink of this.sinks) this.enqueue(sink, alert, 'deliver');
    return alert;
  }

  /** Every alert (newest first), unpersisted ones included. */
  getAlerts(limit = 1_000): GovernorAlert[] {
    return this.merge(this.safeList(false, limit), limit);
  }

  getUnacknowledgedAlerts(limit = 1_000): GovernorAlert[] {
    return this.merge(this.safeList(true, limit), limit).filter((a) => !a.acknowledged);
  }

  /** Acknowledges an alert in the name of `operator`. */
  acknowledge(alertId: string, operator: string): GovernorAlert {
    if (typeof operator !== 'string' || operator.trim() === '') {
      throw new GovernorError(
        'GOV_OPERATOR_REQUIRED',
        'acknowledging an alert needs an operator name',
      );
    }
    const at = new Date(this.clock.wallNow());
    const memory = this.unpersisted.find((a) => a.alertId === alertId);
    if (memory !== undefined) {
      Object.assign(memory, { acknowledged: true, acknowledgedBy: operator, acknowledgedAt: at });
      return memory;
    }
    this.repository.acknowledge(alertId, operator.trim(), at);
    const stored = this.repository.get(alertId);
    if (stored === undefined) throw new GovernorError('GOV_UNKNOWN_ALERT', `no alert ${alertId}`);
    return stored;
  }

  /** Resolves an incident (an operator's restart): later raises of the key alert again. */
  resolveIncident(dedupKey: string): void {
    const at = new Date(this.clock.wallNow());
    for (const alert of this.unpersisted) {
      if (alert.dedupKey === dedupKey && alert.resolvedAt === null) alert.resolvedAt = at;
    }
    let resolved: GovernorAlert[] = [];
    try {
      resolved = this.repository.resolve(dedupKey, at);
    } catch (error) {
      this.logger.error({ err: error, dedupKey }, 'incident could not be marked resolved');
    }
    for (const alert of resolved) {
      for (const sink of this.sinks) if (sink.resolve) this.enqueue(sink, alert, 'resolve');
    }
  }

  isOpen(dedupKey: string): boolean {
    if (this.unpersisted.some((a) => a.dedupKey === dedupKey && a.resolvedAt === null)) return true;
    try {
      return this.repository.findOpenByDedupKey(dedupKey) !== undefined;
    } catch {
      return false;
    }
  }

  deliveryStats(): { delivered: number; failed: number; dropped: number; pending: number } {
    return {
      delivered: this.deliveredCount,
      failed: this.failedDeliveries,
      dropped: this.droppedDeliveries,
      pending: this.queue.length,
    };
  }

  /** Resolves when every queued delivery has been attempted (for tests and shutdown). */
  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.draining) {
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
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

  private enqueue(sink: AlertSink, alert: GovernorAlert, op: 'deliver' | 'resolve'): void {
    if (this.queue.length >= DELIVERY_QUEUE_MAX) {
      this.droppedDeliveries++;
      this.logger.error(
        { sink: sink.name, alertId: alert.alertId },
        'alert delivery queue full; dropped',
      );
      return;
    }
    this.queue.push({ sink, alert, op });
    if (!this.draining) {
      this.draining = true;
      setImmediate(() => void this.drain());
    }
  }

  private async drain(): Promise<void> {
    try {
      for (let item = this.queue.shift(); item !== undefined; item = this.queue.shift()) {
        try {
          if (item.op === 'deliver') await item.sink.deliver(item.alert);
          else await item.sink.resolve?.(item.alert);
          this.deliveredCount++;
        } catch (error) {
          this.failedDeliveries++;
          this.logger.warn(
            { err: error, sink: item.sink.name, alertId: item.alert.alertId },
            'alert delivery failed',
          );
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private keepUnpersisted(alert: GovernorAlert): void {
    this.unpersisted.push(alert);
    if (this.unpersisted.length > UNPERSISTED_ALERTS_MAX) this.unpersisted.shift();
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
    if (this.unpersisted.length === 0) return stored;
    return [...this.unpersisted, ...stored]
      .sort((a, b) => b.timestamp.getTime() - a.timestamp.getTime())
      .slice(0, limit);
  }
}
