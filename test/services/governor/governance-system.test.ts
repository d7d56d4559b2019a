/**
 * Goal: the GovernanceSystem behaves as DESIGN.md says, end to end in simulated time: startup,
 * the gate and its heartbeat lease, every fail-safe trigger at its threshold and not a tick
 * before, precedence, the spec's fail-safe flow in the event log, the latch across reopen and
 * the fallback file, operator actions, and alerts that are rare (one per incident).
 */
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLDS } from '../../../services/config.js';
import { isGovernorError } from '../../../services/errors.js';
import { GovernanceSystem } from '../../../services/governor/governance-system.js';
import { applyRealFault } from '../../../testing.js';
import {
  eventsOf,
  type Harness,
  makeHarness,
  nonHeartbeat,
  settle,
} from '../../support/harness.js';

const MINUTE_MS = 60_000;
let h: Harness;
afterEach(() => h?.cleanup());

/** Keeps market data and snapshots fresh every `stepMs` while advancing `totalMs`. */
function runNormally(harness: Harness, totalMs: number, stepMs = 10_000): void {
  for (let elapsed = 0; elapsed < totalMs; elapsed += stepMs) {
    harness.gov.healthMonitor.updateMarketDataTimestamp();
    harness.gov.healthMonitor.updateSnapshotWriteTimestamp();
    harness.clock.advance(Math.min(stepMs, totalMs - elapsed));
  }
}

describe('startup and the gate', () => {
  it('passes the checks, reaches AGGRESSIVE and opens the gate', async () => {
    h = makeHarness();
    expect(h.gov.canDeployCapital()).toBe(false);
    expect(await h.gov.runStartupChecks()).toBe(true);
    expect(h.gov.getState()).toBe('AGGRESSIVE');
    expect(h.gov.canDeployCapital()).toBe(true);
    expect(h.gov.authorize().allowed).toBe(true);
  });

  it('a configured OBSERVE_ONLY passes the checks but never opens the gate', async () => {
    h = makeHarness({ desiredMode: 'OBSERVE_ONLY' });
    expect(await h.gov.runStartupChecks()).toBe(true);
    expect(h.gov.getState()).toBe('OBSERVE_ONLY');
    expect(h.gov.getCause().cause).toBe('CONFIGURED');
    expect(h.gov.canDeployCapital()).toBe(false);
  });

  it('closes the gate the moment the heartbeat lease expires (1 ms past its threshold), before any timer runs', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    h.clock.skip(DEFAULT_THRESHOLDS.heartbeatLossMs); // at the threshold exactly: still fresh
    expect(h.gov.canDeployCapital()).toBe(true);
    h.clock.skip(1);
    expect(h.gov.getState()).toBe('AGGRESSIVE'); // nothing has run yet...
    expect(h.gov.canDeployCapital()).toBe(false); // ...and the gate is already closed
    expect(h.gov.authorize().reason).toMatch(/heartbeat lease expired/);
  });

  it('a stalled event loop is a heartbeat loss once it resumes: OBSERVE_ONLY, one alert', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    h.gov.healthMonitor.updateMarketDataTimestamp();
    h.clock.skip(3 * MINUTE_MS);
    h.clock.advance(0);
    expect(h.gov.getState()).toBe('OBSERVE_ONLY');
    expect(h.gov.getCause().cause).toBe('HEARTBEAT_LOST');
    await settle();
    expect(h.delivered.map((a) => a.kind)).toEqual(['HEARTBEAT_LOSS']);
  });

  it('a failed adapter ping fails startup into OBSERVE_ONLY with an alert naming the adapter', async () => {
    h = makeHarness();
    const passed = await h.gov.runStartupChecks([{ name: 'binance', ping: () => false }]);
    expect(passed).toBe(false);
    expect(h.gov.getState()).toBe('OBSERVE_ONLY');
    expect(h.gov.getCause().cause).toBe('STARTUP_CHECKS_FAILED');
    await settle();
    expect(h.delivered).toHaveLength(1);
    expect(h.delivered[0]?.kind).toBe('STARTUP_FAILURE');
    expect(h.delivered[0]?.rootCause).toMatch(/binance/);
  });
});

