/**
 * The data integrity verifier (spec: Data Integrity Verification): the event log (ids,
 * timestamps, seq continuity, hash chain, head anchor) and the table checks, in one read
 * snapshot. Full at startup, incremental afterwards; `verifyAsync` walks the chain off the event
 * loop (worker threads, or short slices). Every finding is a violation saying where, why and
 * what to do.
 */
import type { Clock } from '../../services/clock.js';
import { AssertionError } from '../../services/errors.js';
import type { Store } from '../store.js';
import {
  type ChainProgress,
  type ChainWalkOptions,
  walkChainInSlices,
  walkChainInSnapshot,
} from './chain-in-thread.js';
import { type ChainRules, type ChainWalk, type ScanPosition, shortOfHead } from './chain-walk.js';
import { type WorkerWalk, walkChainInWorkers, workerCount } from './chain-workers.js';
import { type BaseReading, readBase } from './checks/chain-base.js';
import {
  anchorUnreadable,
  eventLogChecksBeforeWalk,
  fromEventFinding,
  rowCountViolations,
} from './checks/event-log.js';
import { TABLE_CHECKS } from './checks/index.js';
import { structureViolations } from './checks/structure.js';
import {
  type HeadAnchor,
  headAnchorPathFor,
  readHeadAnchor,
  writeHeadAnchor,
} from './head-anchor.js';
import { integerOption } from './options.js';
import {
  capViolations,
  type IntegrityCheckName,
  type IntegrityViolation,
  violationKey,
  withoutRepeats,
} from './violation.js';

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
  /**
   * `verifyAsync`: the most worker threads the chain walk uses; it uses
   * min(os.availableParallelism(), workersMax), and none below 2 (0: never). Default 4.
   */
  readonly workersMax?: number;
  /**
   * `verifyAsync`: a walk of fewer events than this runs on the calling thread, a page at a
   * time, instead of starting workers. Default 50,000.
   */
  readonly parallelEventsMin?: number;
}

/** What one `verify` call may ask for. */
export interface VerifyRunOptions {
  /** Walk the whole log (and run the structure check), not only what is new. */
  readonly full?: boolean;
  /**
   * Called as the chain walk advances: once per page (1,024 events) in `verify`, about every
   * 16 pages per worker in `verifyAsync`. For a progress bar; must not throw.
   */
  readonly onProgress?: ChainProgress | undefined;
}

export interface VerifyAsyncOptions extends VerifyRunOptions {
  /** Aborting stops the walk (workers are terminated); the promise rejects with the reason. */
  readonly signal?: AbortSignal | undefined;
}

export const FUTURE_TOLERANCE_MS_DEFAULT = 5 * 60 * 1000;
export const FUTURE_TOLERANCE_MS_MAX = 7 * 24 * 60 * 60 * 1000;
export const CLOCK_STEP_TOLERANCE_MS_DEFAULT = 24 * 60 * 60 * 1000;
export const VIOLATIONS_PER_CHECK_MAX_DEFAULT = 20;
const VIOLATIONS_PER_CHECK_MAX_MAX = 1000;
export const WORKERS_MAX_DEFAULT = 4;
const WORKERS_MAX_MAX = 64;
export const PARALLEL_EVENTS_MIN_DEFAULT = 50_000;

export interface VerificationRun {
  readonly full: boolean;
  readonly eventsChecked: number;
  /** First seq examined by the walk (null when nothing was new). */
  readonly fromSeq: number | null;
  readonly anchor: HeadAnchor | null;
  readonly anchorWritten: boolean;
  /** Worker threads the chain walk used (0: the calling thread). */
  readonly workers: number;
}

/** One run, decided before anything is read. */
interface RunPlan {
  readonly full: boolean;
  readonly start: ScanPosition | null;
  readonly anchor: HeadAnchor | null;
  readonly at: string;
  readonly rules: ChainRules;
  /** Violations found before the scan (an unreadable anchor). */
  readonly early: readonly IntegrityViolation[];
  /** Chain damage of earlier runs, still reported (none in a full run). */
  readonly carriedChain: readonly IntegrityViolation[];
  /** Table violations adopted from the scrub, still reported (none in a full run). */
  readonly adopted: readonly IntegrityViolation[];
  /** The verifier's generation when the run began: another run completing meanwhile changes it. */
  readonly generation: number;
}

