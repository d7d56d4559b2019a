/**
 * The background scrub: while the process runs, it re-verifies the whole event log (and the
 * snapshots, the other history checked only incrementally) in short slices on the clock's
 * timers. Each pass is paced by the rows there are now to end within half of `passMs`, and the
 * next begins when it ends, so an edit to any row is found within `passMs` of the edit. What it
 * finds goes through the verifier (`adopt`), so it is reported once, with the startup check's
 * words, and keeps later runs from anchoring over it; what is new is handed to `onViolations`.
 */
import type { Clock, TimerHandle } from '../../services/clock.js';
import { isGovernorError } from '../../services/errors.js';
import { prepareRowsBetween, type RowsBetween } from './chain-rows.js';
import {
  type ChainRules,
  type EventFinding,
  SegmentWalker,
  shortOfHead,
  stateAfter,
} from './chain-walk.js';
import { readBase } from './checks/chain-base.js';
import { fromEventFinding } from './checks/event-log.js';
import { duplicateDates, type SnapshotRowsPosition, snapshotRows } from './checks/snapshots.js';
import type { DataIntegrityVerifier } from './data-integrity-verifier.js';
import { integerOption } from './options.js';
import { capViolations, Findings, type IntegrityViolation } from './violation.js';

export interface IntegrityScrubberOptions {
  /** Whose rules the scrub applies and through whom it reports (its `adopt`). */
  readonly verifier: DataIntegrityVerifier;
  /** Timers pace the slices; `monotonicNow` bounds each slice. */
  readonly clock: Clock;
  /** Called with violations no verification had reported yet. Must not throw. */
  readonly onViolations: (violations: IntegrityViolation[]) => void;
  /**
   * An edit to any event is found within this long of the edit: each pass is spread over half
   * of it, and the next pass begins when one ends. Default 24 h.
   */
  readonly passMs?: number;
  /** The most events one slice checks. Default 1,024 (about 3 ms). */
  readonly sliceRowsMax?: number;
  /** A slice stops reading once it has run this long (checked every 128 events). Default 5 ms. */
  readonly sliceMsMax?: number;
  /** Called when a slice cannot read the database; the slice is tried again later. */
  readonly onError?: (error: Error) => void;
}

export interface ScrubProgress {
  readonly running: boolean;
  /** The current pass, from 1 (0 before `start`). */
  readonly pass: number;
  /** Events checked in the current pass. */
  readonly rowsChecked: number;
  /**
   * Events the current pass covers: from the chain base to the head seq it has read (a pass
   * follows the head while it walks the events, until its deadline).
   */
  readonly rowsInPass: number;
  readonly passesCompleted: number;
  /** Wall time (ISO-8601) the last pass completed, or null. */
  readonly lastPassCompletedAt: string | null;
  /** Time spent in the slices of the last completed pass (monotonic ms), or null. */
  readonly lastPassBusyMs: number | null;
  /** The longest slice so far (monotonic ms). */
  readonly longestSliceMs: number;
}

export const SCRUB_PASS_MS_DEFAULT = 24 * 60 * 60 * 1000;
const SCRUB_PASS_MS_MAX = 30 * 24 * 60 * 60 * 1000;
export const SCRUB_SLICE_ROWS_MAX_DEFAULT = 1024;
export const SCRUB_SLICE_MS_MAX_DEFAULT = 5;
/** A pass that could not begin (the head unreadable) is tried again after this long. */
const PASS_RETRY_MS = 60_000;
/** Rows read between two looks at the slice's clock. */
const SUB_PAGE_ROWS = 128;
/** Snapshots one slice checks (each parsed by SQLite's json_valid). */
const SNAPSHOT_SLICE_ROWS = 128;