describe('fail-safe triggers fire at their threshold, not one tick before', () => {
  const cases = [
    {
      trigger: 'HEALTH_CHECK_FAILED',
      thresholds: {},
      thresholdMs: DEFAULT_THRESHOLDS.marketDataUnhealthyAfterMs,
      keepFresh: ['snapshot'],
    },
    {
      trigger: 'MARKET_DATA_STALL',
      thresholds: { marketDataUnhealthyAfterMs: 10 * MINUTE_MS },
      thresholdMs: DEFAULT_THRESHOLDS.marketDataShutdownAfterMs,
      keepFresh: ['snapshot'],
    },
    {
      trigger: 'SNAPSHOT_WRITE_FAILURE',
      thresholds: { snapshotShutdownAfterMs: 30 * MINUTE_MS },
      thresholdMs: 30 * MINUTE_MS,
      keepFresh: ['market'],
    },
  ] as const;

  for (const c of cases) {
    it(`${c.trigger}`, async () => {
      h = makeHarness({ thresholds: c.thresholds });
      await h.gov.runStartupChecks();
      const step = 1_000;
      for (let t = 0; t < c.thresholdMs; t += step) {
        if (c.keepFresh.includes('market' as never))
          h.gov.healthMonitor.updateMarketDataTimestamp();
        if (c.keepFresh.includes('snapshot' as never))
          h.gov.healthMonitor.updateSnapshotWriteTimestamp();
        h.clock.advance(step);
      }
      // Exactly at the threshold: "older than" is not yet true.
      expect(h.gov.getState()).toBe('AGGRESSIVE');
      h.clock.advance(1);
      expect(h.gov.getState()).toBe('SHUTDOWN');
      expect(h.gov.failSafeManager.getFailSafeState().trigger).toBe(c.trigger);
      expect(h.gov.canDeployCapital()).toBe(false);
    });
  }

  it('EVENT_LOG_WRITE_FAILURE when no event-log write succeeds (the database went read-only)', async () => {
    h = makeHarness({
      thresholds: { eventLogUnhealthyAfterMs: 15 * MINUTE_MS, heartbeatLossMs: 20 * MINUTE_MS },
    });
    await h.gov.runStartupChecks();
    applyRealFault(h.gov, 'READONLY');
    const lastWriteMs = h.clock.monotonicNow();
    for (let t = 0; t < 15 * MINUTE_MS; t += 10_000) {
      h.gov.healthMonitor.updateMarketDataTimestamp();
      h.gov.healthMonitor.updateSnapshotWriteTimestamp();
      h.clock.advance(10_000);
    }
    expect(h.clock.monotonicNow() - lastWriteMs).toBe(15 * MINUTE_MS);
    expect(h.gov.getState()).toBe('AGGRESSIVE');
    h.clock.advance(1);
    expect(h.gov.getState()).toBe('SHUTDOWN');
    expect(h.gov.failSafeManager.getFailSafeState().trigger).toBe('EVENT_LOG_WRITE_FAILURE');
    // The database cannot take the final state: it went to the fallback file.
    expect(h.gov.failSafeManager.getFailSafeState().persistedTo).toBe('fallback-file');
  });

  it('an error storm (11 errors in a minute) fails health at once', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    for (let i = 0; i < 10; i++) h.gov.healthMonitor.recordError();
    expect(h.gov.getState()).toBe('AGGRESSIVE');
    h.gov.healthMonitor.recordError();
    expect(h.gov.getState()).toBe('SHUTDOWN');
    expect(h.gov.failSafeManager.getFailSafeState().trigger).toBe('HEALTH_CHECK_FAILED');
  });

  it('a STALLED execution queue fails health at once', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    h.gov.healthMonitor.setExecutionQueueStatus('STALLED');
    expect(h.gov.getState()).toBe('SHUTDOWN');
  });

  it('precedence: a capital mismatch found by the periodic fail-safe check shuts down', async () => {
    h = makeHarness();
    const capital = h.gov.engine.capital;
    capital.createPool('main', { currency: 'USD' });
    capital.createAccount('acct-1', 'main');
    capital.deposit('acct-1', 10_000n);
    await h.gov.runStartupChecks();
    h.tamper()
      .prepare(
        "UPDATE capital_accounts SET balance_minor = balance_minor + 1 WHERE account_id = 'acct-1'",
      )
      .run();
    runNormally(h, DEFAULT_THRESHOLDS.failSafeCheckIntervalMs);
    expect(h.gov.getState()).toBe('SHUTDOWN');
    expect(h.gov.failSafeManager.getFailSafeState().trigger).toBe('CAPITAL_INCONSISTENT');
  });

  it('a wall-clock jump of a day either way neither fires nor hides a trigger', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    h.gov.healthMonitor.updateMarketDataTimestamp();
    h.clock.jumpWall(24 * 60 * MINUTE_MS);
    runNormally(h, 2 * MINUTE_MS);
    expect(h.gov.getState()).toBe('AGGRESSIVE');
    h.clock.jumpWall(-2 * 24 * 60 * MINUTE_MS);
    h.clock.advance(DEFAULT_THRESHOLDS.marketDataUnhealthyAfterMs + 1);
    expect(h.gov.getState()).toBe('SHUTDOWN');
  });
});

