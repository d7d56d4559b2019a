/**
 * Goal: `governor shutdown` reads the owner's verdict on each venue from the VENUE_FLAT and
 * VENUE_NOT_FLAT events written after its request; a cancel the owner made because the fleet
 * lease ended (cause FLEET_LEASE_ENDED) is not that verdict and is skipped.
 */
import { describe, expect, it } from 'vitest';
import { Store } from '../../../persistence/index.js';
import { awaitVenueOutcomes, readVenueBaseline } from '../../../services/governor/venue-report.js';
import { tempDatabasePath } from '../../persistence/helpers.js';

describe("the shutdown's verdict on the venues", () => {
  it("skips a venue's events of a cancel for the fleet lease's end", async () => {
    const path = tempDatabasePath();
    const store = Store.open(path);
    store.venues.register(['bare']);
    store.close();
    const baseline = readVenueBaseline(path);
    if (baseline === null) throw new Error('no baseline');
    const writer = Store.open(path);
    try {
      writer.events.append({
        eventType: 'VENUE_FLAT',
        reason: 'bare: flat 12 ms after the fleet lease ended',
        metadata: {
          venue: 'bare',
          attempts: 1,
          afterMs: 12,
          cancelledCount: 5,
          trigger: null,
          cause: 'FLEET_LEASE_ENDED',
          leaseEndedAt: '2026-12-01T00:00:00.000Z',
        },
      });
      writer.events.append({
        eventType: 'VENUE_FLAT',
        reason: 'bare: flat 9 ms after the SHUTDOWN',
        metadata: {
          venue: 'bare',
          attempts: 1,
          afterMs: 9,
          cancelledCount: 2,
          trigger: 'OPERATOR_KILL',
        },
      });
    } finally {
      writer.close();
    }
    const outcomes = await awaitVenueOutcomes(path, baseline, {
      requestedAtMs: performance.now(),
      waitMs: 1_000,
    });
    expect(outcomes).toEqual([
      expect.objectContaining({ venue: 'bare', kind: 'flat', cancelledCount: 2 }),
    ]);
  });
});
