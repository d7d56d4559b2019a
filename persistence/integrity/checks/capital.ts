/**
 * CAPITAL: every pool's total equals the sum of its accounts, exactly (the store's
 * `reconcile()`); no account of a missing pool; every amount a non-negative integer of minor
 * units. Small tables: checked whole on every run.
 */
import { Findings, type IntegrityViolation } from '../violation.js';
import type { CheckRun, TableCheck } from './check.js';

const RECONCILE =
  'Reconcile the pool against the exchange and the ledger; correct the records with `governor capital adjust --pool ID --account ID --amount MINOR --operator NAME --reason TEXT` (`--dry-run` shows the mismatch it resolves first); then `governor restart --operator NAME --reason TEXT`.';

function mismatches(run: CheckRun): IntegrityViolation[] {
  return run.store.capital.reconcile().mismatches.map((m) => ({
    check: 'CAPITAL',
    severity: 'CRITICAL',
    description: `pool ${m.poolId}: total ${m.totalMinor} but accounts sum to ${m.accountsSumMinor} (difference ${m.differenceMinor} minor units)`,
    location: { poolId: m.poolId },
    rootCause:
      'capital pool total and the sum of its accounts disagree: a write bypassed governor, or a partial update',
    recommendedAction: RECONCILE,
  }));
}

function structureViolation(
  kind: 'ORPHAN_ACCOUNT' | 'INVALID_AMOUNT',
  poolId: string,
  accountId: string | null,
  detail: string,
): IntegrityViolation {
  return {
    check: 'CAPITAL',
    severity: 'CRITICAL',
    description: `capital: ${detail}`,
    location: accountId === null ? { poolId, kind } : { poolId, accountId, kind },
    rootCause:
      'capital records were written outside governor (allocation to a missing pool, or an invalid amount)',
    recommendedAction: RECONCILE,
  };
}

/** Accounts whose pool does not exist; amounts that are not non-negative integers. */
function structure(run: CheckRun): IntegrityViolation[] {
  const max = run.findingsMax;
  return run.store.integrityScan.read('integrity.capital', (db) => {
    const findings = new Findings<IntegrityViolation>(max);
    const orphans = db
      .prepare<[number], { poolId: string; accountId: string }>(
        `SELECT a.pool_id AS poolId, a.account_id AS accountId FROM capital_accounts a
          LEFT JOIN capital_pools p ON p.pool_id = a.pool_id WHERE p.pool_id IS NULL LIMIT ?`,
      )
      .all(max);
    for (const o of orphans) {
      findings.add(
        structureViolation(
          'ORPHAN_ACCOUNT',
          o.poolId,
          o.accountId,
          `account ${o.accountId} belongs to missing pool ${o.poolId}`,
        ),
      );
    }
    const amounts = db
      .prepare<[number, number], { poolId: string; accountId: string | null; kind: string }>(
        `SELECT * FROM (SELECT pool_id AS poolId, NULL AS accountId, typeof(total_minor) AS kind
           FROM capital_pools WHERE typeof(total_minor) <> 'integer' OR total_minor < 0 LIMIT ?)
         UNION ALL
         SELECT * FROM (SELECT pool_id, account_id, typeof(balance_minor) FROM capital_accounts
          WHERE typeof(balance_minor) <> 'integer' OR balance_minor < 0 LIMIT ?)`,
      )
      .all(max, max);
    for (const a of amounts) {
      const subject =
        a.accountId === null ? `pool ${a.poolId} total` : `account ${a.accountId} balance`;
      findings.add(
        structureViolation(
          'INVALID_AMOUNT',
          a.poolId,
          a.accountId,
          `${subject} is not a non-negative integer of minor units (${a.kind})`,
        ),
      );
    }
    return findings.items;
  });
}

export const capitalCheck: TableCheck = {
  name: 'CAPITAL',
  scan(run) {
    return { violations: [...mismatches(run), ...structure(run)], dropped: 0, resumeAt: 0 };
  },
};
