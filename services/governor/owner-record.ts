/**
 * Who owns a database, as a command sees it without taking anything: whether some process holds
 * the owner lock, and the owner the database recorded (pid, host, since).
 */
import type { Store } from '../../persistence/index.js';
import { ModeJournal } from '../../persistence/mode-journal.js';
import { isLockHeld, lockPathFor, type OwnerInfo } from '../../persistence/ownership.js';

/** True when some process holds the database's owner lock. */
export function ownerAlive(dbPath: string): boolean {
  return isLockHeld(lockPathFor(dbPath));
}

/** The owner on record (when one runs), read without taking anything. */
export function ownerOnRecord(store: Store): OwnerInfo | null {
  try {
    return new ModeJournal(store).readOwner();
  } catch {
    return null;
  }
}
