/**
 * `pruneEventLog`: what `governor events prune` runs, offline. It takes the owner lock as every
 * offline writer does (refused while a daemon or an embedding engine owns the file), verifies
 * the database (anchoring its head), writes an archive with VACUUM INTO and verifies the archive
 * alone, and only then prunes in one transaction (persistence/event-log-base.ts): the events
 * through seq N deleted, the chain base recorded, an OPERATOR_ACTION PRUNE event appended. A
 * prune never removes the SYSTEM_SHUTDOWN that justifies the latch in force.
 */
import { existsSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { type ChainBase, pruneEventLog, readChainBase } from '../../persistence/event-log-base.js';
import { Store } from '../../persistence/index.js';
import {
  DataIntegrityVerifier,
  headAnchorPathFor,
  type IntegrityViolation,
  readHeadAnchor,
  writeHeadAnchor,
} from '../../persistence/integrity/index.js';
import { ModeJournal } from '../../persistence/mode-journal.js';
import { GovernorError } from '../errors.js';
import { verifyDatabase } from '../health/verify-database.js';
import { silentLogger } from '../logger.js';
import { checkOperatorRequest } from '../operator.js';
import { acquireOwnerLock, claimOwnerRow } from './ownership/index.js';

export interface PruneOptions {
  readonly dbPath: string;
  /** Prune the events with seq ≤ this. Exactly one of throughSeq and olderThanMs. */
  readonly throughSeq?: number;
  /** Prune the events older than this many ms before now. */
  readonly olderThanMs?: number;
  /** Where the archive goes: a new file (it must not exist) in an existing directory. */
  readonly archivePath: string;
  readonly operator: string;
  readonly reason: string;
  /** Wall time for --older-than. Default Date.now. */
  readonly nowMs?: number;
}

export type PruneOutcome =
  /** Nothing is older than asked (or already pruned): nothing was written. */
  | { readonly kind: 'nothing'; readonly message: string }
  /** The database or its archive did not verify: nothing was pruned. */
  | {
      readonly kind: 'unverified';
      readonly what: 'database' | 'archive';
      readonly violations: readonly IntegrityViolation[];
    }
  | {
      readonly kind: 'pruned';
      readonly base: ChainBase;
      readonly prunedEvents: number;
      readonly attestationSeq: number;
      readonly archivePath: string;
      readonly head: { readonly seq: number; readonly hash: string } | null;
      /** Violations of the verification after the prune (none expected). */
      readonly violationsAfter: readonly IntegrityViolation[];
    };

function refused(message: string, details: Record<string, unknown> = {}): GovernorError {
  return new GovernorError('GOV_INVALID_OPERATOR_ACTION', `events prune: ${message}`, details);
}

/** The head anchor beside a database file (never null: `:memory:` is refused first). */
function anchorPathOf(path: string): string {
  return headAnchorPathFor(path) ?? `${path}.head.json`;
}

function checkArchivePath(archivePath: string, dbPath: string): string {
  if (dbPath === ':memory:') {
    throw new GovernorError('GOV_INVALID_ARGUMENT', 'events prune needs a database file', {
      field: 'dbPath',
    });
  }
  if (typeof archivePath !== 'string' || archivePath.trim() === '') {
    throw new GovernorError('GOV_INVALID_ARGUMENT', 'events prune needs --archive PATH', {
      field: 'archive',
    });
  }
  const path = resolve(archivePath);
  if (path === resolve(dbPath) || existsSync(path) || existsSync(anchorPathOf(path))) {
    throw new GovernorError(
      'GOV_INVALID_ARGUMENT',
      `events prune: the archive ${archivePath} (or its .head.json) already exists, or is the database itself; name a new file`,
      { field: 'archive', path },
    );
  }
  if (!existsSync(dirname(path)) || !statSync(dirname(path)).isDirectory()) {
    throw new GovernorError(
      'GOV_INVALID_ARGUMENT',
      `events prune: the archive's directory ${dirname(path)} does not exist`,
      { field: 'archive', path },
    );
  }
  return path;
}

function checkSelection(options: PruneOptions): void {
  const bySeq = options.throughSeq !== undefined;
  const byAge = options.olderThanMs !== undefined;
  if (bySeq === byAge) {
    throw new GovernorError(
      'GOV_INVALID_ARGUMENT',
      'events prune needs exactly one of --through-seq N and --older-than DURATION',
      { field: 'throughSeq' },
    );
  }
  if (bySeq && (!Number.isSafeInteger(options.throughSeq) || (options.throughSeq ?? 0) < 1)) {
    throw new GovernorError('GOV_INVALID_ARGUMENT', '--through-seq: expected an integer ≥ 1', {
      field: 'throughSeq',
    });
  }
  if (byAge && (!Number.isSafeInteger(options.olderThanMs) || (options.olderThanMs ?? 0) < 1)) {
    throw new GovernorError('GOV_INVALID_ARGUMENT', '--older-than: expected a duration', {
      field: 'olderThanMs',
    });
  }
}

/** The seq to prune through, or null when nothing qualifies. */
function selectThroughSeq(store: Store, options: PruneOptions): number | null {
  if (options.throughSeq !== undefined) return options.throughSeq;
  const before = new Date((options.nowMs ?? Date.now()) - (options.olderThanMs ?? 0)).toISOString();
  const [row] = store.query<{ seq: number | null }>(
    'prune.olderThan',
    'SELECT max(seq) AS seq FROM events WHERE timestamp < ?',
    before,
  );
  return row?.seq ?? null;
}

/**
 * Refuses (nothing written) a prune through `throughSeq` that would cut what the log must keep:
 * the head, or the SYSTEM_SHUTDOWN that justifies the latch in force (the startup cross-check
 * derives the latch from it). Null when there is nothing to prune.
 */
function checkPrunable(store: Store, journal: ModeJournal, throughSeq: number): string | null {
  const base = readChainBase(store);
  if (base !== null && throughSeq <= base.seq) {
    return `the log already starts after seq ${base.seq}; nothing to prune`;
  }
  const head = store.events.head();
  if (head === null || throughSeq >= head.seq) {
    throw refused(
      `seq ${throughSeq} is not before the head (seq ${head?.seq ?? 0}); the newest event is never pruned`,
      { throughSeq, headSeq: head?.seq ?? 0 },
    );
  }
  const latchSeq = journal.latchEventSeq();
  if (latchSeq !== null && throughSeq >= latchSeq) {
    throw refused(
      `seq ${latchSeq} is the SYSTEM_SHUTDOWN that justifies the latch in force (the startup cross-check reads it); prune through seq ${latchSeq - 1} at most, or restart first`,
      { throughSeq, latchSeq },
    );
  }
  return null;
}

/** A full verification of `store`, writing its head anchor when the log is clean. */
function verifyAndAnchor(store: Store, dbPath: string): IntegrityViolation[] {
  const verifier = new DataIntegrityVerifier(store, {
    anchorPath: anchorPathOf(dbPath),
    structureCheck: 'all',
  });
  return verifier.verify({ full: true });
}

/** Writes the archive and its head anchor, and verifies them alone; violations, or []. */
function archive(store: Store, dbPath: string, archivePath: string): IntegrityViolation[] {
  try {
    store.archiveTo(archivePath);
  } catch (error) {
    // A partial archive (disk full, I/O) is no archive: remove it, nothing is pruned.
    rmSync(archivePath, { force: true });
    throw error;
  }
  const anchor = readHeadAnchor(anchorPathOf(dbPath));
  if (anchor !== null) writeHeadAnchor(anchorPathOf(archivePath), anchor);
  const result = verifyDatabase({ dbPath: archivePath, full: true });
  const head = store.events.head();
  if (result.ok && result.head?.seq === head?.seq && result.head?.hash === head?.hash) return [];
  return result.violations.length > 0
    ? [...result.violations]
    : [
        {
          check: 'EVENT_LOG',
          severity: 'CRITICAL',
          description: 'event log: the archive does not end at the database head',
          location: { seq: head?.seq ?? 0 },
          rootCause: 'the archive could not be written completely',
          recommendedAction: 'Check the archive directory (space, permissions) and try again.',
        },
      ];
}

/**
 * Prunes the event log of the database at `options.dbPath` (see the module comment). Throws
 * before writing anything: GOV_OPERATOR_REQUIRED / GOV_REASON_REQUIRED / GOV_INVALID_TEXT (who
 * and why), GOV_INVALID_ARGUMENT (the selection or the archive path), GOV_DATABASE_OWNED (an
 * owner runs), GOV_INVALID_OPERATOR_ACTION (a seq the log must keep).
 */
export function pruneEventLogOffline(options: PruneOptions): PruneOutcome {
  const request = checkOperatorRequest(
    { operator: options.operator, reason: options.reason },
    'events prune',
  );
  checkSelection(options);
  const archivePath = checkArchivePath(options.archivePath, options.dbPath);
  const lock = acquireOwnerLock(options.dbPath, new Date().toISOString());
  if (lock === null) {
    throw new GovernorError('GOV_INVALID_ARGUMENT', 'events prune: a file database is required');
  }
  try {
    const store = Store.open(options.dbPath, { busyTimeoutMs: 2_000 });
    const journal = new ModeJournal(store);
    try {
      claimOwnerRow(journal, lock, options.dbPath, silentLogger());
      return prune(store, journal, options, request, archivePath);
    } finally {
      try {
        journal.releaseOwner(process.pid, new Date().toISOString());
      } finally {
        store.close();
      }
    }
  } finally {
    lock.release();
  }
}

function prune(
  store: Store,
  journal: ModeJournal,
  options: PruneOptions,
  request: { operator: string; reason: string },
  archivePath: string,
): PruneOutcome {
  const throughSeq = selectThroughSeq(store, options);
  if (throughSeq === null) {
    return { kind: 'nothing', message: 'no event is older than asked; nothing was changed' };
  }
  const nothing = checkPrunable(store, journal, throughSeq);
  if (nothing !== null) return { kind: 'nothing', message: `${nothing}; nothing was changed` };
  // Verified first (anchoring the head, which lies after N): a crash after the prune's commit
  // leaves an anchor the pruned log still holds.
  const before = verifyAndAnchor(store, options.dbPath);
  if (before.length > 0) return { kind: 'unverified', what: 'database', violations: before };
  const archived = archive(store, options.dbPath, archivePath);
  if (archived.length > 0) {
    rmSync(archivePath, { force: true });
    rmSync(anchorPathOf(archivePath), { force: true });
    return { kind: 'unverified', what: 'archive', violations: archived };
  }
  const record = store.transaction(() => {
    checkPrunable(store, journal, throughSeq);
    return pruneEventLog(store, {
      throughSeq,
      operator: request.operator,
      reason: request.reason,
      archive: basename(archivePath),
    });
  });
  const violationsAfter = verifyAndAnchor(store, options.dbPath);
  return {
    kind: 'pruned',
    base: record.base,
    prunedEvents: record.prunedEvents,
    attestationSeq: record.attestation.seq,
    archivePath,
    head: store.events.head(),
    violationsAfter,
  };
}
