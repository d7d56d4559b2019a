/**
 * The alert outbox: one row per (alert, sink, operation) that must leave the process. Rows are
 * written in the same transaction as the alert (or its resolution), so an alert raised just
 * before a crash is still delivered after the restart; the dispatcher records every attempt here.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { GovernorError } from '../services/errors.js';
import type { Connection } from './connection.js';
import { checkIdentifier, checkLimit, checkMember, checkTimestamp } from './validation.js';

export const OUTBOX_OPERATIONS = ['deliver', 'resolve'] as const;
export type OutboxOperation = (typeof OUTBOX_OPERATIONS)[number];

export const OUTBOX_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];

/** The last error of an attempt is cut to this many characters before it is stored. */
export const OUTBOX_ERROR_CHARS_MAX = 1_024;

export interface OutboxEntry {
  readonly id: number;
  readonly alertId: string;
  readonly sink: string;
  readonly operation: OutboxOperation;
  readonly status: OutboxStatus;
  readonly attempts: number;
  readonly createdAt: string;
  readonly lastAttemptAt: string | null;
  readonly nextAttemptAt: string | null;
  readonly deliveredAt: string | null;
  readonly lastError: string | null;
  /** The incident key of the alert (joined from `alerts`). */
  readonly dedupKey: string | null;
}

/** The outcome of one attempt, as the dispatcher records it. */
export interface OutboxAttempt {
  readonly status: OutboxStatus;
  readonly attempts: number;
  /** ISO-8601 UTC wall time of the attempt. */
  readonly at: string;
  readonly error?: string | null;
  /** ISO-8601 UTC wall time of the next attempt (pending rows only). */
  readonly nextAttemptAt?: string | null;
}

interface OutboxRow {
  id: number;
  alert_id: string;
  sink: string;
  operation: OutboxOperation;
  status: OutboxStatus;
  attempts: number;
  created_at: string;
  last_attempt_at: string | null;
  next_attempt_at: string | null;
  delivered_at: string | null;
  last_error: string | null;
  dedup_key: string | null;
}

const LIST_LIMIT_DEFAULT = 100;
const LIST_LIMIT_MAX = 10_000;

function toEntry(row: OutboxRow): OutboxEntry {
  return {
    id: row.id,
    alertId: row.alert_id,
    sink: row.sink,
    operation: row.operation,
    status: row.status,
    attempts: row.attempts,
    createdAt: row.created_at,
    lastAttemptAt: row.last_attempt_at,
    nextAttemptAt: row.next_attempt_at,
    deliveredAt: row.delivered_at,
    lastError: row.last_error,
    dedupKey: row.dedup_key,
  };
}

/** The `alert_outbox` table. Obtain it as `store.alertOutbox`. */
export class AlertOutbox {
  private readonly connection: Connection;
  private readonly statements: ReturnType<typeof prepareStatements>;

  constructor(connection: Connection) {
    this.connection = connection;
    this.statements = prepareStatements(connection.db);
  }

  /**
   * Adds a pending row for `alertId` and `sink`; call it inside the transaction that writes the
   * alert. Adding the same (alert, sink, operation) twice keeps the first row.
   */
  add(alertId: string, sink: string, operation: OutboxOperation): OutboxEntry {
    checkIdentifier('alertId', alertId);
    checkIdentifier('sink', sink);
    checkMember('operation', operation, OUTBOX_OPERATIONS, 'GOV_INVALID_ARGUMENT');
    return this.connection.write('alertOutbox.add', () => {
      this.statements.insert.run(alertId, sink, operation, this.connection.nowIso());
      const row = this.statements.byKey.get(alertId, sink, operation);
      if (row === undefined) {
        throw new GovernorError('GOV_UNKNOWN_ALERT', `No alert ${alertId}`, { alertId });
      }
      return toEntry(row);
    });
  }

  /** Records an attempt's outcome on row `id`. */
  recordAttempt(id: number, attempt: OutboxAttempt): void {
    checkMember('status', attempt.status, OUTBOX_STATUSES, 'GOV_INVALID_ARGUMENT');
    const at = checkTimestamp('at', attempt.at);
    const next =
      attempt.nextAttemptAt === undefined || attempt.nextAttemptAt === null
        ? null
        : checkTimestamp('nextAttemptAt', attempt.nextAttemptAt);
    const error =
      attempt.error === undefined || attempt.error === null
        ? null
        : attempt.error.slice(0, OUTBOX_ERROR_CHARS_MAX);
    this.connection.write('alertOutbox.recordAttempt', () => {
      this.statements.recordAttempt.run({
        id,
        status: attempt.status,
        attempts: attempt.attempts,
        at,
        next: attempt.status === 'pending' ? next : null,
        delivered: attempt.status === 'delivered' ? at : null,
        error: attempt.status === 'delivered' ? null : error,
      });
    });
  }

