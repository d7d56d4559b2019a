/**
 * Daily snapshots: one JSON document per calendar date (YYYY-MM-DD). A second write for a date
 * is refused with GOV_DUPLICATE_SNAPSHOT, never an overwrite.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { GovernorError } from '../services/errors.js';
import type { Connection } from './connection.js';
import { readFields } from './plain-copy.js';
import { checkDate, LIMITS, parseStoredJson, serialiseJson } from './validation.js';

export interface SnapshotInput {
  /** Calendar date, YYYY-MM-DD. */
  readonly date: string;
  /** Any plain JSON value, at most 4 MiB as JSON. */
  readonly data: unknown;
}

export interface WrittenSnapshot {
  readonly date: string;
  readonly writtenAt: string;
}

export interface StoredSnapshot {
  readonly date: string;
  readonly data: unknown;
  readonly writtenAt: string;
}

interface SnapshotRow {
  date: string;
  data: string;
  written_at: string;
}

const PAGE_SIZE = 64;

function toStoredSnapshot(row: SnapshotRow): StoredSnapshot {
  return {
    date: row.date,
    data: parseStoredJson('snapshots', row.date, row.data),
    writtenAt: row.written_at,
  };
}

/** The `snapshots` table. Obtain it as `store.snapshots`. */
export class Snapshots {
  private readonly connection: Connection;
  private readonly insertRow: BetterSqlite3.Statement<[string, string, string]>;
  private readonly selectByDate: BetterSqlite3.Statement<[string], SnapshotRow>;
  private readonly selectLatest: BetterSqlite3.Statement<[], SnapshotRow>;
  private readonly selectRange: BetterSqlite3.Statement<[string, string], SnapshotRow>;
  private readonly selectPageAfter: BetterSqlite3.Statement<[string, number], SnapshotRow>;
  private readonly selectCount: BetterSqlite3.Statement<[], number>;

  constructor(connection: Connection) {
    this.connection = connection;
    const db = connection.db;
    this.insertRow = db.prepare('INSERT INTO snapshots (date, data, written_at) VALUES (?, ?, ?)');
    this.selectByDate = db.prepare('SELECT * FROM snapshots WHERE date = ?');
    this.selectLatest = db.prepare('SELECT * FROM snapshots ORDER BY date DESC LIMIT 1');
    this.selectRange = db.prepare(
      'SELECT * FROM snapshots WHERE date >= ? AND date <= ? ORDER BY date',
    );
    this.selectPageAfter = db.prepare(
      'SELECT * FROM snapshots WHERE date > ? ORDER BY date LIMIT ?',
    );
    this.selectCount = db.prepare<[], number>('SELECT count(*) FROM snapshots').pluck();
  }

  /**
   * Writes the snapshot for `date`; GOV_DUPLICATE_SNAPSHOT if that date already has one,
   * GOV_SNAPSHOT_OUT_OF_ORDER if a later date has one (snapshots are written in date order).
   */
  write(given: SnapshotInput): WrittenSnapshot {
    if (typeof given !== 'object' || given === null) {
      throw new GovernorError('GOV_INVALID_ARGUMENT', 'Expected a snapshot object', {
        field: 'snapshot',
      });
    }
    // Each field read once (persistence/plain-copy.ts); the data is copied once by serialiseJson.
    const input = readFields('snapshot', given, ['date', 'data']);
    const date = checkDate('date', input.date);
    if (input.data === undefined) {
      throw new GovernorError('GOV_INVALID_METADATA', 'snapshot data is undefined', {
        field: 'data',
        path: '$',
      });
    }
    const dataText = serialiseJson('data', input.data, LIMITS.snapshotBytesMax);
    return this.connection.write('snapshots.write', () => {
      if (this.selectByDate.get(date) !== undefined) {
        throw new GovernorError('GOV_DUPLICATE_SNAPSHOT', `A snapshot for ${date} already exists`, {
          date,
        });
      }
      const latest = this.selectLatest.get();
      if (latest !== undefined && latest.date > date) {
        throw new GovernorError(
          'GOV_SNAPSHOT_OUT_OF_ORDER',
          `A snapshot for ${date} comes after ${latest.date}: snapshots are written in date order`,
          { date, latestDate: latest.date },
        );
      }
      const writtenAt = this.connection.nowIso();
      this.insertRow.run(date, dataText, writtenAt);
      return { date, writtenAt };
    });
  }

  get(date: string): StoredSnapshot | null {
    checkDate('date', date);
    const row = this.connection.read('snapshots.get', () => this.selectByDate.get(date));
    return row === undefined ? null : toStoredSnapshot(row);
  }

  /** The snapshot with the latest date, or null. */
  latest(): StoredSnapshot | null {
    const row = this.connection.read('snapshots.latest', () => this.selectLatest.get());
    return row === undefined ? null : toStoredSnapshot(row);
  }

  /** Snapshots with `fromDate ≤ date ≤ toDate`, oldest first. */
  range(fromDate: string, toDate: string): StoredSnapshot[] {
    checkDate('fromDate', fromDate);
    checkDate('toDate', toDate);
    const rows = this.connection.read('snapshots.range', () =>
      this.selectRange.all(fromDate, toDate),
    );
    return rows.map(toStoredSnapshot);
  }

  /** Every snapshot, oldest first, read 64 at a time. */
  *iterate(): IterableIterator<StoredSnapshot> {
    let after = '';
    for (;;) {
      const rows = this.connection.read('snapshots.iterate', () =>
        this.selectPageAfter.all(after, PAGE_SIZE),
      );
      for (const row of rows) yield toStoredSnapshot(row);
      const last = rows[rows.length - 1];
      if (rows.length < PAGE_SIZE || last === undefined) return;
      after = last.date;
    }
  }

  count(): number {
    return this.connection.read('snapshots.count', () => this.selectCount.get() ?? 0);
  }
}
