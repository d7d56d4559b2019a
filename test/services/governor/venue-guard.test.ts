/**
 * Goal: `checkVenues` (defined in venue-checks.ts, re-exported by venue-guard.ts as tested here), the door every engine's venues pass:
 * it refuses with GOV_INVALID_CONFIG naming the venue's key everything governor could not act
 * on (a list over VENUES_MAX, a missing or unsafe or duplicate name, missing methods, switch
 * settings out of bounds, renewals not shorter than the timeout, settings without a way to arm),
 * and returns a frozen copy read once, so a list the engine changes later does not change what
 * governor cancels. (What the guard does on SHUTDOWN and with switches: venues.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { isGovernorError } from '../../../services/errors.js';
import { checkVenues, VENUES_MAX } from '../../../services/governor/venue-guard.js';

const DAY_MS = 24 * 60 * 60 * 1000;

function venue(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    cancelAllOrders: async () => 0,
    countOpenOrders: async () => 0,
    ...extra,
  };
}

const arm = { armDeadMansSwitch: async () => {} };

function refusal(venues: unknown): { code: string; key: unknown } | null {
  try {
    checkVenues(venues);
  } catch (error) {
    if (!isGovernorError(error))
      return { code: `not a GovernorError: ${String(error)}`, key: null };
    return { code: error.code, key: error.details.key };
  }
  return null;
}

describe('checkVenues', () => {
  it('no venues: an empty frozen list', () => {
    const checked = checkVenues(undefined);
    expect(checked).toEqual([]);
    expect(Object.isFrozen(checked)).toBe(true);
  });

  it(`at most ${VENUES_MAX} venues`, () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => venue(`v-${i}`));
    expect(refusal(many(VENUES_MAX))).toBeNull();
    expect(refusal(many(VENUES_MAX + 1))).toEqual({ code: 'GOV_INVALID_CONFIG', key: 'venues' });
    expect(refusal('kraken')).toEqual({ code: 'GOV_INVALID_CONFIG', key: 'venues' });
  });

  it.each([
    ['an empty name', venue('')],
    ['a blank name', venue('   ')],
    ['surrounding spaces', venue(' kraken')],
    ['a name of 65 characters', venue('k'.repeat(65))],
    ['a control character', venue('kra\u0007ken')],
    ['a line separator', venue('kra\u2028ken')],
    ['a lone surrogate', venue('kra\ud800ken')],
    ['no cancelAllOrders', { name: 'kraken', countOpenOrders: async () => 0 }],
    ['no countOpenOrders', { name: 'kraken', cancelAllOrders: async () => 0 }],
    ['a non-function arm', venue('kraken', { armDeadMansSwitch: true })],
    ['an inProcess that is not a boolean', venue('kraken', { inProcess: 'yes' })],
  ])('refuses %s, naming the venue', (_what, bad) => {
    const found = refusal([venue('first'), bad]);
    expect(found?.code).toBe('GOV_INVALID_CONFIG');
    expect(String(found?.key)).toMatch(/^venues\[1\]/);
  });

  it('a name of 64 characters is taken; two venues of one name are not', () => {
    expect(refusal([venue('k'.repeat(64))])).toBeNull();
    expect(refusal([venue('kraken'), venue('kraken')])).toEqual({
      code: 'GOV_INVALID_CONFIG',
      key: 'venues[1]',
    });
  });

  it("the dead man's switch: absent means governor's thresholds when it can arm, none when it cannot", () => {
    const [withArm, without, declined] = checkVenues([
      venue('a', arm),
      venue('b'),
      venue('c', { ...arm, deadMansSwitch: false }),
    ]);
    expect(withArm?.deadMansSwitch).toBeUndefined();
    expect(without?.deadMansSwitch).toBe(false);
    expect(declined?.deadMansSwitch).toBe(false);
  });

  it('switch settings: whole positive ms up to a day, renewals shorter than the timeout, a way to arm', () => {
    const settings = (timeoutMs: unknown, renewEveryMs: unknown, canArm = true) => [
      venue('kraken', { ...(canArm ? arm : {}), deadMansSwitch: { timeoutMs, renewEveryMs } }),
    ];
    const invalid = { code: 'GOV_INVALID_CONFIG', key: 'venues[0].deadMansSwitch' };
    expect(refusal(settings(60_000, 20_000))).toBeNull();
    expect(refusal(settings(DAY_MS, DAY_MS - 1))).toBeNull();
    expect(refusal(settings(DAY_MS + 1, 1_000))).toEqual(invalid);
    expect(refusal(settings(60_000, 0))).toEqual(invalid);
    expect(refusal(settings(60_000, 1.5))).toEqual(invalid);
    expect(refusal(settings('60000', 20_000))).toEqual(invalid);
    expect(refusal(settings(60_000, 60_000))).toEqual(invalid);
    expect(refusal(settings(60_000, 59_999))).toBeNull();
    expect(refusal(settings(60_000, 20_000, false))).toEqual(invalid);
    expect(refusal([venue('kraken', { ...arm, deadMansSwitch: 'on' })])).toEqual(invalid);
  });

  it('returns a frozen copy: a list or a venue changed later does not change it', () => {
    const list = [
      venue('a', { ...arm, deadMansSwitch: { timeoutMs: 60_000, renewEveryMs: 20_000 } }),
    ];
    const checked = checkVenues(list);
    list.push(venue('b'));
    const settings = (list[0] as { deadMansSwitch: { timeoutMs: number } }).deadMansSwitch;
    settings.timeoutMs = 1;
    expect(checked).toHaveLength(1);
    expect(Object.isFrozen(checked)).toBe(true);
    expect(Object.isFrozen(checked[0])).toBe(true);
    expect(checked[0]?.deadMansSwitch).toEqual({ timeoutMs: 60_000, renewEveryMs: 20_000 });
    expect(checked[0]?.inProcess).toBe(false);
  });
});
