/**
 * Opening a database read-only: one connection, inspected before use (an empty file, a foreign
 * one or one that still needs migrating is refused); when SQLite cannot use the -wal and -shm
 * beside the file (a user who may read it but not write its directory), on a private copy
 * instead (read-snapshot.ts), and a copy that lacks what its -wal holds is refused saying so.
 * The connection (connection.ts) opens every reader through it.
 */
import { existsSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { GovernorError } from '../services/errors.js';
import {
  checkHeader,
  checkReadable,
  inspectSchema,
  notGovernor,
  refuseDirectory,
} from './database-probe.js';
import { type ReadSnapshot, takeReadSnapshot } from './read-snapshot.js';
import { nativeBindingOption } from './sqlite-addon.js';
import { wrapStorageError } from './storage-error.js';

/**
 * SQLite's answers when a read-only connection cannot create or use the -wal and -shm files
 * beside a WAL database (a user who may read the file but not write its directory).
 */
const SIDE_FILES_UNUSABLE = new Set([
  'SQLITE_READONLY_DIRECTORY',
  'SQLITE_READONLY_CANTINIT',
  'SQLITE_READONLY_RECOVERY',
  'SQLITE_READONLY_CANTLOCK',
  'SQLITE_CANTOPEN',
]);

function sideFilesUnusable(error: unknown): boolean {
  const cause = error instanceof GovernorError ? error.cause : error;
  return cause instanceof Database.SqliteError && SIDE_FILES_UNUSABLE.has(cause.code);
}

/** A read-only connection and what it reads: the file itself, or a private copy of it. */
export interface Reader {
  readonly db: Database.Database;
  readonly snapshot: ReadSnapshot | null;
}

/**
 * Opens `path` read-only on one connection, inspected before use; when SQLite cannot use the
 * -wal and -shm beside it, on a private copy instead (read-snapshot.ts).
 */
export function openReader(path: string, busyTimeoutMs: number): Reader {
  refuseDirectory(path);
  if (existsSync(path)) {
    if (statSync(path).size === 0) throw notGovernor(path, 'empty file opened read-only');
    checkHeader(path);
  }
  const open = (file: string): Database.Database => {
    try {
      return new Database(file, {
        readonly: true,
        fileMustExist: true,
        timeout: busyTimeoutMs,
        ...nativeBindingOption(),
      });
    } catch (error) {
      throw wrapStorageError(error, 'open');
    }
  };
  let db = open(path);
  const opened: { snapshot: ReadSnapshot | null } = { snapshot: null };
  try {
    try {
      checkReadable(inspectSchema(db, path), path);
    } catch (error) {
      if (!sideFilesUnusable(error)) throw error;
      db.close();
      const snapshot = takeReadSnapshot(path);
      opened.snapshot = snapshot;
      db = open(snapshot.path);
      try {
        checkReadable(inspectSchema(db, path), path);
      } catch (refusal) {
        if (snapshot.unreadWalBytes === 0) throw refusal;
        throw walUnreadable(path, snapshot.unreadWalBytes, refusal);
      }
    }
    db.pragma('foreign_keys = ON');
    return { db, snapshot: opened.snapshot };
  } catch (error) {
    db.close();
    opened.snapshot?.release();
    throw error;
  }
}

/** A copy without its -wal that cannot be read as governor's: what it lacks is in the -wal. */
function walUnreadable(path: string, unreadWalBytes: number, cause: unknown): GovernorError {
  return new GovernorError(
    'GOV_STORAGE_FAILURE',
    `open failed: ${path} cannot be read by this user: what it holds is still in its -wal (${unreadWalBytes} bytes, not yet checkpointed), which this user may not read; give it read permission on the -wal, or write permission on the directory`,
    { operation: 'open', path, unreadWalBytes },
    { cause },
  );
}
