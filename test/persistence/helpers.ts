/**
 * Shared test helpers for the store: temporary database files, a fixed clock, a raw SQLite
 * connection for tampering, and a dump of every table to prove a refused write changed nothing.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, expect } from 'vitest';
import type { ErrorCode } from '../../services/errors.js';
import { isGovernorError } from '../../services/errors.js';

const directories: string[] = [];

afterEach(() => {
  for (const directory of directories.splice(0))
    rmSync(directory, { recursive: true, force: true });
});

/** A fresh directory removed after the test. */
export function tempDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'governor-store-'));
  directories.push(directory);
  return directory;
}

/** A path for a database file that does not exist yet. */
export function tempDatabasePath(): string {
  return join(tempDirectory(), 'governor.db');
}

/** A wall clock that starts at 2025-12-17T09:00:00Z and moves 1 ms per reading. */
export function steppingClock(startMs = Date.UTC(2025, 11, 17, 9)): { wallNow(): number } {
  let now = startMs;
  return { wallNow: () => now++ };
}

export function sha256OfFile(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Opens a second, raw connection to the same file (for tampering and inspection). */
export function rawConnection(
  path: string,
  options: { readonly?: boolean } = {},
): Database.Database {
  return new Database(path, { readonly: options.readonly === true, timeout: 5000 });
}

/** Every row of every table, in a stable order, as one string. */
export function dumpDatabase(path: string): string {
  const db = rawConnection(path, { readonly: true });
  try {
    db.defaultSafeIntegers(true);
    const tables = db
      .prepare<[], string>("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
      .pluck()
      .all();
    const parts = tables.map((table) => {
      const rows = db.prepare(`SELECT * FROM "${table}" ORDER BY rowid`).raw().all();
      return `${table}:${JSON.stringify(rows, (_key, value: unknown) =>
        typeof value === 'bigint' ? `${value}n` : value,
      )}`;
    });
    const pragmas = ['user_version', 'application_id'].map((name) =>
      String(db.pragma(name, { simple: true })),
    );
    return `${parts.join('\n')}\n${JSON.stringify(pragmas)}`;
  } finally {
    db.close();
  }
}

/** Asserts that `fn` throws a GovernorError with `code`, and returns it. */
export function expectGovernorError(fn: () => unknown, code: ErrorCode): Error {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `expected ${code}`).toBeInstanceOf(Error);
  if (!isGovernorError(thrown, code)) {
    throw new Error(`expected ${code}, got ${String(thrown)}`);
  }
  return thrown;
}
