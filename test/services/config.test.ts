/**
 * Goal: resolveThresholds either returns thresholds that keep every documented relationship,
 * or throws GOV_INVALID_CONFIG naming a key the caller set — for any override object, values
 * of any JS type included (a bigint used to escape as a raw TypeError from JSON.stringify) —
 * and a broken relationship names the key the caller set, not its default partner.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_THRESHOLDS,
  RENAMED_THRESHOLDS,
  resolveThresholds,
  THRESHOLD_RANGES,
  type Thresholds,
} from '../../services/config.js';
import { GovernorError, isGovernorError } from '../../services/errors.js';

const KEYS = Object.keys(THRESHOLD_RANGES) as Array<keyof Thresholds>;

/** docs/api.md, "Relationships asserted at start": [smaller, larger, strict]. */
const DOCUMENTED_RELATIONSHIPS: Array<[keyof Thresholds, keyof Thresholds, boolean]> = [
  ['heartbeatIntervalMs', 'heartbeatLossMs', true],
  ['heartbeatIntervalMs', 'eventLogUnhealthyAfterMs', true],
  ['marketDataUnhealthyAfterMs', 'marketDataShutdownAfterMs', false],
  ['eventLogUnhealthyAfterMs', 'eventLogShutdownAfterMs', false],
  ['adapterPingTimeoutMs', 'startupChecksTimeoutMs', true],
];

function refusal(run: () => unknown): GovernorError {
  try {
    run();
  } catch (error) {
    if (isGovernorError(error, 'GOV_INVALID_CONFIG')) return error;
    throw error;
  }
  throw new Error('expected GOV_INVALID_CONFIG');
}

/** Any JS value, the awkward ones weighted up. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything({
    withBigInt: true,
    withBoxedValues: true,
    withMap: true,
    withSet: true,
    withDate: true,
    withNullPrototype: true,
    withTypedArray: true,
    withSparseArray: true,
  }),
  fc.bigInt(),
  fc.double(),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 1.5),
  fc.string({ maxLength: 10 }).map((description) => Symbol(description)),
  fc.constant(() => 1),
);

/** Mostly valid values, so that relationships are exercised, sometimes anything at all. */
function valueFor(key: keyof Thresholds): fc.Arbitrary<unknown> {
  const [min, max] = THRESHOLD_RANGES[key];
  return fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min, max }) },
    { weight: 2, arbitrary: fc.constantFrom(min, max, min - 1, max + 1, undefined) },
    { weight: 1, arbitrary: anyValue },
  );
}

const overridesArbitrary: fc.Arbitrary<Record<string | symbol, unknown>> = fc
  .tuple(
    fc.record(Object.fromEntries(KEYS.map((key) => [key, valueFor(key)])), { requiredKeys: [] }),
    fc.option(
      fc.dictionary(
        fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('toString', 'constructor')),
        anyValue,
        { maxKeys: 2 },
      ),
      { freq: 6 },
    ),
    fc.option(fc.string({ maxLength: 5 }), { freq: 10 }),
  )
  .map(([known, extra, symbolKey]) => {
    const overrides: Record<string | symbol, unknown> = { ...known, ...(extra ?? {}) };
    if (symbolKey !== null) overrides[Symbol(symbolKey)] = 1;
    return overrides;
  });

