/**
 * Goal: the chain walk finds the same thing however the log is cut into segments (what the
 * worker threads walk, each from an unknown start, joined in order afterwards): for every
 * corruption of the toolkit at any position, for arbitrary row-level damage, at any cut points
 * and any findings cap, the joined segments equal one walk from seq 1.
 */
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ChainRules,
  type ChainWalk,
  joinSegments,
  type RawEventRow,
  SegmentWalker,
  stateAfter,
  UNKNOWN_STATE,
} from '../../../persistence/integrity/chain-walk.js';
import { CORRUPTIONS, copyDatabase, corruptCopy, openRaw } from '../../support/corrupt.js';
import { buildFixture, type Fixture } from './fixture.js';

const DAY_MS = 86_400_000;

let fixture: Fixture;
let cleanRows: RawEventRow[];
let copies = 0;

function readRows(path: string): RawEventRow[] {
  const db = openRaw(path);
  try {
    return db
      .prepare<[], RawEventRow>(
        'SELECT seq, event_id, timestamp, event_type, reason, metadata, prev_hash, hash FROM events ORDER BY seq',
      )
      .raw(true)
      .all();
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  fixture = await buildFixture();
  const path = join(fixture.dir, 'clean.db');
  copyDatabase(fixture.dbPath, path);
  cleanRows = readRows(path);
});

afterAll(() => fixture?.cleanup());

function rules(findingsMax: number): ChainRules {
  return {
    futureLimitIso: new Date(fixture.endWallMs + 5 * 60_000 + DAY_MS).toISOString(),
    backwardsToleranceMs: DAY_MS,
    findingsMax,
  };
}

function wholeWalk(rows: readonly RawEventRow[], chainRules: ChainRules): ChainWalk {
  const walker = new SegmentWalker(stateAfter(null), chainRules);
  walker.walk(rows);
  return joinSegments(stateAfter(null), [walker.result()], chainRules);
}

/** Cuts `rows` before each index in `cuts` and walks every piece from an unknown start. */
function cutWalk(
  rows: readonly RawEventRow[],
  cuts: readonly number[],
  chainRules: ChainRules,
): ChainWalk {
  const bounds = [...new Set([0, ...cuts.map((cut) => cut % (rows.length + 1)), rows.length])].sort(
    (a, b) => a - b,
  );
  const segments = bounds.slice(1).map((end, index) => {
    const walker = new SegmentWalker(UNKNOWN_STATE, chainRules);
    walker.walk(rows.slice(bounds[index], end));
    return walker.result();
  });
  return joinSegments(stateAfter(null), segments, chainRules);
}

const cutsArbitrary = fc.array(fc.nat({ max: 400 }), { maxLength: 6 });
const capArbitrary = fc.integer({ min: 1, max: 25 });

describe('chain walk split into segments', () => {
  it('invariant: over every toolkit corruption at any position, cut anywhere, joined = whole', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...CORRUPTIONS),
        fc.nat({ max: 1_000_000 }),
        cutsArbitrary,
        capArbitrary,
        (corruption, pick, cuts, cap) => {
          copies++;
          const path = join(fixture.dir, `walk-${copies}.db`);
          corruptCopy(fixture.dbPath, path, corruption.name, pick);
          const rows = readRows(path);
          expect(cutWalk(rows, cuts, rules(cap))).toEqual(wholeWalk(rows, rules(cap)));
        },
      ),
      { numRuns: 64 },
    );
  });

  const damage = fc.oneof(
    fc.record({
      kind: fc.constant('set' as const),
      column: fc.integer({ min: 1, max: 7 }),
      value: fc.oneof(
        fc.string({ maxLength: 30 }),
        fc.integer({ min: -5, max: 500 }),
        fc.constant(null),
        fc.constantFrom('2026-01-01T00:00:00.000Z', '2099-01-01T00:00:00.000Z', '1999-12-31'),
      ),
    }),
    fc.record({ kind: fc.constant('delete' as const) }),
    fc.record({ kind: fc.constant('swap' as const) }),
  );

  it('invariant: under arbitrary row damage (types, links, times, gaps, order), joined = whole', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), damage), { minLength: 1, maxLength: 8 }),
        cutsArbitrary,
        capArbitrary,
        (edits, cuts, cap) => {
          const rows = cleanRows.map((row) => [...row] as RawEventRow);
          for (const [at, edit] of edits) {
            const index = at % rows.length;
            const row = rows[index] as RawEventRow;
            if (edit.kind === 'set') (row as unknown[])[edit.column] = edit.value;
            else if (edit.kind === 'delete' && rows.length > 1) rows.splice(index, 1);
            else if (edit.kind === 'swap' && index + 1 < rows.length) {
              rows[index] = rows[index + 1] as RawEventRow;
              rows[index + 1] = row;
            }
          }
          expect(cutWalk(rows, cuts, rules(cap))).toEqual(wholeWalk(rows, rules(cap)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a clean log cut anywhere joins to no finding and the last row as its position', () => {
    const last = cleanRows.at(-1) as RawEventRow;
    const walk = cutWalk(cleanRows, [1, 57, 58, 199], rules(20));
    expect(walk).toMatchObject({ checked: cleanRows.length, findings: [], findingsDropped: 0 });
    expect(walk.last).toEqual({ seq: last[0], hash: last[7], timestamp: last[2] });
  });
});
