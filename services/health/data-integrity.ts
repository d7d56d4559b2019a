/**
 * The data integrity verifier (spec: Data Integrity Verification): event log (ids, timestamps,
 * seq continuity, hash chain, head anchor), snapshots, capital, strategies and system mode. Full
 * at startup, incremental afterwards; every finding is a violation saying where, why and what to do.
 */
import type {
  CapitalFinding,
  EventFinding,
  EventFindingKind,
  ScanPosition,
  SnapshotFinding,
  Store,
  StrategyFinding,
  SystemStateFinding,
} from '../../persistence/index.js';
import type { Clock } from '../clock.js';
import { GovernorError } from '../errors.js';
import {
  type HeadAnchor,
  headAnchorPathFor,
  readHeadAnchor,
  writeHeadAnchor,
} from './head-anchor.js';

export type IntegrityCheckName =
  | 'EVENT_LOG'
  | 'SNAPSHOTS'
  | 'CAPITAL'
  | 'STRATEGIES'
  | 'SYSTEM_MODE';

export interface IntegrityViolation {
  readonly check: IntegrityCheckName;
  readonly severity: 'CRITICAL' | 'WARNING';
  readonly description: string;
  readonly location: Readonly<Record<string, string | number>>;
  readonly rootCause: string;
  readonly recommendedAction: string;
}

/** The event-log head the last clean verification reached (and anchored). */
export interface VerifiedHead {
  readonly seq: number;
  readonly hash: string;
  /** ISO-8601 wall time of that verification. */
  readonly at: string;
}

export interface DataIntegrityVerifierOptions {
  /** Wall time for the future-timestamp bound and the anchor's `at`. Default `Date.now`. */
  readonly clock?: Pick<Clock, 'wallNow'>;
  /** Where the head anchor lives; default `<db>.head.json` (null: no anchor, e.g. `:memory:`). */
  readonly anchorPath?: string | null;
  /** Write the anchor after a clean verification. Default true. */
  readonly writeAnchor?: boolean;
  /**
   * A full verification (startup, `governor verify`) finds an event timestamp more than this
   * ahead of the wall clock implausible. Default 5 min.
   */
  readonly futureToleranceMs?: number;
  /**
   * How far a wall clock may step (NTP, an operator) without its timestamps being a violation:
   * an event may be this much older than its predecessor, and this much further ahead of the
   * clock than `futureToleranceMs` allows. Default 24 h.
   */
  readonly clockStepToleranceMs?: number;
  /** The most violations kept per check (the rest are counted in one more violation). Default 20. */
  readonly violationsPerCheckMax?: number;
  /**
   * Without `full`, a first verification starts after the anchored head (trusting the prefix an
   * earlier verification anchored) instead of at seq 1. Default false: the first run is full.
   */
  readonly resumeFromAnchor?: boolean;
  /**
   * SQLite's structural check in full runs: `except-events` (default: every table but the event
   * log, whose rows the chain walk reads), `all` (what `governor verify --full` uses), or `none`.
   */
  readonly structureCheck?: 'all' | 'except-events' | 'none';
}

/** What one `verify` call may ask for. */
export interface VerifyRunOptions {
  /** Walk the whole log (and run the structure check), not only what is new. */
  readonly full?: boolean;
  /** Called once per page of the chain walk (1,024 events): for a progress bar. Must not throw. */
  readonly onProgress?: ((checkedEvents: number, totalEvents: number) => void) | undefined;
}

export const FUTURE_TOLERANCE_MS_DEFAULT = 5 * 60 * 1000;
export const FUTURE_TOLERANCE_MS_MAX = 7 * 24 * 60 * 60 * 1000;
export const CLOCK_STEP_TOLERANCE_MS_DEFAULT = 24 * 60 * 60 * 1000;
export const VIOLATIONS_PER_CHECK_MAX_DEFAULT = 20;
const VIOLATIONS_PER_CHECK_MAX_MAX = 1000;

