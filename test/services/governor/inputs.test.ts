import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../../services/clock.js';
import { DEFAULT_THRESHOLDS } from '../../../services/config.js';
import { inputsText, parseInputs, restoredAges } from '../../../services/governor/inputs.js';
import { HealthMonitor } from '../../../services/health/health-monitor.js';

/** A new process's monitor seeded from `text`, as a restart does, `downMs` of wall time later. */
function restart(text: string, clock: SimulatedClock): HealthMonitor {
  const health = new HealthMonitor(clock, DEFAULT_THRESHOLDS);
  const ages = restoredAges(parseInputs(text), {
    wallNowMs: clock.wallNow(),
    latestSnapshot: null,
  });
  if (ages !== null) {
    health.seedAges(ages, { marketData: null, eventLogWrite: null, snapshotWrite: null });
  }
  return health;
}

describe('the input-age record', () => {
  it('regression: a record rounded each age and dated it up to 1 ms early, so each restart aged the snapshot by up to 1 ms (sim seed 20: SNAPSHOT_WRITE_FAILURE 5 ms early after 6 crashes)', () => {
    // Clocks with fractions of a millisecond, as performance.now() and the simulator have.
    const clock = new SimulatedClock({
      wallStartMs: Date.UTC(2026, 0, 1) + 0.7,
      monotonicStartMs: 0.3,
    });
    let health = new HealthMonitor(clock, DEFAULT_THRESHOLDS);
    health.updateSnapshotWriteTimestamp();
    const writtenAtMs = clock.monotonicNow();
    for (let crash = 0; crash < 50; crash++) {
      clock.skip(1_000.6);
      const text = inputsText(health, clock.wallNow(), false, null);
      clock.skip(60_000.9); // down
      health = restart(text, clock);
      // Exact up to the float precision of wall times near 1.7e12 ms (about 0.0002 ms).
      const truthMs = clock.monotonicNow() - writtenAtMs;
      expect(health.ages().snapshotWriteAgeMs).toBeGreaterThanOrEqual(truthMs - 0.01);
      expect(health.ages().snapshotWriteAgeMs).toBeLessThanOrEqual(truthMs + 0.01);
    }
  });

  it('never records an age below zero, and its time is whole milliseconds of wall time', () => {
    const clock = new SimulatedClock({ wallStartMs: Date.UTC(2026, 0, 1) + 0.9 });
    const health = new HealthMonitor(clock, DEFAULT_THRESHOLDS);
    health.updateMarketDataTimestamp();
    const record = parseInputs(inputsText(health, clock.wallNow(), false, null));
    expect(record?.at).toBe('2026-01-01T00:00:00.000Z');
    expect(record?.marketDataAgeMs).toBe(0);
  });
});
