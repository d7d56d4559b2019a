/**
 * Goal: the background scrub finds old damage while governor runs, within one pass: an edited
 * or deleted old event, an old snapshot made invalid. It reports each finding once, in the
 * startup check's words, through the verifier (so the hourly check carries it and the anchor
 * stays put); it paces a pass over half of `passMs` in slices bounded in rows and in time; and
 * `stop()` leaves no timer behind. All on a SimulatedClock.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../../persistence/index.js';
import { readHeadAnchor } from '../../../persistence/integrity/head-anchor.js';
import {
  DataIntegrityVerifier,
  IntegrityScrubber,
  type IntegrityViolation,
} from '../../../persistence/integrity/index.js';
import { SimulatedClock, SystemClock } from '../../../services/clock.js';
import { copyDatabase, openRaw } from '../../support/corrupt.js';
import { buildFixture, type Fixture } from './fixture.js';

const HOUR_MS = 3_600_000;

let fixture: Fixture;
let copies = 0;
let open: Array<{ close(): void }> = [];

beforeAll(async () => {
  fixture = await buildFixture();
});

afterAll(() => fixture?.cleanup());

afterEach(() => {
  for (const item of open) item.close();
  open = [];
});

interface Running {
  readonly path: string;
  readonly store: Store;
  readonly clock: SimulatedClock;
  readonly verifier: DataIntegrityVerifier;
  readonly reported: IntegrityViolation[][];
  readonly scrubber: IntegrityScrubber;
}

/** A verified copy of the fixture, as a running process holds it, with a scrubber (not started). */
function running(
  options: { passMs?: number; sliceRowsMax?: number; clock?: SimulatedClock } = {},
): Running {
  copies++;
  const path = join(fixture.dir, `scrub-${copies}.db`);
  copyDatabase(fixture.dbPath, path);
  const clock = options.clock ?? new SimulatedClock({ wallStartMs: fixture.endWallMs });
  const store = Store.open(path, { clock });
  open.push(store);
  const verifier = new DataIntegrityVerifier(store, { clock });
  expect(verifier.verify({ full: true })).toEqual([]);
  const reported: IntegrityViolation[][] = [];
  const scrubber = new IntegrityScrubber({
    verifier,
    clock,
    passMs: options.passMs ?? 24 * HOUR_MS,
    sliceRowsMax: options.sliceRowsMax ?? 16,
    onViolations: (violations) => reported.push(violations),
  });
  open.push({ close: () => scrubber.stop() });
  return { path, store, clock, verifier, reported, scrubber };
}

function tamper(path: string, sql: string, ...params: unknown[]): void {
  const db = openRaw(path);
  try {
    db.prepare(sql).run(...params);
  } finally {
    db.close();
  }
}

/** What a full verification (the startup check) says about the same database now. */
function startupFindings(path: string, clock: SimulatedClock): IntegrityViolation[] {
  const store = Store.open(path, { readonly: true });
  try {
    return new DataIntegrityVerifier(store, { clock, writeAnchor: false }).verify({ full: true });
  } finally {
    store.close();
  }
}

