/**
 * Capital pools and their accounts, in integer minor units (bigint in the API, SQLite INTEGER on
 * disk, never floating point). Every move updates the accounts and their pool totals in one
 * transaction, so each pool's total equals the sum of its accounts; `reconcile()` proves it.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { GovernorError } from '../services/errors.js';
import type { Connection } from './connection.js';
import { readFields } from './plain-copy.js';
import { AMOUNT_MINOR_MAX, checkAmount, checkIdentifier } from './validation.js';

export interface PoolRecord {
  readonly poolId: string;
  readonly currency: string;
  readonly totalMinor: bigint;
  readonly createdAt: string;
}

export interface AccountRecord {
  readonly accountId: string;
  readonly poolId: string;
  readonly balanceMinor: bigint;
  readonly createdAt: string;
}

export interface PoolMismatch {
  readonly poolId: string;
  readonly totalMinor: bigint;
  readonly accountsSumMinor: bigint;
  /** totalMinor − accountsSumMinor. */
  readonly differenceMinor: bigint;
}

export interface Reconciliation {
  readonly ok: boolean;
  readonly mismatches: readonly PoolMismatch[];
}

/** A number of minor units: a bigint, or a number that is a safe integer. */
export type AmountMinor = bigint | number;

interface PoolRow {
  pool_id: string;
  currency: string;
  total_minor: bigint;
  created_at: string;
}

interface AccountRow {
  account_id: string;
  pool_id: string;
  balance_minor: bigint;
  created_at: string;
}

interface SumRow {
  pool_id: string;
  total_minor: bigint;
  accounts_sum: bigint;
}

const CURRENCY_PATTERN = /^[A-Z0-9]{2,16}$/;

const toPool = (row: PoolRow): PoolRecord => ({
  poolId: row.pool_id,
  currency: row.currency,
  totalMinor: row.total_minor,
  createdAt: row.created_at,
});

const toAccount = (row: AccountRow): AccountRecord => ({
  accountId: row.account_id,
  poolId: row.pool_id,
  balanceMinor: row.balance_minor,
  createdAt: row.created_at,
});

function checkCurrency(value: unknown): string {
  if (typeof value === 'string' && CURRENCY_PATTERN.test(value)) return value;
  throw new GovernorError(
    'GOV_INVALID_ARGUMENT',
    `Expected currency as 2–16 upper-case letters or digits (e.g. USD, USDT), got ${String(value)}`,
    { field: 'currency' },
  );
}

function checkSum(field: string, value: bigint): bigint {
  if (value > AMOUNT_MINOR_MAX) {
    throw new GovernorError(
      'GOV_INVALID_AMOUNT',
      `${field} would exceed ${AMOUNT_MINOR_MAX} minor units`,
      {
        field,
      },
    );
  }
  return value;
}

/** The capital tables. Obtain them as `store.capital`. */
/** A pool's total against the sum of its accounts (difference = total − sum). */
export interface PoolBalance {
  readonly poolId: string;
  readonly totalMinor: bigint;
  readonly accountsSumMinor: bigint;
  readonly differenceMinor: bigint;
}

function nonNegative(field: string, value: bigint): bigint {
  if (value < 0n || value > AMOUNT_MINOR_MAX) {
    throw new GovernorError(
      'GOV_INVALID_AMOUNT',
      `The correction would make the ${field} ${value} minor units (allowed 0 to ${AMOUNT_MINOR_MAX})`,
      { field, amountMinor: value.toString() },
    );
  }
  return value;
}

export class Capital {
  private readonly connection: Connection;
  private readonly statements: ReturnType<typeof prepareStatements>;

  constructor(connection: Connection) {
    this.connection = connection;
    this.statements = prepareStatements(connection.db);
  }

  createPool(poolId: string, options: { currency: string }): PoolRecord {
    checkIdentifier('poolId', poolId);
    const currency = checkCurrency(readFields('options', options, ['currency']).currency);
    return this.connection.write('capital.createPool', () => {
      if (this.statements.pool.get(poolId) !== undefined) {
        throw new GovernorError('GOV_DUPLICATE_POOL', `Pool ${poolId} already exists`, { poolId });
      }
      this.statements.insertPool.run(poolId, currency, this.connection.nowIso());
      return toPool(this.requirePool(poolId));
    });
  }

