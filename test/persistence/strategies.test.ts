/**
 * Goal: a strategy is always in one of the documented states and moves only along the
 * documented transitions, each recorded in its history; anything else is refused unchanged.
 */
import { describe, expect, it } from 'vitest';
import {
  isStrategyTransitionAllowed,
  STRATEGY_STATES,
  STRATEGY_TRANSITIONS,
  Store,
  type StrategyState,
} from '../../persistence/index.js';
import { dumpDatabase, expectGovernorError, steppingClock, tempDatabasePath } from './helpers.js';

describe('strategies', () => {
  it('registers, moves along allowed transitions and keeps the history', () => {
    const store = Store.open(':memory:', { clock: steppingClock() });
    expect(store.strategies.register('mean-reversion').state).toBe('INACTIVE');
    store.strategies.transition('mean-reversion', 'ACTIVE', 'backtest passed');
    store.strategies.transition('mean-reversion', 'PAUSED', 'regime mismatch');
    const retired = store.strategies.transition('mean-reversion', 'RETIRED', 'replaced');
    expect(retired.state).toBe('RETIRED');
    expect(store.strategies.get('mean-reversion')?.state).toBe('RETIRED');
    expect(
      store.strategies.history('mean-reversion').map((t) => [t.fromState, t.toState, t.reason]),
    ).toEqual([
      [null, 'INACTIVE', 'registered'],
      ['INACTIVE', 'ACTIVE', 'backtest passed'],
      ['ACTIVE', 'PAUSED', 'regime mismatch'],
      ['PAUSED', 'RETIRED', 'replaced'],
    ]);
    store.strategies.register('breakout', 'ACTIVE');
    expect(store.strategies.list().map((s) => [s.strategyId, s.state])).toEqual([
      ['breakout', 'ACTIVE'],
      ['mean-reversion', 'RETIRED'],
    ]);
    expect(store.strategies.get('ghost')).toBeNull();
    store.close();
  });

  it('allows exactly the transitions in the table (every pair checked)', () => {
    for (const from of STRATEGY_STATES) {
      for (const to of STRATEGY_STATES) {
        const store = Store.open(':memory:');
        if (from === 'RETIRED') {
          store.strategies.register('s', 'INACTIVE');
          store.strategies.transition('s', 'RETIRED', 'setup');
        } else {
          store.strategies.register('s', from);
        }
        const allowed = STRATEGY_TRANSITIONS[from].includes(to);
        expect(isStrategyTransitionAllowed(from, to)).toBe(allowed);
        if (allowed) expect(store.strategies.transition('s', to, 'test').state).toBe(to);
        else
          expectGovernorError(
            () => store.strategies.transition('s', to, 'test'),
            'GOV_INVALID_STRATEGY_TRANSITION',
          );
        store.close();
      }
    }
    expect(STRATEGY_TRANSITIONS.RETIRED).toEqual([]);
  });

  const refusals: Array<[string, (store: Store) => unknown, string]> = [
    [
      'an unknown state',
      (s) => s.strategies.transition('s', 'RUNNING' as StrategyState, 'r'),
      'GOV_INVALID_STRATEGY_STATE',
    ],
    [
      'registering as RETIRED',
      (s) => s.strategies.register('t', 'RETIRED'),
      'GOV_INVALID_STRATEGY_STATE',
    ],
    [
      'registering an unknown state',
      (s) => s.strategies.register('t', 'on' as StrategyState),
      'GOV_INVALID_STRATEGY_STATE',
    ],
    [
      'a self transition',
      (s) => s.strategies.transition('s', 'INACTIVE', 'r'),
      'GOV_INVALID_STRATEGY_TRANSITION',
    ],
    [
      'a skipped step',
      (s) => s.strategies.transition('s', 'PAUSED', 'r'),
      'GOV_INVALID_STRATEGY_TRANSITION',
    ],
    [
      'an unknown strategy',
      (s) => s.strategies.transition('ghost', 'ACTIVE', 'r'),
      'GOV_UNKNOWN_STRATEGY',
    ],
    ['a duplicate registration', (s) => s.strategies.register('s'), 'GOV_DUPLICATE_STRATEGY'],
    ['an empty reason', (s) => s.strategies.transition('s', 'ACTIVE', ''), 'GOV_INVALID_TEXT'],
    [
      'history of an unknown strategy',
      (s) => s.strategies.history('ghost'),
      'GOV_UNKNOWN_STRATEGY',
    ],
  ];

  it.each(refusals)('refuses %s and writes nothing', (_name, act, code) => {
    const path = tempDatabasePath();
    const store = Store.open(path);
    store.strategies.register('s');
    const before = dumpDatabase(path);
    expectGovernorError(() => act(store), code as Parameters<typeof expectGovernorError>[1]);
    expect(dumpDatabase(path)).toBe(before);
    store.close();
  });
});