export interface VerificationRun {
  readonly full: boolean;
  readonly eventsChecked: number;
  /** First seq examined by the walk (null when nothing was new). */
  readonly fromSeq: number | null;
  readonly anchor: HeadAnchor | null;
  readonly anchorWritten: boolean;
}

const RESTORE =
  'Stop trading (governor already has). Compare with a backup and the externally kept head (`governor verify --full --expect-head HASH`), restore or investigate the tampering, then restart as an operator.';

const EVENT_TEXT: Readonly<Record<EventFindingKind, { what: string; rootCause: string }>> = {
  SEQ_GAP: {
    what: 'seq gap',
    rootCause: 'events were deleted from the middle of the log, or rows were renumbered',
  },
  PREV_HASH_MISMATCH: {
    what: 'broken hash link',
    rootCause:
      'an event was inserted, removed or rewritten: prev_hash no longer links to its predecessor',
  },
  HASH_MISMATCH: {
    what: 'hash mismatch',
    rootCause:
      'an event (its id, time, type, reason, metadata or hash) was edited after it was written',
  },
  MALFORMED_ROW: {
    what: 'malformed row',
    rootCause: 'an event row holds a value of the wrong type: a write bypassed governor',
  },
  TIMESTAMP_MALFORMED: {
    what: 'malformed timestamp',
    rootCause: 'an event timestamp is not the ISO-8601 UTC form governor writes',
  },
  TIMESTAMP_BACKWARDS: {
    what: 'timestamp goes backwards',
    rootCause:
      'events were reordered or their timestamps edited (governor writes non-decreasing times unless the wall clock was set back)',
  },
  TIMESTAMP_FUTURE: {
    what: 'timestamp in the future',
    rootCause:
      'an event carries a time implausibly far ahead of the wall clock: edited, or written by a host with a wrong clock',
  },
};

/** An integer option within [min, max], or its default; GOV_INVALID_ARGUMENT names it otherwise. */
function integerOption(
  field: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  const checked = value ?? fallback;
  if (!Number.isSafeInteger(checked) || checked < min || checked > max) {
    throw new GovernorError(
      'GOV_INVALID_ARGUMENT',
      `${field}: expected an integer from ${min} to ${max}`,
      { field },
    );
  }
  return checked;
}

function checkOptions(options: DataIntegrityVerifierOptions): {
  futureToleranceMs: number;
  clockStepToleranceMs: number;
  perCheckMax: number;
} {
  return {
    clockStepToleranceMs: integerOption(
      'clockStepToleranceMs',
      options.clockStepToleranceMs,
      CLOCK_STEP_TOLERANCE_MS_DEFAULT,
      0,
      FUTURE_TOLERANCE_MS_MAX,
    ),
    futureToleranceMs: integerOption(
      'futureToleranceMs',
      options.futureToleranceMs,
      FUTURE_TOLERANCE_MS_DEFAULT,
      0,
      FUTURE_TOLERANCE_MS_MAX,
    ),
    perCheckMax: integerOption(
      'violationsPerCheckMax',
      options.violationsPerCheckMax,
      VIOLATIONS_PER_CHECK_MAX_DEFAULT,
      1,
      VIOLATIONS_PER_CHECK_MAX_MAX,
    ),
  };
}

function violationKey(v: IntegrityViolation): string {
  return `${v.check}|${v.description}|${JSON.stringify(v.location)}`;
}

export class DataIntegrityVerifier {
  private readonly store: Store;
  private readonly clock: Pick<Clock, 'wallNow'>;
  private readonly anchorPath: string | null;
  private readonly writeAnchor: boolean;
  private readonly resumeFromAnchor: boolean;
  private readonly structureCheck: 'all' | 'except-events' | 'none';
  private readonly futureToleranceMs: number;
  private readonly clockStepToleranceMs: number;
  private readonly perCheckMax: number;
  /** The last event row the walk read (clean or not): the next incremental run starts after it. */
  private position: ScanPosition | null = null;
  private snapshotRowid = 0;
  private verifiedHead: VerifiedHead | null = null;
  /** EVENT_LOG violations of earlier runs: the damage is still there until a full run says not. */
  private carriedChainViolations: IntegrityViolation[] = [];
  private lastViolations: IntegrityViolation[] = [];
  private newViolations: IntegrityViolation[] = [];
  private lastRun: VerificationRun | null = null;
  private lastAnchorError: string | null = null;

