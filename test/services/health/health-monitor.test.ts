/**
 * Goal: the health monitor computes the spec's SystemHealth deterministically from what it
 * was told, counts errors in a bounded sliding window, and formats uptime as the spec does.
 */
import { describe, expect, it } from 'vitest';
import { formatDuration, SimulatedClock } from '../../../services/clock.js';
import { DEFAULT_THRESHOLDS } from '../../../services/config.js';
import { HealthMonitor } from '../../../services/health/health-monitor.js';

describe('HealthMonitor', () => {
  it('is healthy at start and reports the spec shape', () => {
    const clock = new SimulatedClock();
    const health = new HealthMonitor(clock, DEFAULT_THRESHOLDS).getSystemHealth();
    expect(health).toMatchObject({
      healthy: true,
      uptime: 0,
      lastMarketDataUpdate: null,
      executionQueueStatus: 'IDLE',
      errorRate: 0,
    });
    expect(Object.keys(health.memoryUsage).sort()).toEqual(['heapTotal', 'heapUsed', 'rss']);
  });

  it('counts ages from start before the first update, and from the update after', () => {
    const clock = new SimulatedClock();
    const monitor = new HealthMonitor(clock, DEFAULT_THRESHOLDS);
    clock.advance(1_000);
    expect(monitor.ages().marketDataAgeMs).toBe(1_000);
    monitor.updateMarketDataTimestamp();
    clock.advance(10);
    expect(monitor.ages().marketDataAgeMs).toBe(10);
    expect(monitor.getSystemHealth().lastMarketDataUpdate?.getTime()).toBe(clock.wallNow() - 10);
  });

  it('slides the error window: errors older than a minute stop counting', () => {
    const clock = new SimulatedClock();
    const monitor = new HealthMonitor(clock, DEFAULT_THRESHOLDS);
    for (let i = 0; i < 11; i++) monitor.recordError();
    expect(monitor.unhealthyReasons()).toHaveLength(1);
    clock.advance(60_000);
    expect(monitor.errorsInWindow()).toBe(0);
    expect(monitor.getSystemHealth().healthy).toBe(true);
  });

  // The old 4,096-entry ring capped the count at 4,096 (68.3/min over an hour): a storm
  // larger than the ring read as smaller than it was. Every error in the window now counts.
  it('counts every error of a storm larger than the exact ring', () => {
    const clock = new SimulatedClock();
    const monitor = new HealthMonitor(clock, DEFAULT_THRESHOLDS);
    for (let i = 0; i < 4_096 * 3; i++) monitor.recordError();
    expect(monitor.errorsInWindow()).toBe(4_096 * 3);
  });

  it('refuses an unknown queue status and changes nothing', () => {
    const monitor = new HealthMonitor(new SimulatedClock(), DEFAULT_THRESHOLDS);
    expect(() => monitor.setExecutionQueueStatus('BUSY' as never)).toThrow(/executionQueueStatus/);
    expect(monitor.getExecutionQueueStatus()).toBe('IDLE');
  });

  it('formats uptime like the spec (2d 5h 30m)', () => {
    expect(formatDuration(((2 * 24 + 5) * 60 + 30) * 60_000)).toBe('2d 5h 30m');
    expect(formatDuration(45_000)).toBe('45s');
    expect(formatDuration(12 * 60_000)).toBe('12m');
  });
});
