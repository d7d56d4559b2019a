/**
 * Worker-thread entry of the chain walk: opens its own read-only connection, walks the rows in
 * (afterSeq, toSeq] from an unknown start (the walk's state before the chunk is the previous
 * chunk's business) and posts the segment; chain-workers.ts joins the segments in order.
 */

import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { describeError } from '../../services/errors.js';
import { prepareRowsBetween, WALK_PAGE_ROWS } from './chain-rows.js';
import { type ChainRules, type ChainSegment, SegmentWalker, UNKNOWN_STATE } from './chain-walk.js';

export interface ChunkRequest {
  readonly dbPath: string;
  readonly afterSeq: number;
  readonly toSeq: number;
  readonly rules: ChainRules;
  readonly busyTimeoutMs: number;
  /** Post progress after about this many rows. */
  readonly progressEveryRows: number;
  /**
   * Also count the rows up to this seq, the head the verification read (`count(*)`, answered
   * from an index, less the rows after it, in one read transaction): the full walk's row-count
   * check, off the event loop.
   */
  readonly countRowsUpTo?: number;
}

export type ChunkMessage =
  | { readonly type: 'progress'; readonly checked: number }
  | { readonly type: 'done'; readonly segment: ChainSegment; readonly rowsUpTo: number | null }
  | { readonly type: 'failed'; readonly message: string; readonly sqliteCode: string | null };

function walkChunk(
  request: ChunkRequest,
  post: (message: ChunkMessage) => void,
): { segment: ChainSegment; rowsUpTo: number | null } {
  const db = new Database(request.dbPath, {
    readonly: true,
    fileMustExist: true,
    timeout: request.busyTimeoutMs,
  });
  try {
    const rowsUpTo =
      request.countRowsUpTo === undefined ? null : countRowsUpTo(db, request.countRowsUpTo);
    return { segment: walkRows(db, request, post), rowsUpTo };
  } finally {
    db.close();
  }
}

function countRowsUpTo(db: Database.Database, toSeq: number): number {
  const all = db.prepare<[], number>('SELECT count(*) FROM events').pluck();
  const after = db.prepare<[number], number>('SELECT count(*) FROM events WHERE seq > ?').pluck();
  return db.transaction(() => (all.get() ?? 0) - (after.get(toSeq) ?? 0))();
}

function walkRows(
  db: Database.Database,
  request: ChunkRequest,
  post: (message: ChunkMessage) => void,
): ChainSegment {
  const rowsBetween = prepareRowsBetween(db);
  const walker = new SegmentWalker(UNKNOWN_STATE, request.rules);
  let after = request.afterSeq;
  let reported = 0;
  for (;;) {
    const rows = rowsBetween.all(after, request.toSeq, WALK_PAGE_ROWS);
    walker.walk(rows);
    if (walker.rowsChecked - reported >= request.progressEveryRows) {
      reported = walker.rowsChecked;
      post({ type: 'progress', checked: reported });
    }
    const last = rows[rows.length - 1];
    if (rows.length < WALK_PAGE_ROWS || last === undefined) break;
    after = last[0];
  }
  return walker.result();
}

/** Nice added to a walking thread, so the event loop's thread wins the core when it wakes. */
const WORKER_NICE = 10;

/**
 * Lowers this thread's priority, on Linux (a thread's id names it to setpriority), best effort:
 * the walk is throughput work, the event loop (heartbeats, /livez, the control socket) is not.
 */
function yieldToEventLoop(): void {
  try {
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isSafeInteger(threadId) && threadId > 0) setPriority(threadId, WORKER_NICE);
  } catch {
    // Not Linux, or not allowed: the walk runs at the process's priority.
  }
}

const port = parentPort;
if (port !== null) {
  yieldToEventLoop();
  const post = (message: ChunkMessage): void => port.postMessage(message);
  try {
    post({ type: 'done', ...walkChunk(workerData as ChunkRequest, post) });
  } catch (error) {
    post({
      type: 'failed',
      message: describeError(error),
      sqliteCode: error instanceof Database.SqliteError ? error.code : null,
    });
  }
}
