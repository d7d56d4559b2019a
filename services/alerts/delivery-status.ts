/**
 * Where each alert delivery stands, read from the outbox: for the library
 * (`alertManager.getDeliveryStatus`) and for `governor alerts`, which calls
 * `readAlertDeliveryStatus(store)` on a store it may have opened read-only.
 */
import type { OutboxEntry, OutboxOperation, OutboxStatus, Store } from '../../persistence/index.js';

export interface AlertDeliveryStatus {
  /** The outbox row, or null for an alert that could not be persisted (memory only). */
  readonly outboxId: number | null;
  readonly alertId: string;
  readonly dedupKey: string | null;
  readonly sink: string;
  /** `deliver` (the alert) or `resolve` (an operator's restart ended the incident). */
  readonly operation: OutboxOperation;
  readonly status: OutboxStatus;
  readonly attempts: number;
  readonly createdAt: string | null;
  readonly lastAttemptAt: string | null;
  /** When the next attempt is planned (pending rows that failed at least once). */
  readonly nextAttemptAt: string | null;
  readonly deliveredAt: string | null;
  readonly lastError: string | null;
  readonly persisted: boolean;
}

export interface AlertDeliveryReport {
  /** Rows in each status over the whole outbox. */
  readonly counts: Readonly<Record<OutboxStatus, number>>;
  /** The latest rows, newest first. */
  readonly deliveries: readonly AlertDeliveryStatus[];
}

export function fromOutboxEntry(entry: OutboxEntry): AlertDeliveryStatus {
  return {
    outboxId: entry.id,
    alertId: entry.alertId,
    dedupKey: entry.dedupKey,
    sink: entry.sink,
    operation: entry.operation,
    status: entry.status,
    attempts: entry.attempts,
    createdAt: entry.createdAt,
    lastAttemptAt: entry.lastAttemptAt,
    nextAttemptAt: entry.nextAttemptAt,
    deliveredAt: entry.deliveredAt,
    lastError: entry.lastError,
    persisted: true,
  };
}

/**
 * Delivery status straight from the database, with no AlertManager running: counts by status and
 * the latest `limit` rows (default 100, at most 10,000), of one alert when `alertId` is given.
 */
export function readAlertDeliveryStatus(
  store: Store,
  options: { alertId?: string; limit?: number } = {},
): AlertDeliveryReport {
  return {
    counts: store.alertOutbox.countByStatus(),
    deliveries: store.alertOutbox.list(options).map(fromOutboxEntry),
  };
}