  createAccount(accountId: string, poolId: string): AccountRecord {
    checkIdentifier('accountId', accountId);
    checkIdentifier('poolId', poolId);
    return this.connection.write('capital.createAccount', () => {
      this.requirePool(poolId);
      if (this.statements.account.get(accountId) !== undefined) {
        throw new GovernorError('GOV_DUPLICATE_ACCOUNT', `Account ${accountId} already exists`, {
          accountId,
        });
      }
      this.statements.insertAccount.run(accountId, poolId, this.connection.nowIso());
      return toAccount(this.requireAccount(accountId));
    });
  }

  /** Adds `amount` to the account and to its pool's total. */
  deposit(accountId: string, amount: AmountMinor): AccountRecord {
    checkIdentifier('accountId', accountId);
    const amountMinor = checkAmount('amount', amount);
    return this.connection.write('capital.deposit', () => {
      const account = this.requireAccount(accountId);
      const pool = this.requirePool(account.pool_id);
      this.setBalance(account, checkSum('balance', account.balance_minor + amountMinor));
      this.setTotal(pool, checkSum('pool total', pool.total_minor + amountMinor));
      return toAccount(this.requireAccount(accountId));
    });
  }

  /** Takes `amount` from the account and from its pool's total; GOV_INSUFFICIENT_FUNDS if short. */
  withdraw(accountId: string, amount: AmountMinor): AccountRecord {
    checkIdentifier('accountId', accountId);
    const amountMinor = checkAmount('amount', amount);
    return this.connection.write('capital.withdraw', () => {
      const account = this.requireAccount(accountId);
      const pool = this.requirePool(account.pool_id);
      this.requireFunds(account, amountMinor);
      this.setBalance(account, account.balance_minor - amountMinor);
      this.setTotal(pool, pool.total_minor - amountMinor);
      return toAccount(this.requireAccount(accountId));
    });
  }

  /** Moves `amount` between two accounts (pools may differ, currencies may not). */
  transfer(
    fromAccountId: string,
    toAccountId: string,
    amount: AmountMinor,
  ): { from: AccountRecord; to: AccountRecord } {
    checkIdentifier('fromAccountId', fromAccountId);
    checkIdentifier('toAccountId', toAccountId);
    const amountMinor = checkAmount('amount', amount);
    if (fromAccountId === toAccountId) {
      throw new GovernorError('GOV_INVALID_ARGUMENT', 'A transfer needs two different accounts', {
        field: 'toAccountId',
      });
    }
    return this.connection.write('capital.transfer', () => {
      const from = this.requireAccount(fromAccountId);
      const to = this.requireAccount(toAccountId);
      const fromPool = this.requirePool(from.pool_id);
      const toPool = this.requirePool(to.pool_id);
      if (fromPool.currency !== toPool.currency) {
        throw new GovernorError(
          'GOV_CURRENCY_MISMATCH',
          `Pool ${fromPool.pool_id} holds ${fromPool.currency}, pool ${toPool.pool_id} holds ${toPool.currency}`,
          { fromPoolId: fromPool.pool_id, toPoolId: toPool.pool_id },
        );
      }
      this.requireFunds(from, amountMinor);
      const toBalance = checkSum('balance', to.balance_minor + amountMinor);
      this.setBalance(from, from.balance_minor - amountMinor);
      this.setBalance(to, toBalance);
      if (fromPool.pool_id !== toPool.pool_id) {
        const toTotal = checkSum('pool total', toPool.total_minor + amountMinor);
        this.setTotal(fromPool, fromPool.total_minor - amountMinor);
        this.setTotal(toPool, toTotal);
      }
      return {
        from: toAccount(this.requireAccount(fromAccountId)),
        to: toAccount(this.requireAccount(toAccountId)),
      };
    });
  }

