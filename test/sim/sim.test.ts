/**
 * Goal: the simulator holds every invariant of docs/simulation.md on the quick seeds, and one
 * seed replays the same trace exactly. The other CI seeds (soak.test.ts) and the proof that the
 * checker catches broken governors (checker.test.ts) run in `npm run test:slow`, in CI.
 */
import { describe, expect, it } from 'vitest';
import { expectSeedHolds } from './seeds.js';
import { runSeed } from './simulator.js';

/** The quick seeds, in `npm test`: each runs SIM_DAYS simulated days with every fault. */
const QUICK_SEEDS = [1, 2, 3];

describe('the simulator on the quick seeds', () => {
  it.each(QUICK_SEEDS)('seed %i: no invariant violated', async (seed) => {
    await expectSeedHolds(seed);
  });

  it('one seed replays the same decision trace exactly', async () => {
    const first = await runSeed({ seed: 7, days: 1 });
    const second = await runSeed({ seed: 7, days: 1 });
    expect(second.traceDigest).toBe(first.traceDigest);
    expect(second.stats).toEqual(first.stats);
    const other = await runSeed({ seed: 8, days: 1 });
    expect(other.traceDigest).not.toBe(first.traceDigest);
  });
});
