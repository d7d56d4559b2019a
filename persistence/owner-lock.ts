/**
 * The storage side of one owner per database file (the rest is services/governor/ownership,
 * the only module that uses this one). The owner holds an exclusive SQLite lock on a lock file
 * beside the database's real path (`<realpath>.owner`, symlinks resolved), held for the life of
 * the process: the operating system frees it when the process dies, even by kill -9. `OwnerInfo`
 * is the shape of the `owner` row (pid, host, since, lock file and its inode) the owner records.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import Database from 'better-sqlite3';
import { sideFilePath } from './side-files.js';
import { nativeBindingOption } from './sqlite-addon.js';
import { wrapStorageError } from './storage-error.js';

/** Who owns a database: written in its `owner` row by the process holding the lock. */
export interface OwnerInfo {
  readonly pid: number;
  readonly host: string;
  /** ISO-8601 wall time at which it became the owner. */
  readonly since: string;
  readonly lockPath: string;
  /** Inode of the lock file it holds (a replaced lock file is detected by its inode). */
  readonly lockInode: number;
  /** The process's start time on its host (Linux: /proc starttime), or null when unknown. */
  readonly processStart: string | null;
}

/** The lock file of a database path: beside its real path (symlinks resolved), `.owner` added. */
export function lockPathFor(dbPath: string): string {
  return sideFilePath(dbPath, '.owner') ?? `${dbPath}.owner`;
}

/** This process's start time as its host records it, or null where it cannot be read. */
export function processStartOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime) counts from the end of the command name, which may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/**
 * How long taking the lock waits out a holder that is only looking: `isLockHeld` (run by
 * `governor status` and the command line) holds a shared lock for a moment to learn that nobody
 * does, and an owner starting in that moment must not be refused. A real owner holds it for
 * its whole life, so it is refused after this wait all the same.
 */
export const LOCK_ACQUIRE_WAIT_MS = 250;

/** The lock connection, or null when another holds the lock; GOV_STORAGE_FAILURE when SQLite fails. */
function lockConnection(lockPath: string, waitMs: number): Database.Database | null {
  let db: Database.Database | null = null;
  try {
    db = new Database(lockPath, { timeout: waitMs, ...nativeBindingOption() });
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    return db;
  } catch (error) {
    db?.close();
    if ((error as { code?: string }).code?.startsWith('SQLITE_BUSY')) return null;
    throw wrapStorageError(error, 'ownership.lock');
  }
}

/**
 * True when some process holds the lock file at `lockPath` (false when it does not exist). It
 * only looks: a read-only connection asks for a shared lock, which the owner's exclusive lock
 * refuses, so it needs read permission alone and writes nothing (no journal, no fsync).
 */
export function isLockHeld(lockPath: string): boolean {
  if (!existsSync(lockPath)) return false;
  let db: Database.Database | null = null;
  try {
    db = new Database(lockPath, {
      readonly: true,
      fileMustExist: true,
      timeout: 0,
      ...nativeBindingOption(),
    });
    db.prepare('SELECT count(*) FROM sqlite_schema').pluck().get();
    return false;
  } catch (error) {
    // A hot journal (left by an owner that died mid-transaction) means nobody holds the lock.
    if ((error as { code?: string }).code === 'SQLITE_READONLY_ROLLBACK') return false;
    return true; // refused (SQLITE_BUSY: an owner holds it), or unreadable: in doubt, held
  } finally {
    db?.close();
  }
}

/** The lock this process holds on a database file; release() (or process death) frees it. */
export class OwnerLock {
  readonly lockPath: string;
  readonly info: OwnerInfo;
  private db: Database.Database | null;

  private constructor(lockPath: string, db: Database.Database, info: OwnerInfo) {
    this.lockPath = lockPath;
    this.db = db;
    this.info = info;
  }

  /**
   * Takes the lock of `dbPath` or refuses: null when another process (or another
   * GovernanceSystem in this process) holds it, within LOCK_ACQUIRE_WAIT_MS; GOV_STORAGE_FAILURE
   * when SQLite cannot open or lock the lock file (a directory this user may not write).
   */
  static tryAcquire(dbPath: string, nowIso: string): OwnerLock | null {
    const lockPath = lockPathFor(dbPath);
    const db = lockConnection(lockPath, LOCK_ACQUIRE_WAIT_MS);
    if (db === null) return null;
    const info: OwnerInfo = {
      pid: process.pid,
      host: hostname(),
      since: nowIso,
      lockPath,
      lockInode: statSync(lockPath).ino,
      processStart: processStartOf(process.pid),
    };
    return new OwnerLock(lockPath, db, info);
  }

  /**
   * True while the lock file at its path is still the one this lock holds. A deleted or
   * replaced lock file no longer keeps a second owner out: the owner must fail safe.
   */
  stillInPlace(): boolean {
    if (this.db === null) return false;
    try {
      return statSync(this.lockPath).ino === this.info.lockInode;
    } catch {
      return false;
    }
  }

  release(): void {
    if (this.db === null) return;
    const db = this.db;
    this.db = null;
    try {
      db.close();
    } catch {
      // closing frees the lock whatever SQLite says; nothing else to do
    }
  }
}
