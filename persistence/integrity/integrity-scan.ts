/**
 * `IntegrityScan`: the integrity module's read access to the store (obtain it as
 * `store.integrityScan`). It runs reads on the store's connection, wrapping SQLite failures as
 * GOV_STORAGE_FAILURE, holds one read snapshot for a verification, and answers point reads of
 * the chain (head, hash at a seq) and `verifyChain`. Every method only reads.
 */

import type BetterSqlite3 from 'better-sqlite3';
import Database from 'better-sqlite3';
import type { Connection } from '../connection.js';
import { type ChainVerification, verifyChainIn } from './chain-in-thread.js';
import type { ScanPosition } from './chain-walk.js';

export class IntegrityScan {
  /**
   * The file the store reads, which worker threads open (`:memory:` for an in-memory store: no
   * worker can open it; a private copy when the store reads one).
   */
  readonly path: string;
  private readonly connection: Connection;
  private readonly hashAtSeq: BetterSqlite3.Statement<[number], string>;
  private readonly headRow: BetterSqlite3.Statement<[], { seq: number; hash: string }>;
  private readonly countRows: BetterSqlite3.Statement<[], number>;
  private readonly positionAtSeq: BetterSqlite3.Statement<
    [number],
    { hash: unknown; timestamp: unknown }
  >;

  constructor(connection: Connection) {
    this.connection = connection;
    this.path = connection.readPath;
    const db = connection.db;
    this.hashAtSeq = db.prepare<[number], string>('SELECT hash FROM events WHERE seq = ?').pluck();
    this.headRow = db.prepare('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1');
    this.countRows = db.prepare<[], number>('SELECT count(*) FROM events').pluck();
    this.positionAtSeq = db.prepare('SELECT hash, timestamp FROM events WHERE seq = ?');
  }

  /** Runs `fn` on the connection, wrapping SQLite errors as GOV_STORAGE_FAILURE (`operation`). */
  read<T>(operation: string, fn: (db: BetterSqlite3.Database) => T): T {
    return this.connection.read(operation, () => fn(this.connection.db));
  }

  /** Runs `fn` in one read transaction, so every scan inside sees the same snapshot. */
  inReadSnapshot<T>(fn: () => T): T {
    return this.read('integrity.snapshot', (db) => db.transaction(fn)());
  }

  /** True inside a transaction of this connection (its reads may see uncommitted rows). */
  get inTransaction(): boolean {
    return this.connection.db.inTransaction;
  }

  /** The stored hash at `seq`, or null when there is no such row. */
  hashAt(seq: number): string | null {
    return this.read('integrity.hashAt', () => this.hashAtSeq.get(seq) ?? null);
  }

  /** The seq, hash and timestamp of the event at `seq`, or null when there is no such row. */
  positionAt(seq: number): ScanPosition | null {
    return this.read('integrity.positionAt', () => {
      const row = this.positionAtSeq.get(seq);
      return row !== undefined && typeof row.hash === 'string' && typeof row.timestamp === 'string'
        ? { seq, hash: row.hash, timestamp: row.timestamp }
        : null;
    });
  }

  /**
   * The number of event rows, counted by SQLite over the smallest b-tree that holds them all
   * (the event_id index): independent of the table's b-tree, whose damage can hide rows from
   * the seq order the walk and the head read. About 35 ms per million events.
   */
  countEvents(): number {
    return this.read('integrity.countEvents', () => this.countRows.get() ?? 0);
  }

  /** The last event's seq and hash, or null for an empty log. */
  head(): { seq: number; hash: string } | null {
    return this.read('integrity.head', () => this.headRow.get() ?? null);
  }

  /**
   * The chain base row of a pruned log as stored (`event_log_base`): null when there is none,
   * 'missing' when the table itself is gone (dropped outside governor).
   */
  chainBaseRow(): { seq: unknown; hash: unknown } | null | 'missing' {
    return this.read('integrity.chainBase', (db) => {
      let statement: BetterSqlite3.Statement<[], { seq: unknown; hash: unknown }>;
      try {
        statement = db.prepare(
          'SELECT through_seq AS seq, through_hash AS hash FROM event_log_base WHERE id = 1',
        );
      } catch (error) {
        if (error instanceof Database.SqliteError && /no such table/.test(error.message)) {
          return 'missing';
        }
        throw error;
      }
      return statement.get() ?? null;
    });
  }

  /**
   * The seq and metadata (as stored) of every OPERATOR_ACTION event after `seq`, in seq order,
   * through the events_authority index: the few events a chain base's attestation is among.
   */
  operatorActionsAfter(seq: number): Array<{ seq: number; metadata: unknown }> {
    return this.read('integrity.operatorActionsAfter', (db) =>
      db
        .prepare<[number], { seq: number; metadata: unknown }>(
          `SELECT seq, metadata FROM events
            WHERE event_type IN ('SYSTEM_SHUTDOWN', 'OPERATOR_ACTION')
              AND event_type = 'OPERATOR_ACTION' AND seq > ?
            ORDER BY seq`,
        )
        .all(seq),
    );
  }

  /** The seq of the first event whose hash is `hash`, or null (scans the table). */
  seqOfHash(hash: string): number | null {
    return this.read(
      'integrity.seqOfHash',
      (db) =>
        db
          .prepare<[string], number>('SELECT seq FROM events WHERE hash = ? ORDER BY seq LIMIT 1')
          .pluck()
          .get(hash) ?? null,
    );
  }

  /**
   * Recomputes the chain from `fromSeq` (default 1) in one read snapshot, streaming, and reports
   * the first SEQ_GAP, PREV_HASH_MISMATCH, HASH_MISMATCH or MALFORMED_ROW. The first row must
   * link to `expectedPrevHash` (default: GENESIS_HASH from seq 1; anything otherwise). Without
   * `fromSeq`, a pruned log is walked from its chain base (the row after it must link to the
   * base's hash). Deleting the newest events is only visible against a remembered head.
   */
  verifyChain(options: { fromSeq?: number; expectedPrevHash?: string } = {}): ChainVerification {
    return this.read('integrity.verifyChain', (db) =>
      db.transaction(() => {
        const base = options.fromSeq === undefined ? this.chainBaseRow() : null;
        const usable =
          base !== null &&
          base !== 'missing' &&
          typeof base.seq === 'number' &&
          Number.isSafeInteger(base.seq) &&
          base.seq >= 1 &&
          typeof base.hash === 'string';
        return verifyChainIn(
          db,
          usable
            ? { fromSeq: (base.seq as number) + 1, expectedPrevHash: base.hash as string }
            : options,
        );
      })(),
    );
  }
}
