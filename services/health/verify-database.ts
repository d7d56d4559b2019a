/**
 * `verifyDatabase`: what `governor verify [--full] [--expect-head HASH]` runs (its async form,
 * `verifyDatabaseAsync`, walks the chain in worker threads). It opens the database read-only,
 * verifies it (the whole log with `full`, else from the anchored head on), and compares the
 * chain with a head kept elsewhere, so a rewrite of the whole chain is caught.
 */
import { readChainBase } from '../../persistence/event-log-base.js';
import { Store } from '../../persistence/index.js';
import {
  type HeadAnchor,
  headAnchorPathFor,
  isHeadHash,
} from '../../persistence/integrity/head-anchor.js';
import {
  anchorViolations,
  DataIntegrityVerifier,
  type IntegrityViolation,
  type VerificationRun,
} from '../../persistence/integrity/index.js';
import type { Clock } from '../clock.js';
import { GovernorError } from '../errors.js';

export interface ExpectedHead {
  /** The seq the hash was taken at; when omitted, the chain is searched for the hash. */
  readonly seq?: number;
  readonly hash: string;
}

export interface VerifyDatabaseOptions {
  readonly dbPath: string;
  /** Verify the whole log (default true). False: start after the anchored head when it matches. */
  readonly full?: boolean;
  /** A head kept elsewhere: `HASH`, `SEQ:HASH`, or `{ seq?, hash }`. */
  readonly expectHead?: string | ExpectedHead;
  /** Write `<db>.head.json` after a clean verification. Default false: verify only reads. */
  readonly updateAnchor?: boolean;
  /** Default: the system clock (for the future-timestamp bound). */
  readonly clock?: Pick<Clock, 'wallNow'>;
  /** Default 5 min. */
  readonly futureToleranceMs?: number;
  /**
   * Called once per page of the chain walk (1,024 events) with the events checked so far and
   * the events the walk expects: for a progress bar on long logs. Must not throw.
   */
  readonly onProgress?: (checkedEvents: number, totalEvents: number) => void;
}

export interface VerifyDatabaseResult {
  /** True when there is no violation and, if `expectHead` was given, it matches. */
  readonly ok: boolean;
  readonly violations: readonly IntegrityViolation[];
  /** The current head of the chain (seq and hash), null for an empty log. */
  readonly head: { readonly seq: number; readonly hash: string } | null;
  /** The anchor found beside the database before this run, or null. */
  readonly anchor: HeadAnchor | null;
  /** Whether `expectHead` is in the chain at its seq; null when no `expectHead` was given. */
  readonly anchorMatches: boolean | null;
  readonly run: VerificationRun | null;
  /**
   * Set when the database was verified on a private copy (this user may read it but not create
   * or use the -wal and -shm beside it): what the copy may lack (`Store.readNote`). Else null.
   */
  readonly readNote: string | null;
}

/** Parses `HASH` or `SEQ:HASH` (as typed on the command line) or checks an object. */
export function parseExpectedHead(value: string | ExpectedHead): ExpectedHead {
  const invalid = (): GovernorError =>
    new GovernorError(
      'GOV_INVALID_ARGUMENT',
      'expectHead: expected a 64-digit lower-case hex hash, optionally prefixed by "SEQ:"',
      { field: 'expectHead' },
    );
  if (typeof value === 'string') {
    const match = /^(?:(\d{1,15}):)?([0-9a-f]{64})$/.exec(value.trim().toLowerCase());
    if (match === null || match[2] === undefined) throw invalid();
    return match[1] === undefined ? { hash: match[2] } : { seq: Number(match[1]), hash: match[2] };
  }
  if (typeof value !== 'object' || value === null || !isHeadHash(value.hash)) throw invalid();
  if (value.seq !== undefined && (!Number.isSafeInteger(value.seq) || value.seq < 1))
    throw invalid();
  return value.seq === undefined ? { hash: value.hash } : { seq: value.seq, hash: value.hash };
}