  constructor(store: Store, options: DataIntegrityVerifierOptions = {}) {
    const checked = checkOptions(options);
    this.store = store;
    this.clock = options.clock ?? { wallNow: () => Date.now() };
    this.anchorPath =
      options.anchorPath === undefined ? headAnchorPathFor(store.path) : options.anchorPath;
    this.writeAnchor = options.writeAnchor ?? true;
    this.resumeFromAnchor = options.resumeFromAnchor ?? false;
    this.structureCheck = options.structureCheck ?? 'except-events';
    this.futureToleranceMs = checked.futureToleranceMs;
    this.clockStepToleranceMs = checked.clockStepToleranceMs;
    this.perCheckMax = checked.perCheckMax;
  }

  /**
   * Verifies the event log from the last position (everything on the first call, or with
   * `full`) and every other table, in one read snapshot. Returns the violations found (kept for
   * `getLastViolations`). Throws GOV_STORAGE_FAILURE when the database cannot be read.
   * `onProgress(checkedEvents, totalEvents)` is called once per page of the chain walk.
   */
  verify(options: VerifyRunOptions = {}): IntegrityViolation[] {
    const nowMs = this.clock.wallNow();
    const at = new Date(nowMs).toISOString();
    const violations: IntegrityViolation[] = [];
    const anchor = this.readAnchor(violations);
    let full = options.full === true || this.position === null;
    let start: ScanPosition | null = full ? null : this.position;
    if (full && options.full !== true && this.resumeFromAnchor && anchor !== null) {
      const anchored = this.store.integrityScan.positionAt(anchor.seq);
      if (anchored !== null && anchored.hash === anchor.hash) {
        start = anchored;
        full = false;
      }
    }
    // Chain damage found earlier stays reported (and blocks the anchor) until a full run.
    if (full) this.carriedChainViolations = [];
    // The wall clock may have stepped back since the events were written (while running, or
    // before a restart): up to clockStepToleranceMs of that is no incident (issue 9: a day
    // either way fires nothing). Order itself is proven by seq and the hash chain.
    const aheadMs = this.futureToleranceMs + this.clockStepToleranceMs;
    const futureLimitIso = new Date(nowMs + aheadMs).toISOString();
    const scan = this.store.integrityScan;
    const walk = scan.inReadSnapshot(() => {
      if (full && this.structureCheck !== 'none') this.verifyStructure(violations);
      const events = this.verifyEvents(start, anchor, futureLimitIso, violations, options);
      this.verifySnapshots(full, violations);
      this.verifyCapital(violations);
      this.verifyStrategies(violations);
      this.verifySystemMode(violations);
      return events;
    });
    const eventLogClean = !violations.some((v) => v.check === 'EVENT_LOG');
    if (walk.last !== null) this.position = walk.last;
    let anchorWritten = false;
    if (eventLogClean && walk.last !== null) {
      this.verifiedHead = { seq: walk.last.seq, hash: walk.last.hash, at };
      anchorWritten = this.persistAnchor(this.verifiedHead);
    }
    const previous = new Set(this.lastViolations.map(violationKey));
    this.newViolations = violations.filter((v) => !previous.has(violationKey(v)));
    this.lastViolations = violations;
    this.lastRun = {
      full,
      eventsChecked: walk.checked,
      fromSeq: walk.checked > 0 ? (start?.seq ?? 0) + 1 : null,
      anchor,
      anchorWritten,
    };
    return [...violations];
  }

  getCriticalViolations(): IntegrityViolation[] {
    return this.lastViolations.filter((v) => v.severity === 'CRITICAL');
  }

