/**
 * Goal: migration 8 adds `venues.in_process`. A database of schema 7 (venues on record, no such
 * column) is migrated on its next read-write open: its venues keep their rows and are not
 * in-process. `register` records whether each venue's orders live in the owner's process, as the
 * registering owner says now; a plain name is not in-process.
 */
import { describe, expect, it } from 'vitest';
import { GOVERNOR_APPLICATION_ID, SCHEMA_VERSION, Store } from '../../persistence/index.js';
import { MIGRATIONS } from '../../persistence/migrations.js';
import { rawConnection, tempDatabasePath } from './helpers.js';

/** A database as schema 7 left it, with one venue on record (counted, switch armed). */
function schema7Database(): string {
  const path = tempDatabasePath();
  const raw = rawConnection(path);
  raw.transaction(() => {
    for (const migration of MIGRATIONS.slice(0, 7)) {
      migration.up(raw, { nowIso: '2026-12-01T00:00:00.000Z' });
    }
    raw.pragma('user_version = 7');
    raw.pragma(`application_id = ${GOVERNOR_APPLICATION_ID}`);
  })();
  raw
    .prepare(
      "INSERT INTO venues (name, open_orders, flat, switch_timeout_ms, switch_expires_at, updated_at) VALUES ('kraken', 3, 0, 60000, '2026-12-01T00:01:00.000Z', '2026-12-01T00:00:00.000Z')",
    )
    .run();
  raw.close();
  return path;
}

describe('venues.in_process (migration 8)', () => {
  it('migrates a schema-7 database: its venues keep their record and are not in-process', () => {
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(8);
    const path = schema7Database();
    expect(() => Store.open(path, { readonly: true })).toThrow(
      /GOV_SCHEMA_NEEDS_MIGRATION|schema version 7/,
    );
    const store = Store.open(path);
    try {
      expect(store.venues.list()).toEqual([
        expect.objectContaining({
          name: 'kraken',
          openOrders: 3,
          flat: false,
          switchTimeoutMs: 60_000,
          switchExpiresAt: '2026-12-01T00:01:00.000Z',
          inProcess: false,
        }),
      ]);
    } finally {
      store.close();
    }
    const raw = rawConnection(path, { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    raw.close();
  });

  it('records whether each venue is in-process as its registering owner says now, keeping the rest of the record', () => {
    const store = Store.open(tempDatabasePath());
    try {
      store.venues.register([{ name: 'paper-exchange', inProcess: true }, 'kraken']);
      store.venues.recordCount('paper-exchange', 4, false);
      const byName = () => new Map(store.venues.list().map((record) => [record.name, record]));
      expect(byName().get('paper-exchange')).toMatchObject({ inProcess: true, openOrders: 4 });
      expect(byName().get('kraken')).toMatchObject({ inProcess: false });
      // A later owner registers the same name as an ordinary venue: no longer in-process.
      store.venues.register(['paper-exchange']);
      expect(byName().get('paper-exchange')).toMatchObject({
        inProcess: false,
        openOrders: 4,
        flat: false,
      });
    } finally {
      store.close();
    }
  });

  it('refuses a value other than 0 or 1', () => {
    const path = tempDatabasePath();
    Store.open(path).close();
    const raw = rawConnection(path);
    expect(() =>
      raw.prepare("INSERT INTO venues (name, in_process, updated_at) VALUES ('x', 2, 'now')").run(),
    ).toThrow(/CHECK constraint/);
    raw.close();
  });
});
