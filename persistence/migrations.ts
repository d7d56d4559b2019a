/**
 * The schema, as an ordered list of forward migrations: migration N takes a database at
 * `PRAGMA user_version` N-1 to N. A later release appends migration 2, 3…; never edit a
 * migration that has shipped. docs/schema.md describes the result for operators.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { AssertionError } from '../services/errors.js';

/** `PRAGMA application_id` of every governor database: ASCII "GOVR". */
export const GOVERNOR_APPLICATION_ID = 0x474f5652;

/** The table whose presence (with application_id) marks a governor database. */
export const MARKER_TABLE = 'governor_meta';

export interface MigrationContext {
  /** ISO-8601 wall time of the migration, for rows it seeds. */
  readonly nowIso: string;
}

export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly up: (db: BetterSqlite3.Database, context: MigrationContext) => void;
}

// Plain (not STRICT) tables so that operators' older sqlite3 builds (< 3.37) can read the file;
// money columns check their type instead.
const SCHEMA_V1 = `
CREATE TABLE governor_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE events (
  seq        INTEGER PRIMARY KEY CHECK (seq >= 1),
  event_id   TEXT NOT NULL UNIQUE,
  timestamp  TEXT NOT NULL,
  event_type TEXT NOT NULL,
  reason     TEXT NOT NULL,
  metadata   TEXT NOT NULL,
  prev_hash  TEXT NOT NULL,
  hash       TEXT NOT NULL
);

CREATE TABLE snapshots (
  date       TEXT PRIMARY KEY CHECK (length(date) = 10),
  data       TEXT NOT NULL,
  written_at TEXT NOT NULL
);

CREATE TABLE capital_pools (
  pool_id     TEXT PRIMARY KEY,
  currency    TEXT NOT NULL,
  total_minor INTEGER NOT NULL CHECK (typeof(total_minor) = 'integer' AND total_minor >= 0),
  created_at  TEXT NOT NULL
);

CREATE TABLE capital_accounts (
  account_id    TEXT PRIMARY KEY,
  pool_id       TEXT NOT NULL REFERENCES capital_pools (pool_id),
  balance_minor INTEGER NOT NULL
                  CHECK (typeof(balance_minor) = 'integer' AND balance_minor >= 0),
  created_at    TEXT NOT NULL
);
CREATE INDEX capital_accounts_by_pool ON capital_accounts (pool_id);

CREATE TABLE strategies (
  strategy_id   TEXT PRIMARY KEY,
  state         TEXT NOT NULL CHECK (state IN ('INACTIVE', 'ACTIVE', 'PAUSED', 'RETIRED')),
  registered_at TEXT NOT NULL,
  updated_at    TEXT NOT NULL
);

CREATE TABLE strategy_transitions (
  id          INTEGER PRIMARY KEY,
  strategy_id TEXT NOT NULL REFERENCES strategies (strategy_id),
  from_state  TEXT CHECK (from_state IN ('INACTIVE', 'ACTIVE', 'PAUSED', 'RETIRED')),
  to_state    TEXT NOT NULL CHECK (to_state IN ('INACTIVE', 'ACTIVE', 'PAUSED', 'RETIRED')),
  reason      TEXT NOT NULL,
  at          TEXT NOT NULL
);
CREATE INDEX strategy_transitions_by_strategy ON strategy_transitions (strategy_id, id);

CREATE TABLE system_state (
  id              INTEGER PRIMARY KEY CHECK (id = 1),
  desired_mode    TEXT NOT NULL CHECK (desired_mode IN ('AGGRESSIVE', 'OBSERVE_ONLY')),
  lifecycle_state TEXT CHECK (lifecycle_state IN
                    ('STARTING', 'CHECKING', 'AGGRESSIVE', 'OBSERVE_ONLY', 'SHUTDOWN')),
  lifecycle_id    TEXT,
  latch_trigger   TEXT,
  latch_reason    TEXT,
  latch_at        TEXT,
  cleared_by      TEXT,
  cleared_reason  TEXT,
  cleared_at      TEXT,
  updated_at      TEXT NOT NULL
);

CREATE TABLE alerts (
  alert_id           TEXT PRIMARY KEY,
  timestamp          TEXT NOT NULL,
  severity           TEXT NOT NULL CHECK (severity IN ('CRITICAL', 'WARNING', 'INFO')),
  title              TEXT NOT NULL,
  message            TEXT NOT NULL,
  root_cause         TEXT NOT NULL,
  recommended_action TEXT NOT NULL,
  metadata           TEXT NOT NULL,
  acknowledged       INTEGER NOT NULL CHECK (acknowledged IN (0, 1)),
  acknowledged_by    TEXT,
  acknowledged_at    TEXT,
  dedup_key          TEXT,
  kind               TEXT,
  resolved_at        TEXT
);
CREATE UNIQUE INDEX alerts_open_by_dedup_key ON alerts (dedup_key)
  WHERE dedup_key IS NOT NULL AND resolved_at IS NULL;

CREATE TABLE operator_actions (
  id       INTEGER PRIMARY KEY,
  at       TEXT NOT NULL,
  operator TEXT NOT NULL,
  action   TEXT NOT NULL,
  reason   TEXT NOT NULL
);
`;

