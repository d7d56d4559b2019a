/**
 * Five governor processes under one PostgreSQL authority, through seeded fault schedules (kills,
 * PostgreSQL frozen whole or stopped and restarted, a host partitioned by a stalling proxy,
 * frozen, or killed -9 while its scope is killed): the checker finds no gate open later than a
 * committed kill + leaseMs + ε or the authority's loss + leaseMs + ε, and no host trading again
 * before its operator restart. `npm run fleet:soak -- --runs 200` runs longer schedules.
 */
import { describe, expect, it } from 'vitest';
import { runFleetFaults } from './fault-run.js';

const RUNS = Number(process.env.FLEET_FAULT_RUNS ?? 20);
const SEED = Number(process.env.FLEET_FAULT_SEED ?? 20261207);

describe('the fleet under faults', () => {
  it(`${RUNS} seeded fault episodes (seed ${SEED}): no violation`, {
    timeout: 600_000,
  }, async () => {
    const result = await runFleetFaults({ runs: RUNS, seed: SEED });
    expect(result.episodes).toHaveLength(RUNS);
    expect(result.violations, result.episodes.join('\n')).toEqual([]);
  });
});
