/**
 * What an operator action may change in the authority record, inside its audit transaction:
 * the interface and its SQLite implementation over a `Store` (a capital correction writes its
 * CAPITAL_CORRECTED event with the balances before and after). The mode journal
 * (mode-journal.ts) hands it to `recordOperatorAction`'s `apply`.
 */
import type { LifecycleState, Mode } from '../machines/types.js';
import type { PoolBalance } from './capital.js';
import type { Store } from './store.js';

/** What an operator action may change in the record, inside its audit transaction. */
export interface AuthorityWrites {
  /** Corrects a pool's records by a signed amount (an account's balance, or the total). */
  correctCapital(
    poolId: string,
    accountId: string | null,
    deltaMinor: bigint,
  ): { before: PoolBalance; after: PoolBalance };
  setDesiredMode(mode: Mode): void;
  clearHold(): void;
  clearLatch(clearance: { operator: string; reason: string; at: string }): void;
  setLifecycle(state: LifecycleState, lifecycleId: string): void;
}

/** The writes over `store`; each runs in the caller's transaction. */
export function authorityWrites(store: Store): AuthorityWrites {
  return {
    correctCapital: (poolId, accountId, deltaMinor) => {
      const corrected = store.capital.correct(poolId, accountId, deltaMinor);
      store.events.append({
        eventType: 'CAPITAL_CORRECTED',
        reason: `pool ${poolId}${accountId === null ? ' total' : `, account ${accountId}`}: ${deltaMinor > 0n ? '+' : ''}${deltaMinor} minor units`,
        metadata: {
          poolId,
          accountId,
          deltaMinor: deltaMinor.toString(),
          before: balanceJson(corrected.before),
          after: balanceJson(corrected.after),
        },
      });
      return corrected;
    },
    setDesiredMode: (mode) => void store.systemState.setDesiredMode(mode),
    clearHold: () => void store.systemState.clearHold(),
    clearLatch: (clearance) => void store.systemState.clearLatch(clearance),
    setLifecycle: (state, lifecycleId) => void store.systemState.setLifecycle(state, lifecycleId),
  };
}

function balanceJson(balance: PoolBalance): Record<string, string> {
  return {
    totalMinor: balance.totalMinor.toString(),
    accountsSumMinor: balance.accountsSumMinor.toString(),
    differenceMinor: balance.differenceMinor.toString(),
  };
}
