/**
 * SNAPSHOTS: one snapshot per date over every row; for the rows inserted since the last scan
 * (rowid order), insertion in date order and structure (date, written_at, JSON validity by
 * SQLite's json_valid, nothing parsed here). Order is judged by insertion, never by
 * `written_at`, which is wall-clock time and may step back when the clock is set back.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { checkDate, checkTimestamp } from '../../validation.js';
import { Findings, type IntegrityViolation } from '../violation.js';
import { type CheckRun, passes, type TableCheck } from './check.js';

type SnapshotFindingKind =
  | 'DUPLICATE_DATE'
  | 'OUT_OF_ORDER'
  | 'INVALID_DATE'
  | 'INVALID_WRITTEN_AT'
  | 'INVALID_DATA';

const ROOT_CAUSE: Readonly<Record<SnapshotFindingKind, string>> = {
  DUPLICATE_DATE:
    'two snapshots share a date: the snapshots table was rebuilt or written outside governor',
  OUT_OF_ORDER:
    'snapshot dates and write times disagree: snapshots were back-filled, reordered or edited',
  INVALID_DATE: 'a snapshot date is not a calendar date: edited outside governor',
  INVALID_WRITTEN_AT: 'a snapshot write time is not a timestamp: edited outside governor',
  INVALID_DATA: 'a snapshot document is not JSON: truncated or edited outside governor',
};

function violation(kind: SnapshotFindingKind, date: string, detail: string): IntegrityViolation {
  return {
    check: 'SNAPSHOTS',
    severity: 'CRITICAL',
    description: `snapshot ${date}: ${detail}`,
    location: { date, kind },
    rootCause: ROOT_CAUSE[kind],
    recommendedAction:
      'Restore the snapshots from a backup or re-derive them from the event log, then `governor resume --operator NAME --reason TEXT` (`governor restart --operator NAME --reason TEXT` when it is in SHUTDOWN).',
  };
}

/** Every date held by more than one row (one pass over the dates, in order). */
export function duplicateDates(
  db: BetterSqlite3.Database,
  findings: Findings<IntegrityViolation>,
): void {
  let previousDate: string | null = null;
  const ordered = db.prepare<[], [unknown]>('SELECT date FROM snapshots ORDER BY date').raw(true);
  for (const [dateValue] of ordered.iterate()) {
    const date = String(dateValue);
    if (previousDate === date) {
      findings.add(violation('DUPLICATE_DATE', date, `more than one snapshot for ${date}`));
    }
    previousDate = date;
  }
}

/** Where a scan of the rows in insertion order stands: the last rowid and the latest date. */
export interface SnapshotRowsPosition {
  readonly rowid: number;
  /** The latest date inserted up to `rowid` (undefined: not read yet; null: no row). */
  readonly latestDate: string | null | undefined;
}

/**
 * Order and structure of the rows after `from.rowid`, in rowid order, at most `rowsMax` of
 * them (the scrub reads them in slices). Returns where it stopped.
 */
export function snapshotRows(
  db: BetterSqlite3.Database,
  from: SnapshotRowsPosition,
  findings: Findings<IntegrityViolation>,
  rowsMax = Number.MAX_SAFE_INTEGER,
): SnapshotRowsPosition {
  let latestDate: unknown =
    from.latestDate !== undefined
      ? from.latestDate
      : db
          .prepare<[number], [unknown]>('SELECT max(date) FROM snapshots WHERE rowid <= ?')
          .raw(true)
          .get(from.rowid)?.[0];
  let lastRowid = from.rowid;
  const structure = db
    .prepare<[number, number], [number, unknown, unknown, number, string]>(
      'SELECT rowid, date, written_at, json_valid(data), typeof(data) FROM snapshots WHERE rowid > ? ORDER BY rowid LIMIT ?',
    )
    .raw(true);
  for (const [rowid, date, writtenAt, jsonValid, dataType] of structure.iterate(
    from.rowid,
    rowsMax,
  )) {
    lastRowid = rowid;
    const label = String(date);
    if (typeof latestDate === 'string' && label < latestDate) {
      findings.add(
        violation(
          'OUT_OF_ORDER',
          label,
          `snapshot ${label} was inserted after the snapshot of the later date ${latestDate}`,
        ),
      );
    }
    if (typeof latestDate !== 'string' || label > latestDate) latestDate = label;
    if (!passes(() => checkDate('date', date))) {
      findings.add(
        violation('INVALID_DATE', label, `date ${label.slice(0, 40)} is not YYYY-MM-DD`),
      );
    }
    if (!passes(() => checkTimestamp('written_at', writtenAt))) {
      findings.add(
        violation('INVALID_WRITTEN_AT', label, 'written_at is not an ISO-8601 UTC timestamp'),
      );
    }
    if (dataType !== 'text' || jsonValid !== 1) {
      findings.add(violation('INVALID_DATA', label, `data is not valid JSON (${dataType})`));
    }
  }
  return { rowid: lastRowid, latestDate: typeof latestDate === 'string' ? latestDate : null };
}

export const snapshotsCheck: TableCheck = {
  name: 'SNAPSHOTS',
  scan(run: CheckRun) {
    return run.store.integrityScan.read('integrity.snapshots', (db) => {
      const findings = new Findings<IntegrityViolation>(run.findingsMax);
      duplicateDates(db, findings);
      const end = snapshotRows(db, { rowid: run.resumeAfter, latestDate: undefined }, findings);
      return { violations: findings.items, dropped: findings.dropped, resumeAt: end.rowid };
    });
  },
};
