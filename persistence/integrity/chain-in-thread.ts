/**
 * The chain walk on the calling thread: at once inside the caller's read snapshot (`verify`,
 * `verifyChain`), or page by page with the event loop free between pages (`verifyAsync` on one
 * core or a short log). Both feed the one walker, chain-walk.ts.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { GovernorError } from '../../services/errors.js';
import type { ChainHead } from '../event-log.js';
import { prepareRowsAfter, prepareRowsBetween, WALK_PAGE_ROWS } from './chain-rows.js';
import {
  type ChainRules,
  type ChainWalk,
  joinSegments,
  type RawEventRow,
  type ScanPosition,
  SegmentWalker,
  stateAfter,
} from './chain-walk.js';

/** What a walk reads through: the scan's connection (IntegrityScan is one). */
export interface ChainSource {
  read<T>(operation: string, fn: (db: BetterSqlite3.Database) => T): T;
  head(): ChainHead | null;
}

/** Called with the rows checked so far and the rows the walk expects. Must not throw. */
export type ChainProgress = (checkedEvents: number, totalEvents: number) => void;

export interface ChainWalkOptions extends ChainRules {
  /** The walk starts after this position (null: from seq 1, linking to GENESIS_HASH). */
  readonly after: ScanPosition | null;
  /** Called once per page of WALK_PAGE_ROWS rows: a progress bar, never the findings. */
  readonly onProgress?: ChainProgress | undefined;
}

/**
 * Walks every row after `options.after` at once. The caller holds a read transaction, so the
 * pages are one consistent snapshot and the head cannot move during the walk.
 */
export function walkChainInSnapshot(scan: ChainSource, options: ChainWalkOptions): ChainWalk {
  const start = stateAfter(options.after);
  const walker = new SegmentWalker(start, options);
  let after = options.after?.seq ?? 0;
  const onProgress = options.onProgress;
  const expected = onProgress === undefined ? 0 : Math.max(0, (scan.head()?.seq ?? 0) - after);
  scan.read('integrity.walkChain', (db) => {
    const rowsAfter = prepareRowsAfter(db);
    for (;;) {
      const rows = rowsAfter.all(after, WALK_PAGE_ROWS);
      walker.walk(rows);
      onProgress?.(walker.rowsChecked, Math.max(expected, walker.rowsChecked));
      const last = rows[rows.length - 1];
      if (rows.length < WALK_PAGE_ROWS || last === undefined) break;
      after = last[0];
    }
  });
  return joinSegments(start, [walker.result()], options);
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Walks the rows in (after, toSeq] a page at a time, letting the event loop run between pages
 * (one page: about 3 ms). Rows appended beyond `toSeq` are left for the next run.
 */
export async function walkChainInSlices(
  scan: ChainSource,
  options: ChainWalkOptions & { readonly toSeq: number; readonly signal?: AbortSignal | undefined },
): Promise<ChainWalk> {
  const start = stateAfter(options.after);
  const walker = new SegmentWalker(start, options);
  let after = options.after?.seq ?? 0;
  const expected = Math.max(0, options.toSeq - after);
  let rowsBetween: ReturnType<typeof prepareRowsBetween> | null = null;
  for (;;) {
    options.signal?.throwIfAborted();
    const rows: RawEventRow[] = scan.read('integrity.walkChain', (db) => {
      rowsBetween ??= prepareRowsBetween(db);
      return rowsBetween.all(after, options.toSeq, WALK_PAGE_ROWS);
    });
    walker.walk(rows);
    options.onProgress?.(walker.rowsChecked, Math.max(expected, walker.rowsChecked));
    const last = rows[rows.length - 1];
    if (rows.length < WALK_PAGE_ROWS || last === undefined) break;
    after = last[0];
    await nextTurn();
  }
  return joinSegments(start, [walker.result()], options);
}

export type ChainProblem = 'SEQ_GAP' | 'PREV_HASH_MISMATCH' | 'HASH_MISMATCH' | 'MALFORMED_ROW';

export type ChainVerification =
  | { readonly ok: true; readonly checked: number; readonly head: ChainHead | null }
  | {
      readonly ok: false;
      readonly seq: number;
      readonly problem: ChainProblem;
      readonly checked: number;
    };

function checkFromSeq(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new GovernorError('GOV_INVALID_ARGUMENT', 'Expected fromSeq to be an integer ≥ 1', {
      field: 'fromSeq',
      received: String(value),
    });
  }
  return value;
}

const LINKS_ONLY = {
  futureLimitIso: '',
  backwardsToleranceMs: 0,
  findingsMax: 1,
  timestamps: false,
} as const;

/**
 * The first link or hash problem from `fromSeq` on (the caller holds a read transaction). Stops
 * at the page holding it; `checked` counts the rows before it.
 */
export function verifyChainIn(
  db: BetterSqlite3.Database,
  options: { fromSeq?: number; expectedPrevHash?: string },
): ChainVerification {
  const fromSeq = checkFromSeq(options.fromSeq ?? 1);
  const start = stateAfter(null);
  const walker = new SegmentWalker(
    {
      ...start,
      expectedSeq: fromSeq,
      previousHash: options.expectedPrevHash ?? (fromSeq === 1 ? start.previousHash : null),
    },
    LINKS_ONLY,
  );
  const rowsAfter = prepareRowsAfter(db);
  let after = fromSeq - 1;
  let head: ChainHead | null = null;
  for (;;) {
    const rows = rowsAfter.all(after, WALK_PAGE_ROWS);
    walker.walk(rows);
    // A pending check (the first row's link, with no remembered hash) passes: skip it.
    const problem =
      walker.findingsKept > 0
        ? walker.result().items.find((item) => !('pending' in item))
        : undefined;
    if (problem !== undefined && !('pending' in problem)) {
      return {
        ok: false,
        seq: problem.seq,
        problem: problem.kind as ChainProblem,
        checked: problem.seq - fromSeq,
      };
    }
    const last = rows[rows.length - 1];
    if (last !== undefined) head = { seq: last[0], hash: String(last[7]) };
    if (rows.length < WALK_PAGE_ROWS || last === undefined) break;
    after = last[0];
  }
  return { ok: true, checked: walker.rowsChecked, head };
}
