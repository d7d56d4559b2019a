/**
 * Operator requests recorded in the database by a process that is not the owner (the command
 * line: every operator command it sends goes this way): the owner watches for them, carries
 * each out through its machine exactly as if it had been called in process, and records the
 * outcome on the row, which the requester waits for. A request written while no owner runs is
 * carried out by the next one.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { GovernorError } from '../services/errors.js';
import type { Connection } from './connection.js';
import { readFields } from './plain-copy.js';
import {
  checkIdentifier,
  checkOperator,
  checkReason,
  LIMITS,
  parseStoredJson,
  serialiseJson,
} from './validation.js';

/**
 * A command's name on the row: lower-case letters and dashes, at most 32. Which names exist is
 * the operator vocabulary's word (services/governor/operator-vocabulary.ts), checked before a
 * request is recorded and again when the owner reads it; the store checks only the form.
 */
export const OPERATOR_REQUEST_COMMAND_PATTERN = /^[a-z][a-z-]{0,31}$/;

export const OPERATOR_REQUEST_STATUSES = ['pending', 'done', 'refused', 'failed'] as const;
export type OperatorRequestStatus = (typeof OPERATOR_REQUEST_STATUSES)[number];

export interface OperatorRequestInput {
  readonly command: string;
  readonly operator: string;
  readonly reason: string;
  /** The alert an `ack` acknowledges. */
  readonly alertId?: string;
  /** The command's options as plain JSON (e.g. `{ force: true }`, a capital correction). */
  readonly options?: Readonly<Record<string, unknown>>;
  /** Who wrote the request, e.g. `cli pid 4242 on host-a`. */
  readonly requestedBy: string;
}

const OPERATOR_REQUEST_INPUT_KEYS = [
  'command',
  'operator',
  'reason',
  'alertId',
  'options',
  'requestedBy',
] as const;

export interface OperatorRequestRecord {
  readonly id: number;
  readonly command: string;
  readonly operator: string;
  readonly reason: string;
  readonly alertId: string | null;
  readonly options: Readonly<Record<string, unknown>>;
  /** Wall time in ms since the epoch at which the request was committed. */
  readonly requestedAtMs: number;
  readonly requestedBy: string;
  readonly status: OperatorRequestStatus;
  readonly handledAtMs: number | null;
  readonly handledBy: string | null;
  /** What the owner reported: the state reached, or why it refused. */
  readonly result: unknown;
}

interface RequestRow {
  id: number;
  command: string;
  operator: string;
  reason: string;
  alert_id: string | null;
  options: string | null;
  requested_at_ms: number;
  requested_by: string;
  status: OperatorRequestStatus;
  handled_at_ms: number | null;
  handled_by: string | null;
  result: string | null;
}

/** At most this many requests are carried out per wake-up (the rest at the next). */
export const PENDING_BATCH_MAX = 64;

function optionsOf(row: RequestRow): Readonly<Record<string, unknown>> {
  if (row.options === null) return {};
  const parsed = parseStoredJson('operator_requests', row.id, row.options);
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : {};
}

function toRecord(row: RequestRow): OperatorRequestRecord {
  return {
    id: row.id,
    command: row.command,
    operator: row.operator,
    reason: row.reason,
    alertId: row.alert_id,
    options: optionsOf(row),
    requestedAtMs: row.requested_at_ms,
    requestedBy: row.requested_by,
    status: row.status,
    handledAtMs: row.handled_at_ms,
    handledBy: row.handled_by,
    result: row.result === null ? null : parseStoredJson('operator_requests', row.id, row.result),
  };
}

/** The `operator_requests` table. */
export class OperatorRequests {
  private readonly connection: Connection;
  private readonly insertRow: BetterSqlite3.Statement;
  private readonly selectPending: BetterSqlite3.Statement<[number], RequestRow>;
  private readonly selectOne: BetterSqlite3.Statement<[number], RequestRow>;
  private readonly updateOutcome: BetterSqlite3.Statement;

  constructor(connection: Connection) {
    this.connection = connection;
    const db = connection.db;
    this.insertRow = db.prepare(
      `INSERT INTO operator_requests (command, operator, reason, alert_id, options, requested_at_ms, requested_by, status)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')`,
    );
    this.selectPending = db.prepare(
      "SELECT * FROM operator_requests WHERE status = 'pending' ORDER BY id LIMIT ?",
    );
    this.selectOne = db.prepare('SELECT * FROM operator_requests WHERE id = ?');
    this.updateOutcome = db.prepare(
      "UPDATE operator_requests SET status = ?, handled_at_ms = ?, handled_by = ?, result = ? WHERE id = ? AND status = 'pending'",
    );
  }

  /** Records a request (validated first: nothing is written for a bad one). */
  record(given: OperatorRequestInput, requestedAtMs: number): OperatorRequestRecord {
    if (typeof given !== 'object' || given === null) {
      throw new GovernorError('GOV_INVALID_ARGUMENT', 'Expected an operator request object');
    }
    // Each field read once (persistence/plain-copy.ts); only the copy is checked and stored.
    const input = readFields('request', given, OPERATOR_REQUEST_INPUT_KEYS);
    if (
      typeof input.command !== 'string' ||
      !OPERATOR_REQUEST_COMMAND_PATTERN.test(input.command)
    ) {
      throw new GovernorError(
        'GOV_INVALID_ARGUMENT',
        'Expected command to be an operator command name (lower-case letters and dashes, at most 32)',
        { field: 'command' },
      );
    }
    const operator = checkOperator(input.operator);
    const reason = checkReason(input.reason);
    const alertId = input.alertId === undefined ? null : checkIdentifier('alertId', input.alertId);
    const requestedBy = checkIdentifier('requestedBy', input.requestedBy);
    const optionsText =
      input.options === undefined
        ? null
        : serialiseJson('options', input.options, LIMITS.metadataBytesMax);
    return this.connection.write('operatorRequests.record', () => {
      const { lastInsertRowid } = this.insertRow.run(
        input.command,
        operator,
        reason,
        alertId,
        optionsText,
        requestedAtMs,
        requestedBy,
      );
      const row = this.selectOne.get(Number(lastInsertRowid));
      if (row === undefined) throw new Error('operator request vanished after insert');
      return toRecord(row);
    });
  }

  /** Requests not yet carried out, oldest first (at most PENDING_BATCH_MAX). */
  pending(): OperatorRequestRecord[] {
    return this.connection
      .read('operatorRequests.pending', () => this.selectPending.all(PENDING_BATCH_MAX))
      .map(toRecord);
  }

  get(id: number): OperatorRequestRecord | null {
    const row = this.connection.read('operatorRequests.get', () => this.selectOne.get(id));
    return row === undefined ? null : toRecord(row);
  }

  /** Records the outcome of a pending request; false when it was no longer pending. */
  complete(
    id: number,
    outcome: {
      status: Exclude<OperatorRequestStatus, 'pending'>;
      handledAtMs: number;
      handledBy: string;
      result: unknown;
    },
  ): boolean {
    const resultText = serialiseJson('result', outcome.result ?? null, LIMITS.metadataBytesMax);
    return this.connection.write('operatorRequests.complete', () => {
      const { changes } = this.updateOutcome.run(
        outcome.status,
        outcome.handledAtMs,
        outcome.handledBy,
        resultText,
        id,
      );
      return changes === 1;
    });
  }
}
