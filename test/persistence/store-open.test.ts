/**
 * Goal: opening a database sets the durability pragmas and schema markers, migrates a fresh
 * file, and refuses (without changing a byte) a newer schema, a foreign or garbage file.
 */
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GOVERNOR_APPLICATION_ID, SCHEMA_VERSION, Store } from '../../persistence/index.js';
import { MIGRATIONS } from '../../persistence/migrations.js';
import { expectGovernorError, rawConnection, sha256OfFile, tempDatabasePath } from './helpers.js';

describe('Store.open', () => {
  it('creates a WAL database with synchronous=FULL, foreign keys, busy timeout and markers', () => {
    const path = tempDatabasePath();
    const store = Store.open(path, { busyTimeoutMs: 1234 });
    store.close();
    const raw = rawConnection(path);
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(raw.pragma('application_id', { simple: true })).toBe(GOVERNOR_APPLICATION_ID);
    raw.close();
    const reopened = Store.open(path, { busyTimeoutMs: 1234 });
    // The pragmas are per connection: read them through the store's own connection.
    const connection = reopened.rawHandleForFaultInjection();
    expect(connection.pragma('synchronous', { simple: true })).toBe(2);
    expect(connection.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(connection.pragma('busy_timeout', { simple: true })).toBe(1234);
    reopened.close();
  });

  it('lists migrations in order, one per schema version', () => {
    expect(MIGRATIONS.map((migration) => migration.version)).toEqual(
      Array.from({ length: SCHEMA_VERSION }, (_, index) => index + 1),
    );
  });

  it('reopens an existing database and keeps its data', () => {
    const path = tempDatabasePath();
    const store = Store.open(path);
    store.events.append({ eventType: 'TEST', reason: 'first' });
    store.close();
    const reopened = Store.open(path);
    expect(reopened.events.count()).toBe(1);
    expect(reopened.integrityScan.verifyChain().ok).toBe(true);
    reopened.close();
  });

  it('opens :memory: and works', () => {
    const store = Store.open(':memory:');
    expect(store.path).toBe(':memory:');
    expect(store.systemState.get().desiredMode).toBe('OBSERVE_ONLY');
    store.close();
  });

  it('refuses a schema newer than the code, leaving the file unchanged', () => {
    const path = tempDatabasePath();
    Store.open(path).close();
    const raw = rawConnection(path);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.pragma('journal_mode = DELETE');
    raw.close();
    const before = sha256OfFile(path);
    const error = expectGovernorError(() => Store.open(path), 'GOV_SCHEMA_TOO_NEW');
    expect(error.message).toContain(String(SCHEMA_VERSION + 1));
    expectGovernorError(() => Store.open(path, { readonly: true }), 'GOV_SCHEMA_TOO_NEW');
    expect(sha256OfFile(path)).toBe(before);
  });

  it('refuses a SQLite database of another application, leaving it unchanged', () => {
    const path = tempDatabasePath();
    const raw = rawConnection(path);
    raw.exec(
      'CREATE TABLE trades (id INTEGER PRIMARY KEY, price REAL); INSERT INTO trades VALUES (1, 1.5);',
    );
    raw.close();
    const before = sha256OfFile(path);
    expectGovernorError(() => Store.open(path), 'GOV_NOT_A_GOVERNOR_DATABASE');
    expect(sha256OfFile(path)).toBe(before);
  });

  it('refuses a database with the governor marker table but a foreign application_id', () => {
    const path = tempDatabasePath();
    const raw = rawConnection(path);
    raw.exec('CREATE TABLE governor_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);');
    raw.pragma('user_version = 1');
    raw.pragma('application_id = 42');
    raw.close();
    const before = sha256OfFile(path);
    expectGovernorError(() => Store.open(path), 'GOV_NOT_A_GOVERNOR_DATABASE');
    expect(sha256OfFile(path)).toBe(before);
  });

  it.each([
    ['random bytes', Buffer.from(Array.from({ length: 8192 }, (_, index) => (index * 7919) % 251))],
    ['a text file', Buffer.from('date,price\n2025-12-17,100\n')],
    [
      'a SQLite header followed by garbage',
      Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(4096, 0xab)]),
    ],
  ])('refuses %s as GOV_NOT_A_GOVERNOR_DATABASE, leaving it unchanged', (_name, bytes) => {
    const path = tempDatabasePath();
    writeFileSync(path, bytes);
    const before = sha256OfFile(path);
    expectGovernorError(() => Store.open(path), 'GOV_NOT_A_GOVERNOR_DATABASE');
    expectGovernorError(() => Store.open(path, { readonly: true }), 'GOV_NOT_A_GOVERNOR_DATABASE');
    expect(sha256OfFile(path)).toBe(before);
  });

  it('initialises an empty file', () => {
    const path = tempDatabasePath();
    writeFileSync(path, '');
    const store = Store.open(path);
    expect(store.events.count()).toBe(0);
    store.close();
  });

  it('opens read-only without migrating, and refuses writes as GOV_STORAGE_FAILURE (SQLITE_READONLY)', () => {
    const path = tempDatabasePath();
    const writer = Store.open(path);
    writer.events.append({ eventType: 'TEST', reason: 'before read-only' });
    writer.close();
    const reader = Store.open(path, { readonly: true });
    expect(reader.readonly).toBe(true);
    expect(reader.events.count()).toBe(1);
    const error = expectGovernorError(
      () => reader.events.append({ eventType: 'TEST', reason: 'refused' }),
      'GOV_STORAGE_FAILURE',
    ) as Error & { details: Record<string, unknown> };
    expect(error.details.sqliteCode).toMatch(/^SQLITE_READONLY/);
    expect(error.cause).toBeInstanceOf(Error);
    reader.close();
  });

  it('refuses to open a missing file read-only, and an empty one read-only', () => {
    const path = tempDatabasePath();
    expectGovernorError(() => Store.open(path, { readonly: true }), 'GOV_STORAGE_FAILURE');
    writeFileSync(path, '');
    expectGovernorError(() => Store.open(path, { readonly: true }), 'GOV_NOT_A_GOVERNOR_DATABASE');
  });

  it('checks its arguments', () => {
    expectGovernorError(() => Store.open(''), 'GOV_INVALID_ARGUMENT');
    expectGovernorError(
      () => Store.open(':memory:', { busyTimeoutMs: -1 }),
      'GOV_INVALID_ARGUMENT',
    );
    expectGovernorError(
      () => Store.open(':memory:', { busyTimeoutMs: 1.5 }),
      'GOV_INVALID_ARGUMENT',
    );
    expectGovernorError(() => Store.open(':memory:', { readonly: true }), 'GOV_INVALID_ARGUMENT');
  });

  it('fails with GOV_STORE_CLOSED after close, and closing twice is harmless', () => {
    const store = Store.open(':memory:');
    store.close();
    store.close();
    expect(store.isClosed).toBe(true);
    expectGovernorError(() => store.events.count(), 'GOV_STORE_CLOSED');
    expectGovernorError(
      () => store.events.append({ eventType: 'X', reason: 'y' }),
      'GOV_STORE_CLOSED',
    );
  });

  it('wraps a lock held by another connection as GOV_STORAGE_FAILURE with SQLITE_BUSY', () => {
    const path = tempDatabasePath();
    const store = Store.open(path, { busyTimeoutMs: 0 });
    const other = rawConnection(path);
    other.exec('BEGIN IMMEDIATE');
    const error = expectGovernorError(
      () => store.events.append({ eventType: 'TEST', reason: 'blocked' }),
      'GOV_STORAGE_FAILURE',
    ) as Error & { details: Record<string, unknown> };
    expect(error.details.sqliteCode).toBe('SQLITE_BUSY');
    other.exec('ROLLBACK');
    other.close();
    expect(store.events.append({ eventType: 'TEST', reason: 'after the lock' }).seq).toBe(1);
    store.close();
  });
});