describe("the spec's complete fail-safe flow, step by step from the event log", () => {
  it('trigger, shutdown event, SHUTDOWN with OBSERVE_ONLY, final state, CRITICAL alert, remain', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    const reader = h.reader();
    const before = reader.events.count();
    h.gov.failSafeManager.triggerShutdown('UNRECOVERABLE_EXCEPTION', 'engine crashed: boom');
    expect(h.gov.canDeployCapital()).toBe(false);
    const flow = nonHeartbeat(eventsOf(reader).slice(before));
    expect(flow.map((e) => e.eventType)).toEqual([
      'SYSTEM_SHUTDOWN',
      'SYSTEM_MODE_CHANGE',
      'FINAL_STATE_PERSISTED',
      'ALERT_RAISED',
    ]);
    expect(flow[0]?.metadata).toMatchObject({
      trigger: 'UNRECOVERABLE_EXCEPTION',
      from: 'AGGRESSIVE',
    });
    expect(flow[1]?.metadata).toMatchObject({ to: 'SHUTDOWN', mode: 'OBSERVE_ONLY' });
    expect(flow[2]?.metadata).toMatchObject({ latch: { trigger: 'UNRECOVERABLE_EXCEPTION' } });
    expect(flow[3]?.metadata).toMatchObject({ severity: 'CRITICAL', kind: 'SHUTDOWN' });
    expect(reader.systemState.get().latch?.trigger).toBe('UNRECOVERABLE_EXCEPTION');
    // Remains: nothing the machine hears brings it back.
    runNormally(h, 10 * MINUTE_MS);
    expect(() => h.gov.operatorObserve({ operator: 'ann', reason: 'try' })).toThrow(
      /observe is not possible in SHUTDOWN/,
    );
    expect(h.gov.getState()).toBe('SHUTDOWN');
    await settle();
    expect(h.delivered.filter((a) => a.severity === 'CRITICAL')).toHaveLength(1);
  });
});

