/**
 * flattenVenues: every venue cancelled at once, confirmed by a count of 0, retried with bounded
 * backoff while a venue refuses, hangs or keeps orders; reported per venue; stopped by a signal.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../../services/clock.js';
import {
  FLATTEN_DEFAULTS,
  type FlattenEvent,
  type FlattenReport,
  flattenVenues,
} from '../../../services/venues/flatten.js';
import { FakeVenue } from '../../support/fake-venue.js';

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Moves the clock in steps of `stepMs`, letting promises settle between steps, until `done`. */
async function runUntil(
  clock: SimulatedClock,
  done: () => boolean,
  stepMs = 10,
  limitMs = 600_000,
): Promise<void> {
  await settle();
  for (let elapsed = 0; !done() && elapsed < limitMs; elapsed += stepMs) {
    clock.advance(stepMs);
    await settle();
  }
}

function start(
  venues: FakeVenue[],
  clock: SimulatedClock,
  extra: Partial<Parameters<typeof flattenVenues>[1]> = {},
): { events: FlattenEvent[]; report: () => FlattenReport | undefined } {
  const events: FlattenEvent[] = [];
  let report: FlattenReport | undefined;
  void flattenVenues(venues, { clock, onEvent: (event) => events.push(event), ...extra }).then(
    (value) => {
      report = value;
    },
  );
  return { events, report: () => report };
}

