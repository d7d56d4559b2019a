/**
 * Taking ownership of a database file: the owner lock (persistence/owner-lock.ts, a lock the OS
 * frees when the process dies, even by kill -9) and the owner row in the authority record,
 * claimed together at start. A second name for the file (a hard link) is refused, and an owner
 * still alive under another name or lock keeps the file.
 */
import { statSync } from 'node:fs';
import { checkDatabaseFile, refuseDirectory } from '../../../persistence/connection.js';
import { HEAD_ANCHOR_SUFFIX } from '../../../persistence/integrity/head-anchor.js';
import type { ModeJournal } from '../../../persistence/mode-journal.js';
import { type OwnerInfo, OwnerLock } from '../../../persistence/owner-lock.js';
import { adoptSideFileAtName } from '../../../persistence/side-files.js';
import { ALERT_SPILL_SUFFIX } from '../../alerts/alert-spill.js';
import { GovernorError, isGovernorError } from '../../errors.js';
import { FALLBACK_SUFFIX } from '../../fallback-file.js';
import type { Logger } from '../../logger.js';
import { ownerStillHolds, readOwnerQuietly } from './find-owner.js';

export type { OwnerLock };

/**
 * Takes the owner lock of `dbPath` (null for `:memory:`), or throws GOV_DATABASE_OWNED naming the
 * owner. A path that is no governor database (a directory, another file, a second name) is
 * refused first, so that the refusal leaves no lock file beside it.
 */
export function acquireOwnerLock(dbPath: string, nowIso: string): OwnerLock | null {
  if (dbPath === ':memory:') return null;
  refuseDirectory(dbPath);
  refuseExtraNames(dbPath);
  checkDatabaseFile(dbPath);
  const lock = OwnerLock.tryAcquire(dbPath, nowIso);
  if (lock !== null) return lock;
  throw ownedError(dbPath, readOwnerQuietly(dbPath));
}

/**
 * Records the lock's holder as the owner. The owner on record is still alive when it holds a
 * lock under another name (a hard link, a bind mount), or when its lock file was replaced
 * under it: then this throws GOV_DATABASE_OWNED, naming it.
 */
export function claimOwnerRow(
  journal: ModeJournal,
  lock: OwnerLock | null,
  dbPath: string,
  logger: Logger,
): void {
  if (lock === null) return;
  const stillOwned = (recorded: OwnerInfo): boolean => ownerStillHolds(recorded, lock);
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
 * Side files an earlier version kept beside a symlinked name of the database (a fallback latch
 * above all) move beside the real file, where every process now looks for them. The owner
 * does it, once it holds the lock.
 */
export function adoptSideFiles(dbPath: string, logger: Logger): void {
  for (const suffix of [FALLBACK_SUFFIX, ALERT_SPILL_SUFFIX, HEAD_ANCHOR_SUFFIX]) {
    try {
      const from = adoptSideFileAtName(dbPath, suffix);
      if (from !== null)
        logger.warn({ from, suffix }, 'side file moved beside the real database file');
    } catch (error) {
      logger.error({ err: error, suffix }, 'a side file at the database name could not be moved');
    }
  }
}

/**
 * Refuses (GOV_INVALID_ARGUMENT) a database file with more than one hard link: SQLite keys its
 * journal and locks on the name, so a second name corrupts it (and would let a second owner in).
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
