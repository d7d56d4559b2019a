/**
 * Goal: migration 10 lets `operator_requests.command` be any name of the form the store checks
 * (lower-case letters and dashes, at most 32) instead of a fixed list, so that a new operator
 * command needs no migration. SQLite cannot change a CHECK, so the table is rebuilt: a database
 * of schema 9 keeps its requests (pending ones included) and its columns in the same order as a
 * fresh database's, and the CHECK still refuses a name of another form.
 */
import { describe, expect, it } from 'vitest';
import { GOVERNOR_APPLICATION_ID, SCHEMA_VERSION, Store } from '../../persistence/index.js';
import { MIGRATIONS } from '../../persistence/migrations.js';
import { rawConnection, tempDatabasePath } from './helpers.js';

const AT = '2026-12-01T00:00:00.000Z';

/** A database as schema 9 left it, with one request done and one pending. */
function schema9Database(): string {
  const path = tempDatabasePath();
  const raw = rawConnection(path);
  raw.transaction(() => {
    for (const migration of MIGRATIONS.slice(0, 9)) migration.up(raw, { nowIso: AT });
    raw.pragma('user_version = 9');
    raw.pragma(`application_id = ${GOVERNOR_APPLICATION_ID}`);
  })();
  const insert = raw.prepare(
    `INSERT INTO operator_requests (command, operator, reason, alert_id, options, requested_at_ms,
       requested_by, status, handled_at_ms, handled_by, result) VALUES (?, 'ann', 'drill', ?, ?, 1, 'cli', ?, ?, ?, ?)`,
  );
  insert.run('restart', null, '{"force":true}', 'done', 2, 'owner', '{"state":"AGGRESSIVE"}');
  insert.run('ack', 'al-1', null, 'pending', null, null, null);
  raw.close();
  return path;
}

function tableShape(path: string): { columns: string[]; indexes: string[] } {
  const raw = rawConnection(path, { readonly: true });
  try {
    return {
      columns: raw
        .prepare<[], { name: string }>("SELECT name FROM pragma_table_info('operator_requests')")
        .all()
        .map((column) => column.name),
      indexes: raw
        .prepare<[], { name: string }>(
          "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'operator_requests' AND sql IS NOT NULL",
        )
        .all()
        .map((index) => index.name),
    };
  } finally {
    raw.close();
  }
}

function insertCommand(path: string, command: string): void {
  const raw = rawConnection(path);
  try {
    raw
      .prepare(
        `INSERT INTO operator_requests (command, operator, reason, requested_at_ms, requested_by, status)
         VALUES (?, 'ann', 'drill', 1, 'cli', 'pending')`,
      )
      .run(command);
  } finally {
    raw.close();
  }
}

describe('operator_requests.command (migration 10)', () => {
  it('schema 9 refuses a name outside its list', () => {
    const path = schema9Database();
    expect(() => insertCommand(path, 'drain')).toThrow(/CHECK constraint failed/);
  });

  it('migrates schema 9 keeping every request, its columns and its index as a fresh database has them', () => {
    const path = schema9Database();
    const store = Store.open(path);
    try {
      expect(store.operatorRequests.get(1)).toMatchObject({
        command: 'restart',
        options: { force: true },
        status: 'done',
        result: { state: 'AGGRESSIVE' },
      });
      expect(store.operatorRequests.pending().map((request) => request.alertId)).toEqual(['al-1']);
    } finally {
      store.close();
    }
    const fresh = tempDatabasePath();
    Store.open(fresh).close();
    expect(tableShape(path)).toEqual(tableShape(fresh));
    const raw = rawConnection(path, { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    raw.close();
  });

  it('accepts any name of the form, and still refuses one of another form', () => {
    const path = schema9Database();
    Store.open(path).close();
    insertCommand(path, 'drain');
    insertCommand(path, 'a'.repeat(32));
    for (const bad of ['', 'DROP', 'shut down', 'a'.repeat(33), '-x', 'x;y', 'é']) {
      expect(() => insertCommand(path, bad), bad).toThrow(/CHECK constraint failed/);
    }
  });

  it('the store refuses a name of another form before writing', () => {
    const store = Store.open(tempDatabasePath());
    try {
      for (const command of ['DROP', 'shut down', 'a'.repeat(33), 7]) {
        expect(() =>
          store.operatorRequests.record(
            // A caller outside TypeScript may pass anything.
            { command: command as string, operator: 'ann', reason: 'r', requestedBy: 'cli' },
            1,
          ),
        ).toThrow('GOV_INVALID_ARGUMENT');
      }
      expect(store.operatorRequests.pending()).toEqual([]);
    } finally {
      store.close();
    }
  });
});
