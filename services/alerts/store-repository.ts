/**
 * The alert repository backed by the SQLite store: an alert row and its ALERT_RAISED event are
 * written in one transaction; acknowledgements are audited as operator actions.
 */
import type { Store, StoredAlert } from '../../persistence/index.js';
import type { AlertRepository } from './alert-manager.js';
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
    insert(alert: GovernorAlert): void {
      store.transaction(() => {
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
    resolve(dedupKey: string, at: Date): GovernorAlert[] {
      return store.alerts.resolve(dedupKey, at.toISOString()).map(fromStoredAlert);
    },
  };
}
