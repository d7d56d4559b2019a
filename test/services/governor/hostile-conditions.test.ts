/**
 * Goal: governor holds under hostile conditions (the issue "Hostile conditions: the gate, the
 * inputs and the doors"). One regression test per thing that broke, named after it; the HTTP
 * doors are tested in test/services/api (slowloris, timeouts), the command line's in test/e2e.
 */
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { isGovernorError } from '../../../services/errors.js';
import { applyRealFault, simulateCrash } from '../../../testing.js';
import { type Harness, makeHarness, settle } from '../../support/harness.js';

const SECOND_MS = 1_000;
const MINUTE_MS = 60 * SECOND_MS;
let h: Harness;
afterEach(() => h?.cleanup());

describe('1. an unknown trigger still shuts down, loudly', () => {
  it('regression: a typo (MARKET_STALL) shut down with zero alerts and no latch in SQLite', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    let thrown: unknown;
    try {
      h.gov.failSafeManager.triggerShutdown('MARKET_STALL' as never, 'feed silent for 11 min');
    } catch (error) {
      thrown = error;
    }
    expect(isGovernorError(thrown, 'GOV_INVALID_ARGUMENT')).toBe(true);
    // The shutdown was in force before the call reported the bad argument.
    expect(h.gov.getState()).toBe('SHUTDOWN');
    expect(h.gov.canDeployCapital()).toBe(false);
    const latch = h.reader().systemState.get().latch;
    expect(latch?.trigger).toBe('UNRECOVERABLE_EXCEPTION');
    expect(latch?.reason).toContain('MARKET_STALL');
    expect(latch?.reason).toContain('feed silent for 11 min');
    await settle();
    expect(h.delivered.map((a) => `${a.severity} ${a.kind}`)).toEqual(['CRITICAL SHUTDOWN']);
    expect(existsSync(`${h.dbPath}.shutdown.json`)).toBe(false);
    h.gov.close();
    const next = h.reopen();
    expect(next.getLatch()?.trigger).toBe('UNRECOVERABLE_EXCEPTION');
  });

  it('a missing reason shuts down too, then reports GOV_REASON_REQUIRED', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    expect(() => h.gov.failSafeManager.triggerShutdown('UNRECOVERABLE_EXCEPTION', ' ')).toThrow(
      /GOV_REASON_REQUIRED/,
    );
    expect(h.gov.getState()).toBe('SHUTDOWN');
  });
  it('regression: an engine reason of 1 MiB was kept whole and repeated in the status (which answers over a 64 KiB socket)', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    h.gov.failSafeManager.triggerShutdown('UNRECOVERABLE_EXCEPTION', 'x'.repeat(1 << 20));
    expect(h.gov.getState()).toBe('SHUTDOWN');
    const reason = h.reader().systemState.get().latch?.reason ?? '';
    expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(4_096);
    expect(reason).toMatch(/^x{3000,}…$/);
    expect(reason.endsWith('…')).toBe(true);
    expect(existsSync(`${h.dbPath}.shutdown.json`)).toBe(false); // the latch is in SQLite
    expect(JSON.stringify(h.gov.status()).length).toBeLessThan(64 * 1_024);
  });
  it('regression: an operator reason of the full 4 KiB did not fit the mode-change event, so the latch missed SQLite', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    const reason = 'r'.repeat(4_096);
    await h.gov.operatorObserve({ operator: 'alice', reason });
    expect(h.reader().systemState.get().lifecycleState).toBe('OBSERVE_ONLY');
    await h.gov.operatorShutdown({ operator: 'alice', reason });
    const latch = h.reader().systemState.get().latch?.reason ?? '';
    expect(latch).toMatch(/^operator alice: r+…$/);
    expect(Buffer.byteLength(latch)).toBeLessThanOrEqual(4_096);
    expect(existsSync(`${h.dbPath}.shutdown.json`)).toBe(false);
  });
});

