/**
 * Persisted alerts: the spec's Alert shape plus the incident's dedup key, who acknowledged it and
 * when, and when the incident was resolved. At most one unresolved alert per dedup key.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { GovernorError } from '../services/errors.js';
import type { Connection } from './connection.js';
import {
  checkIdentifier,
  checkLimit,
  checkMember,
  checkOperator,
  checkText,
  checkTimestamp,
  LIMITS,
  parseStoredJson,
  serialiseJson,
} from './validation.js';

export const STORED_ALERT_SEVERITIES = ['CRITICAL', 'WARNING', 'INFO'] as const;
export type StoredAlertSeverity = (typeof STORED_ALERT_SEVERITIES)[number];

export interface AlertInput {
  readonly alertId: string;
  /** ISO-8601 UTC wall time at which the alert was raised. */
  readonly timestamp: string;
  readonly severity: StoredAlertSeverity;
  readonly title: string;
  readonly message: string;
  readonly rootCause: string;
  readonly recommendedAction: string;
  readonly metadata?: Record<string, unknown> | null;
  /** One alert per incident: no two unresolved alerts share a dedup key. */
  readonly dedupKey?: string | null;
  /** The caller's classification (e.g. SHUTDOWN); free text, at most 256 bytes. */
  readonly kind?: string | null;
  readonly acknowledged?: boolean;
  readonly acknowledgedBy?: string | null;
  readonly acknowledgedAt?: string | null;
  readonly resolvedAt?: string | null;
}

export interface StoredAlert {
  readonly alertId: string;
  readonly timestamp: string;
  readonly severity: StoredAlertSeverity;
  readonly title: string;
  readonly message: string;
  readonly rootCause: string;
  readonly recommendedAction: string;
  readonly metadata: Record<string, unknown> | null;
  readonly acknowledged: boolean;
  readonly dedupKey: string | null;
  readonly kind: string | null;
  readonly acknowledgedBy: string | null;
  readonly acknowledgedAt: string | null;
  readonly resolvedAt: string | null;
}

interface AlertRow {
  alert_id: string;
  timestamp: string;
  severity: StoredAlertSeverity;
  title: string;
  message: string;
  root_cause: string;
  recommended_action: string;
  metadata: string;
  acknowledged: number;
  acknowledged_by: string | null;
  acknowledged_at: string | null;
  dedup_key: string | null;
  kind: string | null;
  resolved_at: string | null;
}

const LIST_LIMIT_DEFAULT = 100;
const LIST_LIMIT_MAX = 10_000;

function toStoredAlert(row: AlertRow): StoredAlert {
  const metadata = parseStoredJson('alerts', row.alert_id, row.metadata);
  return {
    alertId: row.alert_id,
    timestamp: row.timestamp,
    severity: row.severity,
    title: row.title,
    message: row.message,
    rootCause: row.root_cause,
    recommendedAction: row.recommended_action,
    metadata: metadata as Record<string, unknown> | null,
    acknowledged: row.acknowledged === 1,
    dedupKey: row.dedup_key,
    kind: row.kind,
    acknowledgedBy: row.acknowledged_by,
    acknowledgedAt: row.acknowledged_at,
    resolvedAt: row.resolved_at,
  };
}

const optional = <T>(value: T | null | undefined, check: (value: T) => string): string | null =>
  value === undefined || value === null ? null : check(value);