interface Pass {
  readonly number: number;
  /** When the pass must be done: half of passMs after it began, when the next one begins. */
  readonly deadlineMs: number;
  /** The head seq the walk goes to; raised to the head before each slice while rowsOpen. */
  toSeq: number;
  /** The walk still follows the head: no snapshot slice has run and the deadline is ahead. */
  rowsOpen: boolean;
  /** The chain base the pass starts after (0: seq 1). */
  readonly baseSeq: number;
  readonly rules: ChainRules;
  readonly walker: SegmentWalker;
  readonly rows: RowsBetween;
  after: number;
  /** Walker items already reported. */
  reported: number;
  /** Snapshots in the table when the pass began (for pacing). */
  readonly snapshotsInPass: number;
  readonly snapshotFindings: Findings<IntegrityViolation>;
  /** Snapshot findings already reported. */
  snapshotsReported: number;
  snapshots: SnapshotRowsPosition;
  /** A snapshot slice found no row after the last one: the rows are done. */
  snapshotRowsDone: boolean;
  duplicatesDone: boolean;
  busyMs: number;
}

export class IntegrityScrubber {
  private readonly verifier: DataIntegrityVerifier;
  private readonly clock: Clock;
  private readonly onViolations: (violations: IntegrityViolation[]) => void;
  private readonly onError: (error: Error) => void;
  private readonly passMs: number;
  private readonly sliceRowsMax: number;
  private readonly sliceMsMax: number;
  private running = false;
  private timer: TimerHandle | undefined;
  private current: Pass | null = null;
  private passes = 0;
  private passesCompleted = 0;
  private lastPassCompletedAt: string | null = null;
  private lastPassBusyMs: number | null = null;
  private longestSliceMs = 0;

  constructor(options: IntegrityScrubberOptions) {
    if (typeof options?.onViolations !== 'function') {
      throw new TypeError('Expected onViolations to be a function');
    }
    this.passMs = integerOption(
      'passMs',
      options.passMs,
      SCRUB_PASS_MS_DEFAULT,
      1,
      SCRUB_PASS_MS_MAX,
    );
    this.sliceRowsMax = integerOption(
      'sliceRowsMax',
      options.sliceRowsMax,
      SCRUB_SLICE_ROWS_MAX_DEFAULT,
      1,
      100_000,
    );
    this.sliceMsMax = integerOption(
      'sliceMsMax',
      options.sliceMsMax,
      SCRUB_SLICE_MS_MAX_DEFAULT,
      1,
      1000,
    );
    this.verifier = options.verifier;
    this.clock = options.clock;
    this.onViolations = options.onViolations;
    this.onError = options.onError ?? (() => {});
  }

  /** Starts the first pass now (reading the head); does nothing when running. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.beginPass();
  }

  /** Cancels the next slice; no timer is left. The current pass resumes from its start. */
  stop(): void {
    this.running = false;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.current = null;
  }

  progress(): ScrubProgress {
    return {
      running: this.running,
      pass: this.passes,
      rowsChecked: this.current?.walker.rowsChecked ?? 0,
      rowsInPass: Math.max(0, (this.current?.toSeq ?? 0) - (this.current?.baseSeq ?? 0)),
      passesCompleted: this.passesCompleted,
      lastPassCompletedAt: this.lastPassCompletedAt,
      lastPassBusyMs: this.lastPassBusyMs,
      longestSliceMs: this.longestSliceMs,
    };
  }

