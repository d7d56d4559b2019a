/**
 * The engine port: how an embedding engine writes its events, snapshots, capital and strategies.
 * Every write is validated by the store; a committed snapshot stamps the snapshot input of the
 * health monitor (and every committed event the event-log input: the store tells governor of
 * every append, whoever made it), so no engine forgets to report them. Writes inside
 * `transaction()` stamp once, when the outermost transaction commits.
 * governor's own tables and event types are not reachable through it. Every object the engine
 * passes is read once into a plain copy (persistence/plain-copy.ts) before anything checks it
 * (here for events, in the store for the rest): the reserved-type refusal and the store see the
 * same copy, so a getter or Proxy that answers differently on a second read is never read twice.
 */

import { EventLog, readEventInput } from '../../persistence/event-log.js';
import { isGovernorEventType } from '../../persistence/event-types.js';
import type {
  AccountRecord,
  AmountMinor,
  AppendedEvent,
  ChainHead,
  EventInput,
  PoolRecord,
  Reconciliation,
  SnapshotInput,
  StoredEvent,
  StoredSnapshot,
  StrategyRecord,
  StrategyState,
  StrategyTransitionRecord,
  WrittenSnapshot,
} from '../../persistence/index.js';
import { readArray } from '../../persistence/plain-copy.js';
import type { Store } from '../../persistence/store.js';
import { GovernorError } from '../errors.js';
import type { HealthMonitor } from '../health/health-monitor.js';

export interface EngineEvents {
  /** Appends one event (hash-chained) and stamps the event-log write on commit. */
  append(input: EventInput): AppendedEvent;
  /** Appends up to 10,000 events in one transaction. */
  appendBatch(inputs: readonly EventInput[]): AppendedEvent[];
  head(): ChainHead | null;
  count(): number;
  get(seq: number): StoredEvent | null;
  readPage(fromSeq: number, limit: number): StoredEvent[];
}

export interface EngineSnapshots {
  /** Writes the snapshot of a date (in date order, never overwritten); stamps the snapshot write. */
  write(input: SnapshotInput): WrittenSnapshot;
  get(date: string): StoredSnapshot | null;
  latest(): StoredSnapshot | null;
  range(fromDate: string, toDate: string): StoredSnapshot[];
}

export interface EngineCapital {
  createPool(poolId: string, options: { currency: string }): PoolRecord;
  createAccount(accountId: string, poolId: string): AccountRecord;
  deposit(accountId: string, amount: AmountMinor): AccountRecord;
  withdraw(accountId: string, amount: AmountMinor): AccountRecord;
  transfer(fromAccountId: string, toAccountId: string, amount: AmountMinor): unknown;
  balance(accountId: string): bigint;
  pool(poolId: string): PoolRecord | null;
  account(accountId: string): AccountRecord | null;
  listPools(): PoolRecord[];
  listAccounts(poolId?: string): AccountRecord[];
  reconcile(): Reconciliation;
}

export interface EngineStrategies {
  register(strategyId: string, initialState?: StrategyState): StrategyRecord;
  transition(strategyId: string, to: StrategyState, reason: string): StrategyRecord;
  get(strategyId: string): StrategyRecord | null;
  list(): StrategyRecord[];
  history(strategyId: string): StrategyTransitionRecord[];
}

export interface EnginePort {
  readonly events: EngineEvents;
  readonly snapshots: EngineSnapshots;
  readonly capital: EngineCapital;
  readonly strategies: EngineStrategies;
  /** Runs `fn` in one transaction: all its writes commit together or not at all. Synchronous. */
  transaction<T>(fn: () => T): T;
}

/** The plain copy of the caller's event, refused when it carries one of governor's own types. */
function engineEvent(value: unknown): EventInput {
  const input = readEventInput(value);
  if (isGovernorEventType(input.eventType)) {
    throw new GovernorError(
      'GOV_INVALID_ARGUMENT',
      `eventType ${input.eventType} is reserved for governor's own events (docs/schema.md); use a type of your engine's`,
      { field: 'eventType' },
    );
  }
  return input;
}

export function createEnginePort(store: Store, health: HealthMonitor): EnginePort {
  let depth = 0;
  let snapshotWritten = false;
  const committed = (): void => {
    if (depth > 0) return;
    if (snapshotWritten) health.updateSnapshotWriteTimestamp();
    snapshotWritten = false;
  };
  /** Runs one write; it counts as committed now, or when the outer transaction commits. */
  const write = <T>(fn: () => T, mark: () => void): T => {
    const result = store.transaction(fn);
    mark();
    committed();
    return result;
  };
  const events: EngineEvents = {
    append: (input) => store.events.append(engineEvent(input)),
    appendBatch: (inputs) =>
      store.events.appendBatch(
        readArray('inputs', inputs, EventLog.BATCH_SIZE_MAX).map(engineEvent),
      ),
    head: () => store.events.head(),
    count: () => store.events.count(),
    get: (seq) => store.events.get(seq),
    readPage: (fromSeq, limit) => store.events.readPage(fromSeq, limit),
  };
  const snapshots: EngineSnapshots = {
    write: (input) =>
      write(
        () => store.snapshots.write(input),
        () => {
          snapshotWritten = true;
        },
      ),
    get: (date) => store.snapshots.get(date),
    latest: () => store.snapshots.latest(),
    range: (fromDate, toDate) => store.snapshots.range(fromDate, toDate),
  };
  const capital = store.capital;
  const strategies = store.strategies;
  return {
    events,
    snapshots,
    capital: {
      createPool: (poolId, options) => capital.createPool(poolId, options),
      createAccount: (accountId, poolId) => capital.createAccount(accountId, poolId),
      deposit: (accountId, amount) => capital.deposit(accountId, amount),
      withdraw: (accountId, amount) => capital.withdraw(accountId, amount),
      transfer: (from, to, amount) => capital.transfer(from, to, amount),
      balance: (accountId) => capital.balance(accountId),
      pool: (poolId) => capital.pool(poolId),
      account: (accountId) => capital.account(accountId),
      listPools: () => capital.listPools(),
      listAccounts: (poolId) => capital.listAccounts(poolId),
      reconcile: () => capital.reconcile(),
    },
    strategies: {
      register: (strategyId, initialState) => strategies.register(strategyId, initialState),
      transition: (strategyId, to, reason) => strategies.transition(strategyId, to, reason),
      get: (strategyId) => strategies.get(strategyId),
      list: () => strategies.list(),
      history: (strategyId) => strategies.history(strategyId),
    },
    transaction: <T>(fn: () => T): T => {
      depth++;
      let result: T;
      try {
        result = store.transaction(fn);
      } catch (error) {
        depth--;
        if (depth === 0) snapshotWritten = false;
        throw error;
      }
      depth--;
      committed();
      return result;
    },
  };
}
