/**
 * A private copy of a database for a user who may read it but not write beside it: SQLite must
 * create or write the -wal and -shm files next to a WAL database to read it, so such a reader
 * copies the file (and its -wal, when it can read it) into a temporary directory of its own and
 * reads the copy. The note says what the copy may lack.
 */
import { copyFileSync, mkdtempSync, rmSync, type Stats, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { GovernorError } from '../services/errors.js';
import { canonicalDatabasePath } from './side-files.js';

/** A file that changes while it is copied is copied again, at most this many times in all. */
export const READ_SNAPSHOT_COPY_ATTEMPTS_MAX = 3;

export interface ReadSnapshot {
  /** The copy to open read-only (in a directory only this user can enter). */
  readonly path: string;
  /** What the reader is told: where the data comes from and what it may lack. */
  readonly note: string;
  /** Bytes of the -wal this user could not read (0: there were none, or they were copied). */
  readonly unreadWalBytes: number;
  /** Deletes the copy; calling it twice is harmless. */
  release(): void;
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

function sameFile(before: Stats | null, after: Stats | null): boolean {
  if (before === null || after === null) return before === after;
  return before.ino === after.ino && before.size === after.size && before.mtimeMs === after.mtimeMs;
}

function copyFailed(source: string, error: unknown): GovernorError {
  const code = (error as NodeJS.ErrnoException).code ?? 'error';
  return new GovernorError(
    'GOV_STORAGE_FAILURE',
    `open failed: cannot copy ${source} to ${tmpdir()} to read it (${code}); set TMPDIR to a directory this user may write, with room for a copy`,
    { operation: 'open', path: source, code },
    { cause: error },
  );
}

interface Copied {
  /** Bytes of a -wal this user could not read (0: none, or it was copied). */
  readonly unreadWalBytes: number;
  readonly walCopied: boolean;
}

/** One attempt: copies the file and its -wal; null when either changed meanwhile. */
function copyOnce(source: string, target: string): Copied | null {
  const wal = `${source}-wal`;
  const before = { db: statOrNull(source), wal: statOrNull(wal) };
  try {
    copyFileSync(source, target);
  } catch (error) {
    throw copyFailed(source, error);
  }
  let walCopied = false;
  let unreadWalBytes = 0;
  const walBytes = before.wal?.size ?? 0;
  if (walBytes > 0) {
    try {
      copyFileSync(wal, `${target}-wal`);
      walCopied = true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EACCES' && code !== 'EPERM') throw copyFailed(wal, error);
      unreadWalBytes = walBytes;
    }
  }
  const after = { db: statOrNull(source), wal: statOrNull(wal) };
  if (!sameFile(before.db, after.db) || !sameFile(before.wal, after.wal)) {
    rmSync(target, { force: true });
    rmSync(`${target}-wal`, { force: true });
    return null;
  }
  return { unreadWalBytes, walCopied };
}

function noteFor(dbPath: string, copied: Copied): string {
  const why = `this user cannot create or use the -wal and -shm files beside ${dbPath}`;
  if (copied.unreadWalBytes > 0) {
    return `read without the WAL (${why}): a private copy of the file as last checkpointed; its -wal holds ${copied.unreadWalBytes} bytes this user cannot read, so the latest commits (state, events, alerts) may be missing`;
  }
  return copied.walCopied
    ? `read from a private copy of the database and its -wal (${why}): complete as of the copy`
    : `read from a private copy of the database (${why}); it had no -wal, so the copy holds every commit`;
}

/**
 * Copies the database at `dbPath` (and its -wal) into a new temporary directory. Throws
 * GOV_STORAGE_FAILURE when it cannot copy the file, or when it changed during every attempt.
 */
export function takeReadSnapshot(dbPath: string): ReadSnapshot {
  const source = canonicalDatabasePath(dbPath);
  let directory: string;
  try {
    directory = mkdtempSync(join(tmpdir(), 'governor-read-'));
  } catch (error) {
    throw copyFailed(source, error);
  }
  const release = (): void => rmSync(directory, { recursive: true, force: true });
  const target = join(directory, basename(source));
  try {
    for (let attempt = 1; attempt <= READ_SNAPSHOT_COPY_ATTEMPTS_MAX; attempt++) {
      const copied = copyOnce(source, target);
      if (copied !== null) {
        const note = noteFor(dbPath, copied);
        return { path: target, note, unreadWalBytes: copied.unreadWalBytes, release };
      }
    }
  } catch (error) {
    release();
    throw error;
  }
  release();
  throw new GovernorError(
    'GOV_STORAGE_FAILURE',
    `open failed: ${dbPath} changed during each of ${READ_SNAPSHOT_COPY_ATTEMPTS_MAX} copies made to read it; try again`,
    { operation: 'open', path: dbPath },
  );
}
