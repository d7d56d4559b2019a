/**
 * The append-only event log: contiguous `seq` from 1, unique `event_id`, and a SHA-256 hash chain
 * (`hash` covers the row and `prev_hash`). Readers stream in pages and never load the whole log;
 * the integrity module (persistence/integrity/) recomputes every hash. The encoding is public:
 * docs/schema.md, "Hash chain".
 */

import * as crypto from 'node:crypto';
import { createHash, randomUUID } from 'node:crypto';
import type BetterSqlite3 from 'better-sqlite3';
import { GovernorError, isGovernorError } from '../services/errors.js';
import type { Connection } from './connection.js';
import {
  checkIdentifier,
  checkText,
  LIMITS,
  parseStoredJson,
  serialiseJson,
} from './validation.js';

/** `prev_hash` of the first event: 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

export interface EventInput {
  readonly eventType: string;
  readonly reason: string;
  /** Any plain JSON value; stored as JSON text. Default `{}`. */
  readonly metadata?: unknown;
  /** Default `crypto.randomUUID()`. */
  readonly eventId?: string;
}

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

/** The columns the hash covers, with metadata as its stored JSON text. */
export interface HashedEventFields {
  readonly seq: number;
  readonly eventId: string;
  readonly timestamp: string;
  readonly eventType: string;
  readonly reason: string;
  readonly metadataText: string;
  readonly prevHash: string;
}

export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

type Sha256Hex = (text: string) => string;

// crypto.hash (Node ≥ 20.12) hashes in one call without building a Hash object.
const oneShotHash = (
  crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }
).hash;
const sha256Hex: Sha256Hex =
  oneShotHash === undefined
    ? (text) => createHash('sha256').update(text, 'utf8').digest('hex')
    : (text) => oneShotHash('sha256', text, 'hex');

/**
 * SHA-256 (lower-case hex) of the UTF-8 bytes of the JSON array
 * `[seq, event_id, timestamp, event_type, reason, metadata, prev_hash]`, written by
 * JSON.stringify (no spaces; metadata is the stored JSON *text*, so it is a JSON string here).
 */
export function computeEventHash(fields: HashedEventFields): string {
  return hashEncoded(
    fields.seq,
    jsonString(fields.eventId),
    jsonString(fields.timestamp),
    middleFragment(fields.eventType, fields.reason, fields.metadataText),
    fields.prevHash,
  );
}

/** `,"event_type","reason","metadata"`: the part of the encoding fixed before the insert. */
function middleFragment(eventType: string, reason: string, metadataText: string): string {
  return `,${jsonString(eventType)},${jsonString(reason)},${JSON.stringify(metadataText)}`;
}

function hashEncoded(
  seq: number,
  eventIdJson: string,
  timestampJson: string,
  middleJson: string,
  prevHash: string,
): string {
  return sha256Hex(`[${seq},${eventIdJson},${timestampJson}${middleJson},${jsonString(prevHash)}]`);
}