  /** Pending rows, oldest first, at most `limit`. */
  pending(limit = LIST_LIMIT_DEFAULT): OutboxEntry[] {
    checkLimit(limit, LIST_LIMIT_MAX);
    return this.connection
      .read('alertOutbox.pending', () => this.statements.pending.all(limit))
      .map(toEntry);
  }

  /** Rows newest first, of one alert or of all; at most `limit` (default 100, at most 10,000). */
  list(options: { alertId?: string; limit?: number } = {}): OutboxEntry[] {
    const limit = checkLimit(options.limit ?? LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX);
    if (options.alertId !== undefined) {
      const alertId = checkIdentifier('alertId', options.alertId);
      return this.connection
        .read('alertOutbox.list', () => this.statements.listByAlert.all(alertId, limit))
        .map(toEntry);
    }
    return this.connection
      .read('alertOutbox.list', () => this.statements.list.all(limit))
      .map(toEntry);
  }

  /** How many rows are in each status. */
  countByStatus(): Record<OutboxStatus, number> {
    const counts: Record<OutboxStatus, number> = { pending: 0, delivered: 0, failed: 0 };
    const rows = this.connection.read('alertOutbox.countByStatus', () =>
      this.statements.countByStatus.all(),
    );
    for (const row of rows) counts[row.status] = row.count;
    return counts;
  }

  /** How many rows each sink has in each status (sinks with rows only), by sink name. */
  countBySinkAndStatus(): Array<{ sink: string; status: OutboxStatus; count: number }> {
    return this.connection.read('alertOutbox.countBySinkAndStatus', () =>
      this.statements.countBySinkAndStatus.all(),
    );
  }
}

const SELECT = `SELECT o.id, o.alert_id, o.sink, o.operation, o.status, o.attempts, o.created_at,
  o.last_attempt_at, o.next_attempt_at, o.delivered_at, o.last_error, a.dedup_key
  FROM alert_outbox o JOIN alerts a ON a.alert_id = o.alert_id`;

function prepareStatements(db: BetterSqlite3.Database) {
  return {
    insert: db.prepare<[string, string, OutboxOperation, string]>(
      `INSERT INTO alert_outbox (alert_id, sink, operation, status, attempts, created_at)
       VALUES (?, ?, ?, 'pending', 0, ?) ON CONFLICT (alert_id, sink, operation) DO NOTHING`,
    ),
    byKey: db.prepare<[string, string, OutboxOperation], OutboxRow>(
      `${SELECT} WHERE o.alert_id = ? AND o.sink = ? AND o.operation = ?`,
    ),
    recordAttempt: db.prepare<
      [
        {
          id: number;
          status: OutboxStatus;
          attempts: number;
          at: string;
          next: string | null;
          delivered: string | null;
          error: string | null;
        },
      ]
    >(
      `UPDATE alert_outbox SET status = @status, attempts = @attempts, last_attempt_at = @at,
         next_attempt_at = @next, delivered_at = @delivered, last_error = @error WHERE id = @id`,
    ),
    pending: db.prepare<[number], OutboxRow>(
      `${SELECT} WHERE o.status = 'pending' ORDER BY o.id LIMIT ?`,
    ),
    list: db.prepare<[number], OutboxRow>(`${SELECT} ORDER BY o.id DESC LIMIT ?`),
    listByAlert: db.prepare<[string, number], OutboxRow>(
      `${SELECT} WHERE o.alert_id = ? ORDER BY o.id DESC LIMIT ?`,
    ),
    countByStatus: db.prepare<[], { status: OutboxStatus; count: number }>(
      'SELECT status, count(*) AS count FROM alert_outbox GROUP BY status',
    ),
    countBySinkAndStatus: db.prepare<[], { sink: string; status: OutboxStatus; count: number }>(
      'SELECT sink, status, count(*) AS count FROM alert_outbox GROUP BY sink, status ORDER BY sink',
    ),
  };
}