/** Validates an alert into the row it will be stored as. */
function toRow(alert: AlertInput): AlertRow {
  if (typeof alert !== 'object' || alert === null) {
    throw new GovernorError('GOV_INVALID_ARGUMENT', 'Expected an alert object', { field: 'alert' });
  }
  const metadata = alert.metadata ?? null;
  if (metadata !== null && (typeof metadata !== 'object' || Array.isArray(metadata))) {
    throw new GovernorError('GOV_INVALID_METADATA', 'alert metadata must be a plain object', {
      field: 'metadata',
      path: '$',
    });
  }
  const acknowledged = alert.acknowledged ?? false;
  const row: AlertRow = {
    alert_id: checkIdentifier('alertId', alert.alertId),
    timestamp: checkTimestamp('timestamp', alert.timestamp),
    severity: checkMember(
      'severity',
      alert.severity,
      STORED_ALERT_SEVERITIES,
      'GOV_INVALID_ARGUMENT',
    ),
    title: checkText('title', alert.title, LIMITS.shortTextBytesMax),
    message: checkText('message', alert.message, LIMITS.reasonBytesMax),
    root_cause: checkText('rootCause', alert.rootCause, LIMITS.reasonBytesMax),
    recommended_action: checkText(
      'recommendedAction',
      alert.recommendedAction,
      LIMITS.reasonBytesMax,
    ),
    metadata: serialiseJson('metadata', metadata, LIMITS.metadataBytesMax),
    acknowledged: acknowledged ? 1 : 0,
    acknowledged_by: optional(alert.acknowledgedBy, checkOperator),
    acknowledged_at: optional(alert.acknowledgedAt, (at) => checkTimestamp('acknowledgedAt', at)),
    dedup_key: optional(alert.dedupKey, (key) => checkIdentifier('dedupKey', key)),
    kind: optional(alert.kind, (kind) => checkText('kind', kind, LIMITS.shortTextBytesMax)),
    resolved_at: optional(alert.resolvedAt, (at) => checkTimestamp('resolvedAt', at)),
  };
  if (typeof alert.acknowledged !== 'boolean' && alert.acknowledged !== undefined) {
    throw new GovernorError('GOV_INVALID_ARGUMENT', 'Expected acknowledged to be a boolean', {
      field: 'acknowledged',
    });
  }
  if (
    acknowledged !== (row.acknowledged_by !== null) ||
    acknowledged !== (row.acknowledged_at !== null)
  ) {
    throw new GovernorError(
      'GOV_INVALID_ARGUMENT',
      'An acknowledged alert needs acknowledgedBy and acknowledgedAt; an unacknowledged one neither',
      { field: 'acknowledged' },
    );
  }
  return row;
}

/** The `alerts` table. Obtain it as `store.alerts`. */
export class Alerts {
  private readonly connection: Connection;
  private readonly statements: ReturnType<typeof prepareStatements>;

  constructor(connection: Connection) {
    this.connection = connection;
    this.statements = prepareStatements(connection.db);
  }

  /** Stores a new alert; GOV_DUPLICATE_ALERT if its id, or an open alert with its dedup key, exists. */
  insert(alert: AlertInput): StoredAlert {
    const row = toRow(alert);
    return this.connection.write('alerts.insert', () => {
      if (this.statements.byId.get(row.alert_id) !== undefined) {
        throw new GovernorError('GOV_DUPLICATE_ALERT', `An alert with id ${row.alert_id} exists`, {
          alertId: row.alert_id,
        });
      }
      if (
        row.dedup_key !== null &&
        row.resolved_at === null &&
        this.statements.openByKey.get(row.dedup_key)
      ) {
        throw new GovernorError(
          'GOV_DUPLICATE_ALERT',
          `An open alert with dedup key ${row.dedup_key} exists`,
          {
            dedupKey: row.dedup_key,
          },
        );
      }
      this.statements.insert.run(row);
      return toStoredAlert(row);
    });
  }

  get(alertId: string): StoredAlert | null {
    checkIdentifier('alertId', alertId);
    const row = this.connection.read('alerts.get', () => this.statements.byId.get(alertId));
    return row === undefined ? null : toStoredAlert(row);
  }

  /** Newest first (by insertion), at most `limit` (default 100, at most 10,000). */
  list(options: { unacknowledgedOnly?: boolean; limit?: number } = {}): StoredAlert[] {
    const limit = options.limit ?? LIST_LIMIT_DEFAULT;
    checkLimit(limit, LIST_LIMIT_MAX);
    const statement =
      options.unacknowledgedOnly === true
        ? this.statements.listUnacknowledged
        : this.statements.list;
    return this.connection.read('alerts.list', () => statement.all(limit)).map(toStoredAlert);
  }

  /** The unresolved alert with this dedup key, or null. */
  findOpenByDedupKey(dedupKey: string): StoredAlert | null {
    checkIdentifier('dedupKey', dedupKey);
    const row = this.connection.read('alerts.findOpenByDedupKey', () =>
      this.statements.openByKey.get(dedupKey),
    );
    return row === undefined ? null : toStoredAlert(row);
  }