  private beginPass(): void {
    const startedMs = this.clock.monotonicNow();
    let pass: Pass;
    let baseViolations: IntegrityViolation[];
    try {
      const scan = this.verifier.store.integrityScan;
      const rules = this.verifier.chainRules();
      // A pruned log is walked from its chain base, which must be attested (checks/chain-base.ts).
      const { base, toSeq } = scan.inReadSnapshot(() => ({
        base: readBase(scan),
        toSeq: scan.head()?.seq ?? 0,
      }));
      baseViolations = [...base.violations];
      pass = {
        number: this.passes + 1,
        deadlineMs: startedMs + this.passMs / 2,
        toSeq,
        rowsOpen: true,
        baseSeq: base.start?.seq ?? 0,
        rules,
        walker: new SegmentWalker(stateAfter(base.start), rules),
        rows: scan.read('integrity.scrub', (db) => prepareRowsBetween(db)),
        after: base.start?.seq ?? 0,
        reported: 0,
        snapshotsInPass: scan.read('integrity.scrub', (db) =>
          Number(db.prepare('SELECT count(*) FROM snapshots').pluck().get()),
        ),
        snapshotFindings: new Findings<IntegrityViolation>(rules.findingsMax),
        snapshotsReported: 0,
        snapshots: { rowid: 0, latestDate: null },
        snapshotRowsDone: false,
        duplicatesDone: false,
        busyMs: 0,
      };
    } catch (error) {
      if (this.failed(error)) {
        this.schedule(() => this.beginPass(), Math.min(this.passMs / 2, PASS_RETRY_MS));
      }
      return;
    }
    this.passes = pass.number;
    this.current = pass;
    this.report(baseViolations);
    this.scheduleSlice(pass);
  }

  /**
   * Spreads the slices left evenly over the time left, so the pass ends before its deadline;
   * the events left are counted to the head there is now, not the one when the pass began.
   */
  private scheduleSlice(pass: Pass): void {
    this.followHead(pass);
    const rowSlices = Math.ceil(Math.max(0, pass.toSeq - pass.after) / this.sliceRowsMax);
    const snapshotSlices = this.snapshotRowsLeft(pass)
      ? Math.ceil(Math.max(1, pass.snapshotsInPass - pass.snapshots.rowid) / SNAPSHOT_SLICE_ROWS)
      : 0;
    const slicesLeft = rowSlices + snapshotSlices + (pass.duplicatesDone ? 0 : 1);
    const timeLeftMs = Math.max(0, pass.deadlineMs - this.clock.monotonicNow());
    this.schedule(() => this.slice(pass), timeLeftMs / (slicesLeft + 1));
  }

  /**
   * Raises the pass's target to the current head while it still walks the events, so rows
   * appended since it began are checked in this pass and count in its pace. A failed read
   * leaves the target where it was; a read that keeps failing is reported by the slice's own.
   */
  private followHead(pass: Pass): void {
    if (!pass.rowsOpen) return;
    if (this.clock.monotonicNow() >= pass.deadlineMs) {
      pass.rowsOpen = false;
      return;
    }
    let headSeq: number;
    try {
      headSeq = this.verifier.store.integrityScan.head()?.seq ?? 0;
    } catch {
      return;
    }
    if (headSeq <= pass.toSeq) return;
    pass.toSeq = headSeq;
    // Rows written since the pass began are judged against the clock of now, not of then.
    pass.walker.raiseFutureLimit(this.verifier.chainRules().futureLimitIso);
  }

