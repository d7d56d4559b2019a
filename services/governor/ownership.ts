/**
 * One owner per database file: the owner lock (a POSIX lock the OS frees when the process dies,
 * even by kill -9) and the owner row in the authority record, claimed together at start.
 * A second name for the file (a hard link) is refused, and an owner still alive under another
 * name or lock keeps the file.
 */
import { statSync } from 'node:fs';
import { Store } from '../../persistence/index.js';
import { ModeJournal } from '../../persistence/mode-journal.js';
import {
  isLockHeld,
  type OwnerInfo,
  OwnerLock,
  ownedError,
  ownerProcessAlive,
} from '../../persistence/ownership.js';
import { GovernorError, isGovernorError } from '../errors.js';
import type { Logger } from '../logger.js';

/** Takes the owner lock of `dbPath` (null for `:memory:`), or throws GOV_DATABASE_OWNED naming the owner. */
export function acquireOwnerLock(dbPath: string, nowIso: string): OwnerLock | null {
  if (dbPath === ':memory:') return null;
  refuseExtraNames(dbPath);
  const lock = OwnerLock.tryAcquire(dbPath, nowIso);
  if (lock !== null) return lock;
  throw ownedError(dbPath, readOwnerQuietly(dbPath));
}

/**
 * Records the lock's holder as the owner. The owner on record is still alive when it holds a
 * lock under another name (a hard link, a bind mount), or when its lock file was replaced
 * under it: then this throws, naming it.
 */
export function claimOwnerRow(
  journal: ModeJournal,
  lock: OwnerLock | null,
  dbPath: string,
  logger: Logger,
): void {
  if (lock === null) return;
  const stillOwned = (recorded: OwnerInfo): boolean => {
    if (recorded.pid === process.pid && recorded.host === lock.info.host) {
      return recorded.lockPath !== lock.lockPath && isLockHeld(recorded.lockPath);
    }
    if (recorded.lockPath !== lock.lockPath) return isLockHeld(recorded.lockPath);
    return recorded.lockInode !== lock.info.lockInode && ownerProcessAlive(recorded);
  };
  let outcome: ReturnType<ModeJournal['claimOwner']>;
  try {
    outcome = journal.claimOwner(lock.info, stillOwned);
  } catch (error) {
    if (!isGovernorError(error, 'GOV_STORAGE_FAILURE')) throw error;
    // A database that cannot be written still gets one owner: the lock holds; the row waits.
    logger.error({ err: error }, 'the owner row could not be written');
    const recorded = journal.readOwner();
    outcome =
      recorded !== null && stillOwned(recorded)
        ? { claimed: false, owner: recorded }
        : { claimed: true };
  }
  if (!outcome.claimed) throw ownedError(dbPath, outcome.owner);
}

/**
 * A database file with a second name (a hard link) is refused: SQLite keys its journal and
 * locks on the name, so two names are two databases to it and corrupt the file (and would let
 * a second owner in through the other name).
 */
function refuseExtraNames(dbPath: string): void {
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

/** The owner recorded in a database, read without taking anything (null when unknown). */
function readOwnerQuietly(dbPath: string): OwnerInfo | null {
  let store: Store | null = null;
  try {
    store = Store.open(dbPath, { readonly: true, busyTimeoutMs: 1_000 });
    return new ModeJournal(store).readOwner();
  } catch {
    return null;
  } finally {
    store?.close();
  }
}
