/**
 * CAPITAL: every pool's total equals the sum of its accounts, exactly (the store's
 * `reconcile()`); no account of a missing pool; every amount a non-negative integer of minor
 * units. Small tables: checked whole on every run.
 */
import { checkTimestamp } from '../../validation.js';
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
  kind: 'ORPHAN_ACCOUNT' | 'INVALID_AMOUNT' | 'DAMAGED_RECORD',
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
    // A record whose fields no governor write could have produced (bytes changed on disk): the
    // balances may be fine, but the row is not what governor wrote, so capital is not trusted.
    const records = db
      .prepare<[], { poolId: unknown; accountId: unknown; currency: unknown; createdAt: unknown }>(
        `SELECT pool_id AS poolId, NULL AS accountId, currency, created_at AS createdAt
           FROM capital_pools
         UNION ALL
         SELECT pool_id, account_id, NULL, created_at FROM capital_accounts`,
      )
      .all();
    for (const r of records) {
      const damage = damagedField(r);
      if (damage === null) continue;
      const poolId = String(r.poolId);
      const accountId = r.accountId === null ? null : String(r.accountId);
      const subject = accountId === null ? `pool ${poolId}` : `account ${accountId}`;
      findings.add(
        structureViolation('DAMAGED_RECORD', poolId, accountId, `${subject}: ${damage}`),
      );
    }
    return findings.items;
  });
}

/** Control characters never pass governor's identifier and text checks. */
function hasControlCharacter(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** Why a capital row's text fields cannot be governor's writing, or null when they can. */
function damagedField(record: {
  poolId: unknown;
  accountId: unknown;
  currency: unknown;
  createdAt: unknown;
}): string | null {
  for (const [name, value] of [
    ['pool id', record.poolId],
    ['account id', record.accountId],
    ['currency', record.currency],
  ] as const) {
    if (value === null && name !== 'pool id') continue;
    if (typeof value !== 'string' || value.length === 0 || hasControlCharacter(value)) {
      return `${name} is not text governor could have written`;
    }
  }
  try {
    checkTimestamp('created_at', record.createdAt);
  } catch {
    return 'created_at is not an ISO-8601 timestamp';
  }
  return null;
}

export const capitalCheck: TableCheck = {
  name: 'CAPITAL',
  scan(run) {
    return { violations: [...mismatches(run), ...structure(run)], dropped: 0, resumeAt: 0 };
  },
};
