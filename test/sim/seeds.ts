/** What every CI seed must show: no invariant violated (a failure is shrunk and printed). */
import { expect } from 'vitest';
import { describeFailure, shrink } from './shrink.js';
import { runSeed } from './simulator.js';

/** Simulated days per CI seed, every fault kind on (wall-clock jumps included). */
export const SIM_DAYS = 2;

export async function expectSeedHolds(seed: number): Promise<void> {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const result = await runSeed({ seed, days: SIM_DAYS, withoutKinds: [] });
    if (result.violations.length > 0) {
      const shrunk = await shrink(result, { withoutKinds: [] });
      expect.fail(describeFailure(shrunk.result));
    }
    expect(result.stats.actionsApplied).toBeGreaterThan(0);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  expect(unhandled).toEqual([]);
}
