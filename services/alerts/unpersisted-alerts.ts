/**
 * The alerts the database could not take: kept in memory (at most UNPERSISTED_ALERTS_MAX, the
 * oldest dropped), mirrored in the spill file so that a restart inherits them, with the sinks
 * that already delivered each, and stored once the database takes them again (an inherited one
 * then delivered to the sinks it missed). The alert manager (alert-manager.ts) owns one.
 */
import type { OutboxOperation } from '../../persistence/index.js';
import { isGovernorError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { AlertRepository, OutboxRowRef } from './alert-repository.js';
import type { AlertSpill } from './alert-spill.js';
import type { SinkDelivery } from './sink-delivery.js';
import type { GovernorAlert } from './types.js';

/** Alerts kept in memory when the repository cannot be written. */
export const UNPERSISTED_ALERTS_MAX = 100;

export class UnpersistedAlerts {
  private readonly unpersisted: GovernorAlert[] = [];
  /** Unstored alerts an earlier process kept: stored (and delivered) once the database takes them. */
  private readonly inherited = new Set<string>();
  /** For each unstored alert, the sinks that already delivered it (kept in the spill). */
  private readonly deliveredTo = new Map<string, Set<string>>();

  constructor(
    private readonly repository: Pick<AlertRepository, 'insert'>,
    private readonly delivery: SinkDelivery,
    private readonly logger: Logger,
    private readonly spill: AlertSpill | null,
  ) {}

  /** The alerts kept in memory, oldest first. */
  get alerts(): readonly GovernorAlert[] {
    return this.unpersisted;
  }

  /**
   * Stores the alerts kept in memory because the database could not take them (call it when
   * writes succeed again: governor does after each heartbeat). An alert kept by an earlier
   * process is delivered once stored; one of this process was delivered when it was raised.
   * Returns how many were stored.
   */
  store(): number {
    if (this.unpersisted.length === 0 || this.delivery.isStopped) return 0;
    let stored = 0;
    for (const alert of [...this.unpersisted]) {
      // Delivered by this process when raised; an earlier process's: to the sinks it missed.
      const inherited = this.inherited.has(alert.alertId);
      const done = this.deliveredTo.get(alert.alertId) ?? new Set<string>();
      const missing = this.delivery.sinks.filter((sink) => !done.has(sink.name));
      const sinks =
        inherited && alert.resolvedAt === null ? this.delivery.admit(missing, alert) : [];
      let rows: OutboxRowRef[];
      try {
        rows = this.repository.insert(
          alert,
          sinks.map((sink) => sink.name),
        );
      } catch (error) {
        if (isGovernorError(error, 'GOV_DUPLICATE_ALERT')) {
          rows = []; // stored already (by an earlier attempt): nothing more to do
        } else {
          this.logger.warn({ err: error }, 'unstored alerts still cannot be stored');
          break;
        }
      }
      this.unpersisted.splice(this.unpersisted.indexOf(alert), 1);
      this.inherited.delete(alert.alertId);
      this.deliveredTo.delete(alert.alertId);
      if (rows.length > 0) this.delivery.dispatch(alert, sinks, 'deliver', rows);
      stored++;
    }
    this.saveSpill();
    return stored;
  }

  /** Takes over what an earlier process could not store, and tries to store it now. */
  inherit(): void {
    const spilled = this.spill?.load() ?? { alerts: [], deliveredTo: {} };
    for (const alert of spilled.alerts) {
      if (this.unpersisted.some((a) => a.alertId === alert.alertId)) continue;
      this.unpersisted.push(alert);
      this.inherited.add(alert.alertId);
      this.deliveredTo.set(alert.alertId, new Set(spilled.deliveredTo[alert.alertId] ?? []));
    }
    if (spilled.alerts.length > 0) {
      this.logger.warn(
        { count: spilled.alerts.length },
        'alerts an earlier process could not store',
      );
      this.store();
    }
  }

  private saveSpill(): void {
    try {
      const deliveredTo: Record<string, string[]> = {};
      for (const [alertId, sinks] of this.deliveredTo) deliveredTo[alertId] = [...sinks];
      this.spill?.save({ alerts: this.unpersisted, deliveredTo });
    } catch (error) {
      this.logger.error({ err: error }, 'unstored alerts could not be kept in the spill file');
    }
  }

  /** Keeps an alert the database refused (and the spill with it). */
  keep(alert: GovernorAlert): void {
    this.unpersisted.push(alert);
    if (this.unpersisted.length > UNPERSISTED_ALERTS_MAX) {
      const dropped = this.unpersisted.shift();
      if (dropped !== undefined) {
        this.inherited.delete(dropped.alertId);
        this.deliveredTo.delete(dropped.alertId);
      }
    }
    this.saveSpill();
  }

  /**
   * A sink delivered an alert that is not stored: recorded (and spilled), so that a process that
   * inherits the alert does not send it there again.
   */
  deliveredInMemory(alertId: string, sink: string, operation: OutboxOperation): void {
    if (operation !== 'deliver' || !this.unpersisted.some((a) => a.alertId === alertId)) {
      return;
    }
    const sinks = this.deliveredTo.get(alertId) ?? new Set<string>();
    sinks.add(sink);
    this.deliveredTo.set(alertId, sinks);
    this.saveSpill();
  }
}
