/**
 * Where the alert manager keeps alerts: the repository contract (alerts, their ALERT_RAISED
 * events and outbox rows written together; reads, acknowledgement, resolution, delivery
 * attempts) and the outbox row written for one sink. The GovernanceSystem backs it with the
 * SQLite store (store-repository.ts); the manager (alert-manager.ts) and its delivery
 * (sink-delivery.ts) and unpersisted alerts (unpersisted-alerts.ts) use it.
 */
import type { OutboxAttempt, OutboxEntry } from '../../persistence/index.js';
import type { AlertKind, GovernorAlert } from './types.js';

/** An outbox row written for one sink. */
export interface OutboxRowRef {
  readonly sink: string;
  readonly outboxId: number;
}

/** Where alerts are kept. The GovernanceSystem backs it with the SQLite store. */
export interface AlertRepository {
  /**
   * Persists the alert, its ALERT_RAISED event and one pending outbox row per sink named, in one
   * transaction; throws (having written nothing) when it cannot.
   */
  insert(alert: GovernorAlert, sinks: readonly string[]): OutboxRowRef[];
  findOpenByDedupKey(dedupKey: string): GovernorAlert | undefined;
  list(options: { unacknowledgedOnly: boolean; limit: number }): GovernorAlert[];
  get(alertId: string): GovernorAlert | undefined;
  acknowledge(alertId: string, operator: string, at: Date): void;
  /**
   * Marks every open alert of the incident resolved and writes a pending `resolve` outbox row
   * per sink named, in one transaction; returns the alerts and their rows.
   */
  resolve(
    dedupKey: string,
    at: Date,
    sinks: readonly string[],
  ): Array<{ alert: GovernorAlert; deliveries: OutboxRowRef[] }>;
  /** The dedup keys of unresolved alerts of these kinds. */
  openIncidentKeys(kinds: readonly AlertKind[]): string[];
  /** Pending outbox rows, oldest first, with their alerts. */
  pendingDeliveries(limit: number): Array<{ alert: GovernorAlert; entry: OutboxEntry }>;
  recordAttempt(outboxId: number, attempt: OutboxAttempt): void;
  listDeliveries(options: { alertId?: string; limit: number }): OutboxEntry[];
}
