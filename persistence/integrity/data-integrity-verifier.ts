/**
 * The data integrity verifier (spec: Data Integrity Verification): the event log (ids,
 * timestamps, seq continuity, hash chain, head anchor) and the table checks, in one read
 * snapshot. Full at startup, incremental afterwards; `verifyAsync` walks the chain off the event
 * loop (worker threads, or short slices). Every finding is a violation saying where, why and
 * what to do. Its options and their defaults are verifier-options.ts; a run's plan, what it read
 * and the order its violations are reported in, verification-run.ts; this file keeps what carries
 * from one run to the next (positions, carried damage, the anchor).
 */
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
  rowCountViolations,
} from './checks/event-log.js';
import { TABLE_CHECKS } from './checks/index.js';
import { structureViolations } from './checks/structure.js';
import { type HeadAnchor, readHeadAnchor, writeHeadAnchor } from './head-anchor.js';
import {
  assembleViolations,
  type RunPlan,
  type SnapshotScan,
  type VerificationRun,
  type VerifiedHead,
} from './verification-run.js';
import {
  type DataIntegrityVerifierOptions,
  resolveVerifierOptions,
  type VerifierSettings,
  type VerifyAsyncOptions,
  type VerifyRunOptions,
} from './verifier-options.js';
import {
  type IntegrityCheckName,
  type IntegrityViolation,
  violationKey,
  withoutRepeats,
} from './violation.js';

export type { VerificationRun, VerifiedHead } from './verification-run.js';
export {
  CLOCK_STEP_TOLERANCE_MS_DEFAULT,
  type DataIntegrityVerifierOptions,
  FUTURE_TOLERANCE_MS_DEFAULT,
  FUTURE_TOLERANCE_MS_MAX,
  PARALLEL_EVENTS_MIN_DEFAULT,
  type VerifyAsyncOptions,
  type VerifyRunOptions,
  VIOLATIONS_PER_CHECK_MAX_DEFAULT,
  WORKERS_MAX_DEFAULT,
} from './verifier-options.js';

export class DataIntegrityVerifier {
  /** The store this verifier reads (the scrub reads it too). */
  readonly store: Store;
  private readonly settings: VerifierSettings;
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
    this.settings = resolveVerifierOptions(store.path, options);
    this.store = store;
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
    const available = workerCount(this.settings.workersMax);
    const parallel =
      available >= 2 &&
      rows >= Math.max(2, this.settings.parallelEventsMin) &&
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
    const aheadMs = this.settings.futureToleranceMs + this.settings.clockStepToleranceMs;
    return {
      futureLimitIso: new Date(this.settings.clock.wallNow() + aheadMs).toISOString(),
      backwardsToleranceMs: this.settings.clockStepToleranceMs,
      findingsMax: this.settings.perCheckMax,
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
    const nowMs = this.settings.clock.wallNow();
    const early: IntegrityViolation[] = [];
    let anchor: HeadAnchor | null = null;
    try {
      anchor = readHeadAnchor(this.settings.anchorPath);
    } catch (error) {
      early.push(anchorUnreadable(this.settings.anchorPath, error as Error));
    }
    let full = options.full === true || this.position === null;
    let start: ScanPosition | null = full ? null : this.position;
    const resumeFromAnchor = options.resumeFromAnchor ?? this.settings.resumeFromAnchor;
    if (full && options.full !== true && resumeFromAnchor && anchor !== null) {
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
      plan.full && this.settings.structureCheck !== 'none'
        ? structureViolations(
            scan,
            this.settings.structureCheck === 'all' ? 'all' : 'except-events',
            this.settings.perCheckMax,
          )
        : [];
    const beforeWalk = eventLogChecksBeforeWalk(
      scan,
      plan.start,
      base,
      plan.anchor,
      this.settings.perCheckMax,
      { countInWorker },
    );
    const tables = TABLE_CHECKS.map((check) => ({
      name: check.name,
      ...check.scan({
        store: this.store,
        full: plan.full,
        findingsMax: this.settings.perCheckMax,
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
    const { chain, violations } = assembleViolations(
      plan,
      snapshot,
      walk,
      this.settings.perCheckMax,
    );
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
    if (!this.settings.writeAnchor || this.settings.anchorPath === null) return false;
    try {
      writeHeadAnchor(this.settings.anchorPath, this.verifiedHead);
      return true;
    } catch {
      return false; // the anchor is advisory: a failed write is not a violation
    }
  }
}
