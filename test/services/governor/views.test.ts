/**
 * Goal: the component views of services/governor/views.ts expose exactly the spec's calls and
 * read-only ones, frozen, with no path to governor's own tables (no raising or resolving
 * alerts, no restoring state, no stopping a component), and each call reaches the component it
 * names: driven on a real GovernanceSystem (test/support/harness.ts) on a SimulatedClock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, makeHarness } from '../../support/harness.js';

let h: Harness | undefined;
afterEach(() => {
  h?.cleanup();
  h = undefined;
});

describe('component views', () => {
  it('each view is frozen and holds exactly its calls', () => {
    h = makeHarness();
    const { healthMonitor, failSafeManager, alertManager, dataIntegrityVerifier } = h.gov;
    for (const view of [healthMonitor, failSafeManager, alertManager, dataIntegrityVerifier]) {
      expect(Object.isFrozen(view)).toBe(true);
    }
    expect(Object.keys(healthMonitor).sort()).toEqual(
      [
        'updateMarketDataTimestamp',
        'updateEventLogWriteTimestamp',
        'updateSnapshotWriteTimestamp',
        'recordError',
        'setExecutionQueueStatus',
        'getExecutionQueueStatus',
        'getSystemHealth',
        'getUptimeString',
        'uptimeMs',
        'ages',
        'unhealthyReasons',
        'errorRatePerMinute',
      ].sort(),
    );
    expect(Object.keys(failSafeManager).sort()).toEqual(
      ['checkFailSafeConditions', 'triggerShutdown', 'isInShutdown', 'getFailSafeState'].sort(),
    );
    expect(Object.keys(alertManager).sort()).toEqual(
      [
        'getAlerts',
        'getUnacknowledgedAlerts',
        'acknowledge',
        'getDeliveryStatus',
        'deliveryStats',
        'sinkStats',
        'flush',
      ].sort(),
    );
    expect(Object.keys(dataIntegrityVerifier).sort()).toEqual(
      [
        'verify',
        'getCriticalViolations',
        'getLastViolations',
        'getLastRun',
        'getVerifiedHead',
      ].sort(),
    );
    // No path to governor's own tables or lifecycle through a view.
    const forbidden = [
      'raise',
      'resolve',
      'resolveIncident',
      'stage',
      'restoreErrorWindow',
      'stop',
      'start',
    ];
    for (const view of [healthMonitor, failSafeManager, alertManager, dataIntegrityVerifier]) {
      for (const name of forbidden) expect(name in view).toBe(false);
    }
  });

  it('a view cannot be given new calls or have its calls replaced', () => {
    h = makeHarness();
    const view = h.gov.healthMonitor as unknown as Record<string, unknown>;
    expect(() => {
      view.recordError = () => {};
    }).toThrow(TypeError);
    expect(() => {
      view.restoreErrorWindow = () => {};
    }).toThrow(TypeError);
  });

  it("the health view reaches the monitor: a market-data stamp resets that input's age", () => {
    h = makeHarness();
    h.clock.skip(30_000);
    expect(h.gov.healthMonitor.ages().marketDataAgeMs).toBe(30_000);
    h.gov.healthMonitor.updateMarketDataTimestamp();
    expect(h.gov.healthMonitor.ages().marketDataAgeMs).toBe(0);
    h.gov.healthMonitor.setExecutionQueueStatus('STALLED');
    expect(h.gov.healthMonitor.getExecutionQueueStatus()).toBe('STALLED');
  });

  it("the fail-safe view's triggerShutdown latches the governor, and the alert view sees and acknowledges its alert", async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    expect(h.gov.failSafeManager.isInShutdown()).toBe(false);
    h.gov.failSafeManager.triggerShutdown('OPERATOR_KILL', 'views test');
    expect(h.gov.failSafeManager.isInShutdown()).toBe(true);
    expect(h.gov.getState()).toBe('SHUTDOWN');
    const open = h.gov.alertManager.getUnacknowledgedAlerts();
    const shutdown = open.find((a) => a.kind === 'SHUTDOWN');
    expect(shutdown?.severity).toBe('CRITICAL');
    if (shutdown === undefined) throw new Error('no SHUTDOWN alert');
    const acknowledged = h.gov.alertManager.acknowledge(shutdown.alertId, 'alice');
    expect(acknowledged.acknowledgedBy).toBe('alice');
    expect(
      h.gov.alertManager.getUnacknowledgedAlerts().some((a) => a.alertId === shutdown.alertId),
    ).toBe(false);
  });

  it('the verifier view verifies without changing the mode', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    const before = h.gov.getState();
    expect(h.gov.dataIntegrityVerifier.verify()).toEqual([]);
    expect(h.gov.getState()).toBe(before);
    expect(h.gov.dataIntegrityVerifier.getLastRun()).not.toBeNull();
  });
});