  /**
   * An operator's correction of the records (only through the mode journal's audited path): moves
   * one account's balance, or with no account the pool's total, by `deltaMinor` (signed, not
   * zero), so that a pool whose total and accounts disagree can be reconciled. Returns the pool's
   * reconciliation before and after. GOV_INVALID_AMOUNT when a balance would go negative.
   */
  correct(
    poolId: string,
    accountId: string | null,
    deltaMinor: bigint,
  ): { before: PoolBalance; after: PoolBalance } {
    checkIdentifier('poolId', poolId);
    if (accountId !== null) checkIdentifier('accountId', accountId);
    if (typeof deltaMinor !== 'bigint' || deltaMinor === 0n) {
      throw new GovernorError('GOV_INVALID_AMOUNT', 'Expected a non-zero amount of minor units', {
        field: 'amount',
      });
    }
    return this.connection.write('capital.correct', () => {
      const pool = this.requirePool(poolId);
      const before = this.poolBalance(poolId);
      if (accountId === null) {
        this.setTotal(pool, nonNegative('pool total', pool.total_minor + deltaMinor));
      } else {
        const account = this.requireAccount(accountId);
        if (account.pool_id !== poolId) {
          throw new GovernorError(
            'GOV_INVALID_ARGUMENT',
            `Account ${accountId} belongs to pool ${account.pool_id}, not ${poolId}`,
            { field: 'accountId' },
          );
        }
        this.setBalance(account, nonNegative('balance', account.balance_minor + deltaMinor));
      }
      return { before, after: this.poolBalance(poolId) };
    });
  }

  /** A pool's total and the sum of its accounts, now (the caller may hold a transaction). */
  poolBalance(poolId: string): PoolBalance {
    checkIdentifier('poolId', poolId);
    return this.connection.read('capital.poolBalance', () => {
      const pool = this.requirePool(poolId);
      const accounts = this.statements.accountsOfPool.all(poolId);
      const accountsSumMinor = accounts.reduce((sum, row) => sum + row.balance_minor, 0n);
      return {
        poolId,
        totalMinor: pool.total_minor,
        accountsSumMinor,
        differenceMinor: pool.total_minor - accountsSumMinor,
      };
    });
  }

  /** The account's balance in minor units; GOV_UNKNOWN_ACCOUNT if there is no such account. */
  balance(accountId: string): bigint {
    checkIdentifier('accountId', accountId);
    return this.connection.read(
      'capital.balance',
      () => this.requireAccount(accountId).balance_minor,
    );
  }

  pool(poolId: string): PoolRecord | null {
    checkIdentifier('poolId', poolId);
    const row = this.connection.read('capital.pool', () => this.statements.pool.get(poolId));
    return row === undefined ? null : toPool(row);
  }

  account(accountId: string): AccountRecord | null {
    checkIdentifier('accountId', accountId);
    const row = this.connection.read('capital.account', () =>
      this.statements.account.get(accountId),
    );
    return row === undefined ? null : toAccount(row);
  }

  listPools(): PoolRecord[] {
    return this.connection
      .read('capital.listPools', () => this.statements.allPools.all())
      .map(toPool);
  }

  /** Every account, or those of one pool (GOV_UNKNOWN_POOL if it does not exist), by id. */
  listAccounts(poolId?: string): AccountRecord[] {
    if (poolId === undefined) {
      return this.connection
        .read('capital.listAccounts', () => this.statements.allAccounts.all())
        .map(toAccount);
    }
    checkIdentifier('poolId', poolId);
    return this.connection
      .read('capital.listAccounts', () => {
        this.requirePool(poolId);
        return this.statements.accountsOfPool.all(poolId);
      })
      .map(toAccount);
  }

  /** Compares each pool's total with the sum of its accounts, exactly, in one read snapshot. */
  reconcile(): Reconciliation {
    const rows = this.connection.read('capital.reconcile', () =>
      this.connection.db.transaction(() => this.poolSums())(),
    );
    const mismatches: PoolMismatch[] = [];
    for (const row of rows) {
      if (row.total_minor !== row.accounts_sum) {
        mismatches.push({
          poolId: row.pool_id,
          totalMinor: row.total_minor,
          accountsSumMinor: row.accounts_sum,
          differenceMinor: row.total_minor - row.accounts_sum,
        });
      }
    }
    return { ok: mismatches.length === 0, mismatches };
  }

