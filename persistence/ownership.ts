/**
 * One owner per database file. The owner holds an exclusive SQLite lock on a lock file beside
 * the database's real path (`<realpath>.owner`, symlinks resolved), taken with a zero busy
 * timeout and held for the life of the process: the operating system frees it when the process
 * dies, even by kill -9. The owner also records itself in the database (`owner` row: pid, host,
 * since, lock file and its inode), which names it to anyone refused and lets a process that came
 * through another name (a hard link, a bind mount) find the lock actually held.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import Database from 'better-sqlite3';
import { GovernorError } from '../services/errors.js';
import { sideFilePath } from './side-files.js';
import { nativeBindingOption } from './sqlite-addon.js';

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

/** True when a process that matches `owner` still runs on this host (false when unsure: other host). */
export function ownerProcessAlive(owner: OwnerInfo): boolean {
  if (owner.host !== hostname()) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (owner.processStart === null) return true;
  const start = processStartOf(owner.pid);
  return start === null || start === owner.processStart;
}

/**
 * How long taking the lock waits out a holder that is only looking: `isLockHeld` (run by
 * `governor status` and the command line) holds a shared lock for a moment to learn that nobody
 * does, and an owner starting in that moment must not be refused. A real owner holds it for
 * its whole life, so it is refused after this wait all the same.
 */
export const LOCK_ACQUIRE_WAIT_MS = 250;

function lockConnection(lockPath: string, waitMs = 0): Database.Database | null {
  const db = new Database(lockPath, { timeout: waitMs, ...nativeBindingOption() });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    return db;
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code?.startsWith('SQLITE_BUSY')) return null;
    throw error;
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
   * GovernanceSystem in this process) holds it, within LOCK_ACQUIRE_WAIT_MS.
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

/** GOV_DATABASE_OWNED, naming the owner when it is known. */
export function ownedError(dbPath: string, owner: OwnerInfo | null): GovernorError {
  const who =
    owner === null
      ? 'another process'
      : `pid ${owner.pid} on ${owner.host} (owner since ${owner.since})`;
  return new GovernorError(
    'GOV_DATABASE_OWNED',
    `${dbPath} is owned by ${who}; one process owns a database at a time. Stop it first, or send it operator commands (governor shutdown|observe|resume|restart reach the owner)`,
    {
      path: dbPath,
      ...(owner === null
        ? {}
        : { ownerPid: owner.pid, ownerHost: owner.host, ownerSince: owner.since }),
    },
  );
}
