/**
 * Goal: bugs the simulator found stay fixed. Each test names the invariant that broke and the
 * seed that found it, and replays the essence of the shrunk trace on a plain harness.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLDS } from '../../services/config.js';
import { simulateCrash } from '../../testing.js';
import { makeFaultRig } from '../faults/support.js';
import { type Harness, makeHarness, settle } from '../support/harness.js';
import type { Action } from './schedule.js';
import { runSeed } from './simulator.js';

const OPERATOR = { operator: 'ops', reason: 'regression test' };
let h: Harness;
afterEach(() => h?.cleanup());

/** AGGRESSIVE, kill switch, an hour in SHUTDOWN (the armed deadline fires there), restart. */
async function shutDownAndRestart(
  harness: Harness,
  during: { marketFeed: boolean; queue?: 'STALLED' } = { marketFeed: true },
): Promise<void> {
  expect(await harness.gov.runStartupChecks()).toBe(true);
  harness.gov.operatorShutdown(OPERATOR);
  if (during.queue) harness.gov.healthMonitor.setExecutionQueueStatus(during.queue);
  for (let i = 0; i < 360; i++) {
    if (during.marketFeed) harness.gov.healthMonitor.updateMarketDataTimestamp();
    harness.gov.healthMonitor.updateSnapshotWriteTimestamp();
    harness.clock.advance(10_000);
  }
  // Forced: the restart's pre-flight would refuse these (a later test shows it does); the
  // regression is about what a restart into such inputs does when an operator insists.
  harness.gov.operatorRestart(OPERATOR, { force: true });
}

describe('trigger-detected-in-time after an operator restart (sim seed 1, 3 days)', () => {
  it('market data going stale after a restart is detected at its threshold, not at the next periodic check', async () => {
    h = makeHarness();
    await shutDownAndRestart(h);
    h.gov.healthMonitor.updateMarketDataTimestamp();
    expect(await h.gov.runStartupChecks()).toBe(true);
    h.clock.advance(DEFAULT_THRESHOLDS.marketDataUnhealthyAfterMs + 1 + 100);
    expect(h.gov.getState()).toBe('SHUTDOWN');
  });

  it('a restart into stale market data shuts down at once instead of opening the gate', async () => {
    h = makeHarness();
    await shutDownAndRestart(h, { marketFeed: false });
    await h.gov.runStartupChecks();
    h.clock.advance(100);
    expect(h.gov.getState()).toBe('SHUTDOWN');
    expect(h.gov.canDeployCapital()).toBe(false);
  });

  it('without --force, the pre-flight refuses such a restart and names what would trip', async () => {
    h = makeHarness();
    expect(await h.gov.runStartupChecks()).toBe(true);
    h.gov.operatorShutdown(OPERATOR);
    h.clock.advance(6 * 60_000); // no market data since
    expect(() => h.gov.operatorRestart(OPERATOR)).toThrow(
      /GOV_RESTART_WOULD_TRIP: .*HEALTH_CHECK_FAILED: system unhealthy: market data is 6m old/,
    );
    expect(h.gov.getState()).toBe('SHUTDOWN');
    h.gov.healthMonitor.updateMarketDataTimestamp();
    expect(h.gov.preflightRestart()).toMatchObject({ ok: true, trips: [] });
    h.gov.operatorRestart(OPERATOR);
    expect(await h.gov.runStartupChecks()).toBe(true);
  });

  it('a restart while the execution queue is STALLED shuts down at once', async () => {
    h = makeHarness();
    await shutDownAndRestart(h, { marketFeed: true, queue: 'STALLED' });
    await h.gov.runStartupChecks();
    h.clock.advance(100);
    expect(h.gov.getState()).toBe('SHUTDOWN');
    expect(h.gov.getCause().trigger).toBe('HEALTH_CHECK_FAILED');
  });
});

describe('alert-for-every-critical-incident after an operator restart (sim seed 26, 3 days)', () => {
  it('a heartbeat still lost when the restarted lifecycle reaches AGGRESSIVE raises its alert', async () => {
    const rig = makeFaultRig();
    try {
      expect(await rig.gov.runStartupChecks()).toBe(true);
      rig.faults.setMode('LOCKED');
      rig.runEngine(12 * 60_000); // heartbeats fail: loss (alert), then the fail-safe shuts down
      expect(rig.gov.getState()).toBe('SHUTDOWN');
      rig.faults.setMode(null);
      // Before the next heartbeat could succeed (forced: the event log is still stale).
      rig.gov.operatorRestart(OPERATOR, { force: true });
      await rig.gov.runStartupChecks();
      expect(rig.gov.getState()).toBe('OBSERVE_ONLY');
      expect(rig.gov.getCause().cause).toBe('HEARTBEAT_LOST');
      const lifecycleId = rig.gov.getLifecycleId();
      await settle();
      const alerts = rig.alerts.filter((a) => a.dedupKey === `heartbeat:${lifecycleId}`);
      expect(alerts).toHaveLength(1);
    } finally {
      rig.cleanup();
    }
  });
});

describe('no-false-trigger: a snapshot written after the last record was forgotten by a crash (sim seed 1, 30 days)', () => {
  // Seed 1 shut down with SNAPSHOT_WRITE_FAILURE 7.5 h early on day 9: a snapshot written (after
  // a 1.5 h snapshot fault) between a heartbeat's record of the input ages and a crash was not
  // counted; the restart took the snapshot's age from the record, 7.5 h older. The essence:
  // the snapshot at 06:00:10, the record at 06:00:00, the crash at 06:00:15, snapshots failing.
  const SCHEDULE: Action[] = [
    { atMs: 21_615_000, kind: 'crash' },
    { atMs: 21_616_000, kind: 'snapshotFault', mode: 'LOCKED', durationMs: 24 * 3_600_000 },
  ];

  it('the simulator replays the trace with no invariant violated', async () => {
    const result = await runSeed({ seed: 1, days: 2, schedule: SCHEDULE });
    expect(result.violations).toEqual([]);
    expect(result.stats.crashes).toBe(1);
  });

  it('a restart takes the age of a snapshot the record does not name from the snapshot itself', async () => {
    h = makeHarness();
    expect(await h.gov.runStartupChecks()).toBe(true);
    h.gov.engine.snapshots.write({ date: '2026-01-01', data: {} });
    h.clock.advance(6 * 3_600_000); // heartbeats record the ages; the last one now
    h.gov.healthMonitor.updateMarketDataTimestamp();
    h.gov.engine.snapshots.write({ date: '2026-01-02', data: {} }); // after that record
    h.clock.advance(5_000);
    simulateCrash(h.gov);
    h = { ...h, gov: h.reopen() };
    expect(h.gov.healthMonitor.ages().snapshotWriteAgeMs).toBe(5_000);
  });
});

describe('no-false-trigger after a forward wall jump (sim seed 4, 4 days)', () => {
  it('regression: the scrub judged events written after its pass began against the future limit read when it began', async () => {
    // A day's forward step; the scrub pass that follows the head then met events stamped after
    // its limit and raised INTEGRITY_VIOLATION with no drift behind it.
    const schedule: Action[] = [{ atMs: 276_129_676, kind: 'wallJump', jumpMs: 86_400_000 }];
    const result = await runSeed({ seed: 4, days: 4, schedule });
    expect(result.violations).toEqual([]);
  });
});