  private schedule(callback: () => void, delayMs: number): void {
    if (!this.running) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (this.running) callback();
    }, delayMs);
  }

  private slice(pass: Pass): void {
    const began = this.clock.monotonicNow();
    try {
      if (pass.after < pass.toSeq) this.walkRows(pass, began);
      else if (this.snapshotRowsLeft(pass)) {
        pass.rowsOpen = false;
        this.checkSnapshotRows(pass);
      } else if (!pass.duplicatesDone) this.checkDuplicateDates(pass);
    } catch (error) {
      if (!this.failed(error)) return;
    } finally {
      const sliceMs = this.clock.monotonicNow() - began;
      pass.busyMs += sliceMs;
      this.longestSliceMs = Math.max(this.longestSliceMs, sliceMs);
    }
    if (pass.after < pass.toSeq || !pass.duplicatesDone) {
      this.scheduleSlice(pass);
      return;
    }
    this.finishPass(pass);
    this.schedule(() => this.beginPass(), Math.max(0, pass.deadlineMs - this.clock.monotonicNow()));
  }

  /** Up to sliceRowsMax events, or fewer once the slice has run sliceMsMax. */
  private walkRows(pass: Pass, began: number): void {
    const scan = this.verifier.store.integrityScan;
    let checked = 0;
    let shortfall: EventFinding | null = null;
    while (checked < this.sliceRowsMax && pass.after < pass.toSeq) {
      const limit = Math.min(SUB_PAGE_ROWS, this.sliceRowsMax - checked);
      const rows = scan.read('integrity.scrub', () => pass.rows.all(pass.after, pass.toSeq, limit));
      pass.walker.walk(rows);
      checked += rows.length;
      const last = rows[rows.length - 1];
      if (rows.length < limit || last === undefined) {
        // Fewer rows than asked before toSeq, the head when the pass began: rows are missing
        // (deleted at the end) or hidden from the seq order by damage.
        shortfall = shortOfHead(last?.[0] ?? pass.after, pass.toSeq);
        pass.after = pass.toSeq;
      } else {
        pass.after = last[0];
      }
      if (this.clock.monotonicNow() - began >= this.sliceMsMax) break;
    }
    const items = pass.walker.itemsFrom(pass.reported);
    pass.reported += items.length;
    // A walk from seq 1 knows its state: every item is a finding, none is pending.
    const found = items.flatMap((item) => ('pending' in item ? [] : [fromEventFinding(item)]));
    if (shortfall !== null) found.push(fromEventFinding(shortfall));
    this.report(found);
  }

  private snapshotRowsLeft(pass: Pass): boolean {
    return !pass.snapshotRowsDone;
  }

  /** The snapshots' order and structure (the periodic check reads only new ones), a slice. */
  private checkSnapshotRows(pass: Pass): void {
    const from = pass.snapshots;
    pass.snapshots = this.verifier.store.integrityScan.read('integrity.scrub', (db) =>
      snapshotRows(db, from, pass.snapshotFindings, SNAPSHOT_SLICE_ROWS),
    );
    pass.snapshotRowsDone = pass.snapshots.rowid === from.rowid;
    this.reportSnapshots(pass);
  }

  /** Two snapshots of one date: one pass over the date index, the pass's last slice. */
  private checkDuplicateDates(pass: Pass): void {
    this.verifier.store.integrityScan.read('integrity.scrub', (db) =>
      duplicateDates(db, pass.snapshotFindings),
    );
    pass.duplicatesDone = true;
    this.reportSnapshots(pass);
  }

  private reportSnapshots(pass: Pass): void {
    const items = pass.snapshotFindings.items;
    this.report(items.slice(pass.snapshotsReported));
    pass.snapshotsReported = items.length;
  }

  private finishPass(pass: Pass): void {
    const segment = pass.walker.result();
    if (segment.dropped > 0) {
      const listed = segment.items.flatMap((item) =>
        'pending' in item ? [] : [fromEventFinding(item)],
      );
      this.report(
        capViolations('EVENT_LOG', listed, segment.dropped, pass.rules.findingsMax).slice(-1),
      );
    }
    if (pass.snapshotFindings.dropped > 0) {
      const listed = pass.snapshotFindings.items;
      this.report(
        capViolations(
          'SNAPSHOTS',
          listed,
          pass.snapshotFindings.dropped,
          pass.rules.findingsMax,
        ).slice(-1),
      );
    }
    this.passesCompleted++;
    this.lastPassCompletedAt = new Date(this.clock.wallNow()).toISOString();
    this.lastPassBusyMs = pass.busyMs;
  }

  private report(violations: IntegrityViolation[]): void {
    if (violations.length === 0) return;
    const fresh = this.verifier.adopt(violations);
    if (fresh.length === 0) return;
    try {
      this.onViolations(fresh);
    } catch (error) {
      this.onError(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Handles a failed read: a closed store stops the scrub (false); anything else is reported. */
  private failed(error: unknown): boolean {
    if (isGovernorError(error, 'GOV_STORE_CLOSED')) {
      this.stop();
      return false;
    }
    this.onError(error instanceof Error ? error : new Error(String(error)));
    return true;
  }
}
