/**
 * The files governor keeps beside a database (the owner lock, the head anchor, the shutdown
 * fallback file, the unstored alerts) are named after the database's real file, whatever name
 * it was opened through: a symlink to the file or to its directory, a relative or an absolute
 * path. SQLite itself follows symlinks to the real file (its -wal and -shm lie beside it), so
 * every process that opens one database finds the same side files: one owner, one anchor, one
 * fallback latch.
 */
import { existsSync, realpathSync, renameSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fsyncDirectory } from './durable-file.js';

/** The database's real path: symlinks resolved (a file that does not exist yet: its directory). */
export function canonicalDatabasePath(dbPath: string): string {
  const absolute = resolve(dbPath);
  try {
    return realpathSync(absolute);
  } catch {
    // A new database: its directory's real path and its name.
  }
  try {
    return join(realpathSync(dirname(absolute)), basename(absolute));
  } catch {
    return absolute;
  }
}

/** The side file `<real database path><suffix>`, or null for an in-memory database. */
export function sideFilePath(dbPath: string, suffix: string): string | null {
  if (dbPath === ':memory:' || dbPath === '') return null;
  return `${canonicalDatabasePath(dbPath)}${suffix}`;
}

/**
 * A side file an earlier version kept beside the name the database was opened through (a
 * symlink), moved to its place beside the real file, unless one is already there. Returns
 * the path the file was found at, or null when there was nothing to move.
 */
export function adoptSideFileAtName(dbPath: string, suffix: string): string | null {
  const real = sideFilePath(dbPath, suffix);
  if (real === null) return null;
  const given = join(dirname(resolve(dbPath)), `${basename(dbPath)}${suffix}`);
  if (given === real || !existsSync(given) || existsSync(real)) return null;
  renameSync(given, real);
  fsyncDirectory(real);
  return given;
}