describe('the latch and the fallback file', () => {
  it('survives close and reopen until an operator restart; then CHECKING again', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    h.gov.operatorShutdown({ operator: 'ann', reason: 'exchange incident' });
    expect(h.gov.getState()).toBe('SHUTDOWN');
    h.gov.close();

    const second = h.reopen();
    expect(await second.runStartupChecks()).toBe(false);
    expect(second.getState()).toBe('SHUTDOWN');
    expect(second.failSafeManager.getFailSafeState().trigger).toBe('OPERATOR_KILL');
    expect(() => second.operatorRestart({ operator: '', reason: 'x' })).toThrow(/operator/);
    second.operatorRestart({ operator: 'bob', reason: 'incident resolved' });
    expect(await second.runStartupChecks()).toBe(true);
    expect(second.getState()).toBe('AGGRESSIVE');
    await settle();
    // One incident (the kill switch), one alert, even though SHUTDOWN was entered twice.
    expect(h.delivered.filter((a) => a.kind === 'SHUTDOWN')).toHaveLength(1);
    const audit = h.reader().operatorActions.list();
    expect(audit.map((a) => a.action).sort()).toEqual(['RESTART', 'SHUTDOWN']);
  });

  it('when the database is read-only the final state goes to the fallback file, and startup honours it', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    applyRealFault(h.gov, 'READONLY');
    h.gov.failSafeManager.triggerShutdown('UNRECOVERABLE_EXCEPTION', 'disk trouble');
    expect(h.gov.failSafeManager.getFailSafeState().persistedTo).toBe('fallback-file');
    expect(existsSync(`${h.dbPath}.shutdown.json`)).toBe(true);
    h.gov.close();
    expect(h.reader().systemState.get().latch).toBeNull();
    const second = h.reopen();
    expect(await second.runStartupChecks()).toBe(false);
    expect(second.getState()).toBe('SHUTDOWN');
    second.operatorRestart({ operator: 'bob', reason: 'disk replaced' });
    expect(existsSync(`${h.dbPath}.shutdown.json`)).toBe(false);
    expect(await second.runStartupChecks()).toBe(true);
  });
});

describe('operator actions', () => {
  it('each needs an operator and a reason, and is refused without changing anything', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    const reader = h.reader();
    const count = reader.events.count();
    for (const bad of [
      { operator: '', reason: 'x' },
      { operator: 'ann', reason: ' ' },
      {},
    ] as const) {
      expect(() => h.gov.operatorObserve(bad as never)).toThrow();
      expect(() => h.gov.operatorShutdown(bad as never)).toThrow();
    }
    expect(reader.events.count()).toBe(count);
    expect(h.gov.getState()).toBe('AGGRESSIVE');
  });

  it('observe, then resume runs the checks again and returns to AGGRESSIVE', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    h.gov.operatorObserve({ operator: 'ann', reason: 'news event' });
    expect(h.gov.getState()).toBe('OBSERVE_ONLY');
    expect(h.gov.getCause().cause).toBe('OPERATOR');
    expect(h.gov.canDeployCapital()).toBe(false);
    await expect(h.gov.operatorResume({ operator: 'ann', reason: 'news passed' })).resolves.toBe(
      true,
    );
    expect(h.gov.getState()).toBe('AGGRESSIVE');
    try {
      await h.gov.operatorResume({ operator: 'ann', reason: 'again' });
      expect.unreachable();
    } catch (error) {
      expect(isGovernorError(error, 'GOV_INVALID_OPERATOR_ACTION')).toBe(true);
    }
  });

  it('mode-change listeners are told after persistence; a throwing listener breaks nothing', async () => {
    h = makeHarness();
    const reader = h.reader();
    const seen: string[] = [];
    h.gov.onModeChange(() => {
      throw new Error('listener bug');
    });
    h.gov.onModeChange((change) => {
      const persisted = reader.systemState.get().lifecycleState;
      seen.push(`${change.from}->${change.to}:${persisted}`);
    });
    await h.gov.runStartupChecks();
    expect(seen).toEqual(['STARTING->CHECKING:CHECKING', 'CHECKING->AGGRESSIVE:AGGRESSIVE']);
  });
});

describe('alerts are rare and meaningful', () => {
  it('an hour of normal operation raises zero alerts', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    runNormally(h, 60 * MINUTE_MS);
    expect(h.gov.getState()).toBe('AGGRESSIVE');
    await settle();
    expect(h.delivered).toEqual([]);
    expect(h.gov.alertManager.getAlerts()).toEqual([]);
  });

  it('the same fault repeated raises one alert', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    for (let i = 0; i < 5; i++)
      h.gov.failSafeManager.triggerShutdown('UNRECOVERABLE_EXCEPTION', `boom ${i}`);
    for (let i = 0; i < 5; i++) h.gov.failSafeManager.checkFailSafeConditions();
    await settle();
    expect(h.delivered).toHaveLength(1);
    expect(h.gov.alertManager.getUnacknowledgedAlerts()).toHaveLength(1);
    const [alert] = h.gov.alertManager.getAlerts();
    h.gov.alertManager.acknowledge(alert!.alertId, 'ann');
    expect(h.gov.alertManager.getUnacknowledgedAlerts()).toHaveLength(0);
  });
});

