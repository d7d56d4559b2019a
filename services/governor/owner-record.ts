/**
 * Who owns a database, as a command sees it without taking anything: whether some process holds
 * the owner lock, and the owner the database recorded (pid, host, since); and the checks every
 * process that takes the lock makes (one name per file, the owner on record still alive).
 */
import { statSync } from 'node:fs';
import { readOwnerRecord } from '../../persistence/mode-journal.js';
import {
  isLockHeld,
  lockPathFor,
  type OwnerInfo,
  type OwnerLock,
  ownerProcessAlive,
} from '../../persistence/ownership.js';
import { StoreCore } from '../../persistence/store-core.js';
import { GovernorError } from '../errors.js';

/** True when some process holds the database's owner lock. */
export function ownerAlive(dbPath: string): boolean {
  return isLockHeld(lockPathFor(dbPath));
}

/** The owner on record (when one runs), read without taking anything. */
export function ownerOnRecord(store: StoreCore): OwnerInfo | null {
  try {
    return readOwnerRecord(store);
  } catch {
    return null;
  }
}

/** The owner on record, read through a short read-only connection; null when unreadable. */
export function readOwnerQuietly(dbPath: string): OwnerInfo | null {
  let store: StoreCore | null = null;
  try {
    store = StoreCore.open(dbPath, { readonly: true, busyTimeoutMs: 1_000 });
    return readOwnerRecord(store);
  } catch {
    return null;
  } finally {
    store?.close();
  }
}

/**
 * Refuses a database file with more than one hard link: SQLite keys its journal and locks on
 * the name, so a second name corrupts it (and would let a second owner in).
 */
export function refuseExtraNames(dbPath: string): void {
  let links = 1;
  try {
    links = statSync(dbPath).nlink;
  } catch {
    return; // a new database
  }
  if (links > 1) {
    throw new GovernorError(
      'GOV_INVALID_ARGUMENT',
      `${dbPath} has ${links} hard links; a database must have a single name (SQLite keys its journal and locks on the name, so a second name corrupts it): remove the extra links`,
      { path: dbPath, links },
    );
  }
}

/**
 * Whether the owner on record is still alive although `lock` was taken: it holds a lock under
 * another name (a hard link, a bind mount), or its lock file was replaced under it.
 */
export function ownerStillHolds(recorded: OwnerInfo, lock: OwnerLock): boolean {
  if (recorded.pid === process.pid && recorded.host === lock.info.host) {
    return recorded.lockPath !== lock.lockPath && isLockHeld(recorded.lockPath);
  }
  if (recorded.lockPath !== lock.lockPath) return isLockHeld(recorded.lockPath);
  return recorded.lockInode !== lock.info.lockInode && ownerProcessAlive(recorded);
}
