/**
 * The storage error: a failure raised by SQLite becomes GOV_STORAGE_FAILURE naming the operation
 * and SQLite's code, the original kept as its cause. Every open, read and write of the store
 * (connection.ts, database-probe.ts, open-reader.ts) and the owner lock wrap what they catch
 * with it.
 */
import Database from 'better-sqlite3';
import { GovernorError } from '../services/errors.js';

/** Wraps an error raised by SQLite as GOV_STORAGE_FAILURE; returns anything else unchanged. */
export function wrapStorageError(error: unknown, operation: string): unknown {
  if (error instanceof Database.SqliteError) {
    return new GovernorError(
      'GOV_STORAGE_FAILURE',
      `${operation} failed: ${error.message}`,
      { operation, sqliteCode: error.code },
      { cause: error },
    );
  }
  return error;
}
