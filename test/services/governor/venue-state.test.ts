/**
 * Goal: venue-state.ts on its own: a venue's state at construction takes its own switch settings,
 * governor's when it gave none, and none when it cannot arm or asked for none; `status()` shows
 * it as it is; and its two writes (a VENUE_* event, a venue record) are logged when they fail,
 * never thrown, and a record is not written into a closed store.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../../services/clock.js';
import { checkVenues } from '../../../services/governor/venue-checks.js';
import {
  appendVenueEvent,
  newVenueState,
  persistVenueRecord,
  venueStatus,
} from '../../../services/governor/venue-state.js';
import { FakeVenue } from '../../support/fake-venue.js';
import { SHUTDOWN_CAUSE, venueGuardFakes } from '../../support/venue-guard-fakes.js';

const GLOBAL = { timeoutMs: 60_000, renewEveryMs: 20_000 };

describe('newVenueState', () => {
  it("takes the venue's own switch settings, governor's when it gave none, none when it cannot arm or declined", () => {
    const clock = new SimulatedClock();
    const checked = checkVenues([
      new FakeVenue({
        name: 'own',
        clock,
        deadMansSwitch: { timeoutMs: 9_000, renewEveryMs: 3_000 },
      }),
      new FakeVenue({ name: 'global', clock }),
      new FakeVenue({ name: 'without', clock, withoutDeadMansSwitch: true }),
      new FakeVenue({ name: 'declined', clock, deadMansSwitch: false }),
    ]);
    const states = checked.map((venue) => newVenueState(venue, GLOBAL));
    expect(states.map((state) => [state.venue.name, state.switch])).toEqual([
      ['own', { timeoutMs: 9_000, renewEveryMs: 3_000 }],
      ['global', GLOBAL],
      ['without', null],
      ['declined', null],
    ]);
  });

  it('starts with nothing known: not armed, no flatten, no counts', () => {
    const clock = new SimulatedClock();
    const [checked] = checkVenues([new FakeVenue({ name: 'kraken', clock, inProcess: true })]);
    if (checked === undefined) throw new Error('no venue');
    expect(newVenueState(checked, GLOBAL)).toMatchObject({
      inProcess: true,
      renewTimer: undefined,
      flat: null,
      openOrders: null,
      lastCancelLatencyMs: null,
      flattening: null,
      cancelCause: null,
      notFlatAlertId: null,
      armedAtMs: undefined,
      expiresAtWallMs: null,
      armInFlight: false,
    });
  });
});

describe('venueStatus', () => {
  it('shows the state: cancelling while a flatten runs, the expiry as ISO wall time', () => {
    const clock = new SimulatedClock();
    const [checked] = checkVenues([new FakeVenue({ name: 'kraken', clock })]);
    if (checked === undefined) throw new Error('no venue');
    const state = newVenueState(checked, GLOBAL);
    expect(venueStatus(state)).toEqual({
      name: 'kraken',
      flat: null,
      openOrders: null,
      lastCancelLatencyMs: null,
      cancelling: false,
      deadMansSwitch: true,
      deadMansSwitchExpiresAt: null,
      inProcess: false,
    });
    state.flattening = new AbortController();
    state.cancelCause = SHUTDOWN_CAUSE;
    state.flat = false;
    state.openOrders = 3;
    state.lastCancelLatencyMs = 12;
    state.expiresAtWallMs = Date.UTC(2026, 0, 1, 0, 1);
    expect(venueStatus(state)).toMatchObject({
      flat: false,
      openOrders: 3,
      lastCancelLatencyMs: 12,
      cancelling: true,
      deadMansSwitchExpiresAt: '2026-01-01T00:01:00.000Z',
    });
  });

  it('a venue without a switch shows none', () => {
    const clock = new SimulatedClock();
    const [checked] = checkVenues([
      new FakeVenue({ name: 'kraken', clock, withoutDeadMansSwitch: true }),
    ]);
    if (checked === undefined) throw new Error('no venue');
    expect(venueStatus(newVenueState(checked, GLOBAL)).deadMansSwitch).toBe(false);
  });
});

describe('appendVenueEvent', () => {
  it('appends the event', () => {
    const fakes = venueGuardFakes(new SimulatedClock());
    appendVenueEvent(fakes.deps, 'VENUE_FLAT', 'kraken: flat', { venue: 'kraken' });
    expect(fakes.events).toEqual([
      { eventType: 'VENUE_FLAT', reason: 'kraken: flat', metadata: { venue: 'kraken' } },
    ]);
    expect(fakes.logged).toEqual([]);
  });

  it('a failed write is logged with its event type, never thrown', () => {
    const fakes = venueGuardFakes(new SimulatedClock());
    fakes.failWrites = true;
    expect(() =>
      appendVenueEvent(fakes.deps, 'VENUE_NOT_FLAT', 'kraken: not flat', { venue: 'kraken' }),
    ).not.toThrow();
    expect(fakes.events).toEqual([]);
    expect(fakes.logged).toEqual([
      {
        level: 'error',
        fields: { err: expect.any(Error), eventType: 'VENUE_NOT_FLAT' },
        message: 'venue event could not be written',
      },
    ]);
  });
});

describe('persistVenueRecord', () => {
  it('writes the record', () => {
    const fakes = venueGuardFakes(new SimulatedClock());
    persistVenueRecord(fakes.deps, 'recordNotFlat', () =>
      fakes.deps.store.venues.recordNotFlat('kraken'),
    );
    expect(fakes.writes).toEqual([{ method: 'recordNotFlat', args: ['kraken'] }]);
  });

  it('a failed write is logged with what it was, never thrown', () => {
    const fakes = venueGuardFakes(new SimulatedClock());
    fakes.failWrites = true;
    expect(() =>
      persistVenueRecord(fakes.deps, 'recordCount', () =>
        fakes.deps.store.venues.recordCount('kraken', 3, false),
      ),
    ).not.toThrow();
    expect(fakes.writes).toEqual([]);
    expect(fakes.logged).toEqual([
      {
        level: 'error',
        fields: { err: expect.any(Error), what: 'recordCount' },
        message: 'venue record could not be written',
      },
    ]);
  });

  it('a closed store is not written to, and nothing is logged', () => {
    const fakes = venueGuardFakes(new SimulatedClock());
    fakes.storeClosed = true;
    let called = false;
    persistVenueRecord(fakes.deps, 'recordNotFlat', () => {
      called = true;
    });
    expect(called).toBe(false);
    expect(fakes.logged).toEqual([]);
  });
});