/** What the run read inside its snapshot, apart from the chain walk. */
interface SnapshotScan {
  /** Where the walk starts: the run's start, or in a full run the chain base (null: seq 1). */
  readonly start: ScanPosition | null;
  readonly structure: readonly IntegrityViolation[];
  readonly beforeWalk: readonly IntegrityViolation[];
  readonly tables: ReadonlyArray<{
    readonly name: IntegrityCheckName;
    readonly violations: readonly IntegrityViolation[];
    readonly dropped: number;
    readonly resumeAt: number;
  }>;
}

export class DataIntegrityVerifier {
  /** The store this verifier reads (the scrub reads it too). */
  readonly store: Store;
  private readonly clock: Pick<Clock, 'wallNow'>;
  private readonly anchorPath: string | null;
  private readonly writeAnchor: boolean;
  private readonly resumeFromAnchor: boolean;
  private readonly structureCheck: 'all' | 'except-events' | 'none';
  private readonly futureToleranceMs: number;
  private readonly clockStepToleranceMs: number;
  private readonly perCheckMax: number;
  private readonly workersMax: number;
  private readonly parallelEventsMin: number;
  /** The last event row the walk read (clean or not): the next incremental run starts after it. */
  private position: ScanPosition | null = null;
  /** Where each table check's next incremental scan resumes. */
  private readonly resumeAt = new Map<IntegrityCheckName, number>();
  private verifiedHead: VerifiedHead | null = null;
  /** EVENT_LOG violations of earlier runs: the damage is still there until a full run says not. */
  private carriedChain: IntegrityViolation[] = [];
  /** Other checks' violations adopted from the scrub, reported until a full run. */
  private adopted: IntegrityViolation[] = [];
  private lastViolations: IntegrityViolation[] = [];
  private newViolations: IntegrityViolation[] = [];
  private lastRun: VerificationRun | null = null;
  private generation = 0;

  constructor(store: Store, options: DataIntegrityVerifierOptions = {}) {
    this.clockStepToleranceMs = integerOption(
      'clockStepToleranceMs',
      options.clockStepToleranceMs,
      CLOCK_STEP_TOLERANCE_MS_DEFAULT,
      0,
      FUTURE_TOLERANCE_MS_MAX,
    );
    this.futureToleranceMs = integerOption(
      'futureToleranceMs',
      options.futureToleranceMs,
      FUTURE_TOLERANCE_MS_DEFAULT,
      0,
      FUTURE_TOLERANCE_MS_MAX,
    );
    this.perCheckMax = integerOption(
      'violationsPerCheckMax',
      options.violationsPerCheckMax,
      VIOLATIONS_PER_CHECK_MAX_DEFAULT,
      1,
      VIOLATIONS_PER_CHECK_MAX_MAX,
    );
    this.workersMax = integerOption(
      'workersMax',
      options.workersMax,
      WORKERS_MAX_DEFAULT,
      0,
      WORKERS_MAX_MAX,
    );
    this.parallelEventsMin = integerOption(
      'parallelEventsMin',
      options.parallelEventsMin,
      PARALLEL_EVENTS_MIN_DEFAULT,
      0,
      Number.MAX_SAFE_INTEGER,
    );
    this.store = store;
    this.clock = options.clock ?? { wallNow: () => Date.now() };
    this.anchorPath =
      options.anchorPath === undefined ? headAnchorPathFor(store.path) : options.anchorPath;
    this.writeAnchor = options.writeAnchor ?? true;
    this.resumeFromAnchor = options.resumeFromAnchor ?? false;
    this.structureCheck = options.structureCheck ?? 'except-events';
  }

