/**
 * Goal: alert delivery never blocks the caller and never multiplies alerts: a sink that throws
 * or hangs leaves raise() synchronous and cheap, the queue is bounded, one incident is one alert.
 */
import { describe, expect, it } from 'vitest';
import { Store } from '../../../persistence/index.js';
import { AlertManager, DELIVERY_QUEUE_MAX } from '../../../services/alerts/alert-manager.js';
import { createStoreAlertRepository } from '../../../services/alerts/store-repository.js';
import type { AlertSink, GovernorAlert } from '../../../services/alerts/types.js';
import { SimulatedClock } from '../../../services/clock.js';
import { silentLogger } from '../../../services/logger.js';
import { settle } from '../../support/harness.js';

function manager(sinks: AlertSink[]): { alerts: AlertManager; store: Store } {
  const store = Store.open(':memory:');
  const alerts = new AlertManager(
    createStoreAlertRepository(store),
    new SimulatedClock(),
    silentLogger(),
    sinks,
  );
  return { alerts, store };
}

const input = (dedupKey: string) =>
  ({
    kind: 'SHUTDOWN',
    dedupKey,
    severity: 'CRITICAL',
    title: 't',
    message: 'm',
    rootCause: 'r',
    recommendedAction: 'a',
  }) as const;

describe('AlertManager', () => {
  it('a throwing sink and a hanging sink do not block raise() or each other', async () => {
    const delivered: GovernorAlert[] = [];
    const { alerts } = manager([
      { name: 'throws', deliver: () => Promise.reject(new Error('receiver down')) },
      { name: 'records', deliver: (a) => void delivered.push(a) },
    ]);
    const alert = alerts.raise(input('k1'));
    expect(alert).not.toBeNull();
    expect(delivered).toHaveLength(0); // asynchronous: not delivered inside raise()
    await settle();
    expect(delivered).toHaveLength(1);
    expect(alerts.deliveryStats()).toMatchObject({ delivered: 1, failed: 1 });
  });

  it('one incident, one alert: repeated raises with the same key are dropped until resolved', () => {
    const { alerts } = manager([]);
    expect(alerts.raise(input('k'))).not.toBeNull();
    for (let i = 0; i < 100; i++) expect(alerts.raise(input('k'))).toBeNull();
    expect(alerts.getAlerts()).toHaveLength(1);
    alerts.resolveIncident('k');
    expect(alerts.raise(input('k'))).not.toBeNull();
    expect(alerts.getAlerts()).toHaveLength(2);
  });

  it('bounds the delivery queue', () => {
    const { alerts } = manager([{ name: 'slow', deliver: () => new Promise(() => {}) }]);
    for (let i = 0; i < DELIVERY_QUEUE_MAX + 50; i++) alerts.raise(input(`k${i}`));
    expect(alerts.deliveryStats().pending).toBeLessThanOrEqual(DELIVERY_QUEUE_MAX);
    expect(alerts.deliveryStats().dropped).toBeGreaterThan(0);
  });

  it('refuses an acknowledgement without an operator, and records one with', () => {
    const { alerts, store } = manager([]);
    const alert = alerts.raise(input('k'))!;
    expect(() => alerts.acknowledge(alert.alertId, ' ')).toThrow(/operator/);
    alerts.acknowledge(alert.alertId, 'ann');
    expect(alerts.getUnacknowledgedAlerts()).toHaveLength(0);
    expect(store.operatorActions.list().map((a) => a.operator)).toEqual(['ann']);
  });

  it('an alert that cannot be persisted is still kept in memory and delivered', async () => {
    const delivered: GovernorAlert[] = [];
    const { alerts, store } = manager([
      { name: 'records', deliver: (a) => void delivered.push(a) },
    ]);
    store.close();
    expect(alerts.raise(input('k'))).not.toBeNull();
    await settle();
    expect(delivered).toHaveLength(1);
    expect(alerts.getAlerts()).toHaveLength(1);
  });

  it("a staged alert is written in the caller's transaction and goes out only when released", async () => {
    const delivered: GovernorAlert[] = [];
    const told: GovernorAlert[] = [];
    const { alerts, store } = manager([
      { name: 'records', deliver: (a) => void delivered.push(a) },
    ]);
    alerts.onRaise((a) => told.push(a));
    const staged = store.transaction(() => {
      store.events.append({ eventType: 'SYSTEM_SHUTDOWN', reason: "the caller's own write" });
      return alerts.stage(input('k'));
    });
    expect(store.alerts.get(staged?.alert.alertId ?? '')?.dedupKey).toBe('k');
    await settle();
    expect([delivered, told]).toEqual([[], []]); // held back until released
    staged?.release();
    staged?.release(); // once
    await settle();
    expect(delivered.map((a) => a.alertId)).toEqual([staged?.alert.alertId]);
    expect(told).toHaveLength(1);
    expect(alerts.stage(input('k'))).toBeNull(); // one incident, one alert
  });

  it('a staged alert the database refuses rolls back alone; released, it goes out from memory', async () => {
    const delivered: GovernorAlert[] = [];
    const { alerts, store } = manager([
      { name: 'records', deliver: (a) => void delivered.push(a) },
    ]);
    const refuse = store
      .rawHandleForFaultInjection()
      .prepare(
        "CREATE TEMP TRIGGER refuse BEFORE INSERT ON alerts BEGIN SELECT RAISE(ABORT, 'refused'); END",
      );
    refuse.run();
    const staged = store.transaction(() => {
      store.events.append({ eventType: 'SYSTEM_SHUTDOWN', reason: 'kept' });
      return alerts.stage(input('k'));
    });
    expect([...store.events.iterate(1)].map((e) => e.eventType)).toEqual(['SYSTEM_SHUTDOWN']);
    expect(store.alerts.list()).toEqual([]);
    staged?.release();
    await settle();
    expect(delivered.map((a) => a.alertId)).toEqual([staged?.alert.alertId]);
    expect(alerts.getAlerts().map((a) => a.alertId)).toEqual([staged?.alert.alertId]);
  });
});