// Written in the transaction that writes the alert (or resolves it); see persistence/alert-outbox.ts.
const SCHEMA_ALERT_OUTBOX = `
CREATE TABLE alert_outbox (
  id              INTEGER PRIMARY KEY,
  alert_id        TEXT NOT NULL REFERENCES alerts (alert_id),
  sink            TEXT NOT NULL,
  operation       TEXT NOT NULL CHECK (operation IN ('deliver', 'resolve')),
  status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts        INTEGER NOT NULL CHECK (attempts >= 0),
  created_at      TEXT NOT NULL,
  last_attempt_at TEXT,
  next_attempt_at TEXT,
  delivered_at    TEXT,
  last_error      TEXT,
  UNIQUE (alert_id, sink, operation)
);
CREATE INDEX alert_outbox_pending ON alert_outbox (id) WHERE status = 'pending';
`;

// One row per CHECKING visit, written in the transaction that appends its STARTUP_CHECKS_COMPLETED event.
const SCHEMA_STARTUP_REPORTS = `
CREATE TABLE startup_reports (
  id           INTEGER PRIMARY KEY,
  lifecycle_id TEXT NOT NULL,
  visit        INTEGER NOT NULL CHECK (typeof(visit) = 'integer' AND visit >= 1),
  passed       INTEGER NOT NULL CHECK (passed IN (0, 1)),
  results      TEXT NOT NULL,
  at           TEXT NOT NULL,
  UNIQUE (lifecycle_id, visit)
);
`;

// The authority record (one owner, safe-mode holds, input ages, requests from other processes)
// and an index over the events the latch is derived from; see persistence/mode-journal.ts.
const SCHEMA_AUTHORITY = `
ALTER TABLE system_state ADD COLUMN hold_cause TEXT
  CHECK (hold_cause IS NULL OR hold_cause IN ('STARTUP_CHECKS_FAILED', 'HEARTBEAT_LOST', 'INTEGRITY_VIOLATION'));
ALTER TABLE system_state ADD COLUMN hold_reason TEXT;
ALTER TABLE system_state ADD COLUMN hold_at TEXT;
ALTER TABLE system_state ADD COLUMN inputs TEXT;

CREATE TABLE owner (
  id            INTEGER PRIMARY KEY CHECK (id = 1),
  pid           INTEGER NOT NULL,
  host          TEXT NOT NULL,
  since         TEXT NOT NULL,
  lock_path     TEXT NOT NULL,
  lock_inode    INTEGER NOT NULL,
  process_start TEXT,
  released_at   TEXT
);

CREATE TABLE operator_requests (
  id              INTEGER PRIMARY KEY,
  command         TEXT NOT NULL
                    CHECK (command IN ('shutdown', 'observe', 'resume', 'restart', 'ack', 'adjust')),
  operator        TEXT NOT NULL,
  reason          TEXT NOT NULL,
  alert_id        TEXT,
  options         TEXT,
  requested_at_ms INTEGER NOT NULL,
  requested_by    TEXT NOT NULL,
  status          TEXT NOT NULL CHECK (status IN ('pending', 'done', 'refused', 'failed')),
  handled_at_ms   INTEGER,
  handled_by      TEXT,
  result          TEXT
);
CREATE INDEX operator_requests_pending ON operator_requests (id) WHERE status = 'pending';

CREATE INDEX events_authority ON events (seq)
  WHERE event_type IN ('SYSTEM_SHUTDOWN', 'OPERATOR_ACTION');
`;

// The chain base of a pruned event log (one row, written by the prune's transaction with its
// OPERATOR_ACTION PRUNE event); see persistence/event-log-base.ts and docs/integrity.md.
const SCHEMA_EVENT_LOG_BASE = `
CREATE TABLE event_log_base (
  id           INTEGER PRIMARY KEY CHECK (id = 1),
  through_seq  INTEGER NOT NULL CHECK (typeof(through_seq) = 'integer' AND through_seq >= 1),
  through_hash TEXT NOT NULL,
  pruned_at    TEXT NOT NULL,
  operator     TEXT NOT NULL,
  reason       TEXT NOT NULL,
  archive      TEXT NOT NULL
);
`;

// The thresholds the last owner ran with (JSON: pid, host, recordedAt, thresholds), recorded as
// it starts, so that a restart carried out with no owner running pre-flights with them.
const SCHEMA_OWNER_THRESHOLDS = `
ALTER TABLE system_state ADD COLUMN owner_thresholds TEXT;
`;