  /**
   * Verifies the event log from the last position (everything on the first call, or with
   * `full`) and every other table, in one read snapshot, on the calling thread. Returns the
   * violations found (kept for `getLastViolations`). Throws GOV_STORAGE_FAILURE when the
   * database cannot be read.
   */
  verify(options: VerifyRunOptions = {}): IntegrityViolation[] {
    const plan = this.plan(options);
    const scan = this.store.integrityScan;
    const { snapshot, walk } = scan.inReadSnapshot(() => {
      const snapshot = this.scanSnapshot(plan, readBase(scan));
      return {
        snapshot,
        walk: walkChainInSnapshot(scan, this.walkOptions(plan, snapshot.start, options.onProgress)),
      };
    });
    return this.complete(plan, snapshot, walk, 0);
  }

  /**
   * `verify`, with the event loop free: the tables are read in one snapshot as by `verify`; the
   * chain up to the head read in it is walked in worker threads (each on its own read-only
   * connection, the seq range split across them) or, for a short log, on one core or an
   * in-memory store, on this thread a page at a time. Events appended meanwhile are left for
   * the next run. The violations equal those `verify` reports on the same data.
   */
  async verifyAsync(options: VerifyAsyncOptions = {}): Promise<IntegrityViolation[]> {
    const scan = this.store.integrityScan;
    if (scan.inTransaction) {
      // Workers read committed rows only: inside a transaction the head could be uncommitted.
      throw new AssertionError('verifyAsync called inside a store transaction');
    }
    const plan = this.plan(options);
    // Workers start inside the snapshot, from the head read there, and walk while the tables
    // are checked (if those cannot be read, the workers are stopped); on this thread, the walk
    // follows the snapshot.
    const stop = new AbortController();
    const signal =
      options.signal === undefined ? stop.signal : AbortSignal.any([options.signal, stop.signal]);
    const inWorkers: { walk: Promise<WorkerWalk> | null } = { walk: null };
    let read: { snapshot: SnapshotScan; toSeq: number; workers: number; baseSeq: number };
    try {
      read = scan.inReadSnapshot(() => {
        const toSeq = scan.head()?.seq ?? 0;
        const base = readBase(scan);
        const start = plan.start ?? base.start;
        const workers = this.workersFor(toSeq - (start?.seq ?? 0));
        // A full walk's row count (count(*) over an index: about 50 ms per million rows) is
        // made by the first worker, off the event loop, when there are workers.
        const countInWorker = workers > 0 && plan.start === null;
        if (workers > 0) {
          inWorkers.walk = walkChainInWorkers({
            ...this.walkOptions(plan, start, options.onProgress),
            toSeq,
            signal,
            dbPath: scan.path,
            workers,
            countRows: countInWorker,
          });
        }
        return {
          snapshot: this.scanSnapshot(plan, base, countInWorker),
          toSeq,
          workers,
          baseSeq: base.seq,
        };
      });
    } catch (error) {
      stop.abort(error);
      inWorkers.walk?.catch(() => {});
      throw error;
    }
    const walked: WorkerWalk = await (inWorkers.walk ??
      walkChainInSlices(scan, {
        ...this.walkOptions(plan, read.snapshot.start, options.onProgress),
        toSeq: read.toSeq,
        signal,
      }));
    const short = shortOfHead(walked.last?.seq ?? read.snapshot.start?.seq ?? 0, read.toSeq);
    const walk = short === null ? walked : { ...walked, findings: [...walked.findings, short] };
    const counted = walked.rowsUpTo ?? null;
    const snapshot =
      counted === null
        ? read.snapshot
        : {
            ...read.snapshot,
            beforeWalk: [
              ...rowCountViolations(counted, read.toSeq, read.baseSeq),
              ...read.snapshot.beforeWalk,
            ],
          };
    return this.complete(plan, snapshot, walk, read.workers);
  }

  /** Worker threads for a walk of `rows` events (0: walk on this thread). */
  private workersFor(rows: number): number {
    const available = workerCount(this.workersMax);
    const parallel =
      available >= 2 &&
      rows >= Math.max(2, this.parallelEventsMin) &&
      this.store.integrityScan.path !== ':memory:';
    return parallel ? Math.min(available, rows) : 0;
  }

