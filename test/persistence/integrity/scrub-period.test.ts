/**
 * Goal: an edit to any old event is found within `passMs` of the edit, whenever it happens and
 * however the log grows. Regression: a pass paced itself on the rows there were when it began,
 * over the whole period, and the next began a period later; on a new database the first pass
 * covered 1 row and took 18 of 24 h, and an old row edited 2 h after the start was found 24 to
 * 30 h after the edit. Property: over the moment of the edit, the row edited and the growth
 * pattern (rows appended each half hour, in bursts or none), on a real SQLite file and a
 * SimulatedClock, the first report of the edit comes at most `passMs` after it.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Store } from '../../../persistence/index.js';
import {
  DataIntegrityVerifier,
  IntegrityScrubber,
  type IntegrityViolation,
} from '../../../persistence/integrity/index.js';
import { SimulatedClock } from '../../../services/clock.js';
import { openRaw } from '../../support/corrupt.js';
import { tempDir } from '../../support/harness.js';

const HOUR_MS = 3_600_000;
const PASS_MS = 24 * HOUR_MS;
const STEP_MS = HOUR_MS / 2;
/** The simulation runs this long: edits happen in the first two periods, then one more. */
const STEPS = (3 * PASS_MS) / STEP_MS;

interface Scenario {
  /** Events appended at each step (half hour); the first is the new database's first row. */
  readonly appendsPerStep: readonly number[];
  /** When the edit happens, in ms after the scrub starts. */
  readonly editAtMs: number;
  /** Which row is edited: this fraction of the way from seq 1 to the head at the edit. */
  readonly rowFraction: number;
  readonly sliceRowsMax: number;
}

interface Outcome {
  readonly editedSeq: number;
  /** From the edit to its first report (ms), or null when it was never reported. */
  readonly foundAfterMs: number | null;
}

/** A directory for the database: in memory-backed /dev/shm when there is one (fsyncs are cheap). */
function databaseDir(): string {
  const prefix = 'governor-scrub-period-';
  return existsSync('/dev/shm') ? mkdtempSync(join('/dev/shm', prefix)) : tempDir(prefix);
}

/** Runs one scenario on a fresh database file; the scrub starts with one row in it. */
function run(scenario: Scenario): Outcome {
  const dir = databaseDir();
  const path = join(dir, 'governor.db');
  const clock = new SimulatedClock();
  const store = Store.open(path, { clock });
  const scrubber = new IntegrityScrubber({
    verifier: new DataIntegrityVerifier(store, { clock, writeAnchor: false }),
    clock,
    passMs: PASS_MS,
    sliceRowsMax: scenario.sliceRowsMax,
    onViolations: (violations) => reports.push({ atMs: clock.monotonicNow(), violations }),
  });
  const reports: Array<{ atMs: number; violations: IntegrityViolation[] }> = [];
  let appended = 0;
  const append = (count: number): void => {
    for (let i = 0; i < count; i++) {
      store.events.append({ eventType: 'TEST', reason: `row ${++appended}` });
    }
  };
  let edited: { seq: number; atMs: number } | null = null;
  try {
    append(1);
    scrubber.start();
    for (let step = 0; step < STEPS; step++) {
      const stepEndMs = (step + 1) * STEP_MS;
      if (edited === null && scenario.editAtMs < stepEndMs) {
        clock.advance(scenario.editAtMs - clock.monotonicNow());
        const seq = Math.max(1, Math.ceil(scenario.rowFraction * appended));
        const db = openRaw(path);
        db.prepare("UPDATE events SET reason = 'rewritten' WHERE seq = ?").run(seq);
        db.close();
        edited = { seq, atMs: clock.monotonicNow() };
      }
      clock.advance(stepEndMs - clock.monotonicNow());
      append(scenario.appendsPerStep[step] ?? 0);
    }
  } finally {
    scrubber.stop();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  if (edited === null) throw new Error('the edit never happened');
  const { seq, atMs } = edited;
  const found = reports.find((report) =>
    report.violations.some((violation) => violation.description.includes(`at seq ${seq}:`)),
  );
  return { editedSeq: seq, foundAfterMs: found === undefined ? null : found.atMs - atMs };
}

const growth = fc.oneof(
  // Steady: a few rows every half hour.
  fc.nat({ max: 6 }).map((rows) => Array.from({ length: STEPS }, () => rows)),
  // Any pattern: quiet stretches and bursts.
  fc.array(fc.oneof(fc.constant(0), fc.nat({ max: 3 }), fc.nat({ max: 40 })), {
    minLength: STEPS,
    maxLength: STEPS,
  }),
);

describe('the scrub finds an edit within its period (was: 24 to 30 h after an edit 2 h in)', () => {
  it('the reported scenario: a new database, an old row edited 2 h after the start', () => {
    const outcome = run({
      appendsPerStep: Array.from({ length: STEPS }, () => 2),
      editAtMs: 2 * HOUR_MS,
      rowFraction: 0.5,
      sliceRowsMax: 1024,
    });
    expect(outcome.foundAfterMs).not.toBeNull();
    expect(outcome.foundAfterMs).toBeLessThanOrEqual(PASS_MS);
  });

  // fast-check itself, not @fast-check/vitest's test.prop: importing that wrapper took 3 s
  // (it walks every chain of vitest's test modifiers when it is loaded).
  it('whatever the moment, the row and the growth: found within passMs of the edit', () => {
    fc.assert(
      fc.property(
        growth,
        fc.integer({ min: 0, max: 2 * PASS_MS - 1 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.constantFrom(4, 64, 1024),
        (appendsPerStep, editAtMs, rowFraction, sliceRowsMax) => {
          const outcome = run({ appendsPerStep, editAtMs, rowFraction, sliceRowsMax });
          expect(outcome.foundAfterMs).not.toBeNull();
          expect(outcome.foundAfterMs).toBeLessThanOrEqual(PASS_MS);
        },
      ),
      { numRuns: 30 },
    );
  });
});
