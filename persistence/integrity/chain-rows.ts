/**
 * The event rows the chain walk reads: raw arrays in seq order, a page at a time (one native
 * call per page, cheaper than one per row). Every walker (in-thread, worker, scrub) reads here.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { RawEventRow } from './chain-walk.js';

/** Rows per page of the chain walk: bounds memory (about 300 KB of typical rows). */
export const WALK_PAGE_ROWS = 1024;

const COLUMNS = 'seq, event_id, timestamp, event_type, reason, metadata, prev_hash, hash';

/** Rows after a seq, up to a limit: the caller's read snapshot bounds the walk. */
export type RowsAfter = BetterSqlite3.Statement<[number, number], RawEventRow>;

/** Rows in (afterSeq, toSeq], up to a limit: a walk bounded by a head read earlier. */
export type RowsBetween = BetterSqlite3.Statement<[number, number, number], RawEventRow>;

export function prepareRowsAfter(db: BetterSqlite3.Database): RowsAfter {
  return db
    .prepare<[number, number], RawEventRow>(
      `SELECT ${COLUMNS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?`,
    )
    .raw(true);
}

export function prepareRowsBetween(db: BetterSqlite3.Database): RowsBetween {
  return db
    .prepare<[number, number, number], RawEventRow>(
      `SELECT ${COLUMNS} FROM events WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?`,
    )
    .raw(true);
}
