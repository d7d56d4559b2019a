/**
 * Goal: `checkVenues` (venue-checks.ts) on its own, with fake venues: every venue governor could
 * not act on is refused with GOV_INVALID_CONFIG naming its key (a list over VENUES_MAX, two
 * venues of one name, a missing method, switch settings outside 1 ms to a day or renewed no
 * sooner than they run out), without calling the venue; what it returns is read once and frozen.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../../services/clock.js';
import { GovernorError } from '../../../services/errors.js';
import { checkVenues, VENUES_MAX } from '../../../services/governor/venue-checks.js';
import { FakeVenue } from '../../support/fake-venue.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The refusal `checkVenues` throws, as code, details and message; null when it takes the list. */
function refusal(
  venues: unknown,
): { code: string; details: Record<string, unknown>; message: string } | null {
  try {
    checkVenues(venues);
  } catch (error) {
    if (!(error instanceof GovernorError)) throw error;
    return { code: error.code, details: { ...error.details }, message: error.message };
  }
  return null;
}

function fakes(count: number, clock = new SimulatedClock()): FakeVenue[] {
  return Array.from(
    { length: count },
    (_, index) => new FakeVenue({ name: `venue-${index}`, clock }),
  );
}

describe('checkVenues', () => {
  it(`takes up to ${VENUES_MAX} venues and refuses one more, naming the list`, () => {
    expect(checkVenues(fakes(VENUES_MAX))).toHaveLength(VENUES_MAX);
    expect(refusal(fakes(VENUES_MAX + 1))).toMatchObject({
      code: 'GOV_INVALID_CONFIG',
      details: { key: 'venues' },
    });
    expect(refusal({ 0: fakes(1)[0], length: 1 })?.details).toEqual({ key: 'venues' });
    expect(checkVenues(undefined)).toEqual([]);
  });

  it('refuses two venues of one name, naming the second, without calling either', () => {
    const clock = new SimulatedClock();
    const first = new FakeVenue({ name: 'kraken', clock });
    const second = new FakeVenue({ name: 'kraken', clock });
    expect(refusal([new FakeVenue({ name: 'binance', clock }), first, second])).toEqual({
      code: 'GOV_INVALID_CONFIG',
      details: { key: 'venues[2]' },
      message: expect.stringContaining('two venues are named kraken'),
    });
    expect([...first.calls, ...second.calls]).toEqual([]);
  });

  it.each(['cancelAllOrders', 'countOpenOrders'] as const)(
    'refuses a venue whose %s is missing or not a function',
    (method) => {
      const clock = new SimulatedClock();
      for (const replacement of [undefined, 'yes', {}]) {
        const venue = Object.assign(new FakeVenue({ name: 'kraken', clock }), {
          [method]: replacement,
        });
        expect(refusal([new FakeVenue({ name: 'ok', clock }), venue])).toEqual({
          code: 'GOV_INVALID_CONFIG',
          details: { key: 'venues[1]' },
          message: expect.stringContaining(`venues[1].${method}: expected a function`),
        });
      }
    },
  );

  it('refuses a switch method that is given but not a function', () => {
    const clock = new SimulatedClock();
    for (const method of ['armDeadMansSwitch', 'disarmDeadMansSwitch']) {
      const venue = Object.assign(new FakeVenue({ name: 'kraken', clock }), { [method]: 1 });
      expect(refusal([venue])).toMatchObject({
        code: 'GOV_INVALID_CONFIG',
        details: { key: 'venues[0]' },
      });
    }
  });

  it('switch timeouts: a whole number of ms from 1 to a day, the renewal shorter; refusals name the venue', () => {
    const clock = new SimulatedClock();
    const withSwitch = (timeoutMs: unknown, renewEveryMs: unknown) => [
      new FakeVenue({
        name: 'kraken',
        clock,
        deadMansSwitch: { timeoutMs, renewEveryMs } as never,
      }),
    ];
    const refused = {
      code: 'GOV_INVALID_CONFIG',
      details: { key: 'venues[0].deadMansSwitch', venue: 'kraken' },
    };
    expect(refusal(withSwitch(DAY_MS, DAY_MS - 1))).toBeNull();
    expect(refusal(withSwitch(2, 1))).toBeNull();
    for (const [timeoutMs, renewEveryMs] of [
      [DAY_MS + 1, 1_000],
      [60_000, 0],
      [0, 0],
      [60_000, -1],
      [60_000, 0.5],
      [Number.NaN, 1_000],
      [Number.POSITIVE_INFINITY, 1_000],
      [60_000, 60_000],
      [60_000, 60_001],
      [60_000, undefined],
    ]) {
      expect(
        refusal(withSwitch(timeoutMs, renewEveryMs)),
        `${timeoutMs}/${renewEveryMs}`,
      ).toMatchObject(refused);
    }
    expect(refusal(withSwitch(DAY_MS + 1, 1_000))?.message).toContain(`at most ${DAY_MS}`);
  });

  it('switch settings without a way to arm are refused; no settings then means no switch', () => {
    const clock = new SimulatedClock();
    const settings = { timeoutMs: 60_000, renewEveryMs: 20_000 };
    expect(
      refusal([
        new FakeVenue({
          name: 'kraken',
          clock,
          withoutDeadMansSwitch: true,
          deadMansSwitch: settings,
        }),
      ]),
    ).toMatchObject({ details: { key: 'venues[0].deadMansSwitch', venue: 'kraken' } });
    const [withArm, without, declined, own] = checkVenues([
      new FakeVenue({ name: 'a', clock }),
      new FakeVenue({ name: 'b', clock, withoutDeadMansSwitch: true }),
      new FakeVenue({ name: 'c', clock, deadMansSwitch: false }),
      new FakeVenue({ name: 'd', clock, deadMansSwitch: settings }),
    ]);
    expect(withArm?.deadMansSwitch).toBeUndefined();
    expect(without?.deadMansSwitch).toBe(false);
    expect(declined?.deadMansSwitch).toBe(false);
    expect(own?.deadMansSwitch).toEqual(settings);
  });

  it('refuses an inProcess that is not true or false, naming the field and the venue', () => {
    const clock = new SimulatedClock();
    const venue = Object.assign(new FakeVenue({ name: 'paper', clock }), { inProcess: 1 });
    expect(refusal([venue])).toMatchObject({
      code: 'GOV_INVALID_CONFIG',
      details: { key: 'venues[0].inProcess', venue: 'paper' },
    });
  });

  it('reads the settings once and returns a frozen copy, the venue itself untouched and uncalled', () => {
    const clock = new SimulatedClock();
    const venue = new FakeVenue({ name: 'kraken', clock, inProcess: true });
    let reads = 0;
    Object.defineProperty(venue, 'deadMansSwitch', {
      get: () => {
        reads += 1;
        return reads === 1
          ? { timeoutMs: 60_000, renewEveryMs: 20_000 }
          : { timeoutMs: 1, renewEveryMs: 1 };
      },
    });
    const checked = checkVenues([venue]);
    expect(reads).toBe(1);
    expect(checked[0]).toEqual({
      venue,
      deadMansSwitch: { timeoutMs: 60_000, renewEveryMs: 20_000 },
      inProcess: true,
    });
    expect(checked[0]?.venue).toBe(venue);
    expect(Object.isFrozen(checked)).toBe(true);
    expect(Object.isFrozen(checked[0])).toBe(true);
    expect(Object.isFrozen(checked[0]?.deadMansSwitch)).toBe(true);
    expect(venue.calls).toEqual([]);
  });
});