// Characters JSON.stringify escapes in a string (plus lone surrogates, which it writes as \uXXXX).
// biome-ignore lint/suspicious/noControlCharactersInRegex: JSON.stringify escapes exactly these.
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** JSON.stringify(text), skipping the call for the common text that needs no escaping. */
function jsonString(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
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

interface PreparedEvent {
  readonly eventId: string;
  readonly eventType: string;
  readonly reason: string;
  readonly metadataText: string;
  /** The event id as a JSON string. */
  readonly eventIdJson: string;
  /** The hash encoding's fragment that does not depend on the position in the chain. */
  readonly middleJson: string;
}

const PAGE_SIZE = 512;
const PAGE_LIMIT_MAX = 10_000;

function prepareInput(input: EventInput): PreparedEvent {
  if (typeof input !== 'object' || input === null) {
    throw new GovernorError('GOV_INVALID_ARGUMENT', 'Expected an event object', { field: 'event' });
  }
  const eventType = checkText('eventType', input.eventType, LIMITS.eventTypeBytesMax);
  const reason = checkText('reason', input.reason, LIMITS.reasonBytesMax);
  const metadataText =
    input.metadata === undefined
      ? '{}'
      : serialiseJson('metadata', input.metadata, LIMITS.metadataBytesMax);
  // A generated UUID needs no JSON escaping; a caller's id is checked.
  const eventId =
    input.eventId === undefined ? randomUUID() : checkIdentifier('eventId', input.eventId);
  const eventIdJson = input.eventId === undefined ? `"${eventId}"` : jsonString(eventId);
  const middleJson = middleFragment(eventType, reason, metadataText);
  return { eventId, eventType, reason, metadataText, eventIdJson, middleJson };
}

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
  static readonly BATCH_SIZE_MAX = 10_000;

  private readonly connection: Connection;
  private readonly insertRow: BetterSqlite3.Statement;
  private readonly selectHead: BetterSqlite3.Statement<[], EventRow>;
  private readonly selectBySeq: BetterSqlite3.Statement<[number], EventRow>;
  private readonly selectPage: BetterSqlite3.Statement<[number, number], EventRow>;
  private readonly selectCount: BetterSqlite3.Statement<[], number>;
  private readonly selectDataVersion: BetterSqlite3.Statement<[], number>;
  /** Cached chain head, valid while `PRAGMA data_version` equals `headVersion`. */
  private cachedHead: ChainHead | null = null;
  private headVersion = -1;

  constructor(connection: Connection) {
    this.connection = connection;
    const db = connection.db;
    this.insertRow = db.prepare(
      'INSERT INTO events (seq, event_id, timestamp, event_type, reason, metadata, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.selectHead = db.prepare('SELECT * FROM events ORDER BY seq DESC LIMIT 1');
    this.selectBySeq = db.prepare('SELECT * FROM events WHERE seq = ?');
    this.selectPage = db.prepare('SELECT * FROM events WHERE seq >= ? ORDER BY seq LIMIT ?');
    this.selectCount = db.prepare<[], number>('SELECT count(*) FROM events').pluck();
    this.selectDataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
    // A rolled-back transaction may have advanced the cached head: forget it.
    connection.onWriteFailure(() => {
      this.headVersion = -1;
    });
  }

  /** Appends one event in its own durable transaction (or inside the caller's). */
  append(input: EventInput): AppendedEvent {
    const prepared = prepareInput(input);
    return this.connection.write('events.append', () =>
      this.insertOne(prepared, this.connection.nowIso()),
    );
  }

  /** Appends all events in one transaction: all are written, or none. */
  appendBatch(inputs: readonly EventInput[]): AppendedEvent[] {
    if (!Array.isArray(inputs) || inputs.length > EventLog.BATCH_SIZE_MAX) {
      throw new GovernorError(
        'GOV_INVALID_ARGUMENT',
        `Expected an array of at most ${EventLog.BATCH_SIZE_MAX} events`,
        { field: 'inputs', length: Array.isArray(inputs) ? inputs.length : null },
      );
    }
    const prepared = inputs.map(prepareInput);
    return this.connection.write('events.appendBatch', () => {
      const timestamp = this.connection.nowIso();
      let head = this.currentHead();
      const appended: AppendedEvent[] = [];
      for (const event of prepared) {
        const result = this.insertAfter(head, event, timestamp);
        head = result;
        appended.push(result);
      }
      return appended;
    });
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

  /** Up to `limit` (1–10,000) events from `fromSeq` on, in seq order. */
  readPage(fromSeq: number, limit: number): StoredEvent[] {
    checkSeq('fromSeq', fromSeq);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > PAGE_LIMIT_MAX) {
      throw new GovernorError(
        'GOV_INVALID_ARGUMENT',
        `Expected limit from 1 to ${PAGE_LIMIT_MAX}`,
        {
          field: 'limit',
          received: String(limit),
        },
      );
    }
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

  /** Inserts one validated event after the current head; the caller holds the transaction. */
  private insertOne(event: PreparedEvent, timestamp: string): AppendedEvent {
    return this.insertAfter(this.currentHead(), event, timestamp);
  }

  /** Inserts one validated event after `head` and makes it the cached head. */
  private insertAfter(
    head: ChainHead | null,
    event: PreparedEvent,
    timestamp: string,
  ): AppendedEvent {
    const seq = (head?.seq ?? 0) + 1;
    const prevHash = head?.hash ?? GENESIS_HASH;
    const hash = hashEncoded(
      seq,
      event.eventIdJson,
      jsonString(timestamp),
      event.middleJson,
      prevHash,
    );
    try {
      this.insertRow.run(
        seq,
        event.eventId,
        timestamp,
        event.eventType,
        event.reason,
        event.metadataText,
        prevHash,
        hash,
      );
    } catch (error) {
      throw duplicateEventIdOr(error, event.eventId);
    }
    this.cachedHead = { seq, hash };
    return { seq, eventId: event.eventId, timestamp, hash };
  }
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
