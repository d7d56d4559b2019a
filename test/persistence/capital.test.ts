/**
 * Goal: capital moves keep every pool total equal to the sum of its accounts, in exact integer
 * minor units; bad amounts and impossible moves are refused with their code and change nothing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AMOUNT_MINOR_MAX, Store } from '../../persistence/index.js';
import { dumpDatabase, expectGovernorError, rawConnection, tempDatabasePath } from './helpers.js';

function seeded(path = ':memory:'): Store {
  const store = Store.open(path);
  store.capital.createPool('main', { currency: 'USD' });
  store.capital.createPool('reserve', { currency: 'USD' });
  store.capital.createPool('crypto', { currency: 'BTC' });
  store.capital.createAccount('alpha', 'main');
  store.capital.createAccount('beta', 'main');
  store.capital.createAccount('vault', 'reserve');
  store.capital.createAccount('cold', 'crypto');
  store.capital.deposit('alpha', 10_000n);
  return store;
}

describe('capital', () => {
  it('deposits, withdraws and transfers in bigint minor units, within and across pools', () => {
    const store = seeded();
    expect(store.capital.deposit('beta', 250).balanceMinor).toBe(250n);
    expect(store.capital.withdraw('alpha', 1n).balanceMinor).toBe(9_999n);
    const moved = store.capital.transfer('alpha', 'vault', 999n);
    expect(moved.from.balanceMinor).toBe(9_000n);
    expect(moved.to.balanceMinor).toBe(999n);
    expect(store.capital.pool('main')?.totalMinor).toBe(9_250n);
    expect(store.capital.pool('reserve')?.totalMinor).toBe(999n);
    expect(store.capital.balance('alpha')).toBe(9_000n);
    expect(store.capital.listPools().map((pool) => pool.poolId)).toEqual([
      'crypto',
      'main',
      'reserve',
    ]);
    expect(store.capital.listAccounts('main').map((account) => account.accountId)).toEqual([
      'alpha',
      'beta',
    ]);
    expect(store.capital.listAccounts()).toHaveLength(4);
    expect(store.capital.reconcile()).toEqual({ ok: true, mismatches: [] });
    expect(store.capital.pool('nope')).toBeNull();
    expect(store.capital.account('nope')).toBeNull();
    store.close();
  });

  it('holds amounts up to 2^63 - 1 exactly', () => {
    const store = seeded();
    store.capital.deposit('vault', AMOUNT_MINOR_MAX);
    expect(store.capital.balance('vault')).toBe(AMOUNT_MINOR_MAX);
    expectGovernorError(() => store.capital.deposit('vault', 1n), 'GOV_INVALID_AMOUNT');
    store.close();
  });

  it('reports a raw-SQL drift of one minor unit exactly', () => {
    const path = tempDatabasePath();
    const store = seeded(path);
    const raw = rawConnection(path);
    raw
      .prepare(
        "UPDATE capital_accounts SET balance_minor = balance_minor + 1 WHERE account_id = 'alpha'",
      )
      .run();
    raw.close();
    expect(store.capital.reconcile()).toEqual({
      ok: false,
      mismatches: [
        { poolId: 'main', totalMinor: 10_000n, accountsSumMinor: 10_001n, differenceMinor: -1n },
      ],
    });
    store.close();
  });

  const refusals: Array<[string, (store: Store) => unknown, string]> = [
    ['NaN amount', (s) => s.capital.deposit('alpha', Number.NaN), 'GOV_INVALID_AMOUNT'],
    ['fractional amount', (s) => s.capital.deposit('alpha', 1.5), 'GOV_INVALID_AMOUNT'],
    ['negative amount', (s) => s.capital.withdraw('alpha', -1), 'GOV_INVALID_AMOUNT'],
    ['negative bigint', (s) => s.capital.deposit('alpha', -1n), 'GOV_INVALID_AMOUNT'],
    ['zero amount', (s) => s.capital.transfer('alpha', 'beta', 0), 'GOV_INVALID_AMOUNT'],
    ['unsafe number', (s) => s.capital.deposit('alpha', 2 ** 53), 'GOV_INVALID_AMOUNT'],
    ['Infinity', (s) => s.capital.deposit('alpha', Number.POSITIVE_INFINITY), 'GOV_INVALID_AMOUNT'],
    [
      'string amount',
      (s) => s.capital.deposit('alpha', '5' as unknown as number),
      'GOV_INVALID_AMOUNT',
    ],
    [
      'amount past int64',
      (s) => s.capital.deposit('alpha', AMOUNT_MINOR_MAX + 1n),
      'GOV_INVALID_AMOUNT',
    ],
    [
      'overflowing balance',
      (s) => s.capital.deposit('alpha', AMOUNT_MINOR_MAX),
      'GOV_INVALID_AMOUNT',
    ],
    ['insufficient funds', (s) => s.capital.withdraw('beta', 1), 'GOV_INSUFFICIENT_FUNDS'],
    [
      'transfer short',
      (s) => s.capital.transfer('alpha', 'beta', 10_001n),
      'GOV_INSUFFICIENT_FUNDS',
    ],
    ['unknown account', (s) => s.capital.deposit('ghost', 1), 'GOV_UNKNOWN_ACCOUNT'],
    [
      'unknown target account',
      (s) => s.capital.transfer('alpha', 'ghost', 1),
      'GOV_UNKNOWN_ACCOUNT',
    ],
    ['unknown pool', (s) => s.capital.createAccount('new', 'ghost'), 'GOV_UNKNOWN_POOL'],
    [
      'duplicate pool',
      (s) => s.capital.createPool('main', { currency: 'USD' }),
      'GOV_DUPLICATE_POOL',
    ],
    ['duplicate account', (s) => s.capital.createAccount('alpha', 'main'), 'GOV_DUPLICATE_ACCOUNT'],
    [
      'bad currency',
      (s) => s.capital.createPool('eur', { currency: 'eu' }),
      'GOV_INVALID_ARGUMENT',
    ],
    ['currency mismatch', (s) => s.capital.transfer('alpha', 'cold', 1), 'GOV_CURRENCY_MISMATCH'],
    ['self transfer', (s) => s.capital.transfer('alpha', 'alpha', 1), 'GOV_INVALID_ARGUMENT'],
    ['empty account id', (s) => s.capital.createAccount('', 'main'), 'GOV_INVALID_TEXT'],
    ['listing an unknown pool', (s) => s.capital.listAccounts('ghost'), 'GOV_UNKNOWN_POOL'],
    ['balance of an unknown account', (s) => s.capital.balance('ghost'), 'GOV_UNKNOWN_ACCOUNT'],
  ];

  it.each(refusals)('refuses %s and changes nothing', (_name, act, code) => {
    const path = tempDatabasePath();
    const store = seeded(path);
    const before = dumpDatabase(path);
    expectGovernorError(() => act(store), code as Parameters<typeof expectGovernorError>[1]);
    expect(dumpDatabase(path)).toBe(before);
    store.close();
  });
});

describe('capital properties', () => {
  const accounts = ['a1', 'a2', 'b1', 'b2', 'c1'] as const;
  const account = fc.constantFrom(...accounts);
  const amount = fc.oneof(
    fc.bigInt({ min: 1n, max: 10n ** 15n }),
    fc.integer({ min: 1, max: 1_000_000 }),
  );
  const operation = fc.oneof(
    fc.record({ kind: fc.constant('deposit' as const), account, amount }),
    fc.record({ kind: fc.constant('withdraw' as const), account, amount }),
    fc.record({ kind: fc.constant('transfer' as const), account, to: account, amount }),
  );

  it('any sequence of valid capital operations leaves reconcile() clean and balances exact', () => {
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 40 }), (operations) => {
        const store = Store.open(':memory:');
        for (const pool of ['a', 'b', 'c']) store.capital.createPool(pool, { currency: 'USD' });
        for (const id of accounts) store.capital.createAccount(id, id.slice(0, 1));
        const model = new Map<string, bigint>(accounts.map((id) => [id, 0n]));
        for (const op of operations) {
          const value = BigInt(op.amount);
          const balance = model.get(op.account) ?? 0n;
          if (op.kind === 'deposit') {
            store.capital.deposit(op.account, op.amount);
            model.set(op.account, balance + value);
          } else if (balance < value || (op.kind === 'transfer' && op.to === op.account)) {
          } else if (op.kind === 'withdraw') {
            store.capital.withdraw(op.account, op.amount);
            model.set(op.account, balance - value);
          } else {
            store.capital.transfer(op.account, op.to, op.amount);
            model.set(op.account, balance - value);
            model.set(op.to, (model.get(op.to) ?? 0n) + value);
          }
        }
        expect(store.capital.reconcile()).toEqual({ ok: true, mismatches: [] });
        for (const id of accounts) expect(store.capital.balance(id)).toBe(model.get(id));
        store.close();
      }),
      { numRuns: 100 },
    );
  });
});
