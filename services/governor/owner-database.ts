/**
 * Opening a database as its owner: the owner lock, the store (with a short busy timeout), the
 * owner row and the authority record, all released again on a refusal; and the thresholds this
 * process runs with (its own, recorded for the next acting owner, or the last owner's record).
 */
import { hostname } from 'node:os';
import type { Mode } from '../../machines/types.js';
import type { FaultInjector } from '../../persistence/faults.js';
import { Store } from '../../persistence/index.js';
import {
  type AuthorityRecord,
  ModeJournal,
  type OwnerThresholds,
} from '../../persistence/mode-journal.js';
import type { Clock } from '../clock.js';
import { resolveThresholds, type Thresholds } from '../config.js';
import { isGovernorError } from '../errors.js';
import type { Logger } from '../logger.js';
import {
  acquireOwnerLock,
  adoptSideFiles,
  claimOwnerRow,
  type OwnerLock,
} from './ownership/take.js';
import type { ThresholdsOrigin } from './preflight.js';

/** How long a governor write waits for another connection's lock before it fails. */
export const STORE_BUSY_TIMEOUT_MS = 250;

export interface OwnedDatabase {
  readonly ownerLock: OwnerLock | null;
  readonly store: Store;
  readonly journal: ModeJournal;
  /** The authority record as opened (a fresh file's desired mode initialised). */
  readonly authority: AuthorityRecord;
}

/**
 * Takes the file: lock, store, owner row, the authority record. A file damaged beyond reading
 * system_state, or owned through another name, is refused with the clear error, leaving no open
 * handle behind.
 */
export function openAsOwner(options: {
  readonly dbPath: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly configuredMode: Mode;
  readonly faults: FaultInjector | undefined;
}): OwnedDatabase {
  const { dbPath, clock, logger } = options;
  const ownerLock = acquireOwnerLock(dbPath, new Date(clock.wallNow()).toISOString());
  if (ownerLock !== null) adoptSideFiles(dbPath, logger);
  let store: Store;
  try {
    // A short busy timeout: a write blocked by another process must not stall the embedding
    // program's event loop for long; a failed write is an operating error the fail-safe handles.
    store = Store.open(dbPath, {
      clock,
      busyTimeoutMs: STORE_BUSY_TIMEOUT_MS,
      ...(options.faults === undefined ? {} : { faults: options.faults }),
    });
  } catch (error) {
    ownerLock?.release();
    throw error;
  }
  const journal = new ModeJournal(store);
  try {
    claimOwnerRow(journal, ownerLock, dbPath, logger);
    let authority = journal.read();
    if (authority.lifecycleState === null) {
      try {
        journal.initialiseDesiredMode(options.configuredMode, 'initial');
        authority = journal.read();
      } catch (error) {
        if (!isGovernorError(error, 'GOV_STORAGE_FAILURE')) throw error;
        // Unwritable: the machine works towards the configured mode all the same.
        authority = { ...authority, desiredMode: options.configuredMode };
      }
    }
    return { ownerLock, store, journal, authority };
  } catch (error) {
    store.close();
    ownerLock?.release();
    throw error;
  }
}

/**
 * The thresholds this process runs with. An owner records its own (configured) ones in the
 * authority record; an acting owner takes the ones the last owner recorded, so that a restart
 * with no owner running pre-flights as the owner would, whatever this command's environment.
 * Without the owner lock (`:memory:`) the configured ones, unrecorded.
 */
export function effectiveThresholds(
  owned: Pick<OwnedDatabase, 'ownerLock' | 'journal'>,
  configured: Thresholds,
  actingOwner: boolean,
  context: { readonly logger: Logger; readonly nowIso: string },
): { thresholds: Thresholds; origin: ThresholdsOrigin } {
  const { journal } = owned;
  if (owned.ownerLock === null) return { thresholds: configured, origin: { source: 'owner' } };
  if (!actingOwner) {
    try {
      journal.recordOwnerThresholds({
        pid: process.pid,
        host: hostname(),
        recordedAt: context.nowIso,
        thresholds: { ...configured },
      });
    } catch (error) {
      if (!isGovernorError(error, 'GOV_STORAGE_FAILURE')) throw error;
      context.logger.error({ err: error }, 'the owner thresholds could not be recorded');
    }
    return { thresholds: configured, origin: { source: 'owner' } };
  }
  let recorded: OwnerThresholds | 'none' | 'unusable' = 'unusable';
  try {
    recorded = journal.readOwnerThresholds();
  } catch (error) {
    if (!isGovernorError(error, 'GOV_STORAGE_FAILURE')) throw error;
  }
  if (typeof recorded === 'string') {
    return { thresholds: configured, origin: { source: 'command', recorded } };
  }
  try {
    return {
      thresholds: resolveThresholds(recorded.thresholds, 'recorded owner thresholds'),
      origin: {
        source: 'recorded',
        pid: recorded.pid,
        host: recorded.host,
        recordedAt: recorded.recordedAt,
      },
    };
  } catch (error) {
    // A record this version cannot use (a renamed or out-of-range threshold): say so, use ours.
    context.logger.warn({ err: error }, 'the recorded owner thresholds are not usable');
    return { thresholds: configured, origin: { source: 'command', recorded: 'unusable' } };
  }
}
