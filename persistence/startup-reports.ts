/**
 * The report of every CHECKING visit (lifecycle, visit, passed, the six results), one row per
 * visit, written beside its STARTUP_CHECKS_COMPLETED event. `latest()` is what status shows.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { GovernorError } from '../services/errors.js';
import type { Connection } from './connection.js';
import { checkIdentifier, LIMITS, parseStoredJson, serialiseJson } from './validation.js';

export interface StartupCheckRecord {
  readonly name: string;
  readonly passed: boolean;
  readonly details: string;
  readonly rootCause: string;
  readonly recommendedAction: string;
}

export interface StartupReportInput {
  readonly lifecycleId: string;
  readonly visit: number;
  readonly passed: boolean;
  readonly results: readonly StartupCheckRecord[];
}

export interface StoredStartupReport extends StartupReportInput {
  readonly id: number;
  /** ISO-8601 wall time at which the report was recorded. */
  readonly at: string;
}

interface ReportRow {
  id: number;
  lifecycle_id: string;
  visit: number;
  passed: number;
  results: string;
  at: string;
}

function toReport(row: ReportRow): StoredStartupReport {
  const results = parseStoredJson('startup_reports', row.id, row.results);
  if (!Array.isArray(results)) {
    throw new GovernorError(
      'GOV_CORRUPT_RECORD',
      `startup_reports ${row.id}: results is not a list`,
      {
        table: 'startup_reports',
        key: row.id,
      },
    );
  }
  return {
    id: row.id,
    lifecycleId: row.lifecycle_id,
    visit: row.visit,
    passed: row.passed === 1,
    results: results as StartupCheckRecord[],
    at: row.at,
  };
}

/** The `startup_reports` table. Obtain it as `store.startupReports`. */
export class StartupReports {
  private readonly connection: Connection;
  private readonly insertRow: BetterSqlite3.Statement<[string, number, number, string, string]>;
  private readonly selectLatest: BetterSqlite3.Statement<[number], ReportRow>;

  constructor(connection: Connection) {
    this.connection = connection;
    this.insertRow = connection.db.prepare(
      'INSERT INTO startup_reports (lifecycle_id, visit, passed, results, at) VALUES (?, ?, ?, ?, ?)',
    );
    this.selectLatest = connection.db.prepare(
      'SELECT * FROM startup_reports ORDER BY id DESC LIMIT ?',
    );
  }

  /** Records the report of one visit (in the caller's transaction, if any). */
  record(report: StartupReportInput): StoredStartupReport {
    if (typeof report !== 'object' || report === null) {
      throw new GovernorError('GOV_INVALID_ARGUMENT', 'Expected a startup report object', {
        field: 'report',
      });
    }
    const lifecycleId = checkIdentifier('lifecycleId', report.lifecycleId);
    if (!Number.isSafeInteger(report.visit) || report.visit < 1) {
      throw new GovernorError('GOV_INVALID_ARGUMENT', 'Expected visit to be an integer ≥ 1', {
        field: 'visit',
      });
    }
    if (typeof report.passed !== 'boolean' || !Array.isArray(report.results)) {
      throw new GovernorError(
        'GOV_INVALID_ARGUMENT',
        'Expected passed (boolean) and results (list)',
        {
          field: 'report',
        },
      );
    }
    const resultsText = serialiseJson('results', report.results, LIMITS.metadataBytesMax);
    return this.connection.write('startupReports.record', () => {
      const at = this.connection.nowIso();
      const { lastInsertRowid } = this.insertRow.run(
        lifecycleId,
        report.visit,
        report.passed ? 1 : 0,
        resultsText,
        at,
      );
      return {
        id: Number(lastInsertRowid),
        lifecycleId,
        visit: report.visit,
        passed: report.passed,
        results: [...report.results],
        at,
      };
    });
  }

  /** The most recently recorded report, or null if no visit was ever recorded. */
  latest(): StoredStartupReport | null {
    const row = this.connection.read('startupReports.latest', () => this.selectLatest.get(1));
    return row === undefined ? null : toReport(row);
  }
}
