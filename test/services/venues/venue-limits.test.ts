/**
 * Goal: the ccxt adapter refuses, at construction and with GOV_INVALID_CONFIG naming the key, a
 * dead man's switch the venue cannot honour: Kraken (whole seconds, 1..86400 s), OKX (10..120 s),
 * Hyperliquid (at least 5 s ahead; ccxt cannot disarm it), Bybit (disconnect-based, no timer),
 * an exchange without cancelAllOrdersAfter or with limits the adapter does not know; and a renewal
 * not shorter than the timeout anywhere. The exchanges are real ccxt clients (no network).
 */
import ccxt from 'ccxt';
import { describe, expect, it } from 'vitest';
import { type CcxtExchange, ccxtVenue } from '../../../ccxt.js';
import { isGovernorError } from '../../../services/errors.js';

function client(id: 'kraken' | 'okx' | 'hyperliquid' | 'bybit' | 'binance' | 'woo'): CcxtExchange {
  return new ccxt[id]();
}

function refusal(build: () => unknown): string {
  try {
    build();
  } catch (error) {
    expect(isGovernorError(error, 'GOV_INVALID_CONFIG')).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected GOV_INVALID_CONFIG, nothing was thrown');
}

describe('Kraken', () => {
  it("defaults to Kraken's recommendation: a 60 s countdown renewed every 20 s, disarmed by 0", () => {
    const venue = ccxtVenue(client('kraken'));
    expect(venue.deadMansSwitch).toEqual({ timeoutMs: 60_000, renewEveryMs: 20_000 });
    expect(venue.armDeadMansSwitch).toBeTypeOf('function');
    expect(venue.disarmDeadMansSwitch).toBeTypeOf('function');
  });

  it('accepts whole seconds up to 86400 s', () => {
    for (const timeoutMs of [2_000, 60_000, 86_400_000]) {
      const venue = ccxtVenue(client('kraken'), {
        deadMansSwitch: { timeoutMs, renewEveryMs: 1_000 },
      });
      expect(venue.deadMansSwitch).toEqual({ timeoutMs, renewEveryMs: 1_000 });
    }
  });

  it('refuses a timeout beyond 86400 s or below 1 s', () => {
    expect(
      refusal(() =>
        ccxtVenue(client('kraken'), {
          deadMansSwitch: { timeoutMs: 86_401_000, renewEveryMs: 20_000 },
        }),
      ),
    ).toContain('timeoutMs must be within 1000..86400000');
    expect(
      refusal(() =>
        ccxtVenue(client('kraken'), { deadMansSwitch: { timeoutMs: 500, renewEveryMs: 100 } }),
      ),
    ).toContain('timeoutMs must be within');
  });

  it('refuses a timeout that is not whole seconds (ccxt would round 1500 ms down to 1 s)', () => {
    expect(
      refusal(() =>
        ccxtVenue(client('kraken'), {
          deadMansSwitch: { timeoutMs: 61_500, renewEveryMs: 20_000 },
        }),
      ),
    ).toContain('whole multiple of 1000 ms');
  });

  it('refuses arming at run time with a timeout Kraken would read as 0 (disarm)', async () => {
    const venue = ccxtVenue(client('kraken'));
    await expect(venue.armDeadMansSwitch?.(999)).rejects.toThrow(/GOV_INVALID_CONFIG/);
  });
});

describe('OKX', () => {
  it('accepts 10 s to 120 s and refuses outside', () => {
    expect(
      ccxtVenue(client('okx'), { deadMansSwitch: { timeoutMs: 10_000, renewEveryMs: 3_000 } })
        .deadMansSwitch,
    ).toEqual({ timeoutMs: 10_000, renewEveryMs: 3_000 });
    expect(
      ccxtVenue(client('okx'), { deadMansSwitch: { timeoutMs: 120_000, renewEveryMs: 30_000 } })
        .deadMansSwitch,
    ).toEqual({ timeoutMs: 120_000, renewEveryMs: 30_000 });
    expect(
      refusal(() =>
        ccxtVenue(client('okx'), { deadMansSwitch: { timeoutMs: 9_000, renewEveryMs: 3_000 } }),
      ),
    ).toContain('10000..120000');
    expect(
      refusal(() =>
        ccxtVenue(client('okx'), { deadMansSwitch: { timeoutMs: 121_000, renewEveryMs: 3_000 } }),
      ),
    ).toContain('10000..120000');
  });
});

describe('Hyperliquid', () => {
  it('refuses a scheduled cancel less than 5 s ahead', () => {
    expect(
      refusal(() =>
        ccxtVenue(client('hyperliquid'), {
          deadMansSwitch: { timeoutMs: 4_999, renewEveryMs: 1_000 },
        }),
      ),
    ).toContain('5000..');
  });

  it('offers no disarm: ccxt would schedule a cancel now instead of clearing it', () => {
    const venue = ccxtVenue(client('hyperliquid'), {
      deadMansSwitch: { timeoutMs: 5_000, renewEveryMs: 2_000 },
    });
    expect(venue.armDeadMansSwitch).toBeTypeOf('function');
    expect(venue.disarmDeadMansSwitch).toBeUndefined();
  });
});

describe('Bybit', () => {
  it('refuses a timer-based dead man’s switch (its variant is disconnect-based)', () => {
    expect(
      refusal(() =>
        ccxtVenue(client('bybit'), { deadMansSwitch: { timeoutMs: 60_000, renewEveryMs: 20_000 } }),
      ),
    ).toContain('websocket session drops');
  });

  it('has none by default, and cancels and counts all the same', () => {
    const venue = ccxtVenue(client('bybit'));
    expect(venue.deadMansSwitch).toBe(false);
    expect(venue.armDeadMansSwitch).toBeUndefined();
  });
});

describe('any venue', () => {
  it('refuses a renewal that is not shorter than the timeout', () => {
    expect(
      refusal(() =>
        ccxtVenue(client('kraken'), {
          deadMansSwitch: { timeoutMs: 60_000, renewEveryMs: 60_000 },
        }),
      ),
    ).toContain('renewEveryMs (60000) must be shorter than timeoutMs (60000)');
    expect(
      refusal(() =>
        ccxtVenue(client('okx'), { deadMansSwitch: { timeoutMs: 30_000, renewEveryMs: 45_000 } }),
      ),
    ).toContain('must be shorter than timeoutMs');
  });

  it('refuses a renewal more often than once a second', () => {
    expect(
      refusal(() =>
        ccxtVenue(client('kraken'), { deadMansSwitch: { timeoutMs: 5_000, renewEveryMs: 500 } }),
      ),
    ).toContain('at least 1000 ms');
  });

  it('refuses a dead man’s switch at an exchange without cancelAllOrdersAfter', () => {
    expect(
      refusal(() =>
        ccxtVenue(client('binance'), {
          deadMansSwitch: { timeoutMs: 60_000, renewEveryMs: 20_000 },
        }),
      ),
    ).toContain('binance has no cancelAllOrdersAfter');
    expect(ccxtVenue(client('binance')).deadMansSwitch).toBe(false);
  });

  it('refuses one at an exchange whose countdown limits the adapter does not know', () => {
    expect(
      refusal(() =>
        ccxtVenue(client('woo'), { deadMansSwitch: { timeoutMs: 60_000, renewEveryMs: 20_000 } }),
      ),
    ).toContain('does not know the limits of woo');
  });

  it('refuses an empty name or an empty symbol list', () => {
    expect(refusal(() => ccxtVenue(client('kraken'), { name: ' ' }))).toContain('name');
    expect(refusal(() => ccxtVenue(client('kraken'), { symbols: [] }))).toContain('symbols');
  });
});
