/**
 * Goal: whether an error is a refusal is read from its entry in the error catalogue, nowhere
 * else: an operator request that ends in a code marked `refusal` is recorded `refused`, one
 * that ends in any other error `failed`.
 */
import { describe, expect, it } from 'vitest';
import {
  type CatalogueEntry,
  ERROR_CATALOGUE,
  type ErrorCode,
  GovernorError,
  isRefusal,
  isRefusalCode,
} from '../../services/errors.js';

describe('refusal is a property of the error catalogue', () => {
  it.each(Object.keys(ERROR_CATALOGUE) as ErrorCode[])(
    '%s: isRefusal follows its entry',
    (code) => {
      const entry: CatalogueEntry = ERROR_CATALOGUE[code];
      expect(isRefusal(new GovernorError(code, 'x'))).toBe(entry.refusal === true);
      expect(isRefusalCode(code)).toBe(entry.refusal === true);
    },
  );

  it('marks the state and request refusals, not storage failures', () => {
    expect(isRefusalCode('GOV_INVALID_OPERATOR_ACTION')).toBe(true);
    expect(isRefusalCode('GOV_RESTART_WOULD_TRIP')).toBe(true);
    expect(isRefusalCode('GOV_STORAGE_FAILURE')).toBe(false);
    expect(isRefusalCode('GOV_CLOSED')).toBe(false);
  });

  it('is never a refusal for an error that is not a GovernorError, whatever its code says', () => {
    const impostor = Object.assign(new Error('x'), { code: 'GOV_INVALID_OPERATOR_ACTION' });
    expect(isRefusal(impostor)).toBe(false);
    expect(isRefusal('GOV_INVALID_OPERATOR_ACTION')).toBe(false);
  });
});
