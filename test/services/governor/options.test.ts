/**
 * Goal: services/governor/options.ts refuses every bad option before anything is opened, with
 * GOV_INVALID_CONFIG naming its key (a mode that is not one: GOV_INVALID_MODE), reads each
 * option once from the caller's object, and returns the values the assembly uses (mode,
 * thresholds, venues, poll period) with their defaults.
 */
import { describe, expect, it } from 'vitest';
import { isGovernorError } from '../../../services/errors.js';
import {
  checkOptions,
  checkPollMs,
  type GovernanceSystemOptions,
} from '../../../services/governor/options.js';

function refusal(options: unknown): { code: string; key: unknown; message: string } {
  try {
    checkOptions(options as GovernanceSystemOptions);
  } catch (error) {
    if (!isGovernorError(error)) throw error;
    return { code: error.code, key: error.details?.key, message: error.message };
  }
  throw new Error('expected a refusal');
}

describe('checkOptions', () => {
  it('gives the defaults: AGGRESSIVE, no venues, risk-reducing refused in SHUTDOWN, a 25 ms poll', () => {
    const checked = checkOptions({});
    expect(checked.configuredMode).toBe('AGGRESSIVE');
    expect(checked.venues).toEqual([]);
    expect(checked.allowRiskReducingInShutdown).toBe(false);
    expect(checked.pollMs).toBe(25);
    expect(checked.configuredThresholds.heartbeatLossMs).toBeGreaterThan(0);
  });

  it('refuses to switch the protections off', () => {
    expect(refusal({ enableProductionHardening: false })).toMatchObject({
      code: 'GOV_INVALID_CONFIG',
      message: expect.stringContaining('cannot be disabled'),
    });
  });

  it('refuses a non-boolean where a boolean is expected, naming the key', () => {
    for (const key of [
      'allowRiskReducingInShutdown',
      'handleProcessErrors',
      'latchUncaughtExceptions',
    ]) {
      expect(refusal({ [key]: 'yes' })).toMatchObject({ code: 'GOV_INVALID_CONFIG', key });
    }
  });

  it('refuses handleProcessErrors together with latchUncaughtExceptions: false', () => {
    expect(refusal({ handleProcessErrors: true, latchUncaughtExceptions: false })).toMatchObject({
      code: 'GOV_INVALID_CONFIG',
      key: 'latchUncaughtExceptions',
    });
  });

  it('refuses a desired mode that is not a mode (GOV_INVALID_MODE)', () => {
    expect(refusal({ desiredMode: 'SHUTDOWN' }).code).toBe('GOV_INVALID_MODE');
  });

  it('reads each option once from the caller object (a getter cannot answer twice)', () => {
    let reads = 0;
    const options = {
      get desiredMode(): 'AGGRESSIVE' | 'OBSERVE_ONLY' {
        reads += 1;
        return reads === 1 ? 'OBSERVE_ONLY' : 'AGGRESSIVE';
      },
    };
    expect(checkOptions(options).configuredMode).toBe('OBSERVE_ONLY');
    expect(reads).toBe(1);
  });
});

describe('checkPollMs', () => {
  it('keeps null (only on demand) and integers from 5 to 1000; refuses the rest', () => {
    expect(checkPollMs(null)).toBeNull();
    expect(checkPollMs(undefined)).toBe(25);
    expect(checkPollMs(5)).toBe(5);
    expect(checkPollMs(1_000)).toBe(1_000);
    for (const bad of [4, 1_001, 12.5, Number.NaN]) {
      expect(() => checkPollMs(bad)).toThrow(
        /operatorRequestPollMs: expected an integer from 5 to 1000/,
      );
    }
  });
});