describe('configuration', () => {
  it('refuses bad thresholds, naming the key and range, and refuses disabling hardening', () => {
    expect(
      () => new GovernanceSystem({ dbPath: ':memory:', thresholds: { heartbeatLossMs: 10 } }),
    ).toThrow(/heartbeatLossMs.*range/);
    expect(
      () =>
        new GovernanceSystem({ dbPath: ':memory:', thresholds: { heartbeatIntervalMs: 200_000 } }),
    ).toThrow(/heartbeatIntervalMs: must be below/);
    expect(
      () => new GovernanceSystem({ dbPath: ':memory:', enableProductionHardening: false }),
    ).toThrow(/cannot be disabled/);
  });
});

describe('regression: heartbeat lost while CHECKING', () => {
  it('moves to OBSERVE_ONLY at once, in the machine, and never reaches AGGRESSIVE', async () => {
    h = makeHarness({
      thresholds: { startupChecksTimeoutMs: 10 * MINUTE_MS, adapterPingTimeoutMs: 9 * MINUTE_MS },
    });
    // Startup checks that only answer after the heartbeat has been lost.
    let answer: (ok: boolean) => void = () => {};
    const pending = h.gov.runStartupChecks([
      { name: 'slow', ping: () => new Promise<boolean>((r) => (answer = r)) },
    ]);
    const undo = applyRealFault(h.gov, 'READONLY');
    h.clock.advance(DEFAULT_THRESHOLDS.heartbeatLossMs + 1);
    expect(h.gov.getState()).toBe('OBSERVE_ONLY');
    undo();
    answer(true);
    await pending;
    expect(h.gov.getState()).toBe('OBSERVE_ONLY');
    expect(h.gov.getCause().cause).toBe('HEARTBEAT_LOST');
    expect(h.gov.canDeployCapital()).toBe(false);
  });
});

describe('a resume verifies incrementally, and still refuses damage it has not seen repaired', () => {
  it('an unrepaired violation keeps a resume in OBSERVE_ONLY; the repaired log lets it through', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    runNormally(h, 2 * MINUTE_MS);
    const db = h.tamper();
    const seq = h.gov.engine.events.head()!.seq;
    // Edit the metadata of an event appended since the last verification (breaks its hash).
    const original = db.prepare('SELECT metadata FROM events WHERE seq = ?').pluck().get(seq);
    db.prepare(`UPDATE events SET metadata = '{"edited":true}' WHERE seq = ?`).run(seq);
    expect(h.gov.checkDataIntegrity()).toBe(false);
    expect(h.gov.getState()).toBe('OBSERVE_ONLY');
    expect(await h.gov.operatorResume({ operator: 'ann', reason: 'try without repair' })).toBe(
      false,
    );
    expect(h.gov.getState()).toBe('OBSERVE_ONLY');
    db.prepare('UPDATE events SET metadata = ? WHERE seq = ?').run(original, seq);
    const repaired = await h.gov.operatorResume({ operator: 'ann', reason: 'repaired' });
    expect(repaired).toBe(true);
    expect(h.gov.getState()).toBe('AGGRESSIVE');
  });
});