/** `verifyDatabase`'s options, and how many worker threads the chain walk may use. */
export interface VerifyDatabaseAsyncOptions extends VerifyDatabaseOptions {
  /** At most this many worker threads (min(cores, workersMax); 0: none). Default 4. */
  readonly workersMax?: number;
  /** Aborting stops the walk; the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

interface Opened {
  readonly store: Store;
  readonly verifier: DataIntegrityVerifier;
  readonly expected: ExpectedHead | null;
}

function open(options: VerifyDatabaseAsyncOptions): Opened {
  if (typeof options !== 'object' || options === null || typeof options.dbPath !== 'string') {
    throw new GovernorError('GOV_INVALID_ARGUMENT', 'verifyDatabase: expected { dbPath: string }', {
      field: 'dbPath',
    });
  }
  const expected = options.expectHead === undefined ? null : parseExpectedHead(options.expectHead);
  const store = Store.open(options.dbPath, { readonly: options.updateAnchor !== true });
  try {
    const verifier = new DataIntegrityVerifier(store, {
      anchorPath: headAnchorPathFor(options.dbPath),
      writeAnchor: options.updateAnchor === true,
      resumeFromAnchor: true,
      structureCheck: options.full === false ? 'none' : 'all',
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      ...(options.futureToleranceMs === undefined
        ? {}
        : { futureToleranceMs: options.futureToleranceMs }),
      ...(options.workersMax === undefined ? {} : { workersMax: options.workersMax }),
    });
    return { store, verifier, expected };
  } catch (error) {
    store.close();
    throw error;
  }
}

function resultOf(opened: Opened, violations: IntegrityViolation[]): VerifyDatabaseResult {
  const { store, verifier, expected } = opened;
  let anchorMatches: boolean | null = null;
  if (expected !== null) {
    const found = compareExpectedHead(store, expected);
    anchorMatches = found.length === 0;
    violations.push(...found);
  }
  return {
    ok: violations.length === 0,
    violations,
    head: store.integrityScan.head(),
    anchor: verifier.getLastRun()?.anchor ?? null,
    anchorMatches,
    run: verifier.getLastRun(),
    readNote: store.readNote,
  };
}

/**
 * Verifies the database at `dbPath` without changing it (unless `updateAnchor`), on the calling
 * thread. Throws a GovernorError when it cannot be verified at all: GOV_NOT_A_GOVERNOR_DATABASE
 * (not governor's, or damaged beyond opening), GOV_STORAGE_FAILURE (damaged pages, I/O),
 * GOV_SCHEMA_NEEDS_MIGRATION.
 */
export function verifyDatabase(options: VerifyDatabaseOptions): VerifyDatabaseResult {
  const opened = open(options);
  try {
    const violations = opened.verifier.verify({
      full: options.full !== false,
      onProgress: options.onProgress,
    });
    return resultOf(opened, violations);
  } finally {
    opened.store.close();
  }
}

/**
 * `verifyDatabase` with the chain walked in worker threads (the seq range split across
 * min(cores, workersMax) of them; on one core or a short log, on this thread between turns of
 * the event loop). Same result, same errors (as a rejection).
 */
export async function verifyDatabaseAsync(
  options: VerifyDatabaseAsyncOptions,
): Promise<VerifyDatabaseResult> {
  const opened = open(options);
  try {
    const violations = await opened.verifier.verifyAsync({
      full: options.full !== false,
      onProgress: options.onProgress,
      signal: options.signal,
    });
    return resultOf(opened, violations);
  } finally {
    opened.store.close();
  }
}

function compareExpectedHead(store: Store, expected: ExpectedHead): IntegrityViolation[] {
  const scan = store.integrityScan;
  // A pruned log holds the base's seq and hash, and nothing before: an older head can only be
  // checked against the archive the prune wrote.
  const base = readChainBase(store);
  if (base !== null && expected.hash === base.hash && (expected.seq ?? base.seq) === base.seq) {
    return [];
  }
  if (base !== null && expected.seq !== undefined && expected.seq <= base.seq) {
    return anchorViolations(expected as { seq: number; hash: string }, null, 'expected head').map(
      (v) => ({
        ...v,
        description: `event log: expected head at seq ${expected.seq} lies in the pruned history (the log starts after seq ${base.seq}, archived in ${base.archive}): verify it against the archive`,
        rootCause: 'the events up to the expected head were pruned',
      }),
    );
  }
  if (expected.seq !== undefined) {
    return anchorViolations(
      { seq: expected.seq, hash: expected.hash },
      scan.hashAt(expected.seq),
      'expected head',
    );
  }
  // No seq: the hash must be somewhere in the (verified) chain. A chain that verifies and holds
  // the hash at some seq has, up to that seq, exactly the history the hash was taken from.
  const seq = scan.seqOfHash(expected.hash);
  if (seq !== null) return [];
  return anchorViolations({ seq: 0, hash: expected.hash }, 'absent', 'expected head').map((v) => ({
    ...v,
    description: `event log: expected head mismatch: no event has hash ${expected.hash.slice(0, 12)}… (the chain was rewritten, or this is a different database)`,
    location: { anchoredHash: expected.hash },
  }));
}