  getLastViolations(): IntegrityViolation[] {
    return [...this.lastViolations];
  }

  /** Violations of the last run that the run before it had not reported. */
  getNewViolations(): IntegrityViolation[] {
    return [...this.newViolations];
  }

  getVerifiedHead(): VerifiedHead | null {
    return this.verifiedHead;
  }

  getLastRun(): VerificationRun | null {
    return this.lastRun;
  }

  /** Why the last anchor write failed, or null (the anchor is advisory: a failure is not a violation). */
  getLastAnchorError(): string | null {
    return this.lastAnchorError;
  }

  private readAnchor(violations: IntegrityViolation[]): HeadAnchor | null {
    try {
      return readHeadAnchor(this.anchorPath);
    } catch (error) {
      violations.push({
        check: 'EVENT_LOG',
        severity: 'CRITICAL',
        description: `head anchor unreadable: ${(error as Error).message}`,
        location: { file: this.anchorPath ?? '' },
        rootCause: 'the head anchor beside the database was edited or damaged',
        recommendedAction: RESTORE,
      });
      return null;
    }
  }

  private persistAnchor(head: VerifiedHead): boolean {
    if (!this.writeAnchor || this.anchorPath === null) return false;
    try {
      writeHeadAnchor(this.anchorPath, head);
      this.lastAnchorError = null;
      return true;
    } catch (error) {
      this.lastAnchorError = (error as Error).message;
      return false;
    }
  }

  private verifyEvents(
    start: ScanPosition | null,
    anchor: HeadAnchor | null,
    futureLimitIso: string,
    violations: IntegrityViolation[],
    options: VerifyRunOptions,
  ): { checked: number; last: ScanPosition | null } {
    const scan = this.store.integrityScan;
    const found: IntegrityViolation[] = [];
    if (start !== null) {
      const stored = scan.hashAt(start.seq);
      if (stored !== start.hash) {
        found.push(
          eventViolation(
            `verified history changed: seq ${start.seq} ${stored === null ? 'is gone' : 'has a different hash'} since it was verified`,
            { seq: start.seq },
            'events already verified were deleted or rewritten',
          ),
        );
      }
    }
    if (anchor !== null)
      found.push(...anchorViolations(anchor, scan.hashAt(anchor.seq), 'head anchor'));
    // While the UNIQUE index on event_id is in place, SQLite refuses every duplicate: a scan
    // for duplicates would read that very index and could only repeat its guarantee. Without it
    // (the table was rebuilt outside governor), duplicates are searched for inside SQLite.
    const unique = scan.eventIdIsUnique();
    if (!unique) {
      found.push(
        eventViolation(
          'events.event_id has no UNIQUE index',
          { table: 'events' },
          'the events table was rebuilt outside governor without its unique event_id index',
        ),
      );
    }
    const duplicates = unique ? [] : scan.duplicateEventIds(start?.seq ?? null, this.perCheckMax);
    for (const duplicate of duplicates) {
      found.push(
        eventViolation(
          `duplicate event id ${duplicate.eventId} (${duplicate.count} rows, seq ${duplicate.seqs})`,
          { seq: Number(duplicate.seqs.split(',')[0]), eventId: duplicate.eventId },
          'an event id occurs more than once: rows were copied or inserted outside governor',
        ),
      );
    }
    const walk = scan.walkChain({
      after: start,
      futureLimitIso,
      backwardsToleranceMs: this.clockStepToleranceMs,
      findingsMax: this.perCheckMax,
      onProgress: options.onProgress,
    });
    found.push(...walk.findings.map(fromEventFinding));
    const carried = this.carriedChainViolations;
    const current = this.capped('EVENT_LOG', [...carried, ...found], walk.findingsDropped);
    this.carriedChainViolations = current;
    violations.push(...current);
    return { checked: walk.checked, last: walk.last };
  }

