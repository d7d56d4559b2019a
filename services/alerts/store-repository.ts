/**
 * The alert repository backed by the SQLite store: an alert row, its ALERT_RAISED event and its
 * outbox rows are written in one transaction (so are a resolution and its outbox rows);
 * acknowledgements are audited as operator actions.
 */
import type { OutboxAttempt, Store, StoredAlert } from '../../persistence/index.js';
import type { AlertRepository, OutboxRowRef } from './alert-repository.js';
import { ALERT_KINDS, type AlertKind, type GovernorAlert } from './types.js';

function toDate(iso: string | null): Date | null {
  return iso === null ? null : new Date(iso);
}

export function fromStoredAlert(stored: StoredAlert): GovernorAlert {
  const kind = (ALERT_KINDS as readonly string[]).includes(stored.kind ?? '')
    ? (stored.kind as AlertKind)
    : 'SHUTDOWN';
  return {
    alertId: stored.alertId,
    timestamp: new Date(stored.timestamp),
    severity: stored.severity,
    title: stored.title,
    message: stored.message,
    rootCause: stored.rootCause,
    recommendedAction: stored.recommendedAction,
    ...(stored.metadata === null ? {} : { metadata: stored.metadata }),
    acknowledged: stored.acknowledged,
    kind,
    dedupKey: stored.dedupKey ?? stored.alertId,
    acknowledgedBy: stored.acknowledgedBy,
    acknowledgedAt: toDate(stored.acknowledgedAt),
    resolvedAt: toDate(stored.resolvedAt),
  };
}

export function createStoreAlertRepository(store: Store): AlertRepository {
  return {
    insert(alert: GovernorAlert, sinks: readonly string[]): OutboxRowRef[] {
      return store.transaction(() => {
        store.alerts.insert({
          alertId: alert.alertId,
          timestamp: alert.timestamp.toISOString(),
          severity: alert.severity,
          title: alert.title,
          message: alert.message,
          rootCause: alert.rootCause,
          recommendedAction: alert.recommendedAction,
          metadata: alert.metadata ?? null,
          dedupKey: alert.dedupKey,
          kind: alert.kind,
        });
        store.events.append({
          eventType: 'ALERT_RAISED',
          reason: alert.title,
          metadata: {
            alertId: alert.alertId,
            severity: alert.severity,
            kind: alert.kind,
            dedupKey: alert.dedupKey,
          },
        });
        return sinks.map((sink) => ({
          sink,
          outboxId: store.alertOutbox.add(alert.alertId, sink, 'deliver').id,
        }));
      });
    },
    findOpenByDedupKey(dedupKey: string): GovernorAlert | undefined {
      const stored = store.alerts.findOpenByDedupKey(dedupKey);
      return stored === null ? undefined : fromStoredAlert(stored);
    },
    list(options: { unacknowledgedOnly: boolean; limit: number }): GovernorAlert[] {
      return store.alerts.list(options).map(fromStoredAlert);
    },
    get(alertId: string): GovernorAlert | undefined {
      const stored = store.alerts.get(alertId);
      return stored === null ? undefined : fromStoredAlert(stored);
    },
    acknowledge(alertId: string, operator: string, at: Date): void {
      store.transaction(() => {
        store.alerts.acknowledge(alertId, operator, at.toISOString());
        store.operatorActions.record({
          operator,
          action: 'ACKNOWLEDGE_ALERT',
          reason: `acknowledged alert ${alertId}`,
        });
        store.events.append({
          eventType: 'ALERT_ACKNOWLEDGED',
          reason: `acknowledged by ${operator}`,
          metadata: { alertId, operator },
        });
      });
    },
    resolve(dedupKey: string, at: Date, sinks: readonly string[]) {
      return store.transaction(() =>
        store.alerts.resolve(dedupKey, at.toISOString()).map((stored) => {
          // Every sink the alert went to is told, configured in this process or not: a row for
          // a sink this process lacks waits for the next owner that has it.
          const delivered = store.alertOutbox
            .list({ alertId: stored.alertId, limit: 1_000 })
            .filter((entry) => entry.operation === 'deliver')
            .map((entry) => entry.sink);
          const targets = [...new Set([...sinks, ...delivered])];
          return {
            alert: fromStoredAlert(stored),
            deliveries: targets.map((sink) => ({
              sink,
              outboxId: store.alertOutbox.add(stored.alertId, sink, 'resolve').id,
            })),
          };
        }),
      );
    },
    openIncidentKeys(kinds: readonly AlertKind[]): string[] {
      return store.alerts.openKeys(kinds);
    },
    pendingDeliveries(limit: number) {
      const entries = store.alertOutbox.pending(limit);
      const alerts = new Map<string, GovernorAlert | undefined>();
      const found: Array<{ alert: GovernorAlert; entry: (typeof entries)[number] }> = [];
      for (const entry of entries) {
        if (!alerts.has(entry.alertId)) {
          const stored = store.alerts.get(entry.alertId);
          alerts.set(entry.alertId, stored === null ? undefined : fromStoredAlert(stored));
        }
        const alert = alerts.get(entry.alertId);
        if (alert !== undefined) found.push({ alert, entry });
      }
      return found;
    },
    recordAttempt(outboxId: number, attempt: OutboxAttempt): void {
      store.alertOutbox.recordAttempt(outboxId, attempt);
    },
    listDeliveries(options: { alertId?: string; limit: number }) {
      return store.alertOutbox.list(options);
    },
  };
}