  /** Per-pool sums in SQL; if a (corrupt) sum overflows int64, sums that pool in bigint instead. */
  private poolSums(): SumRow[] {
    try {
      return this.statements.poolSums.all();
    } catch (error) {
      if (!(error instanceof Error && /integer overflow/i.test(error.message))) throw error;
      return this.statements.allPools.all().map((pool) => {
        let sum = 0n;
        for (const balance of this.statements.balancesOfPool.iterate(pool.pool_id)) sum += balance;
        return { pool_id: pool.pool_id, total_minor: pool.total_minor, accounts_sum: sum };
      });
    }
  }

  private requirePool(poolId: string): PoolRow {
    const row = this.statements.pool.get(poolId);
    if (row === undefined)
      throw new GovernorError('GOV_UNKNOWN_POOL', `No pool ${poolId}`, { poolId });
    return row;
  }

  private requireAccount(accountId: string): AccountRow {
    const row = this.statements.account.get(accountId);
    if (row === undefined) {
      throw new GovernorError('GOV_UNKNOWN_ACCOUNT', `No account ${accountId}`, { accountId });
    }
    return row;
  }

  private requireFunds(account: AccountRow, amountMinor: bigint): void {
    if (account.balance_minor < amountMinor) {
      throw new GovernorError(
        'GOV_INSUFFICIENT_FUNDS',
        `Account ${account.account_id} holds ${account.balance_minor}, cannot move ${amountMinor} minor units`,
        {
          accountId: account.account_id,
          balanceMinor: account.balance_minor.toString(),
          amountMinor: amountMinor.toString(),
        },
      );
    }
  }

  private setBalance(account: AccountRow, balanceMinor: bigint): void {
    this.statements.updateBalance.run(balanceMinor, account.account_id);
  }

  private setTotal(pool: PoolRow, totalMinor: bigint): void {
    this.statements.updateTotal.run(totalMinor, pool.pool_id);
  }
}

function prepareStatements(db: BetterSqlite3.Database) {
  return {
    insertPool: db.prepare<[string, string, string]>(
      'INSERT INTO capital_pools (pool_id, currency, total_minor, created_at) VALUES (?, ?, 0, ?)',
    ),
    insertAccount: db.prepare<[string, string, string]>(
      'INSERT INTO capital_accounts (account_id, pool_id, balance_minor, created_at) VALUES (?, ?, 0, ?)',
    ),
    pool: db
      .prepare<[string], PoolRow>('SELECT * FROM capital_pools WHERE pool_id = ?')
      .safeIntegers(),
    account: db
      .prepare<[string], AccountRow>('SELECT * FROM capital_accounts WHERE account_id = ?')
      .safeIntegers(),
    allPools: db
      .prepare<[], PoolRow>('SELECT * FROM capital_pools ORDER BY pool_id')
      .safeIntegers(),
    allAccounts: db
      .prepare<[], AccountRow>('SELECT * FROM capital_accounts ORDER BY account_id')
      .safeIntegers(),
    accountsOfPool: db
      .prepare<[string], AccountRow>(
        'SELECT * FROM capital_accounts WHERE pool_id = ? ORDER BY account_id',
      )
      .safeIntegers(),
    balancesOfPool: db
      .prepare<[string], bigint>('SELECT balance_minor FROM capital_accounts WHERE pool_id = ?')
      .pluck()
      .safeIntegers(),
    updateBalance: db.prepare<[bigint, string]>(
      'UPDATE capital_accounts SET balance_minor = ? WHERE account_id = ?',
    ),
    updateTotal: db.prepare<[bigint, string]>(
      'UPDATE capital_pools SET total_minor = ? WHERE pool_id = ?',
    ),
    poolSums: db
      .prepare<[], SumRow>(
        `SELECT p.pool_id, p.total_minor,
                coalesce((SELECT sum(a.balance_minor) FROM capital_accounts a WHERE a.pool_id = p.pool_id), 0)
                  AS accounts_sum
           FROM capital_pools p ORDER BY p.pool_id`,
      )
      .safeIntegers(),
  };
}
