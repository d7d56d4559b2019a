/**
 * Goal: migration 9 lets `system_state.hold_cause` be AUTHORITY_LOST (a lost fleet authority is
 * held across restarts). SQLite cannot change a column's CHECK, so the migration rebuilds the
 * table: a database of schema 8 keeps its row (latch, clearance, hold, input ages, thresholds)
 * and its columns in the same order as a fresh database's, and the CHECK still refuses a cause
 * that is not held.
 */
import { describe, expect, it } from 'vitest';
import { GOVERNOR_APPLICATION_ID, SCHEMA_VERSION, Store } from '../../persistence/index.js';
import { MIGRATIONS } from '../../persistence/migrations.js';
import { rawConnection, tempDatabasePath } from './helpers.js';

const AT = '2026-12-01T00:00:00.000Z';

/** A database as schema 8 left it, its system_state row filled in every column. */
function schema8Database(): string {
  const path = tempDatabasePath();
  const raw = rawConnection(path);
  raw.transaction(() => {
    for (const migration of MIGRATIONS.slice(0, 8)) migration.up(raw, { nowIso: AT });
    raw.pragma('user_version = 8');
    raw.pragma(`application_id = ${GOVERNOR_APPLICATION_ID}`);
  })();
  raw
    .prepare(
      `UPDATE system_state SET desired_mode = 'AGGRESSIVE', lifecycle_state = 'OBSERVE_ONLY',
         lifecycle_id = 'life-1', latch_trigger = 'OPERATOR_KILL', latch_reason = 'drill',
         latch_at = ?, cleared_by = 'bob', cleared_reason = 'over', cleared_at = ?,
         hold_cause = 'HEARTBEAT_LOST', hold_reason = 'no heartbeat for 3 min', hold_at = ?,
         inputs = '{"marketData":1}', owner_thresholds = '{"pid":1}', updated_at = ?
       WHERE id = 1`,
    )
    .run(AT, AT, AT, AT);
  raw.close();
  return path;
}

function columns(path: string): string[] {
  const raw = rawConnection(path, { readonly: true });
  try {
    return raw
      .prepare<[], { name: string }>("SELECT name FROM pragma_table_info('system_state')")
      .all()
      .map((column) => column.name);
  } finally {
    raw.close();
  }
}

describe('system_state.hold_cause AUTHORITY_LOST (migration 9)', () => {
  it('schema 8 refuses the cause: the CHECK names only the three older ones', () => {
    const path = schema8Database();
    const raw = rawConnection(path);
    try {
      expect(() =>
        raw.prepare("UPDATE system_state SET hold_cause = 'AUTHORITY_LOST' WHERE id = 1").run(),
      ).toThrow(/CHECK constraint failed/);
    } finally {
      raw.close();
    }
  });

  it('migrates a schema-8 database: the row is kept whole, the columns keep their order', () => {
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(9);
    const path = schema8Database();
    const before = rawConnection(path, { readonly: true });
    const rowBefore = before.prepare('SELECT * FROM system_state').all();
    before.close();
    const store = Store.open(path);
    try {
      expect(store.systemState.get()).toMatchObject({
        desiredMode: 'AGGRESSIVE',
        lifecycleState: 'OBSERVE_ONLY',
        hold: { cause: 'HEARTBEAT_LOST', reason: 'no heartbeat for 3 min', at: AT },
        lastClearance: { operator: 'bob', reason: 'over', at: AT },
        inputsText: '{"marketData":1}',
      });
    } finally {
      store.close();
    }
    const raw = rawConnection(path, { readonly: true });
    try {
      expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(raw.prepare('SELECT * FROM system_state').all()).toEqual(rowBefore);
      expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      raw.close();
    }
    const fresh = tempDatabasePath();
    Store.open(fresh).close();
    expect(columns(path)).toEqual(columns(fresh));
  });

  it('holds AUTHORITY_LOST after the migration, and still refuses a cause that is not held', () => {
    const path = schema8Database();
    const store = Store.open(path);
    try {
      store.systemState.clearHold();
      store.systemState.setHold({ cause: 'AUTHORITY_LOST', reason: 'no lease for 2 min', at: AT });
      expect(store.systemState.get().hold).toEqual({
        cause: 'AUTHORITY_LOST',
        reason: 'no lease for 2 min',
        at: AT,
      });
    } finally {
      store.close();
    }
    const raw = rawConnection(path);
    try {
      expect(() =>
        raw.prepare("UPDATE system_state SET hold_cause = 'OPERATOR' WHERE id = 1").run(),
      ).toThrow(/CHECK constraint failed/);
    } finally {
      raw.close();
    }
  });
});