describe('3. the gate closes at the earliest instant any rule could close it', () => {
  it('regression: during an 80 s event-loop stall the gate answered true with market data 679 s old', async () => {
    h = makeHarness({
      thresholds: {
        marketDataUnhealthyAfterMs: 600 * SECOND_MS,
        marketDataShutdownAfterMs: 600 * SECOND_MS,
      },
    });
    await h.gov.runStartupChecks();
    h.gov.healthMonitor.updateMarketDataTimestamp();
    h.clock.advance(590 * SECOND_MS); // the feed went quiet; heartbeats still beat
    expect(h.gov.getState()).toBe('AGGRESSIVE');
    expect(h.gov.canDeployCapital()).toBe(true);
    h.clock.skip(80 * SECOND_MS); // the event loop stalls: no timer runs
    expect(h.gov.getState()).toBe('AGGRESSIVE'); // the machine has not run yet...
    expect(h.gov.canDeployCapital()).toBe(false); // ...the gate closed by itself at 600 s
    expect(h.gov.authorize().reason).toMatch(/market data is .* old/);
    h.clock.runDue();
    expect(h.gov.getState()).toBe('SHUTDOWN');
  });

  it('reporting an input moves the deadline on; a snapshot going stale closes it too', async () => {
    h = makeHarness({ thresholds: { snapshotShutdownAfterMs: 30 * MINUTE_MS } });
    await h.gov.runStartupChecks();
    for (let t = 0; t < 29 * MINUTE_MS; t += 10 * SECOND_MS) {
      h.gov.healthMonitor.updateMarketDataTimestamp();
      h.clock.advance(10 * SECOND_MS);
    }
    expect(h.gov.canDeployCapital()).toBe(true);
    h.gov.healthMonitor.updateMarketDataTimestamp();
    h.clock.skip(MINUTE_MS + 1);
    expect(h.gov.canDeployCapital()).toBe(false);
  });
});

describe('7. old damage is found while running, by the background scrub', () => {
  it('regression: an edited old event was not found until the next start', async () => {
    h = makeHarness({
      thresholds: {
        integrityScrubPassMs: 60 * MINUTE_MS,
        integrityCheckIntervalMs: 24 * 60 * MINUTE_MS,
      },
    });
    h.gov.engine.events.appendBatch(
      Array.from({ length: 500 }, (_, i) => ({ eventType: 'ORDER', reason: `order ${i}` })),
    );
    await h.gov.runStartupChecks();
    // An old row, verified at startup, is edited behind governor's back.
    h.tamper().prepare("UPDATE events SET reason = 'edited' WHERE seq = 42").run();
    for (let t = 0; t < 60 * MINUTE_MS && h.gov.getState() === 'AGGRESSIVE'; t += 10 * SECOND_MS) {
      h.gov.healthMonitor.updateMarketDataTimestamp();
      h.clock.advance(10 * SECOND_MS);
    }
    expect(h.gov.getState()).toBe('OBSERVE_ONLY');
    expect(h.gov.getCause().cause).toBe('INTEGRITY_VIOLATION');
    expect(h.gov.getCause().reason).toMatch(/seq 42/);
    await settle();
    expect(h.delivered.filter((a) => a.kind === 'INTEGRITY_VIOLATION')).toHaveLength(1);
    expect(h.gov.scrubProgress().rowsChecked).toBeGreaterThan(0);
  });
});

describe('9. alerts the database could not store survive a restart', () => {
  it('regression: alerts kept only in memory while event-log writes failed were lost at restart', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    const undo = applyRealFault(h.gov, 'READONLY');
    h.clock.skip(3 * MINUTE_MS); // a stall: heartbeat loss, whose alert cannot be stored
    h.clock.runDue();
    expect(h.gov.getCause().cause).toBe('HEARTBEAT_LOST');
    expect(h.gov.alertManager.getAlerts().map((a) => a.kind)).toContain('HEARTBEAT_LOSS');
    expect(h.reader().alerts.list({ limit: 10 })).toHaveLength(0);
    expect(existsSync(`${h.dbPath}.unstored-alerts.json`)).toBe(true);
    undo();
    simulateCrash(h.gov);
    const next = h.reopen();
    const stored = h.reader().alerts.list({ limit: 10 });
    expect(stored.map((a) => a.kind)).toEqual(['HEARTBEAT_LOSS']);
    expect(existsSync(`${h.dbPath}.unstored-alerts.json`)).toBe(false);
    await next.alertManager.flush();
    expect(h.delivered.filter((a) => a.kind === 'HEARTBEAT_LOSS').length).toBeGreaterThanOrEqual(1);
  });

  it('a running owner stores them as soon as a heartbeat succeeds again', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    const undo = applyRealFault(h.gov, 'READONLY');
    h.clock.skip(3 * MINUTE_MS);
    h.clock.runDue();
    undo();
    h.clock.advance(30 * SECOND_MS);
    expect(
      h
        .reader()
        .alerts.list({ limit: 10 })
        .map((a) => a.kind),
    ).toEqual(['HEARTBEAT_LOSS']);
  });
});