  private verifyStructure(violations: IntegrityViolation[]): void {
    const scope = this.structureCheck === 'all' ? 'all' : 'except-events';
    for (const finding of this.store.integrityScan.structure(scope, this.perCheckMax)) {
      violations.push({
        check: checkOfTable(finding.table),
        severity: 'CRITICAL',
        description: `database structure is corrupt (quick_check of ${finding.table}): ${finding.detail}`,
        location: { table: finding.table, kind: 'STRUCTURE' },
        rootCause: 'the database file is damaged (disk, filesystem, or a byte-level edit)',
        recommendedAction:
          'Stop the process, keep the damaged file for analysis, restore the database from a backup and run `governor verify --full`.',
      });
    }
  }

  private verifySnapshots(full: boolean, violations: IntegrityViolation[]): void {
    const result = this.store.integrityScan.snapshots(
      full ? 0 : this.snapshotRowid,
      this.perCheckMax,
    );
    this.snapshotRowid = result.lastRowid;
    violations.push(
      ...this.capped('SNAPSHOTS', result.findings.map(fromSnapshotFinding), result.findingsDropped),
    );
  }

  private verifyCapital(violations: IntegrityViolation[]): void {
    const found: IntegrityViolation[] = this.store.capital.reconcile().mismatches.map((m) => ({
      check: 'CAPITAL' as const,
      severity: 'CRITICAL' as const,
      description: `pool ${m.poolId}: total ${m.totalMinor} but accounts sum to ${m.accountsSumMinor} (difference ${m.differenceMinor} minor units)`,
      location: { poolId: m.poolId },
      rootCause:
        'capital pool total and the sum of its accounts disagree: a write bypassed governor, or a partial update',
      recommendedAction:
        'Reconcile the pool against the exchange and the ledger, correct the records, then restart as an operator.',
    }));
    found.push(
      ...this.store.integrityScan.capitalStructure(this.perCheckMax).map(fromCapitalFinding),
    );
    violations.push(...this.capped('CAPITAL', found, 0));
  }

  private verifyStrategies(violations: IntegrityViolation[]): void {
    const found = this.store.integrityScan
      .strategies(this.perCheckMax + 1)
      .map(fromStrategyFinding);
    violations.push(...this.capped('STRATEGIES', found, 0));
  }

  private verifySystemMode(violations: IntegrityViolation[]): void {
    violations.push(...this.store.integrityScan.systemState().map(fromSystemStateFinding));
  }

  /** At most `perCheckMax` violations of one check, plus one that counts the rest. */
  private capped(
    check: IntegrityCheckName,
    found: IntegrityViolation[],
    alreadyDropped: number,
  ): IntegrityViolation[] {
    const dropped = alreadyDropped + Math.max(0, found.length - this.perCheckMax);
    const kept = found.slice(0, this.perCheckMax);
    if (dropped === 0) return kept;
    const first = kept[0];
    return [
      ...kept,
      {
        check,
        severity: 'CRITICAL',
        description: `${dropped} further ${check} finding(s) not listed`,
        location: { more: dropped },
        rootCause: first?.rootCause ?? 'see the findings above',
        recommendedAction: first?.recommendedAction ?? RESTORE,
      },
    ];
  }
}

/** The verifier check whose data a table holds (other tables count as system state). */
function checkOfTable(table: string): IntegrityCheckName {
  if (table === 'events' || table === 'database') return 'EVENT_LOG';
  if (table === 'snapshots') return 'SNAPSHOTS';
  if (table.startsWith('capital_')) return 'CAPITAL';
  if (table.startsWith('strateg')) return 'STRATEGIES';
  return 'SYSTEM_MODE';
}