// One row per venue an owner registered: its last count, flatness and its dead man's switch
// (see persistence/venues.ts).
const SCHEMA_VENUES = `
CREATE TABLE venues (
  name                   TEXT PRIMARY KEY,
  open_orders            INTEGER CHECK (open_orders IS NULL OR (typeof(open_orders) = 'integer' AND open_orders >= 0)),
  flat                   INTEGER CHECK (flat IS NULL OR flat IN (0, 1)),
  last_cancel_latency_ms REAL CHECK (last_cancel_latency_ms IS NULL OR last_cancel_latency_ms >= 0),
  last_cancel_at         TEXT,
  switch_timeout_ms      INTEGER CHECK (switch_timeout_ms IS NULL OR switch_timeout_ms >= 0),
  switch_armed_at        TEXT,
  switch_expires_at      TEXT,
  updated_at             TEXT NOT NULL
);
`;

// Whether a venue's orders live in the process of the owner that registered it (a paper
// exchange, a simulator): with no owner running, nothing rests there (see persistence/venues.ts).
const SCHEMA_VENUES_IN_PROCESS = `
ALTER TABLE venues ADD COLUMN in_process INTEGER NOT NULL DEFAULT 0 CHECK (in_process IN (0, 1));
`;

// AUTHORITY_LOST becomes a held cause (a restart must not forget a lost fleet authority). SQLite
// cannot change a column's CHECK, so system_state is rebuilt with the same columns in the same
// order and its one row copied; nothing references the table (no foreign key, view or trigger).
const SCHEMA_HOLD_AUTHORITY_LOST = `
CREATE TABLE system_state_v9 (
  id               INTEGER PRIMARY KEY CHECK (id = 1),
  desired_mode     TEXT NOT NULL CHECK (desired_mode IN ('AGGRESSIVE', 'OBSERVE_ONLY')),
  lifecycle_state  TEXT CHECK (lifecycle_state IN
                     ('STARTING', 'CHECKING', 'AGGRESSIVE', 'OBSERVE_ONLY', 'SHUTDOWN')),
  lifecycle_id     TEXT,
  latch_trigger    TEXT,
  latch_reason     TEXT,
  latch_at         TEXT,
  cleared_by       TEXT,
  cleared_reason   TEXT,
  cleared_at       TEXT,
  updated_at       TEXT NOT NULL,
  hold_cause       TEXT
    CHECK (hold_cause IS NULL OR hold_cause IN
      ('STARTUP_CHECKS_FAILED', 'HEARTBEAT_LOST', 'INTEGRITY_VIOLATION', 'AUTHORITY_LOST')),
  hold_reason      TEXT,
  hold_at          TEXT,
  inputs           TEXT,
  owner_thresholds TEXT
);
INSERT INTO system_state_v9 (
  id, desired_mode, lifecycle_state, lifecycle_id, latch_trigger, latch_reason, latch_at,
  cleared_by, cleared_reason, cleared_at, updated_at, hold_cause, hold_reason, hold_at, inputs,
  owner_thresholds
)
SELECT
  id, desired_mode, lifecycle_state, lifecycle_id, latch_trigger, latch_reason, latch_at,
  cleared_by, cleared_reason, cleared_at, updated_at, hold_cause, hold_reason, hold_at, inputs,
  owner_thresholds
FROM system_state;
DROP TABLE system_state;
ALTER TABLE system_state_v9 RENAME TO system_state;
`;

// operator_requests.command: any name of the form the store checks (lower-case letters and
// dashes, at most 32), no longer a list of names: which commands exist is the operator
// vocabulary's word (services/governor/operator-vocabulary.ts), checked before a request is
// recorded and again when the owner reads it, so a new command needs no migration. SQLite cannot
// change a CHECK: the table is rebuilt with the same columns in the same order, its rows copied.
const SCHEMA_OPERATOR_REQUEST_NAMES = `
CREATE TABLE operator_requests_v10 (
  id              INTEGER PRIMARY KEY,
  command         TEXT NOT NULL
                    CHECK (length(command) BETWEEN 1 AND 32 AND command GLOB '[a-z]*'
                           AND command NOT GLOB '*[^a-z-]*'),
  operator        TEXT NOT NULL,
  reason          TEXT NOT NULL,
  alert_id        TEXT,
  options         TEXT,
  requested_at_ms INTEGER NOT NULL,
  requested_by    TEXT NOT NULL,
  status          TEXT NOT NULL CHECK (status IN ('pending', 'done', 'refused', 'failed')),
  handled_at_ms   INTEGER,
  handled_by      TEXT,
  result          TEXT
);
INSERT INTO operator_requests_v10
  SELECT id, command, operator, reason, alert_id, options, requested_at_ms, requested_by,
         status, handled_at_ms, handled_by, result
  FROM operator_requests;
DROP TABLE operator_requests;
ALTER TABLE operator_requests_v10 RENAME TO operator_requests;
CREATE INDEX operator_requests_pending ON operator_requests (id) WHERE status = 'pending';
`;

