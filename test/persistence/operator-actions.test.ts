/**
 * Goal: every operator action is recorded with who, what, why and when, newest first; an action
 * without an operator or a reason is refused and writes nothing.
 */
import { describe, expect, it } from 'vitest';
import { Store } from '../../persistence/index.js';
import { dumpDatabase, expectGovernorError, steppingClock, tempDatabasePath } from './helpers.js';

describe('operatorActions', () => {
  it('records and lists newest first, with the clock time by default', () => {
    const store = Store.open(':memory:', { clock: steppingClock() });
    const first = store.operatorActions.record({
      operator: 'alice',
      action: 'restart',
      reason: 'feed restored',
    });
    expect(first).toMatchObject({
      id: 1,
      operator: 'alice',
      action: 'restart',
      reason: 'feed restored',
    });
    expect(first.at).toMatch(/^2025-12-17T09:00:00/);
    store.operatorActions.record({
      operator: 'bob',
      action: 'observe',
      reason: 'news',
      at: '2025-12-18T00:00:00.000Z',
    });
    expect(store.operatorActions.list().map((a) => a.operator)).toEqual(['bob', 'alice']);
    expect(store.operatorActions.list(1)).toHaveLength(1);
    store.close();
  });

  const refusals: Array<[string, Record<string, unknown>, string]> = [
    [
      'an empty operator',
      { operator: '', action: 'restart', reason: 'r' },
      'GOV_OPERATOR_REQUIRED',
    ],
    [
      'a blank operator',
      { operator: '   ', action: 'restart', reason: 'r' },
      'GOV_OPERATOR_REQUIRED',
    ],
    ['a missing operator', { action: 'restart', reason: 'r' }, 'GOV_OPERATOR_REQUIRED'],
    [
      'an empty reason',
      { operator: 'alice', action: 'restart', reason: '' },
      'GOV_REASON_REQUIRED',
    ],
    [
      'a reason over 4 KiB',
      { operator: 'alice', action: 'restart', reason: 'x'.repeat(4097) },
      'GOV_REASON_REQUIRED',
    ],
    ['an empty action', { operator: 'alice', action: '', reason: 'r' }, 'GOV_INVALID_TEXT'],
    [
      'a bad time',
      { operator: 'alice', action: 'restart', reason: 'r', at: 'noon' },
      'GOV_INVALID_TIMESTAMP',
    ],
  ];

  it.each(refusals)('refuses %s and writes nothing', (_name, input, code) => {
    const path = tempDatabasePath();
    const store = Store.open(path);
    store.operatorActions.record({ operator: 'alice', action: 'restart', reason: 'first' });
    const before = dumpDatabase(path);
    expectGovernorError(
      () =>
        store.operatorActions.record(input as { operator: string; action: string; reason: string }),
      code as Parameters<typeof expectGovernorError>[1],
    );
    expect(dumpDatabase(path)).toBe(before);
    store.close();
  });
});
