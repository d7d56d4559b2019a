/**
 * Goal: an alert reaches a person once, even across a crash, without ever holding up the gate:
 * delivery goes through the SQLite outbox (written with the alert, atomically), retries with
 * bounded backoff on the injected clock, resumes after a restart, and gives up after attemptsMax.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../../persistence/index.js';
import { AlertManager, type RaiseAlertInput } from '../../../services/alerts/alert-manager.js';
import { DEFAULT_DELIVERY_POLICY } from '../../../services/alerts/delivery-policy.js';
import { readAlertDeliveryStatus } from '../../../services/alerts/delivery-status.js';
import { webhookSink } from '../../../services/alerts/sinks/webhook-sink.js';
import { createStoreAlertRepository } from '../../../services/alerts/store-repository.js';
import type { AlertSink } from '../../../services/alerts/types.js';
import { SimulatedClock } from '../../../services/clock.js';
import { GovernanceSystem } from '../../../services/governor/governance-system.js';
import { silentLogger } from '../../../services/logger.js';
import { rawDb, settle, tempDir } from '../../support/harness.js';
import { type Receiver, startReceiver, waitFor } from './support.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/raise-and-die.ts', import.meta.url));

const incident = (dedupKey: string): RaiseAlertInput => ({
  kind: 'SHUTDOWN',
  dedupKey,
  severity: 'CRITICAL',
  title: 'Fail-safe shutdown: test',
  message: 'a test incident',
  rootCause: 'the test raised it',
  recommendedAction: 'nothing',
});

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  cleanups.push(() => r.close());
  return r;
}

function managerOver(dbPath: string, sinks: AlertSink[], clock = new SimulatedClock()) {
  const store = Store.open(dbPath, { clock });
  const alerts = new AlertManager(createStoreAlertRepository(store), clock, silentLogger(), sinks);
  cleanups.push(() => {
    alerts.stop();
    store.close();
  });
  return { store, alerts, clock };
}

function dbFile(): string {
  const dir = tempDir('governor-alerts-');
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'governor.db');
}

describe('alert delivery through the outbox', () => {
  it('the same incident raised 100 times reaches the receiver as one alert', async () => {
    const r = await receiver();
    const { alerts, store } = managerOver(dbFile(), [webhookSink({ url: r.url })]);
    for (let i = 0; i < 100; i++) alerts.raise(incident('same-incident'));
    await waitFor(() => r.received.length === 1, 'the one delivery');
    await alerts.flush();
    await settle();
    expect(r.received).toHaveLength(1);
    expect(r.received[0]?.body).toMatchObject({
      version: 1,
      status: 'firing',
      alert: { dedupKey: 'same-incident', kind: 'SHUTDOWN', severity: 'CRITICAL' },
    });
    expect(readAlertDeliveryStatus(store).counts).toEqual({ pending: 0, delivered: 1, failed: 0 });
  });

  it('the alert row and its outbox rows commit together: no outbox, no alert row (delivered from memory)', async () => {
    const r = await receiver();
    const { alerts, store } = managerOver(dbFile(), [webhookSink({ url: r.url })]);
    rawDb(store).exec('DROP TABLE alert_outbox');
    expect(alerts.raise(incident('atomic'))).not.toBeNull();
    expect(store.alerts.list()).toEqual([]); // the alert insert was rolled back with the outbox row
    await waitFor(() => r.received.length === 1, 'delivery from memory');
    expect(alerts.getAlerts().map((a) => a.dedupKey)).toEqual(['atomic']);
  });

  it('a receiver down, then up, gets the alert after it recovers (retries on the injected clock)', async () => {
    const r = await receiver();
    await r.stop();
    const { alerts, clock } = managerOver(dbFile(), [webhookSink({ url: r.url })]);
    const alert = alerts.raise(incident('down-then-up'));
    await waitFor(
      () => alerts.getDeliveryStatus(alert?.alertId)[0]?.attempts === 1,
      'the first failed attempt',
    );
    const [failed] = alerts.getDeliveryStatus(alert?.alertId);
    expect(failed).toMatchObject({ status: 'pending', attempts: 1 });
    expect(failed?.lastError).toMatch(/ECONNREFUSED/);
    expect(failed?.lastError).not.toContain('/hook'); // the URL path (often a secret) is never shown
    expect(failed?.nextAttemptAt).not.toBeNull();

    await r.start();
    // Nothing happens until the backoff elapses on the (simulated) clock.
    await settle();
    expect(r.received).toHaveLength(0);
    clock.advance(DEFAULT_DELIVERY_POLICY.backoffBaseMs);
    await waitFor(() => r.received.length === 1, 'delivery after recovery');
    await alerts.flush();
    expect(alerts.getDeliveryStatus(alert?.alertId)[0]).toMatchObject({
      status: 'delivered',
      attempts: 2,
      lastError: null,
    });
  });

  it('retries are bounded: attemptsMax attempts, then failed, and no alert about the failure', async () => {
    let calls = 0;
    const broken: AlertSink = {
      name: 'broken',
      deliver: () => {
        calls++;
        throw new Error('receiver says no');
      },
    };
    const clock = new SimulatedClock();
    const store = Store.open(dbFile(), { clock });
    const alerts = new AlertManager(
      createStoreAlertRepository(store),
      clock,
      silentLogger(),
      [broken],
      {
        delivery: { attemptsMax: 5, backoffBaseMs: 1_000, backoffMaxMs: 4_000 },
        random: () => 0.5,
      },
    );
    cleanups.push(() => {
      alerts.stop();
      store.close();
    });
    const alert = alerts.raise(incident('bounded'));
    for (let step = 0; step < 20; step++) {
      await settle();
      clock.advance(4_000);
    }
    await settle();
    expect(calls).toBe(5);
    expect(alerts.getDeliveryStatus(alert?.alertId)[0]).toMatchObject({
      status: 'failed',
      attempts: 5,
      lastError: 'receiver says no',
    });
    expect(alerts.deliveryStats()).toMatchObject({ failed: 5, abandoned: 1, pending: 0 });
    expect(alerts.getAlerts()).toHaveLength(1); // a failing receiver never produces more alerts
    expect(clock.pendingCount()).toBe(0); // and leaves no timer behind
  });

  it('a receiver that refuses the payload (HTTP 400) is not retried', async () => {
    const r = await receiver();
    r.mode = { status: 400 };
    const { alerts } = managerOver(dbFile(), [webhookSink({ url: r.url })]);
    const alert = alerts.raise(incident('refused'));
    await waitFor(
      () => alerts.getDeliveryStatus(alert?.alertId)[0]?.status === 'failed',
      'the refusal to be recorded',
    );
    expect(alerts.getDeliveryStatus(alert?.alertId)[0]).toMatchObject({ attempts: 1 });
    expect(alerts.getDeliveryStatus(alert?.alertId)[0]?.lastError).toMatch(/HTTP 400/);
  });

  it('a crash between raising and delivery (SIGKILL) still delivers after the restart', async () => {
    const r = await receiver();
    const dbPath = dbFile();
    const exit = await new Promise<NodeJS.Signals | null>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, dbPath, r.url], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
      });
      child.once('error', reject);
      child.once('exit', (_code, signal) =>
        signal === 'SIGKILL' ? resolve(signal) : reject(new Error(stderr)),
      );
    });
    expect(exit).toBe('SIGKILL');
    expect(r.received).toHaveLength(0); // the child died before its dispatcher ran

    const pending = Store.open(dbPath, { readonly: true });
    expect(readAlertDeliveryStatus(pending).counts).toEqual({
      pending: 1,
      delivered: 0,
      failed: 0,
    });
    pending.close();

    const gov = new GovernanceSystem({
      dbPath,
      clock: new SimulatedClock(),
      alertSinks: [webhookSink({ url: r.url })],
    });
    cleanups.push(() => gov.close());
    await waitFor(() => r.received.length === 1, 'delivery after the restart');
    expect(r.received[0]?.body).toMatchObject({
      status: 'firing',
      alert: { kind: 'SHUTDOWN', message: expect.stringContaining('crash test') },
    });
    await gov.alertManager.flush();
    const after = Store.open(dbPath, { readonly: true });
    expect(readAlertDeliveryStatus(after).counts).toEqual({
      pending: 0,
      delivered: 1,
      failed: 0,
    });
    after.close();
  });

  it('a receiver that hangs never blocks the gate, the machine or close()', async () => {
    const r = await receiver();
    r.mode = 'hang';
    const clock = new SimulatedClock();
    const gov = new GovernanceSystem({
      dbPath: dbFile(),
      clock,
      alertSinks: [webhookSink({ url: r.url, timeoutMs: 120_000 })],
    });
    cleanups.push(() => gov.close());
    expect(await gov.runStartupChecks()).toBe(true);
    expect(gov.canDeployCapital()).toBe(true);
    // Heartbeat loss raises an alert whose delivery hangs at the receiver.
    clock.skip(3 * 60_000);
    clock.runDue();
    expect(gov.getState()).toBe('OBSERVE_ONLY');
    await waitFor(() => r.received.length === 1, 'the request to reach the hanging receiver');
    expect(gov.alertManager.deliveryStats()).toMatchObject({ pending: 1, delivered: 0 });
    // The gate and the machine answer while the delivery is stuck.
    expect(gov.canDeployCapital()).toBe(false);
    expect(await gov.operatorResume({ operator: 'ann', reason: 'host fixed' })).toBe(true);
    expect(gov.canDeployCapital()).toBe(true);
    // The attempt times out on the injected clock and will be retried, bounded; the resume
    // resolved the incident, and that resolution waits behind the delivery it ends.
    clock.advance(DEFAULT_DELIVERY_POLICY.attemptTimeoutMs);
    expect(gov.alertManager.deliveryStats()).toMatchObject({ failed: 1, pending: 2 });
    expect(
      gov.alertManager.getDeliveryStatus().map((d) => [d.operation, d.status, d.attempts]),
    ).toEqual([
      ['resolve', 'pending', 0],
      ['deliver', 'pending', 1],
    ]);
    gov.close();
    expect(gov.canDeployCapital()).toBe(false);
  });
});

describe('acknowledgement', () => {
  it('is persisted with the operator, audited, and appended to the event log', () => {
    const { alerts, store } = managerOver(dbFile(), []);
    const alert = alerts.raise(incident('ack'));
    expect(() => alerts.acknowledge(alert?.alertId ?? '', '  ')).toThrow(/operator/);
    const acknowledged = alerts.acknowledge(alert?.alertId ?? '', 'ann');
    expect(acknowledged).toMatchObject({ acknowledged: true, acknowledgedBy: 'ann' });
    expect(store.alerts.get(alert?.alertId ?? '')).toMatchObject({
      acknowledged: true,
      acknowledgedBy: 'ann',
    });
    expect(store.operatorActions.list()).toMatchObject([
      { operator: 'ann', action: 'ACKNOWLEDGE_ALERT' },
    ]);
    const events = [...store.events.iterate(1)].map((e) => e.eventType);
    expect(events).toEqual(['ALERT_RAISED', 'ALERT_ACKNOWLEDGED']);
  });
});
