/**
 * The strategy registry: each strategy is in one of `STRATEGY_STATES` and moves only along
 * `STRATEGY_TRANSITIONS`; every registration and move is recorded in `strategy_transitions`.
 * RETIRED is terminal.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { GovernorError } from '../services/errors.js';
import type { Connection } from './connection.js';
import { checkIdentifier, checkMember, checkText, LIMITS } from './validation.js';

export const STRATEGY_STATES = ['INACTIVE', 'ACTIVE', 'PAUSED', 'RETIRED'] as const;
export type StrategyState = (typeof STRATEGY_STATES)[number];

/** Allowed moves: from a state to the states listed. No self-moves; RETIRED goes nowhere. */
export const STRATEGY_TRANSITIONS: Readonly<Record<StrategyState, readonly StrategyState[]>> = {
  INACTIVE: ['ACTIVE', 'RETIRED'],
  ACTIVE: ['PAUSED', 'INACTIVE', 'RETIRED'],
  PAUSED: ['ACTIVE', 'INACTIVE', 'RETIRED'],
  RETIRED: [],
};

/** States a strategy may be registered in. */
export const STRATEGY_INITIAL_STATES: readonly StrategyState[] = ['INACTIVE', 'ACTIVE', 'PAUSED'];

export function isStrategyTransitionAllowed(from: StrategyState, to: StrategyState): boolean {
  return STRATEGY_TRANSITIONS[from].includes(to);
}

export interface StrategyRecord {
  readonly strategyId: string;
  readonly state: StrategyState;
  readonly registeredAt: string;
  readonly updatedAt: string;
}

export interface StrategyTransitionRecord {
  readonly id: number;
  readonly strategyId: string;
  /** null for the registration. */
  readonly fromState: StrategyState | null;
  readonly toState: StrategyState;
  readonly reason: string;
  readonly at: string;
}

interface StrategyRow {
  strategy_id: string;
  state: StrategyState;
  registered_at: string;
  updated_at: string;
}

interface TransitionRow {
  id: number;
  strategy_id: string;
  from_state: StrategyState | null;
  to_state: StrategyState;
  reason: string;
  at: string;
}

const toStrategy = (row: StrategyRow): StrategyRecord => ({
  strategyId: row.strategy_id,
  state: row.state,
  registeredAt: row.registered_at,
  updatedAt: row.updated_at,
});

const toTransition = (row: TransitionRow): StrategyTransitionRecord => ({
  id: row.id,
  strategyId: row.strategy_id,
  fromState: row.from_state,
  toState: row.to_state,
  reason: row.reason,
  at: row.at,
});

/** The `strategies` and `strategy_transitions` tables. Obtain them as `store.strategies`. */
export class Strategies {
  private readonly connection: Connection;
  private readonly insertStrategy: BetterSqlite3.Statement<[string, string, string, string]>;
  private readonly updateState: BetterSqlite3.Statement<[string, string, string]>;
  private readonly insertTransition: BetterSqlite3.Statement<
    [string, string | null, string, string, string]
  >;
  private readonly selectOne: BetterSqlite3.Statement<[string], StrategyRow>;
  private readonly selectAll: BetterSqlite3.Statement<[], StrategyRow>;
  private readonly selectHistory: BetterSqlite3.Statement<[string], TransitionRow>;

  constructor(connection: Connection) {
    this.connection = connection;
    const db = connection.db;
    this.insertStrategy = db.prepare(
      'INSERT INTO strategies (strategy_id, state, registered_at, updated_at) VALUES (?, ?, ?, ?)',
    );
    this.updateState = db.prepare(
      'UPDATE strategies SET state = ?, updated_at = ? WHERE strategy_id = ?',
    );
    this.insertTransition = db.prepare(
      'INSERT INTO strategy_transitions (strategy_id, from_state, to_state, reason, at) VALUES (?, ?, ?, ?, ?)',
    );
    this.selectOne = db.prepare('SELECT * FROM strategies WHERE strategy_id = ?');
    this.selectAll = db.prepare('SELECT * FROM strategies ORDER BY strategy_id');
    this.selectHistory = db.prepare(
      'SELECT * FROM strategy_transitions WHERE strategy_id = ? ORDER BY id',
    );
  }

  /** Registers a strategy in `initialState` (default INACTIVE; RETIRED is refused). */
  register(strategyId: string, initialState: StrategyState = 'INACTIVE'): StrategyRecord {
    checkIdentifier('strategyId', strategyId);
    const state = checkMember(
      'initialState',
      initialState,
      STRATEGY_INITIAL_STATES,
      'GOV_INVALID_STRATEGY_STATE',
    );
    return this.connection.write('strategies.register', () => {
      if (this.selectOne.get(strategyId) !== undefined) {
        throw new GovernorError(
          'GOV_DUPLICATE_STRATEGY',
          `Strategy ${strategyId} is already registered`,
          {
            strategyId,
          },
        );
      }
      const at = this.connection.nowIso();
      this.insertStrategy.run(strategyId, state, at, at);
      this.insertTransition.run(strategyId, null, state, 'registered', at);
      return { strategyId, state, registeredAt: at, updatedAt: at };
    });
  }

  /** Moves a strategy to `to` along an allowed transition, recording `reason`. */
  transition(strategyId: string, to: StrategyState, reason: string): StrategyRecord {
    checkIdentifier('strategyId', strategyId);
    const target = checkMember('to', to, STRATEGY_STATES, 'GOV_INVALID_STRATEGY_STATE');
    checkText('reason', reason, LIMITS.reasonBytesMax);
    return this.connection.write('strategies.transition', () => {
      const current = this.require(strategyId);
      if (!isStrategyTransitionAllowed(current.state, target)) {
        throw new GovernorError(
          'GOV_INVALID_STRATEGY_TRANSITION',
          `Strategy ${strategyId} cannot move from ${current.state} to ${target}`,
          {
            strategyId,
            from: current.state,
            to: target,
            allowed: [...STRATEGY_TRANSITIONS[current.state]],
          },
        );
      }
      const at = this.connection.nowIso();
      this.updateState.run(target, at, strategyId);
      this.insertTransition.run(strategyId, current.state, target, reason, at);
      return { strategyId, state: target, registeredAt: current.registered_at, updatedAt: at };
    });
  }

  get(strategyId: string): StrategyRecord | null {
    checkIdentifier('strategyId', strategyId);
    const row = this.connection.read('strategies.get', () => this.selectOne.get(strategyId));
    return row === undefined ? null : toStrategy(row);
  }

  list(): StrategyRecord[] {
    return this.connection.read('strategies.list', () => this.selectAll.all()).map(toStrategy);
  }

  /** Registration and every move of one strategy, oldest first (GOV_UNKNOWN_STRATEGY if none). */
  history(strategyId: string): StrategyTransitionRecord[] {
    checkIdentifier('strategyId', strategyId);
    return this.connection
      .read('strategies.history', () => {
        this.require(strategyId);
        return this.selectHistory.all(strategyId);
      })
      .map(toTransition);
  }

  private require(strategyId: string): StrategyRow {
    const row = this.selectOne.get(strategyId);
    if (row === undefined) {
      throw new GovernorError('GOV_UNKNOWN_STRATEGY', `No strategy ${strategyId}`, { strategyId });
    }
    return row;
  }
}