  /** Marks an alert acknowledged by `operator` at `atIso`; a second acknowledgement keeps the first. */
  acknowledge(alertId: string, operator: string, atIso: string): StoredAlert {
    checkIdentifier('alertId', alertId);
    const by = checkOperator(operator);
    const at = checkTimestamp('at', atIso);
    return this.connection.write('alerts.acknowledge', () => {
      const row = this.statements.byId.get(alertId);
      if (row === undefined)
        throw new GovernorError('GOV_UNKNOWN_ALERT', `No alert ${alertId}`, { alertId });
      if (row.acknowledged === 1) return toStoredAlert(row);
      this.statements.acknowledge.run(by, at, alertId);
      return toStoredAlert({ ...row, acknowledged: 1, acknowledged_by: by, acknowledged_at: at });
    });
  }

  /** Resolves the open alert of an incident; returns the alerts resolved (zero or one). */
  resolve(dedupKey: string, atIso: string): StoredAlert[] {
    checkIdentifier('dedupKey', dedupKey);
    const at = checkTimestamp('at', atIso);
    return this.connection.write('alerts.resolve', () => {
      const open = this.statements.openByKey.all(dedupKey);
      this.statements.resolve.run(at, dedupKey);
      return open.map((row) => toStoredAlert({ ...row, resolved_at: at }));
    });
  }

  /** The dedup keys of unresolved alerts of the given kinds (every kind when none is given). */
  openKeys(kinds: readonly string[] = []): string[] {
    const rows = this.connection.read('alerts.openKeys', () => this.statements.openKeys.all());
    return rows
      .filter((row) => kinds.length === 0 || (row.kind !== null && kinds.includes(row.kind)))
      .map((row) => row.dedup_key);
  }

  /** How many alerts of each severity (all, or only unacknowledged ones). */
  countBySeverity(
    options: { unacknowledgedOnly?: boolean } = {},
  ): Record<StoredAlertSeverity, number> {
    const counts: Record<StoredAlertSeverity, number> = { CRITICAL: 0, WARNING: 0, INFO: 0 };
    const rows = this.connection.read('alerts.countBySeverity', () =>
      this.statements.countBySeverity.all(options.unacknowledgedOnly === true ? 1 : 0),
    );
    for (const row of rows) counts[row.severity] = row.count;
    return counts;
  }
}

function prepareStatements(db: BetterSqlite3.Database) {
  return {
    insert: db.prepare<[AlertRow]>(
      `INSERT INTO alerts (alert_id, timestamp, severity, title, message, root_cause, recommended_action,
         metadata, acknowledged, acknowledged_by, acknowledged_at, dedup_key, kind, resolved_at)
       VALUES (@alert_id, @timestamp, @severity, @title, @message, @root_cause, @recommended_action,
         @metadata, @acknowledged, @acknowledged_by, @acknowledged_at, @dedup_key, @kind, @resolved_at)`,
    ),
    byId: db.prepare<[string], AlertRow>('SELECT * FROM alerts WHERE alert_id = ?'),
    openByKey: db.prepare<[string], AlertRow>(
      'SELECT * FROM alerts WHERE dedup_key = ? AND resolved_at IS NULL ORDER BY rowid DESC',
    ),
    list: db.prepare<[number], AlertRow>('SELECT * FROM alerts ORDER BY rowid DESC LIMIT ?'),
    listUnacknowledged: db.prepare<[number], AlertRow>(
      'SELECT * FROM alerts WHERE acknowledged = 0 ORDER BY rowid DESC LIMIT ?',
    ),
    acknowledge: db.prepare<[string, string, string]>(
      'UPDATE alerts SET acknowledged = 1, acknowledged_by = ?, acknowledged_at = ? WHERE alert_id = ?',
    ),
    resolve: db.prepare<[string, string]>(
      'UPDATE alerts SET resolved_at = ? WHERE dedup_key = ? AND resolved_at IS NULL',
    ),
    openKeys: db.prepare<[], { dedup_key: string; kind: string | null }>(
      'SELECT DISTINCT dedup_key, kind FROM alerts WHERE resolved_at IS NULL AND dedup_key IS NOT NULL',
    ),
    countBySeverity: db.prepare<[number], { severity: StoredAlertSeverity; count: number }>(
      'SELECT severity, count(*) AS count FROM alerts WHERE (? = 0 OR acknowledged = 0) GROUP BY severity',
    ),
  };
}
