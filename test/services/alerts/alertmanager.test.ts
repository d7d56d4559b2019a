/**
 * Goal: a governor alert reaches a real Prometheus Alertmanager (API v2) with the labels and
 * annotations an on-call engineer routes and reads by; an operator's restart resolves it there;
 * the opt-in watchdog keeps an always-firing `Watchdog` alert alive and stops with governor.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  alertmanagerDedupLabel,
  alertmanagerSink,
} from '../../../services/alerts/sinks/alertmanager-sink.js';
import { startWatchdog } from '../../../services/alerts/sinks/watchdog.js';
import { SimulatedClock } from '../../../services/clock.js';
import { GovernanceSystem } from '../../../services/governor/governance-system.js';
import { tempDir } from '../../support/harness.js';
import {
  ALERTMANAGER_BINARY,
  alertmanagerAvailable,
  type RunningAlertmanager,
  startAlertmanager,
  waitFor,
} from './support.js';

const available = alertmanagerAvailable();
if (!available) {
  console.warn(
    `skipping the Alertmanager tests: ${ALERTMANAGER_BINARY} is not installed (.ci/setup installs it)`,
  );
}

describe.skipIf(!available)('a real Prometheus Alertmanager', () => {
  let alertmanager: RunningAlertmanager;
  const open: GovernanceSystem[] = [];
  const dirs: string[] = [];

  beforeAll(async () => {
    alertmanager = await startAlertmanager();
  }, 30_000);

  afterAll(async () => {
    await alertmanager?.stop();
  });

  afterEach(() => {
    for (const gov of open.splice(0)) gov.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function governor(instance: string, extra: { watchdogIntervalMs?: number } = {}) {
    // Alertmanager judges startsAt/endsAt by its own wall clock: start the simulated one at now.
    const clock = new SimulatedClock({ wallStartMs: Date.now() });
    const dir = tempDir();
    dirs.push(dir);
    const gov = new GovernanceSystem({
      dbPath: join(dir, 'governor.db'),
      clock,
      alertSinks: [
        alertmanagerSink({
          url: alertmanager.url,
          instance,
          generatorUrl: 'http://127.0.0.1:8080/api/health',
          ...(extra.watchdogIntervalMs === undefined
            ? {}
            : { watchdog: { intervalMs: extra.watchdogIntervalMs } }),
        }),
      ],
    });
    open.push(gov);
    return { gov, clock };
  }

  it('a fail-safe shutdown appears with labels and annotations, and an operator restart resolves it', async () => {
    const { gov } = governor('am-test-1');
    gov.failSafeManager.triggerShutdown('CAPITAL_INCONSISTENT', 'pool main: 100 != 90');
    const [raised] = gov.alertManager.getAlerts();
    expect(raised?.kind).toBe('SHUTDOWN');
    const dedupLabel = alertmanagerDedupLabel(raised?.dedupKey ?? '');
    const filter = [`dedup_key="${dedupLabel}"`];

    await waitFor(
      async () => (await alertmanager.alerts(filter)).length === 1,
      'the alert at Alertmanager',
    );
    const [alert] = await alertmanager.alerts(filter);
    expect(alert?.labels).toEqual({
      alertname: 'GovernorShutdown',
      severity: 'critical',
      kind: 'SHUTDOWN',
      trigger: 'CAPITAL_INCONSISTENT',
      instance: 'am-test-1',
      dedup_key: dedupLabel,
      service: 'governor',
    });
    expect(dedupLabel).toMatch(/^[0-9a-f]{16}$/);
    expect(alert?.annotations).toMatchObject({
      summary: 'Fail-safe shutdown: capital reconciliation failed',
      root_cause: expect.stringContaining('capital pool total'),
      recommended_action: expect.stringContaining('Reconcile'),
      runbook_url: 'docs/operations.md#alert-shutdown-capital-inconsistent',
      alert_id: raised?.alertId,
      incident_key: raised?.dedupKey,
    });
    expect(alert?.annotations.description).toContain('pool main');
    expect(Date.parse(alert?.endsAt ?? '')).toBeGreaterThan(Date.now());
    expect(gov.alertManager.getDeliveryStatus(raised?.alertId)).toMatchObject([
      { sink: 'alertmanager', operation: 'deliver', status: 'delivered', attempts: 1 },
    ]);

    gov.operatorRestart({ operator: 'ann', reason: 'pool reconciled with the exchange' });
    await waitFor(
      async () => (await alertmanager.alerts(filter)).length === 0,
      'the alert to be resolved at Alertmanager',
    );
    // Resolved, not forgotten: Alertmanager still lists it among inactive alerts, with endsAt passed.
    const all = await fetch(
      `${alertmanager.url}/api/v2/alerts?active=false&filter=${encodeURIComponent(filter[0] ?? '')}`,
    );
    const inactive = (await all.json()) as Array<{ endsAt: string }>;
    for (const entry of inactive) expect(Date.parse(entry.endsAt)).toBeLessThanOrEqual(Date.now());
    expect(
      gov.alertManager.getDeliveryStatus(raised?.alertId).map((d) => [d.operation, d.status]),
    ).toEqual([
      ['resolve', 'delivered'],
      ['deliver', 'delivered'],
    ]);
  });

  it('the opt-in watchdog keeps a Watchdog alert firing (severity none) while governor runs', async () => {
    const { gov, clock } = governor('am-test-watchdog', { watchdogIntervalMs: 60_000 });
    clock.advance(0); // the first beat is due at once
    const filter = ['alertname="Watchdog"', 'instance="am-test-watchdog"'];
    await waitFor(
      async () => (await alertmanager.alerts(filter)).length === 1,
      'the Watchdog alert',
    );
    const [watchdog] = await alertmanager.alerts(filter);
    expect(watchdog?.labels.severity).toBe('none');
    await waitFor(
      () => gov.alertManager.sinkStats()[0]?.watchdog?.beatsSucceeded === 1,
      'the beat counted',
    );
    expect(gov.alertManager.sinkStats()[0]?.watchdog).toEqual({
      intervalMs: 60_000,
      beatsSucceeded: 1,
      beatsFailed: 0,
      lastSuccessWallMs: clock.wallNow(),
    });
    // endsAt a few intervals ahead: if the beats stop, Alertmanager ends the alert by itself.
    const endsInMs = Date.parse(watchdog?.endsAt ?? '') - clock.wallNow();
    expect(endsInMs).toBe(3 * 60_000);
    gov.close();
    expect(clock.pendingCount()).toBe(0); // no watchdog timer survives close()
  });

  it('a standalone watchdog stops cleanly and leaves no timer behind', async () => {
    const clock = new SimulatedClock({ wallStartMs: Date.now() });
    const watchdog = startWatchdog({
      url: alertmanager.url,
      intervalMs: 1_000,
      instance: 'standalone',
      clock,
    });
    clock.advance(0);
    await waitFor(() => watchdog.beatCount === 1, 'the first beat');
    clock.advance(1_000);
    await waitFor(() => watchdog.beatCount === 2, 'the second beat');
    watchdog.stop();
    expect(clock.pendingCount()).toBe(0);
  });
});
