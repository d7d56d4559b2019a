/**
 * File structure, in full runs: SQLite's own check (`PRAGMA quick_check`: b-tree pages, cells,
 * free list, index shape) of every table and its indexes, or of every table but `events` (whose
 * rows the chain walk reads anyway; checking its large index costs as much as a fifth of a full
 * startup). One violation per damaged table, under the check of the table's data.
 */
import { describeError } from '../../../services/errors.js';
import type { IntegrityScan } from '../integrity-scan.js';
import type { IntegrityCheckName, IntegrityViolation } from '../violation.js';

/** quick_check lines about constraint values, not about the file's structure. */
const CONSTRAINT_FINDING = /^(CHECK constraint failed|NULL value in|NOT NULL)/;

/** The verifier check whose data a table holds (other tables count as system state). */
function checkOfTable(table: string): IntegrityCheckName {
  if (table === 'events' || table === 'database') return 'EVENT_LOG';
  if (table === 'snapshots') return 'SNAPSHOTS';
  if (table.startsWith('capital_')) return 'CAPITAL';
  if (table.startsWith('strateg')) return 'STRATEGIES';
  return 'SYSTEM_MODE';
}

function violation(table: string, detail: string): IntegrityViolation {
  return {
    check: checkOfTable(table),
    severity: 'CRITICAL',
    description: `database structure is corrupt (quick_check of ${table}): ${detail}`,
    location: { table, kind: 'STRUCTURE' },
    rootCause: 'the database file is damaged (disk, filesystem, or a byte-level edit)',
    recommendedAction:
      'Stop the process, keep the damaged file for analysis, restore the database from a backup and run `governor verify --full`.',
  };
}

/** One violation per damaged table (`database` for the whole file); a failed check is one too. */
export function structureViolations(
  scan: IntegrityScan,
  scope: 'all' | 'except-events',
  findingsMax: number,
): IntegrityViolation[] {
  return scan.read('integrity.structure', (db) => {
    const tables =
      scope === 'all'
        ? [null]
        : db
            .prepare<[], string>(
              "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'events' ORDER BY name",
            )
            .pluck()
            .all();
    const violations: IntegrityViolation[] = [];
    for (const table of tables) {
      if (violations.length >= findingsMax) break;
      const pragma =
        table === null ? `quick_check(${findingsMax})` : `quick_check(${JSON.stringify(table)})`;
      try {
        const rows = db.pragma(pragma, { simple: false }) as Array<{ quick_check: string }>;
        // Constraint findings (CHECK, NOT NULL) are left to the logical checks: not damage.
        const problems = rows
          .map((row) => row.quick_check)
          .filter((text) => text !== 'ok' && !CONSTRAINT_FINDING.test(text));
        if (problems.length > 0) {
          violations.push(violation(table ?? 'database', problems.slice(0, 3).join('; ')));
        }
      } catch (error) {
        violations.push(violation(table ?? 'database', describeError(error)));
      }
    }
    return violations;
  });
}