describe('IntegrityScrubber', () => {
  it('finds an edit to an old event within its pass, in the startup check’s words, once', () => {
    const r = running();
    r.scrubber.start();
    tamper(r.path, "UPDATE events SET reason = 'rewritten' WHERE seq = 5");
    const anchorBefore = readHeadAnchor(`${r.path}.head.json`);
    r.clock.advance(12 * HOUR_MS);
    expect(r.scrubber.progress()).toMatchObject({ pass: 2, passesCompleted: 1 });
    const found = r.reported.flat();
    expect(found.map((v) => v.description)).toEqual([
      'event log: hash mismatch at seq 5: stored hash differs from the hash of the row',
    ]);
    expect(startupFindings(r.path, r.clock)).toEqual(expect.arrayContaining(found));
    // Through the verifier: the hourly check keeps reporting it, not as new, and does not anchor.
    r.store.events.append({ eventType: 'TEST', reason: 'after the scrub' });
    expect(r.verifier.verify()).toEqual(expect.arrayContaining(found));
    expect(r.verifier.getNewViolations()).toEqual([]);
    expect(readHeadAnchor(`${r.path}.head.json`)).toEqual(anchorBefore);
    // The next pass finds it again and reports nothing new.
    r.clock.advance(12 * HOUR_MS);
    expect(r.scrubber.progress()).toMatchObject({ pass: 3, passesCompleted: 2 });
    expect(r.reported).toHaveLength(1);
  });

  it('finds a deleted old event (seq gap) and an old snapshot made invalid, within one pass', () => {
    const r = running();
    r.scrubber.start();
    tamper(r.path, 'DELETE FROM events WHERE seq = 40');
    tamper(r.path, "UPDATE snapshots SET data = '{\"equityMinor\": ' WHERE date = '2025-12-03'");
    r.clock.advance(24 * HOUR_MS);
    const descriptions = r.reported.flat().map((v) => v.description);
    expect(descriptions).toContain('event log: seq gap at seq 40: seq 40 missing (next row is 41)');
    expect(descriptions.join('\n')).toMatch(/snapshot 2025-12-03: data is not valid JSON/);
  });

  it('paces a pass over half of passMs in slices of at most sliceRowsMax events', () => {
    const r = running({ passMs: HOUR_MS, sliceRowsMax: 16 });
    r.scrubber.start();
    const total = r.scrubber.progress().rowsInPass;
    expect(total).toBeGreaterThan(100);
    let previous = 0;
    const steps: number[] = [];
    for (let minute = 1; minute <= 30; minute++) {
      r.clock.advance(60_000);
      const progress = r.scrubber.progress();
      const checked = progress.pass === 1 ? progress.rowsChecked : total;
      steps.push(checked - previous);
      previous = checked;
    }
    // Each minute holds at most one slice here (about 15 slices over the half hour).
    expect(Math.max(...steps)).toBeLessThanOrEqual(16);
    expect(steps.filter((step) => step > 0).length).toBeGreaterThan(total / 16 - 1);
    // Spread over the half hour, not done at once; done within it.
    expect(steps.slice(0, 10).reduce((a, b) => a + b, 0)).toBeLessThan(total / 2);
    expect(r.scrubber.progress().passesCompleted).toBe(1);
  });

  it('ends a slice early once it has run sliceMsMax (a slow disk), still finishing the pass', () => {
    /** Every look at the monotonic clock finds 3 ms gone: the first sub-page exhausts a slice. */
    class SlowClock extends SimulatedClock {
      private spentMs = 0;
      override monotonicNow(): number {
        this.spentMs += 3;
        return super.monotonicNow() + this.spentMs;
      }
    }
    const clock = new SlowClock({ wallStartMs: fixture.endWallMs });
    copies++;
    const path = join(fixture.dir, `scrub-${copies}.db`);
    copyDatabase(fixture.dbPath, path);
    const store = Store.open(path);
    open.push(store);
    const verifier = new DataIntegrityVerifier(store, { clock, writeAnchor: false });
    const scrubber = new IntegrityScrubber({
      verifier,
      clock,
      passMs: HOUR_MS,
      sliceRowsMax: 1000,
      sliceMsMax: 2,
      onViolations: () => {},
    });
    open.push({ close: () => scrubber.stop() });
    scrubber.start();
    const total = scrubber.progress().rowsInPass;
    const steps: number[] = [];
    let previous = 0;
    for (let minute = 1; minute <= 30; minute++) {
      clock.advance(60_000);
      const progress = scrubber.progress();
      const checked = progress.pass === 1 ? progress.rowsChecked : total;
      if (checked !== previous) steps.push(checked - previous);
      previous = checked;
    }
    expect(scrubber.progress().passesCompleted).toBe(1);
    expect(Math.max(...steps)).toBeLessThanOrEqual(128);
    expect(steps.length).toBeGreaterThanOrEqual(Math.ceil(total / 128));
    expect(scrubber.progress().longestSliceMs).toBeGreaterThan(0);
  });

  it('stops cleanly: no timer left, no slice after stop, and a SystemClock handle count back where it was', () => {
    const r = running({ passMs: HOUR_MS });
    r.scrubber.start();
    r.clock.advance(10 * 60_000);
    const checked = r.scrubber.progress().rowsChecked;
    expect(r.clock.pendingCount()).toBe(1);
    r.scrubber.stop();
    expect(r.clock.pendingCount()).toBe(0);
    tamper(r.path, "UPDATE events SET reason = 'late' WHERE seq = 2");
    r.clock.advance(10 * HOUR_MS);
    expect(r.reported).toEqual([]);
    expect(r.scrubber.progress()).toMatchObject({ running: false, rowsChecked: 0 });
    expect(checked).toBeGreaterThan(0);

    const before = process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
    const real = new IntegrityScrubber({
      verifier: r.verifier,
      clock: new SystemClock(),
      onViolations: () => {},
    });
    real.start();
    real.stop();
    const after = process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
    expect(after).toBe(before);
  });

  it('stops by itself when its store is closed', () => {
    const r = running({ passMs: HOUR_MS });
    r.scrubber.start();
    r.store.close();
    r.clock.advance(HOUR_MS);
    expect(r.scrubber.progress().running).toBe(false);
    expect(r.clock.pendingCount()).toBe(0);
  });

  it('rejects out-of-range options with precise errors', () => {
    const r = running();
    const base = { verifier: r.verifier, clock: r.clock, onViolations: () => {} };
    expect(() => new IntegrityScrubber({ ...base, passMs: 0 })).toThrow(/passMs/);
    expect(() => new IntegrityScrubber({ ...base, sliceRowsMax: 0 })).toThrow(/sliceRowsMax/);
    expect(() => new IntegrityScrubber({ ...base, sliceMsMax: 1.5 })).toThrow(/sliceMsMax/);
  });
});
