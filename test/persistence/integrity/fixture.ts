/**
 * A small but complete governor database for the integrity tests: a few hundred events with
 * distinct timestamps, a month of snapshots, pools with accounts, strategies with histories,
 * one passed startup (so the head anchor is written), then closed. Built once per test file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GovernorAlert } from '../../../services/alerts/types.js';
import { SimulatedClock } from '../../../services/clock.js';
import { GovernanceSystem } from '../../../services/governor/governance-system.js';
import { recordingSink, settle } from '../../support/harness.js';

export interface Fixture {
  readonly dir: string;
  readonly dbPath: string;
  /** Wall time (ms) after the fixture was closed: reopen with a clock at or after it. */
  readonly endWallMs: number;
  cleanup(): void;
}

const START_MS = Date.UTC(2026, 0, 1);

export async function buildFixture(): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'governor-integrity-'));
  const dbPath = join(dir, 'base.db');
  const clock = new SimulatedClock({ wallStartMs: START_MS });
  const gov = new GovernanceSystem({ dbPath, clock });
  const store = gov.engine;
  for (let batch = 0; batch < 40; batch++) {
    store.events.appendBatch(
      Array.from({ length: 5 }, (_, index) => ({
        eventType: 'TRADE_DECISION',
        reason: `batch ${batch} item ${index}`,
        metadata: { batch, index, note: index % 2 === 0 ? 'plain' : 'quote " and ü' },
      })),
    );
    clock.skip(1_000);
  }
  for (let day = 1; day <= 30; day++) {
    store.snapshots.write({
      date: `2025-12-${String(day).padStart(2, '0')}`,
      data: { equityMinor: 1_000_000 + day, positions: day % 3 },
    });
    clock.skip(1_000);
  }
  for (const pool of ['pool-a', 'pool-b', 'pool-c']) {
    store.capital.createPool(pool, { currency: 'USD' });
    for (const account of ['1', '2']) {
      store.capital.createAccount(`${pool}-${account}`, pool);
      store.capital.deposit(`${pool}-${account}`, 10_000n * BigInt(account));
    }
  }
  store.strategies.register('s-0');
  store.strategies.transition('s-0', 'ACTIVE', 'go');
  store.strategies.transition('s-0', 'PAUSED', 'pause');
  store.strategies.register('s-1', 'ACTIVE');
  store.strategies.transition('s-1', 'RETIRED', 'retire');
  store.strategies.register('s-2', 'PAUSED');
  store.strategies.register('s-3');
  const passed = await gov.runStartupChecks();
  if (!passed)
    throw new Error(
      `fixture did not pass its startup checks: ${JSON.stringify(gov.getLastStartupReport())}`,
    );
  gov.close();
  clock.skip(60_000);
  return {
    dir,
    dbPath,
    endWallMs: clock.wallNow(),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface Reopened {
  readonly gov: GovernanceSystem;
  readonly clock: SimulatedClock;
  readonly delivered: GovernorAlert[];
}

/** A GovernanceSystem over `dbPath` on a clock that starts after the fixture's end. */
export function reopen(dbPath: string, fixture: Fixture): Reopened {
  const clock = new SimulatedClock({ wallStartMs: fixture.endWallMs });
  const delivered: GovernorAlert[] = [];
  const gov = new GovernanceSystem({ dbPath, clock, alertSinks: [recordingSink(delivered)] });
  return { gov, clock, delivered };
}

export { settle };