// The fleet epochs a host last established (persistence/fleet/remembered-epochs.ts): one row
// per scope, only rising; each change is also a FLEET_EPOCHS_ESTABLISHED event, found by its index.
const SCHEMA_FLEET_EPOCHS = `
CREATE TABLE fleet_epochs (
  scope          TEXT PRIMARY KEY CHECK (length(scope) BETWEEN 1 AND 200),
  epoch          INTEGER NOT NULL CHECK (typeof(epoch) = 'integer' AND epoch >= 0),
  established_at TEXT NOT NULL
);
CREATE INDEX events_fleet_epochs ON events (seq) WHERE event_type = 'FLEET_EPOCHS_ESTABLISHED';
`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description:
      'initial schema: events, snapshots, capital, strategies, system_state, alerts, audit',
    up(db, context) {
      db.exec(SCHEMA_V1);
      db.prepare('INSERT INTO governor_meta (key, value) VALUES (?, ?)').run(
        'created_at',
        context.nowIso,
      );
      db.prepare(
        "INSERT INTO system_state (id, desired_mode, updated_at) VALUES (1, 'OBSERVE_ONLY', ?)",
      ).run(context.nowIso);
    },
  },
  {
    version: 2,
    description: 'alert_outbox: one row per (alert, sink, operation) still to leave the process',
    up(db) {
      db.exec(SCHEMA_ALERT_OUTBOX);
    },
  },
  {
    version: 3,
    description:
      'startup_reports: the report of every CHECKING visit (see persistence/startup-reports.ts)',
    up(db) {
      db.exec(SCHEMA_STARTUP_REPORTS);
    },
  },
  {
    version: 4,
    description:
      'the authority record: safe-mode hold, persisted input ages, the owner, operator requests, events_authority index',
    up(db) {
      db.exec(SCHEMA_AUTHORITY);
    },
  },
  {
    version: 5,
    description:
      'event_log_base: the chain base of a pruned event log (seq and hash it starts after), attested by an OPERATOR_ACTION PRUNE event',
    up(db) {
      db.exec(SCHEMA_EVENT_LOG_BASE);
    },
  },
  {
    version: 6,
    description:
      "system_state.owner_thresholds: the thresholds the last owner ran with, for a restart's pre-flight when none runs",
    up(db) {
      db.exec(SCHEMA_OWNER_THRESHOLDS);
    },
  },
  {
    version: 7,
    description:
      "venues: each registered venue's last count of open orders, flatness after a SHUTDOWN, last cancel latency and dead man's switch expiry",
    up(db) {
      db.exec(SCHEMA_VENUES);
    },
  },
  {
    version: 8,
    description:
      "venues.in_process: the venue's orders lived in its owner's process, so with no owner running nothing rests there",
    up(db) {
      db.exec(SCHEMA_VENUES_IN_PROCESS);
    },
  },
  {
    version: 9,
    description:
      'system_state.hold_cause may be AUTHORITY_LOST: a lost fleet authority is held across restarts (the table rebuilt, its row kept)',
    up(db) {
      db.exec(SCHEMA_HOLD_AUTHORITY_LOST);
    },
  },
  {
    version: 10,
    description:
      'operator_requests.command checks the form of a name, not a list of names: the operator vocabulary says which exist (the table rebuilt, its rows kept)',
    up(db) {
      db.exec(SCHEMA_OPERATOR_REQUEST_NAMES);
    },
  },
  {
    version: 11,
    description:
      'fleet_epochs: the fleet epochs a host last established, in the database (they were a side file a local process could delete)',
    up(db) {
      db.exec(SCHEMA_FLEET_EPOCHS);
    },
  },
];

/** The schema version this code writes: the last migration's version. */
export const SCHEMA_VERSION = MIGRATIONS.length;

for (const [index, migration] of MIGRATIONS.entries()) {
  if (migration.version !== index + 1) {
    throw new AssertionError(
      `migration ${index} has version ${migration.version}, expected ${index + 1}`,
    );
  }
}

/** Applies every migration above `fromVersion` in order; the caller holds a write transaction. */
export function applyMigrations(
  db: BetterSqlite3.Database,
  fromVersion: number,
  context: MigrationContext,
): void {
  for (const migration of MIGRATIONS.slice(fromVersion)) {
    migration.up(db, context);
    db.pragma(`user_version = ${migration.version}`);
  }
  db.pragma(`application_id = ${GOVERNOR_APPLICATION_ID}`);
}
