/**
 * The append-only event log: contiguous `seq` from 1, unique `event_id` (a time-ordered UUIDv7
 * unless the caller gives one), and a SHA-256 hash chain (`hash` covers the row and `prev_hash`).
 * Readers stream in pages and never load the whole log; the integrity module
 * (persistence/integrity/) recomputes every hash. The encoding is public: docs/schema.md,
 * "Event ids" and "Hash chain". The hash encoding lives in event-hash.ts; a caller's event is
 * read and validated by event-input.ts.
 */

import type BetterSqlite3 from 'better-sqlite3';
import { AssertionError, GovernorError, isGovernorError } from '../services/errors.js';
import type { Connection } from './connection.js';
import { GENESIS_HASH, jsonString, sha256Hex } from './event-hash.js';
import {
  EVENT_BATCH_SIZE_MAX,
  type EventInput,
  type PreparedEvent,
  prepareInput,
  readEventInput,
  readEventInputs,
} from './event-input.js';
import { checkLimit, parseStoredJson } from './validation.js';

export {
  computeEventHash,
  GENESIS_HASH,
  type HashedEventFields,
} from './event-hash.js';
export { type EventInput, readEventInput, readEventInputs } from './event-input.js';

export interface AppendedEvent {
  readonly seq: number;
  readonly eventId: string;
  readonly timestamp: string;
  readonly hash: string;
}

export interface StoredEvent {
  readonly seq: number;
  readonly eventId: string;
  readonly timestamp: string;
  readonly eventType: string;
  readonly reason: string;
  readonly metadata: unknown;
  readonly prevHash: string;
  readonly hash: string;
}

export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

interface EventRow {
  seq: number;
  event_id: string;
  timestamp: string;
  event_type: string;
  reason: string;
  metadata: string;
  prev_hash: string;
  hash: string;
}

const PAGE_SIZE = 512;
const PAGE_LIMIT_MAX = 10_000;
/** Rows per multi-row INSERT in a batch: one statement runs where 32 would (SQLite's cap is 500). */
const INSERT_ROWS_PER_STATEMENT = 32;
const INSERT_COLUMNS = 8;
const INSERT_SQL = `INSERT INTO events (seq, event_id, timestamp, event_type, reason, metadata, prev_hash, hash) VALUES `;
const INSERT_ROW_SQL = '(?, ?, ?, ?, ?, ?, ?, ?)';