  /**
   * Takes violations found outside `verify` (the background scrub). Returns those this verifier
   * had not reported (in its last run, or adopted since), and keeps reporting them, in
   * `getLastViolations` and in every later run, until a full run; event-log damage among them
   * also keeps the anchor where it is.
   */
  adopt(violations: readonly IntegrityViolation[]): IntegrityViolation[] {
    const fresh = withoutRepeats(this.lastViolations, violations).slice(this.lastViolations.length);
    if (fresh.length === 0) return [];
    this.carriedChain = withoutRepeats(
      this.carriedChain,
      fresh.filter((v) => v.check === 'EVENT_LOG'),
    );
    this.adopted = withoutRepeats(
      this.adopted,
      fresh.filter((v) => v.check !== 'EVENT_LOG'),
    );
    this.lastViolations = [...this.lastViolations, ...fresh];
    this.generation++;
    return fresh;
  }

  /** The rules a chain walk started now applies (the scrub walks with the verifier's rules). */
  chainRules(): ChainRules {
    // The wall clock may have stepped back since the events were written (while running, or
    // before a restart): up to clockStepToleranceMs of that is no incident (a day
    // either way fires nothing). Order itself is proven by seq and the hash chain.
    const aheadMs = this.futureToleranceMs + this.clockStepToleranceMs;
    return {
      futureLimitIso: new Date(this.clock.wallNow() + aheadMs).toISOString(),
      backwardsToleranceMs: this.clockStepToleranceMs,
      findingsMax: this.perCheckMax,
    };
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

  private plan(options: VerifyRunOptions): RunPlan {
    const nowMs = this.clock.wallNow();
    const early: IntegrityViolation[] = [];
    let anchor: HeadAnchor | null = null;
    try {
      anchor = readHeadAnchor(this.anchorPath);
    } catch (error) {
      early.push(anchorUnreadable(this.anchorPath, error as Error));
    }
    let full = options.full === true || this.position === null;
    let start: ScanPosition | null = full ? null : this.position;
    if (full && options.full !== true && this.resumeFromAnchor && anchor !== null) {
      const anchored = this.store.integrityScan.positionAt(anchor.seq);
      if (anchored !== null && anchored.hash === anchor.hash) {
        start = anchored;
        full = false;
      }
    }
    return {
      full,
      start,
      anchor,
      at: new Date(nowMs).toISOString(),
      rules: this.chainRules(),
      early,
      // Damage found earlier stays reported (and blocks the anchor) until a full run.
      carriedChain: full ? [] : this.carriedChain,
      adopted: full ? [] : this.adopted,
      generation: this.generation,
    };
  }

  private walkOptions(
    plan: RunPlan,
    start: ScanPosition | null,
    onProgress: ChainProgress | undefined,
  ): ChainWalkOptions {
    return { ...plan.rules, after: start, onProgress };
  }

  /**
   * Everything but the chain walk, inside the caller's read snapshot. A full run starts at the
   * chain base of a pruned log (`base`, read in the same snapshot); every run checks the base.
   * With `countInWorker`, the full run's row count is left to the first worker.
   */
  private scanSnapshot(plan: RunPlan, base: BaseReading, countInWorker = false): SnapshotScan {
    const scan = this.store.integrityScan;
    const structure =
      plan.full && this.structureCheck !== 'none'
        ? structureViolations(
            scan,
            this.structureCheck === 'all' ? 'all' : 'except-events',
            this.perCheckMax,
          )
        : [];
    const beforeWalk = eventLogChecksBeforeWalk(
      scan,
      plan.start,
      base,
      plan.anchor,
      this.perCheckMax,
      { countInWorker },
    );
    const tables = TABLE_CHECKS.map((check) => ({
      name: check.name,
      ...check.scan({
        store: this.store,
        full: plan.full,
        findingsMax: this.perCheckMax,
        resumeAfter: plan.full ? 0 : (this.resumeAt.get(check.name) ?? 0),
      }),
    }));
    return { start: plan.start ?? base.start, structure, beforeWalk, tables };
  }

  /** Assembles the violations in their reporting order and updates what later runs build on. */
  private complete(
    plan: RunPlan,
    snapshot: SnapshotScan,
    walk: ChainWalk,
    workers: number,
  ): IntegrityViolation[] {
    const max = this.perCheckMax;
    const chain = capViolations(
      'EVENT_LOG',
      withoutRepeats(plan.carriedChain, [
        ...snapshot.beforeWalk,
        ...walk.findings.map(fromEventFinding),
      ]),
      walk.findingsDropped,
      max,
    );
    const violations: IntegrityViolation[] = [...plan.early, ...snapshot.structure, ...chain];
    for (const table of snapshot.tables) {
      const adopted = plan.adopted.filter((v) => v.check === table.name);
      violations.push(
        ...capViolations(table.name, withoutRepeats(adopted, table.violations), table.dropped, max),
      );
    }
    const concurrent = this.generation !== plan.generation;
    this.generation++;
    const anchorWritten = concurrent
      ? this.mergeLate(plan, snapshot, walk, chain, violations)
      : this.replace(plan, snapshot, walk, chain, violations);
    this.lastRun = {
      full: plan.full,
      eventsChecked: walk.checked,
      fromSeq: walk.checked > 0 ? (snapshot.start?.seq ?? 0) + 1 : null,
      anchor: plan.anchor,
      anchorWritten,
      workers,
    };
    return [...violations];
  }

  /** The usual case: this run's findings replace the previous run's. */
  private replace(
    plan: RunPlan,
    snapshot: SnapshotScan,
    walk: ChainWalk,
    chain: IntegrityViolation[],
    violations: IntegrityViolation[],
  ): boolean {
    if (walk.last !== null) this.position = walk.last;
    for (const table of snapshot.tables) this.resumeAt.set(table.name, table.resumeAt);
    this.carriedChain = chain;
    if (plan.full) this.adopted = [];
    const previous = new Set(this.lastViolations.map(violationKey));
    this.newViolations = violations.filter((v) => !previous.has(violationKey(v)));
    this.lastViolations = violations;
    const eventLogClean = !violations.some((v) => v.check === 'EVENT_LOG');
    return eventLogClean && walk.last !== null && this.anchor(walk.last, plan.at);
  }

  /**
   * Another run (or the scrub's `adopt`) completed while this one walked off the thread: keep
   * what it found as well, never move a position backwards, anchor only a clean, further head.
   */
  private mergeLate(
    plan: RunPlan,
    snapshot: SnapshotScan,
    walk: ChainWalk,
    chain: IntegrityViolation[],
    violations: IntegrityViolation[],
  ): boolean {
    if (walk.last !== null && walk.last.seq > (this.position?.seq ?? 0)) this.position = walk.last;
    for (const table of snapshot.tables) {
      this.resumeAt.set(table.name, Math.max(this.resumeAt.get(table.name) ?? 0, table.resumeAt));
    }
    this.carriedChain = withoutRepeats(this.carriedChain, chain);
    const previous = new Set(this.lastViolations.map(violationKey));
    this.newViolations = violations.filter((v) => !previous.has(violationKey(v)));
    this.lastViolations = withoutRepeats(this.lastViolations, violations);
    const eventLogClean =
      this.carriedChain.length === 0 && !violations.some((v) => v.check === 'EVENT_LOG');
    const further = walk.last !== null && walk.last.seq > (this.verifiedHead?.seq ?? 0);
    return eventLogClean && further && walk.last !== null && this.anchor(walk.last, plan.at);
  }

  private anchor(last: ScanPosition, at: string): boolean {
    this.verifiedHead = { seq: last.seq, hash: last.hash, at };
    if (!this.writeAnchor || this.anchorPath === null) return false;
    try {
      writeHeadAnchor(this.anchorPath, this.verifiedHead);
      return true;
    } catch {
      return false; // the anchor is advisory: a failed write is not a violation
    }
  }
}
