/**
 * Goal: `verifyDatabase`'s `onProgress(checkedEvents, totalEvents)` (what draws the progress bar
 * of `governor verify`) is called once per page of the chain walk, never goes backwards, ends at
 * the total, and leaves the verdict unchanged, for a clean log and for a damaged one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../../persistence/index.js';
import { SimulatedClock } from '../../../services/clock.js';
import { GovernanceSystem } from '../../../services/governor/governance-system.js';
import { verifyDatabase } from '../../../services/health/verify-database.js';
import { copyDatabase, openRaw } from '../../support/corrupt.js';

/** The walk reads 1,024 rows per page: 3,000 events make three pages and a bit. */
const EVENTS = 3_000;
const PAGE_ROWS = 1_024;

let dir: string;
let dbPath: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'governor-progress-'));
  dbPath = join(dir, 'progress.db');
  const clock = new SimulatedClock({ wallStartMs: Date.UTC(2026, 0, 1) });
  const gov = new GovernanceSystem({ dbPath, clock });
  for (let batch = 0; batch < EVENTS / 100; batch++) {
    gov.engine.events.appendBatch(
      Array.from({ length: 100 }, (_, index) => ({
        eventType: 'TRADE_DECISION',
        reason: `batch ${batch} item ${index}`,
        metadata: { batch, index },
      })),
    );
    clock.skip(10);
  }
  gov.close();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function headSeq(path: string): number {
  const store = Store.open(path, { readonly: true });
  try {
    return store.events.head()?.seq ?? 0;
  } finally {
    store.close();
  }
}

describe('verifyDatabase onProgress', () => {
  it('reports once per page, monotonically, up to the total, and does not change the verdict', () => {
    const calls: Array<[number, number]> = [];
    const result = verifyDatabase({
      dbPath,
      onProgress: (checked, total) => calls.push([checked, total]),
    });
    const total = headSeq(dbPath);
    expect(total).toBeGreaterThanOrEqual(EVENTS);
    expect(result.ok).toBe(true);
    expect(calls).toHaveLength(Math.floor(total / PAGE_ROWS) + 1);
    for (const [index, [checked, expected]] of calls.entries()) {
      expect(expected).toBe(total);
      expect(checked).toBe(Math.min(total, (index + 1) * PAGE_ROWS));
    }
    expect(calls.at(-1)).toEqual([total, total]);
    const silent = verifyDatabase({ dbPath });
    expect(silent.violations).toEqual(result.violations);
    expect(silent.head).toEqual(result.head);
  });

  it('still reports progress to the end over a damaged log, whose violation is named', () => {
    const damaged = join(dir, 'damaged.db');
    copyDatabase(dbPath, damaged);
    const raw = openRaw(damaged);
    try {
      raw.prepare("UPDATE events SET reason = 'rewritten' WHERE seq = 1500").run();
    } finally {
      raw.close();
    }
    const calls: Array<[number, number]> = [];
    const result = verifyDatabase({
      dbPath: damaged,
      onProgress: (checked, total) => calls.push([checked, total]),
    });
    expect(result.ok).toBe(false);
    expect(result.violations.some((v) => v.description.includes('seq 1500'))).toBe(true);
    const total = headSeq(damaged);
    expect(calls.at(-1)).toEqual([total, total]);
  });
});