describe('resolveThresholds on arbitrary overrides', () => {
  it('returns thresholds keeping every relationship, or GOV_INVALID_CONFIG naming a key the caller set', () => {
    fc.assert(
      fc.property(overridesArbitrary, (overrides) => {
        const present = Reflect.ownKeys(overrides).map((key) => `thresholds.${String(key)}`);
        const set = KEYS.filter((key) => overrides[key] !== undefined).map(
          (k) => `thresholds.${k}`,
        );
        let thresholds: Thresholds;
        try {
          thresholds = resolveThresholds(overrides);
        } catch (error) {
          expect(error).toBeInstanceOf(GovernorError);
          const refused = error as GovernorError;
          expect(refused.code).toBe('GOV_INVALID_CONFIG');
          expect(present).toContain(refused.details.key);
          for (const key of (refused.details.keys as string[] | undefined) ?? []) {
            expect(set).toContain(key); // a relationship names only keys the caller set
          }
          expect(refused.message.startsWith(`GOV_INVALID_CONFIG: ${refused.details.key}`)).toBe(
            true,
          );
          return;
        }
        for (const key of KEYS) {
          const [min, max] = THRESHOLD_RANGES[key];
          expect(Number.isInteger(thresholds[key])).toBe(true);
          expect(thresholds[key]).toBeGreaterThanOrEqual(min);
          expect(thresholds[key]).toBeLessThanOrEqual(max);
          const given = overrides[key];
          expect(thresholds[key]).toBe(given === undefined ? DEFAULT_THRESHOLDS[key] : given);
        }
        for (const [smaller, larger, strict] of DOCUMENTED_RELATIONSHIPS) {
          if (strict) expect(thresholds[smaller]).toBeLessThan(thresholds[larger]);
          else expect(thresholds[smaller]).toBeLessThanOrEqual(thresholds[larger]);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('refuses a value of every non-integer JS type with GOV_INVALID_CONFIG naming the key', () => {
    const values: unknown[] = [
      10n,
      '30000',
      Number.NaN,
      Number.POSITIVE_INFINITY,
      1.5,
      null,
      true,
      {},
      [30_000],
      Symbol('30000'),
      () => 30_000,
      new Date(30_000),
      Object.assign(Object.create(null), { toJSON: 1 }),
      { toJSON: () => 10n },
    ];
    for (const value of values) {
      const error = refusal(() => resolveThresholds({ heartbeatIntervalMs: value }));
      expect(error.details.key).toBe('thresholds.heartbeatIntervalMs');
      expect(error.message).toMatch(/^GOV_INVALID_CONFIG: thresholds\.heartbeatIntervalMs: /);
    }
    expect(refusal(() => resolveThresholds({ heartbeatIntervalMs: 10n })).message).toContain(
      'got 10n (a bigint)',
    );
  });

  it('refuses unknown keys, inherited names and symbol keys instead of ignoring them', () => {
    expect(refusal(() => resolveThresholds({ toString: 5 })).details.key).toBe(
      'thresholds.toString',
    );
    expect(refusal(() => resolveThresholds({ [Symbol('x')]: 5 })).details.key).toBe(
      'thresholds.Symbol(x)',
    );
    const getter = Object.defineProperty({}, 'heartbeatIntervalMs', {
      enumerable: true,
      get: () => {
        throw new Error('boom');
      },
    });
    expect(refusal(() => resolveThresholds(getter)).details.key).toBe(
      'thresholds.heartbeatIntervalMs',
    );
  });
});

describe('a broken relationship names the key the caller set', () => {
  it('names marketDataUnhealthyAfterMs when only it was set above the default marketDataShutdownAfterMs', () => {
    const error = refusal(() => resolveThresholds({ marketDataUnhealthyAfterMs: 700_000 }));
    expect(error.details.key).toBe('thresholds.marketDataUnhealthyAfterMs');
    expect(error.message).toBe(
      'GOV_INVALID_CONFIG: thresholds.marketDataUnhealthyAfterMs: must be at most thresholds.marketDataShutdownAfterMs (600000, its default), got 700000',
    );
  });

  it('names marketDataShutdownAfterMs when only it was set below the default marketDataUnhealthyAfterMs', () => {
    const error = refusal(() => resolveThresholds({ marketDataShutdownAfterMs: 200_000 }));
    expect(error.details.key).toBe('thresholds.marketDataShutdownAfterMs');
    expect(error.message).toMatch(
      /^GOV_INVALID_CONFIG: thresholds\.marketDataShutdownAfterMs: must be at least/,
    );
  });

  it('names the changed one when both were set and one kept its default (the CLI passes every key)', () => {
    const error = refusal(() =>
      resolveThresholds({ ...DEFAULT_THRESHOLDS, heartbeatLossMs: 20_000 }),
    );
    expect(error.details.key).toBe('thresholds.heartbeatLossMs');
    expect(error.details.keys).toEqual(['thresholds.heartbeatLossMs']);
  });

  it('names both when both were set away from their defaults', () => {
    const error = refusal(() =>
      resolveThresholds({ adapterPingTimeoutMs: 9_000, startupChecksTimeoutMs: 8_000 }),
    );
    expect(error.details.keys).toEqual([
      'thresholds.adapterPingTimeoutMs',
      'thresholds.startupChecksTimeoutMs',
    ]);
    expect(error.message).toBe(
      'GOV_INVALID_CONFIG: thresholds.adapterPingTimeoutMs, thresholds.startupChecksTimeoutMs: must keep adapterPingTimeoutMs < startupChecksTimeoutMs, got 9000 vs 8000',
    );
  });
});

describe('renamed thresholds', () => {
  it('the old names are accepted and mean the new ones', () => {
    for (const [old, renamed] of Object.entries(RENAMED_THRESHOLDS)) {
      const value = DEFAULT_THRESHOLDS[renamed];
      expect(resolveThresholds({ [old]: value })[renamed]).toBe(value);
      expect(Object.keys(resolveThresholds({ [old]: value }))).not.toContain(old);
    }
    expect(resolveThresholds({ marketDataStallMs: 900_000 }).marketDataShutdownAfterMs).toBe(
      900_000,
    );
  });

  it('one threshold set under both names is refused, naming the second', () => {
    let thrown: unknown;
    try {
      resolveThresholds({ marketDataShutdownAfterMs: 900_000, marketDataStallMs: 800_000 });
    } catch (error) {
      thrown = error;
    }
    expect(isGovernorError(thrown, 'GOV_INVALID_CONFIG')).toBe(true);
    expect((thrown as GovernorError).message).toMatch(
      /thresholds\.marketDataStallMs: sets marketDataShutdownAfterMs a second time/,
    );
  });
});
