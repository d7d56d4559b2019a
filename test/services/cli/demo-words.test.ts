/**
 * Goal: the demo's words match what it does. The error-storm announcement names the error count
 * at which governor's error-rate rule actually breaks (derived from the thresholds), and the
 * demo's counter counts what the engine reported to governor as errors; the advice it prints
 * is a command that works pasted in any directory.
 *
 * Regression: `governor run --demo --demo-fault error-storm` announced "HEALTH_CHECK_FAILED
 * after 11 errors", then shut down at "error rate 12.0/min" (2 errors in its 10 s window).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedMarketFeed } from '../../../examples/paper-trader/market-feed.js';
import { PaperExchange } from '../../../examples/paper-trader/paper-exchange.js';
import { PaperTrader } from '../../../examples/paper-trader/paper-trader.js';
import { DEMO_THRESHOLDS } from '../../../services/cli/config-layers.js';
import { demoAdvice, faultAnnouncement } from '../../../services/cli/demo.js';
import { SimulatedClock } from '../../../services/clock.js';
import { DEFAULT_THRESHOLDS, resolveThresholds } from '../../../services/config.js';
import { GovernanceSystem } from '../../../services/governor/governance-system.js';
import { HealthMonitor } from '../../../services/health/health-monitor.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** The error count the error-storm announcement names. */
function announcedErrors(thresholds: Parameters<typeof faultAnnouncement>[1]): number {
  const match = /expect HEALTH_CHECK_FAILED at (\d+) errors?/.exec(
    faultAnnouncement('error-storm', thresholds),
  );
  if (match === null) throw new Error('the announcement names no error count');
  return Number(match[1]);
}

describe('the error-storm demo', () => {
  it('regression: announced HEALTH_CHECK_FAILED after 11 errors but shut down at the 2nd', () => {
    for (const thresholds of [
      resolveThresholds(DEMO_THRESHOLDS),
      DEFAULT_THRESHOLDS,
      resolveThresholds({ errorRatePerMinuteMax: 7, errorWindowMs: 45_000 }),
    ]) {
      const errors = announcedErrors(thresholds);
      const monitor = new HealthMonitor(new SimulatedClock(), thresholds);
      const rateBroken = () => monitor.unhealthyReasons().some((r) => r.startsWith('error rate'));
      for (let recorded = 1; recorded < errors; recorded++) {
        monitor.recordError();
        expect(rateBroken(), `${recorded} of ${errors}`).toBe(false);
      }
      monitor.recordError();
      expect(rateBroken(), `${errors} errors`).toBe(true);
    }
  });

  it('counts the errors the engine reported, and shuts down at the announced count', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'demo-words-'));
    const clock = new SimulatedClock();
    const governance = new GovernanceSystem({
      dbPath: join(dir, 'governor.db'),
      clock,
      thresholds: DEMO_THRESHOLDS,
    });
    const exchange = new PaperExchange();
    const trader = new PaperTrader({
      governance,
      feed: new SimulatedMarketFeed({ clock, seed: 7 }),
      exchange,
      clock,
    });
    cleanups.push(() => {
      trader.stop();
      governance.close();
      rmSync(dir, { recursive: true, force: true });
    });
    trader.start();
    await governance.runStartupChecks([{ name: exchange.name, ping: exchange.ping }]);
    clock.advance(2_000);
    exchange.setFailing(true);
    clock.advance(20_000);
    expect(governance.getCause().trigger).toBe('HEALTH_CHECK_FAILED');
    const stats = trader.stats();
    expect(stats.errorsReported).toBe(announcedErrors(governance.thresholds));
    expect(stats.errorsReported).toBe(stats.failed);
  });

  it('advises commands that name the database by its absolute path', () => {
    const location = { dbPath: "/srv/demo dbs/it's.db", configPath: null };
    for (const fault of [
      'market-stall',
      'error-storm',
      'capital-drift',
      'heartbeat-stall',
    ] as const) {
      const advice = demoAdvice(fault, location, 10_000);
      const commands = advice.match(/governor [a-z]+(?: adjust)? --db '[^']*'\\''[^']*'/g) ?? [];
      expect(commands.length, advice).toBeGreaterThan(0);
      expect(advice).toContain(`--db '/srv/demo dbs/it'\\''s.db'`);
      expect(advice).toContain('--operator "$(id -un)"');
    }
  });
});
