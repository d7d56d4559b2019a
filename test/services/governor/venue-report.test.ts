/**
 * Goal: services/governor/venue-report.ts reports each venue of a SHUTDOWN request as the
 * database shows it: the first VENUE_FLAT or VENUE_NOT_FLAT after the baseline's head (never one
 * from before it, never one of a venue outside the baseline), `no-word` when none came within
 * the wait, the dead man's switch on record when no owner runs, and which outcomes leave orders.
 * Waits of 0 ms and an injected monotonic clock: no test depends on wall time.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../../../persistence/index.js';
import {
  awaitVenueOutcomes,
  leavesOrders,
  readVenueBaseline,
  recordedOutcomes,
  switchOutcomes,
  type VenueOutcome,
} from '../../../services/governor/venue-report.js';

let dir: string;
let dbPath: string;
let store: Store;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'governor-venue-report-'));
  dbPath = join(dir, 'governor.db');
  store = Store.open(dbPath);
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function venueEvent(
  eventType: 'VENUE_FLAT' | 'VENUE_NOT_FLAT',
  metadata: Record<string, unknown>,
): void {
  store.events.append({ eventType, reason: 'venue report test', metadata });
}

describe('leavesOrders', () => {
  const cases: Array<[VenueOutcome, boolean]> = [
    [{ venue: 'v', kind: 'flat', cancelledCount: 2, afterRequestMs: 10 }, false],
    [{ venue: 'v', kind: 'not-flat', openOrders: 1, afterMs: 5_000, error: null }, true],
    [{ venue: 'v', kind: 'no-word', waitedMs: 5_000 }, true],
    [{ venue: 'v', kind: 'switch', expiresAt: '2026-01-01T00:01:00.000Z', inMs: 60_000 }, false],
    [{ venue: 'v', kind: 'no-switch' }, true],
    [{ venue: 'v', kind: 'process-gone' }, false],
    [{ venue: 'v', kind: 'recorded', flat: true, openOrders: 0 }, false],
    [{ venue: 'v', kind: 'recorded', flat: false, openOrders: 3 }, true],
    [{ venue: 'v', kind: 'recorded', flat: null, openOrders: null }, true],
  ];
  it.each(cases)('%o leaves orders: %s', (outcome, leaves) => {
    expect(leavesOrders(outcome)).toBe(leaves);
  });
});

describe('readVenueBaseline and recordedOutcomes', () => {
  it('reads the head, the venues on record and whether a latch is in force', () => {
    store.venues.register(['binance', 'kraken']);
    store.venues.recordCount('kraken', 3, false);
    venueEvent('VENUE_FLAT', { venue: 'binance' });
    const baseline = readVenueBaseline(dbPath);
    expect(baseline?.headSeq).toBe(store.events.head()?.seq);
    expect(baseline?.latched).toBe(false);
    expect(baseline?.venues.map((v) => v.name)).toEqual(['binance', 'kraken']);
    expect(recordedOutcomes(baseline ?? { headSeq: 0, venues: [], latched: false })).toEqual([
      { venue: 'binance', kind: 'recorded', flat: null, openOrders: null },
      { venue: 'kraken', kind: 'recorded', flat: false, openOrders: 3 },
    ]);
  });

  it('is null for a database that cannot be read (missing, or not a governor database)', () => {
    expect(readVenueBaseline(join(dir, 'missing.db'))).toBeNull();
    const junk = join(dir, 'junk.db');
    writeFileSync(junk, 'not a database at all, just text');
    expect(readVenueBaseline(junk)).toBeNull();
  });
});

describe('awaitVenueOutcomes', () => {
  it("takes each venue's first verdict after the head, ignoring earlier ones and other venues", async () => {
    store.venues.register(['a', 'b', 'c']);
    venueEvent('VENUE_NOT_FLAT', { venue: 'a', openOrders: 9, afterMs: 1 });
    const baseline = readVenueBaseline(dbPath);
    if (baseline === null) throw new Error('baseline unreadable');
    venueEvent('VENUE_FLAT', { venue: 'a', cancelledCount: 4 });
    venueEvent('VENUE_NOT_FLAT', { venue: 'a', openOrders: 1, afterMs: 7 });
    venueEvent('VENUE_NOT_FLAT', { venue: 'b', openOrders: 2, afterMs: 5_000, error: 'HTTP 503' });
    venueEvent('VENUE_FLAT', { venue: 'zz-unknown' });
    let now = 1_250;
    const outcomes = await awaitVenueOutcomes(dbPath, baseline, {
      requestedAtMs: 1_000,
      waitMs: 0,
      monotonicNow: () => now++,
    });
    expect(outcomes).toEqual([
      { venue: 'a', kind: 'flat', cancelledCount: 4, afterRequestMs: 250 },
      { venue: 'b', kind: 'not-flat', openOrders: 2, afterMs: 5_000, error: 'HTTP 503' },
      { venue: 'c', kind: 'no-word', waitedMs: 251 },
    ]);
  });

  it('reads malformed counts as unknown rather than trusting them', async () => {
    store.venues.register(['a', 'b']);
    const baseline = readVenueBaseline(dbPath);
    if (baseline === null) throw new Error('baseline unreadable');
    venueEvent('VENUE_FLAT', { venue: 'a', cancelledCount: -1 });
    venueEvent('VENUE_NOT_FLAT', { venue: 'b', openOrders: 1.5, afterMs: 'soon', error: 42 });
    const outcomes = await awaitVenueOutcomes(dbPath, baseline, {
      requestedAtMs: 0,
      waitMs: 0,
      monotonicNow: () => 0,
    });
    expect(outcomes).toEqual([
      { venue: 'a', kind: 'flat', cancelledCount: null, afterRequestMs: 0 },
      { venue: 'b', kind: 'not-flat', openOrders: null, afterMs: 0, error: null },
    ]);
  });

  it('finds a verdict past the first page of events (more than 500 after the head)', async () => {
    store.venues.register(['a']);
    const baseline = readVenueBaseline(dbPath);
    if (baseline === null) throw new Error('baseline unreadable');
    store.events.appendBatch(
      Array.from({ length: 600 }, () => ({
        eventType: 'ORDER_PLACED',
        reason: 'noise',
        metadata: {},
      })),
    );
    venueEvent('VENUE_FLAT', { venue: 'a', cancelledCount: 1 });
    const outcomes = await awaitVenueOutcomes(dbPath, baseline, {
      requestedAtMs: 0,
      waitMs: 0,
      monotonicNow: () => 0,
    });
    expect(outcomes[0]?.kind).toBe('flat');
  });
});

describe('switchOutcomes', () => {
  it("each venue's switch as recorded: armed (with time left, or past), disarmed, never armed, in-process", () => {
    const wallNowMs = Date.UTC(2026, 0, 1);
    store.venues.register([
      'armed',
      'expired',
      'never',
      'disarmed',
      { name: 'local', inProcess: true },
    ]);
    store.venues.recordSwitchArmed('armed', 60_000, wallNowMs - 1_000, wallNowMs + 59_000);
    store.venues.recordSwitchArmed('expired', 60_000, wallNowMs - 61_000, wallNowMs - 1_000);
    store.venues.recordSwitchArmed('disarmed', 60_000, wallNowMs, wallNowMs + 60_000);
    store.venues.recordSwitchDisarmed('disarmed');
    const byVenue = new Map(switchOutcomes(dbPath, wallNowMs).map((o) => [o.venue, o]));
    expect(byVenue.get('armed')).toEqual({
      venue: 'armed',
      kind: 'switch',
      expiresAt: new Date(wallNowMs + 59_000).toISOString(),
      inMs: 59_000,
    });
    expect(byVenue.get('expired')).toMatchObject({ kind: 'switch', inMs: -1_000 });
    expect(byVenue.get('never')).toEqual({ venue: 'never', kind: 'no-switch' });
    expect(byVenue.get('disarmed')).toEqual({ venue: 'disarmed', kind: 'no-switch' });
    expect(byVenue.get('local')).toEqual({ venue: 'local', kind: 'process-gone' });
  });

  it('a database that cannot be read is an error naming why, not an empty report', () => {
    expect(() => switchOutcomes(join(dir, 'missing.db'), 0)).toThrow(
      /^the venues on record could not be read: /,
    );
  });
});
