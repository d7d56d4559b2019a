/**
 * The operator audit trail: who did what, why, and when. Every command an operator gives
 * (restart, observe, resume, kill, acknowledge) is recorded here; rows are never changed.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { GovernorError } from '../services/errors.js';
import type { Connection } from './connection.js';
import {
  checkLimit,
  checkOperator,
  checkReason,
  checkText,
  checkTimestamp,
  LIMITS,
} from './validation.js';

export interface OperatorActionInput {
  readonly operator: string;
  /** What was done, e.g. `restart`, `observe`; at most 128 bytes. */
  readonly action: string;
  readonly reason: string;
  /** ISO-8601 UTC wall time; default now. */
  readonly at?: string;
}

export interface OperatorActionRecord {
  readonly id: number;
  readonly at: string;
  readonly operator: string;
  readonly action: string;
  readonly reason: string;
}

const LIST_LIMIT_DEFAULT = 100;
const LIST_LIMIT_MAX = 10_000;

/** The `operator_actions` table. Obtain it as `store.operatorActions`. */
export class OperatorActions {
  private readonly connection: Connection;
  private readonly insertRow: BetterSqlite3.Statement<[string, string, string, string]>;
  private readonly selectLatest: BetterSqlite3.Statement<[number], OperatorActionRecord>;

  constructor(connection: Connection) {
    this.connection = connection;
    this.insertRow = connection.db.prepare(
      'INSERT INTO operator_actions (at, operator, action, reason) VALUES (?, ?, ?, ?)',
    );
    this.selectLatest = connection.db.prepare(
      'SELECT id, at, operator, action, reason FROM operator_actions ORDER BY id DESC LIMIT ?',
    );
  }

  /** Records an action; GOV_OPERATOR_REQUIRED / GOV_REASON_REQUIRED if either is blank. */
  record(input: OperatorActionInput): OperatorActionRecord {
    if (typeof input !== 'object' || input === null) {
      throw new GovernorError('GOV_INVALID_ARGUMENT', 'Expected an operator action object', {
        field: 'action',
      });
    }
    const operator = checkOperator(input.operator);
    const reason = checkReason(input.reason);
    const action = checkText('action', input.action, LIMITS.eventTypeBytesMax);
    const at = input.at === undefined ? undefined : checkTimestamp('at', input.at);
    return this.connection.write('operatorActions.record', () => {
      const when = at ?? this.connection.nowIso();
      const { lastInsertRowid } = this.insertRow.run(when, operator, action, reason);
      return { id: Number(lastInsertRowid), at: when, operator, action, reason };
    });
  }

  /** The latest actions, newest first (default 100, at most 10,000). */
  list(limit = LIST_LIMIT_DEFAULT): OperatorActionRecord[] {
    checkLimit(limit, LIST_LIMIT_MAX);
    return this.connection.read('operatorActions.list', () => this.selectLatest.all(limit));
  }
}