function toStoredEvent(row: EventRow): StoredEvent {
  return {
    seq: row.seq,
    eventId: row.event_id,
    timestamp: row.timestamp,
    eventType: row.event_type,
    reason: row.reason,
    metadata: parseStoredJson('events', row.seq, row.metadata),
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

function checkSeq(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new GovernorError('GOV_INVALID_ARGUMENT', `Expected ${field} to be an integer ≥ 1`, {
      field,
      received: String(value),
    });
  }
  return value;
}

/** The `events` table. Obtain it as `store.events`. */
export class EventLog {
  /** The most a batch may hold; a larger one is refused before anything is written. */
  static readonly BATCH_SIZE_MAX = EVENT_BATCH_SIZE_MAX;

  private readonly connection: Connection;
  private readonly insertRow: BetterSqlite3.Statement;
  private readonly insertRows: BetterSqlite3.Statement;
  private readonly selectHead: BetterSqlite3.Statement<[], EventRow>;
  private readonly selectBySeq: BetterSqlite3.Statement<[number], EventRow>;
  private readonly selectPage: BetterSqlite3.Statement<[number, number], EventRow>;
  private readonly selectCount: BetterSqlite3.Statement<[], number>;
  private readonly selectDataVersion: BetterSqlite3.Statement<[], number>;
  /** Prepared on first use (only `governor events --type` asks). */
  private selectTypeExists: BetterSqlite3.Statement<[string], number> | null = null;
  /** True once an append was written in the write transaction not yet committed. */
  private appendedUncommitted = false;
  private readonly commitListeners: Array<() => void> = [];
  /** Cached chain head, valid while `PRAGMA data_version` equals `headVersion`. */
  private cachedHead: ChainHead | null = null;
  private headVersion = -1;

  constructor(connection: Connection) {
    this.connection = connection;
    const db = connection.db;
    this.insertRow = db.prepare(INSERT_SQL + INSERT_ROW_SQL);
    this.insertRows = db.prepare(
      INSERT_SQL + Array<string>(INSERT_ROWS_PER_STATEMENT).fill(INSERT_ROW_SQL).join(', '),
    );
    this.selectHead = db.prepare('SELECT * FROM events ORDER BY seq DESC LIMIT 1');
    this.selectBySeq = db.prepare('SELECT * FROM events WHERE seq = ?');
    this.selectPage = db.prepare('SELECT * FROM events WHERE seq >= ? ORDER BY seq LIMIT ?');
    this.selectCount = db.prepare<[], number>('SELECT count(*) FROM events').pluck();
    this.selectDataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
    // A rolled-back transaction may have advanced the cached head: forget it.
    connection.onWriteFailure(() => {
      this.headVersion = -1;
      this.appendedUncommitted = false;
    });
    connection.onCommit(() => {
      if (!this.appendedUncommitted) return;
      this.appendedUncommitted = false;
      for (const listener of this.commitListeners) listener();
    });
  }

  /**
   * Tells `listener` after each committed write transaction that appended events (the health
   * monitor's "last event-log write": every successful write counts, whoever made it).
   */
  onAppendCommitted(listener: () => void): void {
    this.commitListeners.push(listener);
  }

  /** Appends one event in its own durable transaction (or inside the caller's). */
  append(input: EventInput): AppendedEvent {
    const prepared = [prepareInput(readEventInput(input))];
    const [appended] = this.connection.write('events.append', () => this.insertEvents(prepared));
    if (appended === undefined) throw new AssertionError('append wrote no event');
    return appended;
  }

  /** Appends all events in one transaction: all are written, or none. */
  appendBatch(inputs: readonly EventInput[]): AppendedEvent[] {
    const prepared = readEventInputs(inputs).map(prepareInput);
    return this.connection.write('events.appendBatch', () => this.insertEvents(prepared));
  }

  /** The last event's seq and hash, or null for an empty log. */
  head(): ChainHead | null {
    return this.connection.read('events.head', () => this.currentHead());
  }

  count(): number {
    return this.connection.read('events.count', () => this.selectCount.get() ?? 0);
  }

  get(seq: number): StoredEvent | null {
    checkSeq('seq', seq);
    const row = this.connection.read('events.get', () => this.selectBySeq.get(seq));
    return row === undefined ? null : toStoredEvent(row);
  }

  /** True when the log holds at least one event of `eventType` (a scan: not for a hot path). */
  hasType(eventType: string): boolean {
    this.selectTypeExists ??= this.connection.db
      .prepare<[string], number>('SELECT 1 FROM events WHERE event_type = ? LIMIT 1')
      .pluck();
    const statement = this.selectTypeExists;
    return this.connection.read('events.hasType', () => statement.get(eventType)) !== undefined;
  }

  /** Up to `limit` (1–10,000) events from `fromSeq` on, in seq order. */
  readPage(fromSeq: number, limit: number): StoredEvent[] {
    checkSeq('fromSeq', fromSeq);
    checkLimit(limit, PAGE_LIMIT_MAX);
    const rows = this.connection.read('events.readPage', () => this.selectPage.all(fromSeq, limit));
    return rows.map(toStoredEvent);
  }

  /**
   * Streams events from `fromSeq` on in seq order, reading pages of 512 rows: memory stays
   * bounded, and the connection is free between pages (writes may interleave with the loop).
   */
  iterate(fromSeq = 1): IterableIterator<StoredEvent> {
    checkSeq('fromSeq', fromSeq);
    return this.pages(fromSeq);
  }

  private *pages(fromSeq: number): IterableIterator<StoredEvent> {
    let next = fromSeq;
    for (;;) {
      const rows = this.connection.read('events.iterate', () =>
        this.selectPage.all(next, PAGE_SIZE),
      );
      for (const row of rows) yield toStoredEvent(row);
      const last = rows[rows.length - 1];
      if (rows.length < PAGE_SIZE || last === undefined) return;
      next = last.seq + 1;
    }
  }

  private currentHead(): ChainHead | null {
    const version = this.selectDataVersion.get() ?? -1;
    if (version !== this.headVersion) {
      const row = this.selectHead.get();
      this.cachedHead = row === undefined ? null : { seq: row.seq, hash: row.hash };
      this.headVersion = version;
    }
    return this.cachedHead;
  }

  /**
   * Inserts validated events after the current head, all with one timestamp, and makes the last
   * one the cached head. The caller holds the transaction.
   */
  private insertEvents(events: readonly PreparedEvent[]): AppendedEvent[] {
    const timestamp = this.connection.nowIso();
    const head = this.currentHead();
    const headHash = head?.hash ?? GENESIS_HASH;
    const appended = chainEvents(events, timestamp, head?.seq ?? 0, headHash);
    let first = 0;
    for (; first + INSERT_ROWS_PER_STATEMENT <= events.length; first += INSERT_ROWS_PER_STATEMENT) {
      this.insertStatementOfRows(events, appended, headHash, first);
    }
    for (; first < events.length; first++) this.insertOneRow(events, appended, headHash, first);
    const last = appended[appended.length - 1];
    if (last !== undefined) {
      this.cachedHead = { seq: last.seq, hash: last.hash };
      this.appendedUncommitted = true;
    }
    return appended;
  }

  /** Inserts rows `first` to `first + INSERT_ROWS_PER_STATEMENT − 1` with one statement. */
  private insertStatementOfRows(
    events: readonly PreparedEvent[],
    appended: readonly AppendedEvent[],
    headHash: string,
    first: number,
  ): void {
    const values = new Array<unknown>(INSERT_ROWS_PER_STATEMENT * INSERT_COLUMNS);
    for (let offset = 0; offset < INSERT_ROWS_PER_STATEMENT; offset++) {
      putRowValues(values, offset * INSERT_COLUMNS, events, appended, headHash, first + offset);
    }
    try {
      this.insertRows.run(values);
    } catch (error) {
      // A constraint failure undoes only this statement: insert its rows one by one, so the
      // error names the first duplicate id. Any other failure may have ended the transaction.
      if (!isConstraintError(error) || !this.connection.db.inTransaction) throw error;
      for (let index = first; index < first + INSERT_ROWS_PER_STATEMENT; index++) {
        this.insertOneRow(events, appended, headHash, index);
      }
    }
  }

  private insertOneRow(
    events: readonly PreparedEvent[],
    appended: readonly AppendedEvent[],
    headHash: string,
    index: number,
  ): void {
    const values = new Array<unknown>(INSERT_COLUMNS);
    putRowValues(values, 0, events, appended, headHash, index);
    try {
      this.insertRow.run(values);
    } catch (error) {
      throw duplicateEventIdOr(error, appended[index]?.eventId ?? '');
    }
  }
}

/**
 * The seq, timestamp and hash of each event appended after `headSeq` and `headHash`. The encoding
 * is computeEventHash's, with the parts fixed per batch (timestamp) or per event (middle) reused.
 */
function chainEvents(
  events: readonly PreparedEvent[],
  timestamp: string,
  headSeq: number,
  headHash: string,
): AppendedEvent[] {
  const timestampJson = jsonString(timestamp);
  // A stored head is escaped like any text; a hash computed here is hex and needs no escaping.
  let prevHashJson = jsonString(headHash);
  let seq = headSeq;
  const appended: AppendedEvent[] = [];
  for (const event of events) {
    seq++;
    const hash = sha256Hex(
      `[${seq},${event.eventIdJson},${timestampJson}${event.middleJson},${prevHashJson}]`,
    );
    appended.push({ seq, eventId: event.eventId, timestamp, hash });
    prevHashJson = `"${hash}"`;
  }
  return appended;
}

/** Writes the INSERT values of event `index`, in column order, into `values` from `offset`. */
function putRowValues(
  values: unknown[],
  offset: number,
  events: readonly PreparedEvent[],
  appended: readonly AppendedEvent[],
  headHash: string,
  index: number,
): void {
  const event = events[index];
  const row = appended[index];
  const prevHash = index === 0 ? headHash : appended[index - 1]?.hash;
  if (event === undefined || row === undefined || prevHash === undefined) {
    throw new AssertionError(`no prepared event ${index} of ${events.length}`);
  }
  values[offset] = row.seq;
  values[offset + 1] = event.eventId;
  values[offset + 2] = row.timestamp;
  values[offset + 3] = event.eventType;
  values[offset + 4] = event.reason;
  values[offset + 5] = event.metadataText;
  values[offset + 6] = prevHash;
  values[offset + 7] = row.hash;
}

function isConstraintError(error: unknown): boolean {
  return (
    error instanceof Error &&
    'code' in error &&
    typeof error.code === 'string' &&
    error.code.startsWith('SQLITE_CONSTRAINT')
  );
}

function duplicateEventIdOr(error: unknown, eventId: string): unknown {
  if (
    !isGovernorError(error) &&
    error instanceof Error &&
    'code' in error &&
    error.code === 'SQLITE_CONSTRAINT_UNIQUE' &&
    error.message.includes('events.event_id')
  ) {
    return new GovernorError(
      'GOV_DUPLICATE_EVENT_ID',
      `An event with id ${eventId} already exists`,
      {
        eventId,
      },
    );
  }
  return error;
}
