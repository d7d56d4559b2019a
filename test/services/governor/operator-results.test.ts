/**
 * Goal: a request's result read back from the database is parsed by a schema, field by field,
 * never cast: a well-formed result comes back equal (unknown fields dropped), and a malformed
 * one is refused with GOV_CORRUPT_RECORD naming the request and the field.
 */
import { describe, expect, it } from 'vitest';
import { isGovernorError } from '../../../services/errors.js';
import {
  parseCommandFailure,
  parseCommandResult,
  parseRecordedResult,
} from '../../../services/governor/operator-results.js';
import { expectGovernorError } from '../../persistence/helpers.js';

const STATE = {
  state: 'SHUTDOWN',
  gateOpen: false,
  cause: 'X',
  trigger: 'OPERATOR_KILL',
  reason: 'r',
};
const DONE = { ...STATE, handledBy: 'owner pid 1 on h' };

function corrupt(parse: () => unknown, field: string): void {
  expectGovernorError(parse, 'GOV_CORRUPT_RECORD');
  try {
    parse();
  } catch (error) {
    if (!isGovernorError(error)) throw error;
    expect(error.message).toContain('operator request 9');
    expect(error.details).toMatchObject({ table: 'operator_requests', id: 9 });
    expect(String(error.details.field)).toContain(field);
  }
}

describe('the result of a request carried out (CommandResult)', () => {
  it('a well-formed result comes back equal, extras included when its command carries them', () => {
    const restart = { ...DONE, settling: true, preflightThresholds: { source: 'owner' } };
    expect(parseCommandResult(9, restart, ['settling', 'preflightThresholds'])).toEqual(restart);
    const adjust = {
      ...DONE,
      correction: { before: { totalMinor: '1' }, after: { totalMinor: '2' }, reconciled: false },
    };
    expect(parseCommandResult(9, adjust, ['correction'])).toEqual(adjust);
    expect(parseCommandResult(9, { ...DONE, alert: null }, ['alert'])).toEqual({
      ...DONE,
      alert: null,
    });
  });

  it('drops fields the schema does not know', () => {
    expect(parseCommandResult(9, { ...DONE, latencyMs: 3 }, [])).toEqual(DONE);
  });

  it.each([
    ['not an object', 'text', 'result'],
    ['an array', [DONE], 'result'],
    ['null', null, 'result'],
    ['no state', { ...DONE, state: undefined }, 'state'],
    ['a state that does not exist', { ...DONE, state: 'FLYING' }, 'state'],
    ['a gate that is text', { ...DONE, gateOpen: 'yes' }, 'gateOpen'],
    ['a cause that is a number', { ...DONE, cause: 3 }, 'cause'],
    ['no handledBy', { ...STATE }, 'handledBy'],
    ['handledBy a number', { ...DONE, handledBy: 1 }, 'handledBy'],
    ['settling as text', { ...DONE, settling: 'true' }, 'settling'],
  ])('refuses %s', (_what, value, field) => {
    corrupt(() => parseCommandResult(9, value, ['settling']), field);
  });

  it('refuses an extra its command does not carry (an alert on a shutdown)', () => {
    corrupt(() => parseCommandResult(9, { ...DONE, alert: {} }, []), 'alert');
  });

  it.each([
    [
      'amounts as numbers',
      { before: { totalMinor: 1 }, after: {}, reconciled: true },
      'correction.before.totalMinor',
    ],
    ['no reconciled', { before: {}, after: {} }, 'correction.reconciled'],
    ['no after', { before: {}, reconciled: true }, 'correction.after'],
  ])('refuses a correction with %s', (_what, correction, field) => {
    corrupt(() => parseCommandResult(9, { ...DONE, correction }, ['correction']), field);
  });

  it.each([
    [{ source: 'elsewhere' }, 'preflightThresholds.source'],
    [{ source: 'recorded', pid: '7', host: 'h', recordedAt: 't' }, 'preflightThresholds'],
    [{ source: 'command', recorded: 'maybe' }, 'preflightThresholds.recorded'],
  ])('refuses thresholds of unknown origin %j', (origin, field) => {
    corrupt(
      () =>
        parseCommandResult(9, { ...DONE, preflightThresholds: origin }, ['preflightThresholds']),
      field,
    );
  });
});

describe('the result of a request refused or failed (CommandFailure)', () => {
  const PREFLIGHT = {
    ok: false,
    trips: [{ trigger: 'CAPITAL_INCONSISTENT', reason: 'pool p off by 1' }],
    warnings: ['heartbeat lost'],
    thresholds: { source: 'command', recorded: 'none' },
  };

  it('a refusal with its pre-flight and state comes back equal', () => {
    const refused = {
      code: 'GOV_RESTART_WOULD_TRIP',
      message: 'm',
      preflight: PREFLIGHT,
      ...STATE,
      handledBy: 'owner',
    };
    expect(parseCommandFailure(9, refused)).toEqual(refused);
  });

  it('a withdrawn request says only why', () => {
    expect(parseCommandFailure(9, { message: 'withdrawn' })).toEqual({ message: 'withdrawn' });
  });

  it.each([
    ['no message', { code: 'X' }, 'message'],
    ['a code that is a number', { code: 7, message: 'm' }, 'code'],
    [
      'trips that are not a list',
      { message: 'm', preflight: { ...PREFLIGHT, trips: 'x' } },
      'preflight.trips',
    ],
    [
      'a trip without a reason',
      { message: 'm', preflight: { ...PREFLIGHT, trips: [{ trigger: 'T' }] } },
      'preflight.trips[0]',
    ],
    [
      'warnings that are numbers',
      { message: 'm', preflight: { ...PREFLIGHT, warnings: [1] } },
      'preflight.warnings',
    ],
    ['a state without its gate', { message: 'm', state: 'SHUTDOWN' }, 'gateOpen'],
  ])('refuses %s', (_what, value, field) => {
    corrupt(() => parseCommandFailure(9, value), field);
  });
});

describe('parseRecordedResult, by the row status', () => {
  it('pending: no result; a pending row holding one is refused', () => {
    expect(parseRecordedResult({ id: 9, status: 'pending', result: null }, [])).toBeNull();
    corrupt(() => parseRecordedResult({ id: 9, status: 'pending', result: DONE }, []), 'result');
  });

  it('done: a CommandResult; refused and failed: a CommandFailure', () => {
    expect(parseRecordedResult({ id: 9, status: 'done', result: DONE }, [])).toEqual(DONE);
    for (const status of ['refused', 'failed']) {
      expect(parseRecordedResult({ id: 9, status, result: { message: 'm' } }, [])).toEqual({
        message: 'm',
      });
    }
    corrupt(
      () => parseRecordedResult({ id: 9, status: 'done', result: { message: 'm' } }, []),
      'state',
    );
  });
});