describe('resume and restart cost grows with what was appended, not with the log', () => {
  it('the first visit verifies the whole log; a clean resume only the new events', async () => {
    h = makeHarness();
    const history = Array.from({ length: 2_000 }, (_, i) => ({
      eventType: 'ORDER',
      reason: `o${i}`,
    }));
    h.gov.engine.events.appendBatch(history);
    await h.gov.runStartupChecks();
    expect(h.gov.dataIntegrityVerifier.getLastRun()).toMatchObject({ full: true });
    expect(h.gov.dataIntegrityVerifier.getLastRun()!.eventsChecked).toBeGreaterThanOrEqual(2_000);
    runNormally(h, 5 * MINUTE_MS);
    h.gov.operatorObserve({ operator: 'ann', reason: 'pause' });
    expect(await h.gov.operatorResume({ operator: 'ann', reason: 'go' })).toBe(true);
    const run = h.gov.dataIntegrityVerifier.getLastRun();
    expect(run?.full).toBe(false);
    expect(run?.eventsChecked).toBeLessThan(100);
    // The same holds for an operator restart in this process; a new process starts full.
    h.gov.operatorShutdown({ operator: 'ann', reason: 'drill' });
    h.gov.operatorRestart({ operator: 'ann', reason: 'drill over' });
    expect(await h.gov.runStartupChecks()).toBe(true);
    expect(h.gov.dataIntegrityVerifier.getLastRun()).toMatchObject({ full: false });
    h.gov.close();
    const next = h.reopen();
    expect(await next.runStartupChecks()).toBe(true);
    expect(next.dataIntegrityVerifier.getLastRun()).toMatchObject({ full: true });
  });
});

describe('a restart into a latched SHUTDOWN anchors the head from the last anchor', () => {
  it('regression (sim, 30 days): it walked the whole log on the constructor thread to anchor the head', async () => {
    h = makeHarness();
    h.gov.engine.events.appendBatch(
      Array.from({ length: 2_000 }, (_, i) => ({ eventType: 'ORDER', reason: `o${i}` })),
    );
    expect(await h.gov.runStartupChecks()).toBe(true);
    h.gov.operatorShutdown({ operator: 'ann', reason: 'drill' });
    h.gov.close();
    const next = h.reopen();
    expect(next.getState()).toBe('SHUTDOWN');
    const run = next.dataIntegrityVerifier.getLastRun();
    expect(run?.full).toBe(false);
    expect(run?.eventsChecked).toBeLessThan(100);
    expect(next.dataIntegrityVerifier.getLastViolations()).toEqual([]);
  });

  it('an old event edited before the restart is still found by the operator restart (a full walk)', async () => {
    h = makeHarness();
    h.gov.engine.events.appendBatch(
      Array.from({ length: 2_000 }, (_, i) => ({ eventType: 'ORDER', reason: `o${i}` })),
    );
    expect(await h.gov.runStartupChecks()).toBe(true);
    h.gov.operatorShutdown({ operator: 'ann', reason: 'drill' });
    h.gov.close();
    h.tamper().prepare(`UPDATE events SET metadata = '{"edited":true}' WHERE seq = 5`).run();
    const next = h.reopen();
    // The anchor after the latched restart walked only the tail: the edit is not in it ...
    expect(next.dataIntegrityVerifier.getLastRun()?.full).toBe(false);
    // ... and moving the anchor past it hides nothing from the full walk of the restart.
    next.operatorRestart({ operator: 'ann', reason: 'drill over' }, { force: true });
    expect(await next.runStartupChecks()).toBe(false);
    expect(next.dataIntegrityVerifier.getLastRun()?.full).toBe(true);
    expect(next.getState()).toBe('OBSERVE_ONLY');
    expect(
      next.dataIntegrityVerifier
        .getLastViolations()
        .some((violation) => violation.check === 'EVENT_LOG' && violation.location.seq === 5),
    ).toBe(true);
  });
});

describe('regression (sim seed 1, 30 days): a restart after the wall clock was set back a day', () => {
  it('passes the startup checks: events a day "in the future" are a clock step, not damage', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    runNormally(h, 10 * MINUTE_MS);
    h.gov.close();
    h.clock.jumpWall(-24 * 60 * MINUTE_MS);
    const next = h.reopen();
    expect(await next.runStartupChecks()).toBe(true);
    expect(next.getState()).toBe('AGGRESSIVE');
  });
});
