/**
 * Goal: a wall-clock jump of a day in either direction neither fires a trigger (no false
 * trigger, through the hourly integrity check and the periodic fail-safe check) nor hides one
 * (a feed that stops after the jump is still detected at its threshold on the monotonic clock).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLDS } from '../../services/config.js';
import { settle } from '../support/harness.js';
import { type FaultRig, makeFaultRig } from './support.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
let rig: FaultRig;
afterEach(() => rig?.cleanup());

describe.each([
  ['forward', DAY_MS],
  ['backward', -DAY_MS],
])('a wall-clock jump of a day %s', (_direction, jumpMs) => {
  // Regression (sim seed 8): a backward jump once made the next snapshot's earlier written_at
  // an integrity violation; snapshot order is judged by insertion order, not wall time.
  it('fires no trigger over the next three hours of normal operation', async () => {
    rig = makeFaultRig();
    expect(await rig.gov.runStartupChecks()).toBe(true);
    rig.gov.engine.snapshots.write({ date: '2026-01-01', data: { day: 1 } });
    rig.runEngine(30 * 60_000);
    rig.clock.jumpWall(jumpMs);
    rig.gov.engine.snapshots.write({ date: '2026-01-02', data: { day: 2 } }); // the engine's next
    rig.runEngine(3 * HOUR_MS);
    expect(rig.gov.getState()).toBe('AGGRESSIVE');
    expect(rig.gov.canDeployCapital()).toBe(true);
    await settle();
    expect(rig.alerts).toEqual([]);
  });

  it('hides no staleness: a feed that stops after the jump is detected at its threshold', async () => {
    rig = makeFaultRig();
    expect(await rig.gov.runStartupChecks()).toBe(true);
    rig.runEngine(30 * 60_000);
    rig.clock.jumpWall(jumpMs);
    rig.gov.healthMonitor.updateMarketDataTimestamp();
    rig.gov.healthMonitor.updateSnapshotWriteTimestamp();
    rig.clock.advance(DEFAULT_THRESHOLDS.marketDataUnhealthyAfterMs);
    expect(rig.gov.getState()).toBe('AGGRESSIVE');
    rig.clock.advance(1 + 100);
    expect(rig.gov.getState()).toBe('SHUTDOWN');
    expect(rig.gov.getCause().trigger).toBe('HEALTH_CHECK_FAILED');
    await settle();
    expect(rig.alerts.map((a) => a.kind)).toEqual(['SHUTDOWN']);
  });
});