/** Compares an anchored (or expected) head with the hash the chain holds at its seq. */
export function anchorViolations(
  anchor: { seq: number; hash: string },
  chainHash: string | null,
  label: string,
): IntegrityViolation[] {
  if (chainHash === anchor.hash) return [];
  return [
    eventViolation(
      chainHash === null
        ? `${label} mismatch: the log ends before seq ${anchor.seq}, which was verified earlier (newest events deleted)`
        : `${label} mismatch: seq ${anchor.seq} has hash ${chainHash.slice(0, 12)}…, not the anchored ${anchor.hash.slice(0, 12)}…`,
      { seq: anchor.seq, anchoredHash: anchor.hash },
      chainHash === null
        ? 'the event log was truncated (or an older copy of the database was restored)'
        : 'the event log was rewritten from this seq or earlier, hashes recomputed (or a different database was put in place)',
    ),
  ];
}

function eventViolation(
  description: string,
  location: Record<string, string | number>,
  rootCause: string,
): IntegrityViolation {
  return {
    check: 'EVENT_LOG',
    severity: 'CRITICAL',
    description: `event log: ${description}`,
    location,
    rootCause,
    recommendedAction: RESTORE,
  };
}

function fromEventFinding(finding: EventFinding): IntegrityViolation {
  const text = EVENT_TEXT[finding.kind];
  return eventViolation(
    `${text.what} at seq ${finding.seq}: ${finding.detail}`,
    { seq: finding.seq, kind: finding.kind },
    text.rootCause,
  );
}

function fromSnapshotFinding(finding: SnapshotFinding): IntegrityViolation {
  const rootCause: Record<SnapshotFinding['kind'], string> = {
    DUPLICATE_DATE:
      'two snapshots share a date: the snapshots table was rebuilt or written outside governor',
    OUT_OF_ORDER:
      'snapshot dates and write times disagree: snapshots were back-filled, reordered or edited',
    INVALID_DATE: 'a snapshot date is not a calendar date: edited outside governor',
    INVALID_WRITTEN_AT: 'a snapshot write time is not a timestamp: edited outside governor',
    INVALID_DATA: 'a snapshot document is not JSON: truncated or edited outside governor',
  };
  return {
    check: 'SNAPSHOTS',
    severity: 'CRITICAL',
    description: `snapshot ${finding.date}: ${finding.detail}`,
    location: { date: finding.date, kind: finding.kind },
    rootCause: rootCause[finding.kind],
    recommendedAction:
      'Restore the snapshots from a backup or re-derive them from the event log, then restart as an operator.',
  };
}

function fromCapitalFinding(finding: CapitalFinding): IntegrityViolation {
  return {
    check: 'CAPITAL',
    severity: 'CRITICAL',
    description: `capital: ${finding.detail}`,
    location:
      finding.accountId === null
        ? { poolId: finding.poolId, kind: finding.kind }
        : { poolId: finding.poolId, accountId: finding.accountId, kind: finding.kind },
    rootCause:
      'capital records were written outside governor (allocation to a missing pool, or an invalid amount)',
    recommendedAction:
      'Reconcile the pool against the exchange and the ledger, correct the records, then restart as an operator.',
  };
}

function fromStrategyFinding(finding: StrategyFinding): IntegrityViolation {
  const location: Record<string, string | number> = {
    strategyId: finding.strategyId,
    kind: finding.kind,
  };
  if (finding.transitionId !== null) location.transitionId = finding.transitionId;
  return {
    check: 'STRATEGIES',
    severity: 'CRITICAL',
    description: `strategy ${finding.strategyId}: ${finding.detail}`,
    location,
    rootCause:
      'strategy state or history was written outside governor (states and moves are checked on every write)',
    recommendedAction:
      'Restore the strategy records from a backup, or set the strategy to a known state through governor, then restart as an operator.',
  };
}

function fromSystemStateFinding(finding: SystemStateFinding): IntegrityViolation {
  return {
    check: 'SYSTEM_MODE',
    severity: 'CRITICAL',
    description: `system state: ${finding.detail}`,
    location: { table: 'system_state', kind: finding.kind },
    rootCause: 'system_state was written outside governor',
    recommendedAction:
      'Set the desired mode with an operator command (observe or resume) or restore system_state from a backup, then restart as an operator.',
  };
}