describe('flattenVenues', () => {
  it('sends cancelAllOrders to every venue before any answers, then confirms each flat', async () => {
    const clock = new SimulatedClock();
    const kraken = new FakeVenue({ name: 'kraken', clock, openOrders: 12, latencyMs: 40 });
    const binance = new FakeVenue({ name: 'binance', clock, openOrders: 3, latencyMs: 40 });
    const run = start([kraken, binance], clock);
    // Both cancels are out before the clock moves: no venue waits on another.
    expect(kraken.callsOf('cancelAllOrders')).toHaveLength(1);
    expect(binance.callsOf('cancelAllOrders')).toHaveLength(1);
    await runUntil(clock, () => run.report() !== undefined);
    const report = run.report();
    expect(report?.allFlat).toBe(true);
    expect(report?.venues.map((v) => [v.venue, v.flat, v.cancelledCount, v.flatAfterMs])).toEqual([
      ['kraken', true, 12, 80],
      ['binance', true, 3, 80],
    ]);
    expect(run.events.filter((e) => e.type === 'flat').map((e) => e.venue)).toEqual([
      'kraken',
      'binance',
    ]);
  });

  it('reports the cancelled count as unknown when the venue does not say it', async () => {
    const clock = new SimulatedClock();
    const venue = new FakeVenue({ name: 'v', clock, openOrders: 5, reportsCancelledCount: false });
    const run = start([venue], clock);
    await runUntil(clock, () => run.report() !== undefined);
    expect(run.report()?.venues[0]).toMatchObject({ flat: true, cancelledCount: undefined });
  });

  it('cancels again while orders remain, and reports not flat once past notFlatAfterMs', async () => {
    const clock = new SimulatedClock();
    const venue = new FakeVenue({ name: 'kraken', clock, openOrders: 3 });
    venue.cancelsIgnored = 1_000;
    const run = start([venue], clock, { notFlatAfterMs: 5_000 });
    await runUntil(clock, () => clock.monotonicNow() >= 20_000, 100);
    const notFlat = run.events.filter((e) => e.type === 'not-flat');
    expect(notFlat).toHaveLength(1);
    expect(notFlat[0]).toMatchObject({ venue: 'kraken', openOrders: 3 });
    expect(notFlat[0]?.type === 'not-flat' && notFlat[0].afterMs).toBeGreaterThanOrEqual(5_000);
    // Bounded backoff: rounds about every maxBackoffMs once it saturates, not a tight loop.
    const cancels = venue.callsOf('cancelAllOrders');
    expect(cancels.length).toBeGreaterThan(5);
    expect(cancels.length).toBeLessThan(20_000 / FLATTEN_DEFAULTS.maxBackoffMs + 8);
    // The venue then honours the cancel: the retries end flat.
    venue.cancelsIgnored = 0;
    await runUntil(clock, () => run.report() !== undefined, 100);
    expect(run.report()?.venues[0]).toMatchObject({ flat: true, openOrders: 0 });
  });

  it('retries a venue that refuses, and one that hangs, each call bounded by callTimeoutMs', async () => {
    const clock = new SimulatedClock();
    const refusing = new FakeVenue({ name: 'refusing', clock, openOrders: 2 });
    const hanging = new FakeVenue({ name: 'hanging', clock, openOrders: 4 });
    refusing.cancelBehaviour = 'refuse';
    hanging.cancelBehaviour = 'hang';
    const healthy = new FakeVenue({ name: 'healthy', clock, openOrders: 1 });
    const run = start([refusing, hanging, healthy], clock, { callTimeoutMs: 1_000 });
    await runUntil(clock, () => clock.monotonicNow() >= 30_000, 100);
    // The healthy venue was flat at once, whatever the others did.
    const healthyFlat = run.events.find((e) => e.type === 'flat' && e.venue === 'healthy');
    expect(healthyFlat?.type === 'flat' && healthyFlat.afterMs).toBe(0);
    expect(
      run.events.some(
        (e) => e.venue === 'refusing' && e.type === 'cancel' && e.outcome === 'error',
      ),
    ).toBe(true);
    expect(
      run.events.some(
        (e) => e.venue === 'hanging' && e.type === 'cancel' && e.outcome === 'timeout',
      ),
    ).toBe(true);
    // A hanging venue holds at most maxCallsInFlightPerVenue unanswered calls.
    expect(hanging.callsOf('cancelAllOrders').length).toBeLessThanOrEqual(
      FLATTEN_DEFAULTS.maxCallsInFlightPerVenue,
    );
    refusing.cancelBehaviour = 'answer';
    await runUntil(clock, () => refusing.openOrders === 0, 100);
    expect(run.report()).toBeUndefined();
    expect(refusing.openOrders).toBe(0);
  });

  it('stops every retry when the signal aborts, and reports what is left', async () => {
    const clock = new SimulatedClock();
    const venue = new FakeVenue({ name: 'kraken', clock, openOrders: 3 });
    venue.countBehaviour = 'hang';
    const controller = new AbortController();
    const run = start([venue], clock, { signal: controller.signal });
    await runUntil(clock, () => clock.monotonicNow() >= 500);
    controller.abort();
    await settle();
    expect(run.report()).toMatchObject({ allFlat: false, stopped: true });
    expect(run.report()?.venues[0]).toMatchObject({ venue: 'kraken', flat: false });
    const callsAtStop = venue.calls.length;
    clock.advance(60_000);
    await settle();
    expect(venue.calls.length).toBe(callsAtStop);
    expect(clock.pendingCount()).toBe(0);
  });

  it('gives up after stopAfterMs with the last count', async () => {
    const clock = new SimulatedClock();
    const venue = new FakeVenue({ name: 'kraken', clock, openOrders: 3 });
    venue.cancelsIgnored = 1_000;
    const run = start([venue], clock, { stopAfterMs: 5_000 });
    await runUntil(clock, () => run.report() !== undefined);
    expect(run.report()?.venues[0]).toMatchObject({ flat: false, openOrders: 3 });
    expect(run.report()?.venues[0]?.elapsedMs).toBe(5_000);
    expect(run.report()?.stopped).toBe(false);
  });

  it('resolves at once with no venues, and refuses two venues of one name', async () => {
    const clock = new SimulatedClock();
    await expect(flattenVenues([], { clock })).resolves.toMatchObject({ allFlat: true });
    const a = new FakeVenue({ name: 'same', clock });
    const b = new FakeVenue({ name: 'same', clock });
    await expect(flattenVenues([a, b], { clock })).rejects.toThrow(/GOV_INVALID_ARGUMENT/);
    await expect(flattenVenues([a], { clock, callTimeoutMs: 0 })).rejects.toThrow(/callTimeoutMs/);
  });

  it('a listener that throws does not end the flatten', async () => {
    const clock = new SimulatedClock();
    const venue = new FakeVenue({ name: 'v', clock, openOrders: 1 });
    const report = flattenVenues([venue], {
      clock,
      onEvent: () => {
        throw new Error('listener broke');
      },
    });
    await settle();
    await expect(report).resolves.toMatchObject({ allFlat: true });
  });
});
