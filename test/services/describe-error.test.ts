/**
 * Goal: `describeError` says why, not only what: the causes under an error (undici's
 * `fetch failed` carries the real reason in `error.cause`) appear with their codes, so an
 * unreachable receiver is no longer logged as `failed: Error`; and it stays bounded.
 */
import { describe, expect, it } from 'vitest';
import { describeError, GovernorError } from '../../services/errors.js';

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('describeError names the causes (was `POST … failed: Error`)', () => {
  it("follows error.cause and adds a cause's code when its message does not say it", () => {
    const refused = withCode('connect ECONNREFUSED 127.0.0.1:9093', 'ECONNREFUSED');
    expect(describeError(new TypeError('fetch failed', { cause: refused }))).toBe(
      'fetch failed: connect ECONNREFUSED 127.0.0.1:9093',
    );
    expect(describeError(new TypeError('fetch failed', { cause: new Error('bad port') }))).toBe(
      'fetch failed: bad port',
    );
    expect(
      describeError(new Error('read failed', { cause: withCode('socket hang up', 'ECONNRESET') })),
    ).toBe('read failed: ECONNRESET socket hang up');
  });

  it("names an aggregate's errors and does not repeat a cause already in the message", () => {
    const aggregate = new AggregateError(
      [withCode('connect ECONNREFUSED ::1:9093', 'ECONNREFUSED'), withCode('', 'ETIMEDOUT')],
      '',
    );
    expect(describeError(new TypeError('fetch failed', { cause: aggregate }))).toBe(
      'fetch failed: (connect ECONNREFUSED ::1:9093, ETIMEDOUT)',
    );
    const wrapped = new GovernorError(
      'GOV_STORAGE_FAILURE',
      'write failed: disk I/O error',
      {},
      {
        cause: new Error('disk I/O error'),
      },
    );
    expect(describeError(wrapped)).toBe('GOV_STORAGE_FAILURE: write failed: disk I/O error');
  });

  it('is bounded: a cycle of causes, a long message, a value that is not an Error', () => {
    const first = new Error('first');
    const second = new Error('second', { cause: first });
    Object.assign(first, { cause: second });
    expect(describeError(first)).toBe('first: second');
    expect(describeError(new Error('x', { cause: new Error('y'.repeat(10_000)) })).length).toBe(
      2 + 1 + 256,
    );
    expect(describeError('plain text')).toBe('plain text');
    expect(describeError(new Error(''))).toBe('Error');
  });
});
