/**
 * Goal: SimulatedClock moves time only when told, fires timers in deadline order (including
 * timers that timers schedule), skips like a stalled event loop, and jumps the wall clock alone.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { SimulatedClock, SystemClock } from '../../services/clock.js';

describe('SimulatedClock', () => {
  it('fires due timers in deadline order, ties in scheduling order', () => {
    const clock = new SimulatedClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b@20'), 20);
    clock.setTimeout(() => fired.push('a@10'), 10);
    clock.setTimeout(() => fired.push('c@20'), 20);
    clock.advance(19);
    expect(fired).toEqual(['a@10']);
    clock.advance(1);
    expect(fired).toEqual(['a@10', 'b@20', 'c@20']);
  });

  it('fires chained timers scheduled within the window at their own deadlines', () => {
    const clock = new SimulatedClock();
    const seenAtMs: number[] = [];
    const tick = (): void => {
      seenAtMs.push(clock.monotonicNow());
      if (seenAtMs.length < 5) clock.setTimeout(tick, 30);
    };
    clock.setTimeout(tick, 30);
    clock.advance(1_000);
    expect(seenAtMs).toEqual([30, 60, 90, 120, 150]);
    expect(clock.monotonicNow()).toBe(1_000);
  });

  it('skip moves both clocks without firing; the overdue timer fires at the next advance', () => {
    const clock = new SimulatedClock({ wallStartMs: 1_000_000 });
    let firedAtMs: number | undefined;
    clock.setTimeout(() => {
      firedAtMs = clock.monotonicNow();
    }, 100);
    clock.skip(500);
    expect(firedAtMs).toBeUndefined();
    expect(clock.monotonicNow()).toBe(500);
    expect(clock.wallNow()).toBe(1_000_500);
    clock.advance(0);
    expect(firedAtMs).toBe(500);
  });

  it('jumpWall moves only the wall clock, in either direction', () => {
    const clock = new SimulatedClock({ wallStartMs: 5_000_000 });
    clock.jumpWall(-86_400_000);
    expect(clock.wallNow()).toBe(5_000_000 - 86_400_000);
    expect(clock.monotonicNow()).toBe(0);
    clock.advance(10);
    expect(clock.wallNow()).toBe(5_000_000 - 86_400_000 + 10);
  });

  it('clearTimeout cancels, and bad delays are refused', () => {
    const clock = new SimulatedClock();
    let fired = false;
    const handle = clock.setTimeout(() => {
      fired = true;
    }, 5);
    clock.clearTimeout(handle);
    clock.advance(10);
    expect(fired).toBe(false);
    expect(clock.pendingCount()).toBe(0);
    expect(() => clock.setTimeout(() => {}, Number.NaN)).toThrow(TypeError);
    expect(() => clock.advance(-1)).toThrow(TypeError);
  });
});

describe('SystemClock', () => {
  it('is monotonic and fires its timers', async () => {
    const clock = new SystemClock();
    const a = clock.monotonicNow();
    await new Promise<void>((resolve) => clock.setTimeout(resolve, 1));
    expect(clock.monotonicNow()).toBeGreaterThan(a);
  });

  it('never keeps the process alive: a child with a pending 1-hour timer exits by itself', () => {
    const script = [
      "import { SystemClock } from './services/clock.ts';",
      'new SystemClock().setTimeout(() => process.exit(3), 3_600_000);',
    ].join('\n');
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        cwd: process.cwd(),
        encoding: 'utf8',
      },
    );
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
