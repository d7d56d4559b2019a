/**
 * Finding the owner of a database without taking anything: whether some process holds the owner
 * lock, the owner the database recorded (pid, host, since), and whether that owner is still
 * alive although a lock was taken (the check every process that takes the lock makes).
 */
import { hostname } from 'node:os';
import { readOwnerRecord } from '../../../persistence/mode-journal.js';
import {
  isLockHeld,
  lockPathFor,
  type OwnerInfo,
  type OwnerLock,
  processStartOf,
} from '../../../persistence/owner-lock.js';
import { StoreCore } from '../../../persistence/store-core.js';

export type { OwnerInfo };

/** True when some process holds the database's owner lock. */
export function ownerAlive(dbPath: string): boolean {
  return isLockHeld(lockPathFor(dbPath));
}

/** The owner on record in an open store; null when none is, or the row cannot be read. */
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
