/**
 * Goal: ShutdownFlatten (venue-shutdown-flatten.ts) on its own, in simulated time with fake
 * venues: a SHUTDOWN's flatten cancels and counts until flat, writing its VENUE_CANCEL_ALL and
 * VENUE_FLAT events and the venue records; a venue not flat is retried with a backoff bounded by
 * its cap and each call by adapterPingTimeoutMs, is reported once (VENUE_NOT_FLAT and its CRITICAL
 * incident, resolved when it turns flat); an acknowledgement of that alert ends that venue's
 * retries alone, on record; the fleet lease's end names its cause; an operator restart ends every
 * flatten; a closed guard records nothing; a failed write does not stop the cancels.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../../services/clock.js';
import type { VenueCancelCause } from '../../../services/governor/incidents.js';
import { checkVenues } from '../../../services/governor/venue-checks.js';
import { ShutdownFlatten } from '../../../services/governor/venue-shutdown-flatten.js';
import { newVenueState, type VenueState } from '../../../services/governor/venue-state.js';
import { FakeVenue } from '../../support/fake-venue.js';
import {
  LATCH,
  runFor,
  SHUTDOWN_CAUSE,
  TEST_THRESHOLDS,
  type VenueGuardFakes,
  venueGuardFakes,
} from '../../support/venue-guard-fakes.js';

const GLOBAL = { timeoutMs: 60_000, renewEveryMs: 20_000 };

interface Setup {
  readonly clock: SimulatedClock;
  readonly venues: FakeVenue[];
  readonly states: VenueState[];
  readonly fakes: VenueGuardFakes;
  readonly flatten: ShutdownFlatten;
  closed: boolean;
}

function setup(make: (clock: SimulatedClock) => FakeVenue[]): Setup {
  const clock = new SimulatedClock();
  const venues = make(clock);
  const states = checkVenues(venues).map((venue) => newVenueState(venue, GLOBAL));
  const fakes = venueGuardFakes(clock);
  const result: Setup = {
    clock,
    venues,
    states,
    fakes,
    closed: false,
    flatten: new ShutdownFlatten(states, fakes.deps, () => result.closed),
  };
  return result;
}

function at<T>(list: readonly T[], index: number): T {
  const found = list[index];
  if (found === undefined) throw new Error(`nothing at ${index}`);
  return found;
}

const cancelInstants = (venue: FakeVenue): number[] =>
  venue.callsOf('cancelAllOrders').map((call) => call.atMs);

const eventsOfType = (fakes: VenueGuardFakes, eventType: string) =>
  fakes.events.filter((event) => event.eventType === eventType);

describe('ShutdownFlatten', () => {
  it('cancels and counts until flat: its events, the venue records, the state', async () => {
    const rig = setup((clock) => [
      new FakeVenue({ name: 'kraken', clock, openOrders: 3, latencyMs: 40 }),
    ]);
    const state = at(rig.states, 0);
    expect(rig.flatten.inShutdown).toBe(false);
    rig.flatten.start(state, SHUTDOWN_CAUSE);
    expect(rig.flatten.inShutdown).toBe(true);
    expect(state).toMatchObject({ flat: false, cancelCause: SHUTDOWN_CAUSE });
    expect(state.flattening).not.toBeNull();
    await runFor(rig.clock, 1_000);
    expect(rig.fakes.events).toEqual([
      {
        eventType: 'VENUE_CANCEL_ALL',
        reason: 'kraken: cancel all accepted',
        metadata: {
          venue: 'kraken',
          attempt: 1,
          outcome: 'ok',
          latencyMs: 40,
          cancelledCount: 3,
          error: null,
          trigger: 'OPERATOR_KILL',
        },
      },
      {
        eventType: 'VENUE_FLAT',
        reason: 'kraken: flat 80 ms after the SHUTDOWN',
        metadata: {
          venue: 'kraken',
          attempts: 1,
          afterMs: 80,
          cancelledCount: 3,
          trigger: 'OPERATOR_KILL',
        },
      },
    ]);
    const wallStartMs = Date.UTC(2026, 0, 1);
    expect(rig.fakes.writes).toEqual([
      { method: 'recordNotFlat', args: ['kraken'] },
      { method: 'recordCancel', args: ['kraken', 40, wallStartMs] },
      { method: 'recordCount', args: ['kraken', 0, true] },
    ]);
    expect(state).toMatchObject({
      flat: true,
      openOrders: 0,
      lastCancelLatencyMs: 40,
      flattening: null,
    });
    expect(rig.fakes.raised).toEqual([]);
  });

  it('a venue that refuses is retried with a doubling backoff capped at 2 s, and reported not flat once', async () => {
    const rig = setup((clock) => [new FakeVenue({ name: 'kraken', clock, openOrders: 2 })]);
    const venue = at(rig.venues, 0);
    venue.cancelBehaviour = 'refuse';
    rig.flatten.start(at(rig.states, 0), SHUTDOWN_CAUSE);
    await runFor(rig.clock, 15_000);
    const instants = cancelInstants(venue);
    const gaps = instants.slice(1).map((instant, index) => instant - at(instants, index));
    expect(gaps).toEqual([100, 200, 400, 800, 1_600, 2_000, 2_000, 2_000, 2_000, 2_000]);
    const notFlat = eventsOfType(rig.fakes, 'VENUE_NOT_FLAT');
    // Reported at the first round ending 5 000 ms (venueFlatWithinMs) or more after the start.
    expect(notFlat).toEqual([
      {
        eventType: 'VENUE_NOT_FLAT',
        reason: 'kraken: not flat 5100 ms after the SHUTDOWN: 2 orders open',
        metadata: {
          venue: 'kraken',
          attempts: 7,
          afterMs: 5_100,
          openOrders: 2,
          error: expect.stringContaining('kraken refused'),
          final: false,
          trigger: 'OPERATOR_KILL',
        },
      },
    ]);
    expect(rig.fakes.raised).toEqual([
      { cause: SHUTDOWN_CAUSE, venue: 'kraken', alertId: 'alert-1' },
    ]);
    expect(at(rig.states, 0)).toMatchObject({
      notFlatAlertId: 'alert-1',
      openOrders: 2,
      flat: false,
    });
    expect(
      eventsOfType(rig.fakes, 'VENUE_CANCEL_ALL').map((event) => event.metadata.outcome),
    ).toEqual(instants.map(() => 'error'));
    // The venue record is marked not flat once, at the first attempt.
    expect(rig.fakes.writes.filter((write) => write.method === 'recordNotFlat')).toHaveLength(1);
    rig.flatten.stop(at(rig.states, 0), 'close');
  });

  it('each call is bounded by adapterPingTimeoutMs, and a venue that hangs is not called without bound', async () => {
    const rig = setup((clock) => [new FakeVenue({ name: 'kraken', clock, openOrders: 2 })]);
    const venue = at(rig.venues, 0);
    venue.cancelBehaviour = 'hang';
    venue.countBehaviour = 'hang';
    rig.flatten.start(at(rig.states, 0), SHUTDOWN_CAUSE);
    await runFor(rig.clock, 60_000);
    const first = at(eventsOfType(rig.fakes, 'VENUE_CANCEL_ALL'), 0);
    expect(first.metadata).toMatchObject({
      outcome: 'timeout',
      latencyMs: TEST_THRESHOLDS.adapterPingTimeoutMs,
      error: `no answer within ${TEST_THRESHOLDS.adapterPingTimeoutMs} ms`,
    });
    // At most four calls left unanswered (flatten.ts's maxCallsInFlightPerVenue), then none.
    expect(venue.calls.length).toBe(4);
    expect(eventsOfType(rig.fakes, 'VENUE_NOT_FLAT')).toHaveLength(1);
    rig.flatten.stop(at(rig.states, 0), 'close');
  });

  it("an acknowledgement of one venue's not-flat alert ends its retries alone, on record", async () => {
    const rig = setup((clock) => [
      new FakeVenue({ name: 'kraken', clock, openOrders: 2 }),
      new FakeVenue({ name: 'binance', clock, openOrders: 5 }),
    ]);
    for (const venue of rig.venues) venue.cancelBehaviour = 'refuse';
    for (const state of rig.states) rig.flatten.start(state, SHUTDOWN_CAUSE);
    await runFor(rig.clock, 6_000);
    expect(rig.fakes.raised.map((raised) => [raised.venue, raised.alertId])).toEqual([
      ['kraken', 'alert-1'],
      ['binance', 'alert-2'],
    ]);
    rig.flatten.acknowledged('alert-unknown', 'alice');
    expect(rig.states.every((state) => state.flattening !== null)).toBe(true);
    rig.flatten.acknowledged('alert-2', 'alice');
    await runFor(rig.clock, 0);
    const [kraken, binance] = [at(rig.venues, 0), at(rig.venues, 1)];
    const krakenCalls = kraken.calls.length;
    const binanceCalls = binance.calls.length;
    await runFor(rig.clock, 10_000);
    // Its retries over, the same alert acknowledged again changes nothing.
    expect(() => rig.flatten.acknowledged('alert-2', 'bob')).not.toThrow();
    expect(binance.calls.length).toBe(binanceCalls);
    expect(kraken.calls.length).toBeGreaterThan(krakenCalls);
    expect(at(rig.states, 1).flattening).toBeNull();
    expect(at(rig.states, 0).flattening).not.toBeNull();
    expect(rig.fakes.logged).toEqual([
      {
        level: 'warn',
        fields: { venue: 'binance', operator: 'alice' },
        message: 'not-flat alert acknowledged: governor stops cancelling at this venue',
      },
    ]);
    const final = eventsOfType(rig.fakes, 'VENUE_NOT_FLAT').filter(
      (event) => event.metadata.final === true,
    );
    expect(final).toEqual([
      {
        eventType: 'VENUE_NOT_FLAT',
        reason:
          'binance: governor stopped cancelling there, not flat: 5 orders open at the last count',
        metadata: {
          venue: 'binance',
          attempts: expect.any(Number),
          openOrders: 5,
          final: true,
          trigger: 'OPERATOR_KILL',
        },
      },
    ]);
    rig.flatten.stop(at(rig.states, 0), 'close');
  });

  it('a venue that turns flat after its alert resolves the incident', async () => {
    const rig = setup((clock) => [new FakeVenue({ name: 'kraken', clock, openOrders: 2 })]);
    const venue = at(rig.venues, 0);
    venue.cancelBehaviour = 'refuse';
    rig.flatten.start(at(rig.states, 0), SHUTDOWN_CAUSE);
    await runFor(rig.clock, 6_000);
    expect(rig.fakes.resolved).toEqual([]);
    venue.cancelBehaviour = 'answer';
    await runFor(rig.clock, 3_000);
    expect(at(rig.states, 0).flat).toBe(true);
    expect(rig.fakes.resolved).toEqual([{ cause: SHUTDOWN_CAUSE, venue: 'kraken' }]);
    expect(eventsOfType(rig.fakes, 'VENUE_FLAT')).toHaveLength(1);
  });

  it("the fleet lease's end: its cause on every event, no SHUTDOWN, and the lease held again ends it", async () => {
    const leaseEnded: VenueCancelCause = {
      kind: 'lease-ended',
      at: '2026-01-01T00:00:00.000Z',
      reason: 'lease expired',
    };
    const rig = setup((clock) => [new FakeVenue({ name: 'kraken', clock, openOrders: 2 })]);
    const state = at(rig.states, 0);
    at(rig.venues, 0).cancelBehaviour = 'refuse';
    rig.flatten.start(state, leaseEnded);
    expect(rig.flatten.inShutdown).toBe(false);
    await runFor(rig.clock, 6_000);
    const causeFields = {
      trigger: null,
      cause: 'FLEET_LEASE_ENDED',
      leaseEndedAt: '2026-01-01T00:00:00.000Z',
    };
    for (const event of rig.fakes.events) expect(event.metadata).toMatchObject(causeFields);
    expect(at(eventsOfType(rig.fakes, 'VENUE_NOT_FLAT'), 0).reason).toMatch(
      /after the fleet lease ended/,
    );
    state.flattening?.abort('the fleet lease was granted again');
    await runFor(rig.clock, 0);
    expect(at(eventsOfType(rig.fakes, 'VENUE_NOT_FLAT'), 1)).toMatchObject({
      reason:
        'kraken: governor stopped cancelling there (the fleet lease was granted again), not flat: 2 orders open at the last count',
      metadata: { final: true, ...causeFields },
    });
  });

  it('an operator restart ends every flatten, without a final event, and the SHUTDOWN with it', async () => {
    const rig = setup((clock) => [
      new FakeVenue({ name: 'kraken', clock, openOrders: 2 }),
      new FakeVenue({ name: 'binance', clock, openOrders: 5 }),
    ]);
    for (const venue of rig.venues) venue.cancelBehaviour = 'refuse';
    for (const state of rig.states) rig.flatten.start(state, SHUTDOWN_CAUSE);
    await runFor(rig.clock, 6_000);
    rig.flatten.onRestart();
    expect(rig.flatten.inShutdown).toBe(false);
    expect(rig.states.map((state) => [state.flattening, state.notFlatAlertId])).toEqual([
      [null, null],
      [null, null],
    ]);
    const calls = rig.venues.map((venue) => venue.calls.length);
    const events = rig.fakes.events.length;
    await runFor(rig.clock, 10_000);
    expect(rig.venues.map((venue) => venue.calls.length)).toEqual(calls);
    expect(rig.fakes.events).toHaveLength(events);
  });

  it('a new start at a venue ends the flatten already running there', async () => {
    const rig = setup((clock) => [new FakeVenue({ name: 'kraken', clock, openOrders: 2 })]);
    const state = at(rig.states, 0);
    at(rig.venues, 0).cancelBehaviour = 'refuse';
    rig.flatten.start(state, SHUTDOWN_CAUSE);
    await runFor(rig.clock, 6_000);
    const first = state.flattening;
    const second: VenueCancelCause = { kind: 'shutdown', latch: { ...LATCH, reason: 'again' } };
    rig.flatten.start(state, second);
    expect(first?.signal.aborted).toBe(true);
    expect(state).toMatchObject({ notFlatAlertId: null, cancelCause: second });
    await runFor(rig.clock, 1_000);
    // Rounds of one flatten only: 100 ms after its first cancel, its second.
    const recent = cancelInstants(at(rig.venues, 0)).filter((instant) => instant >= 6_000);
    expect(recent).toEqual([6_000, 6_100, 6_300, 6_700]);
    rig.flatten.stop(state, 'close');
  });

  it('a closed guard records nothing; a failed write is logged and the cancels go on', async () => {
    const closed = setup((clock) => [new FakeVenue({ name: 'kraken', clock, openOrders: 2 })]);
    closed.closed = true;
    closed.flatten.start(at(closed.states, 0), SHUTDOWN_CAUSE);
    await runFor(closed.clock, 1_000);
    expect(closed.fakes.events).toEqual([]);
    expect(closed.fakes.writes).toEqual([]);

    const failing = setup((clock) => [new FakeVenue({ name: 'kraken', clock, openOrders: 2 })]);
    failing.fakes.failWrites = true;
    failing.flatten.start(at(failing.states, 0), SHUTDOWN_CAUSE);
    await runFor(failing.clock, 1_000);
    expect(at(failing.venues, 0).openOrders).toBe(0);
    expect(at(failing.states, 0).flat).toBe(true);
    expect(failing.fakes.logged.map((line) => line.message)).toEqual([
      'venue event could not be written',
      'venue record could not be written',
      'venue record could not be written',
      'venue record could not be written',
      'venue event could not be written',
    ]);
  });
});
