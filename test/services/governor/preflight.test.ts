/**
 * Goal: the restart pre-flight (services/governor/preflight.ts) reports exactly what a restart
 * now would run into: nothing on fresh inputs; at a threshold exactly nothing, 1 ms past it the
 * rule's trigger with exact figures; a capital mismatch (or a reconciliation that throws) as
 * CAPITAL_INCONSISTENT; a lost heartbeat as a warning that does not fail it; and whose
 * thresholds it used, passed through. Driven on a HealthMonitor over a SimulatedClock.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../../services/clock.js';
import { DEFAULT_THRESHOLDS, type Thresholds } from '../../../services/config.js';
import { preflight, type ThresholdsOrigin } from '../../../services/governor/preflight.js';
import { HealthMonitor } from '../../../services/health/health-monitor.js';

const MINUTE_MS = 60_000;
const OWNER: ThresholdsOrigin = { source: 'owner' };

function setup(thresholds: Thresholds = DEFAULT_THRESHOLDS): {
  clock: SimulatedClock;
  health: HealthMonitor;
} {
  const clock = new SimulatedClock();
  return { clock, health: new HealthMonitor(clock, thresholds) };
}

function freshAllBut(health: HealthMonitor, stale: 'marketData' | 'eventLogWrite' | 'none'): void {
  if (stale !== 'marketData') health.updateMarketDataTimestamp();
  if (stale !== 'eventLogWrite') health.updateEventLogWriteTimestamp();
  health.updateSnapshotWriteTimestamp();
}

describe('preflight', () => {
  it('fresh inputs, capital reconciled, heartbeat held: ok, no trips, no warnings', () => {
    const { health } = setup();
    const report = preflight({
      health,
      thresholds: DEFAULT_THRESHOLDS,
      thresholdsOrigin: OWNER,
      capitalMismatch: () => null,
      heartbeatLost: false,
    });
    expect(report).toEqual({ ok: true, trips: [], warnings: [], thresholds: OWNER });
  });

  it('market data exactly at the health limit passes; 1 ms past it trips HEALTH_CHECK_FAILED', () => {
    const { clock, health } = setup();
    const base = {
      health,
      thresholds: DEFAULT_THRESHOLDS,
      thresholdsOrigin: OWNER,
      capitalMismatch: () => null,
      heartbeatLost: false,
    };
    clock.skip(DEFAULT_THRESHOLDS.marketDataUnhealthyAfterMs);
    freshAllBut(health, 'marketData');
    expect(preflight(base).ok).toBe(true);
    clock.skip(1);
    freshAllBut(health, 'marketData');
    const report = preflight(base);
    expect(report.ok).toBe(false);
    expect(report.trips).toHaveLength(1);
    expect(report.trips[0]?.trigger).toBe('HEALTH_CHECK_FAILED');
    expect(report.trips[0]?.reason).toBe(
      'system unhealthy: market data is 5m (300001 ms) old (limit 5m)',
    );
  });

  it('market data past its shutdown limit trips MARKET_DATA_STALL, naming age and threshold', () => {
    const { clock, health } = setup();
    clock.skip(DEFAULT_THRESHOLDS.marketDataShutdownAfterMs + 1);
    freshAllBut(health, 'marketData');
    const report = preflight({
      health,
      thresholds: DEFAULT_THRESHOLDS,
      thresholdsOrigin: OWNER,
      capitalMismatch: () => null,
      heartbeatLost: false,
    });
    expect(report.ok).toBe(false);
    expect(report.trips).toHaveLength(1);
    expect(report.trips[0]?.trigger).toBe('MARKET_DATA_STALL');
    expect(report.trips[0]?.reason).toBe('no market data for 10m (600001 ms) (threshold 10m)');
  });

  it('a capital mismatch is CAPITAL_INCONSISTENT with its words, beside a staleness trip', () => {
    const { clock, health } = setup();
    clock.skip(DEFAULT_THRESHOLDS.eventLogShutdownAfterMs + MINUTE_MS);
    freshAllBut(health, 'eventLogWrite');
    const report = preflight({
      health,
      thresholds: DEFAULT_THRESHOLDS,
      thresholdsOrigin: OWNER,
      capitalMismatch: () => 'allocated 120 > total 100',
      heartbeatLost: false,
    });
    expect(report.ok).toBe(false);
    expect(report.trips.map((t) => t.trigger)).toEqual([
      'EVENT_LOG_WRITE_FAILURE',
      'CAPITAL_INCONSISTENT',
    ]);
    expect(report.trips[1]?.reason).toBe('allocated 120 > total 100');
  });

  it('a reconciliation that throws counts as CAPITAL_INCONSISTENT naming the error, not a crash', () => {
    const { health } = setup();
    const report = preflight({
      health,
      thresholds: DEFAULT_THRESHOLDS,
      thresholdsOrigin: OWNER,
      capitalMismatch: () => {
        throw new Error('capital table unreadable');
      },
      heartbeatLost: false,
    });
    expect(report.ok).toBe(false);
    expect(report.trips).toEqual([
      {
        trigger: 'CAPITAL_INCONSISTENT',
        reason: expect.stringMatching(
          /^capital could not be reconciled: .*capital table unreadable/,
        ),
      },
    ]);
  });

  it('a lost heartbeat is a warning about OBSERVE_ONLY, and does not fail the pre-flight', () => {
    const { health } = setup();
    const report = preflight({
      health,
      thresholds: DEFAULT_THRESHOLDS,
      thresholdsOrigin: OWNER,
      capitalMismatch: () => null,
      heartbeatLost: true,
    });
    expect(report.ok).toBe(true);
    expect(report.trips).toEqual([]);
    expect(report.warnings).toHaveLength(1);
    expect(report.warnings[0]).toMatch(/heartbeat is still lost.*OBSERVE_ONLY/);
  });

  it("judges the shutdown rules by the thresholds it is given (health's by the monitor's), and reports their origin as given", () => {
    const { clock, health } = setup();
    const tight: Thresholds = { ...DEFAULT_THRESHOLDS, marketDataShutdownAfterMs: 1_000 };
    const origin: ThresholdsOrigin = {
      source: 'recorded',
      pid: 4242,
      host: 'box-1',
      recordedAt: '2026-01-01T00:00:00.000Z',
    };
    clock.skip(1_001);
    freshAllBut(health, 'marketData');
    const inputs = {
      health,
      thresholdsOrigin: origin,
      capitalMismatch: () => null,
      heartbeatLost: false,
    };
    expect(preflight({ ...inputs, thresholds: DEFAULT_THRESHOLDS }).ok).toBe(true);
    const report = preflight({ ...inputs, thresholds: tight });
    expect(report.ok).toBe(false);
    expect(report.trips[0]?.trigger).toBe('MARKET_DATA_STALL');
    expect(report.thresholds).toBe(origin);
  });
});
