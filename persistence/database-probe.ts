/**
 * Telling a governor database from any other file before and as it is opened: a directory, a
 * file without the SQLite header or with another program's application_id is refused from its
 * first 100 bytes without being opened (a connection would leave -wal and -shm files beside
 * it); an open connection's schema is then inspected (fresh, governor's at some version, or
 * refused: foreign, damaged, newer, or for a reader not yet migrated). Reads only. The
 * connection (connection.ts) and the reader (open-reader.ts) use it.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { GovernorError } from '../services/errors.js';
import { GOVERNOR_APPLICATION_ID, MARKER_TABLE, SCHEMA_VERSION } from './migrations.js';
import { nativeBindingOption } from './sqlite-addon.js';
import { wrapStorageError } from './storage-error.js';

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/** GOV_NOT_A_GOVERNOR_DATABASE: `path` is refused, and was left unchanged. */
export function notGovernor(path: string, why: string, cause?: unknown): GovernorError {
  return new GovernorError(
    'GOV_NOT_A_GOVERNOR_DATABASE',
    `${path} is not a governor database (${why}); it was left unchanged`,
    { path, why },
    cause === undefined ? {} : { cause },
  );
}

/** The size of the SQLite database header, where `application_id` and `user_version` live. */
const DATABASE_HEADER_BYTES = 100;

function readHeader(path: string): Buffer {
  const header = Buffer.alloc(DATABASE_HEADER_BYTES);
  const fd = openSync(path, 'r');
  try {
    const bytesRead = readSync(fd, header, 0, header.length, 0);
    return header.subarray(0, bytesRead);
  } finally {
    closeSync(fd);
  }
}

/** What a connection found: a fresh (empty) database, or governor's at `version`. */
export interface ProbeResult {
  readonly fresh: boolean;
  readonly version: number;
}

/** GOV_NOT_A_GOVERNOR_DATABASE when `path` names a directory. */
export function refuseDirectory(path: string): void {
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory() === true) {
    throw new GovernorError(
      'GOV_NOT_A_GOVERNOR_DATABASE',
      `${path} is a directory, not a database file`,
      { path, why: 'directory' },
    );
  }
}

/**
 * Why the header alone shows another program's database, or null when only a connection can
 * tell (a governor database, or an empty one). Refused from its header, a file is never opened:
 * a connection to a WAL-mode file would leave -wal and -shm files beside it.
 */
function foreignByHeader(header: Buffer): string | null {
  if (header.length < DATABASE_HEADER_BYTES) return null;
  const applicationId = header.readUInt32BE(68);
  const userVersion = header.readUInt32BE(60);
  if (applicationId === GOVERNOR_APPLICATION_ID) return null;
  if (applicationId !== 0 || userVersion !== 0) {
    return `application_id ${applicationId}, user_version ${userVersion}`;
  }
  // The in-header page count is valid when its version-valid-for number equals the change counter.
  const pagesKnown = header.readUInt32BE(92) === header.readUInt32BE(24);
  return pagesKnown && header.readUInt32BE(28) > 1 ? 'application_id 0, not empty' : null;
}

/** Refuses from its header alone a file that is not SQLite, or another program's database. */
export function checkHeader(path: string): void {
  const header = readHeader(path);
  if (!header.subarray(0, SQLITE_HEADER.length).equals(SQLITE_HEADER)) {
    throw notGovernor(path, 'no SQLite header');
  }
  const foreign = foreignByHeader(header);
  if (foreign !== null) throw notGovernor(path, foreign);
}

/**
 * What an open connection holds: a fresh (empty) database, or governor's at some version; throws
 * when it must be refused (foreign, damaged, newer).
 */
export function inspectSchema(db: Database.Database, path: string): ProbeResult {
  try {
    const applicationId = db.pragma('application_id', { simple: true });
    const version = db.pragma('user_version', { simple: true });
    const objects = db.prepare('SELECT count(*) FROM sqlite_schema').pluck().get();
    const marker = db
      .prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?")
      .pluck()
      .get(MARKER_TABLE);
    if (applicationId === 0 && version === 0 && objects === 0) return { fresh: true, version: 0 };
    if (applicationId !== GOVERNOR_APPLICATION_ID || marker !== 1 || typeof version !== 'number') {
      throw notGovernor(
        path,
        `application_id ${String(applicationId)}, marker table ${marker === 1}`,
      );
    }
    if (version > SCHEMA_VERSION) {
      throw new GovernorError(
        'GOV_SCHEMA_TOO_NEW',
        `${path} has schema version ${version}; this governor knows up to ${SCHEMA_VERSION}`,
        { path, version, knownVersion: SCHEMA_VERSION },
      );
    }
    if (version < 1) throw notGovernor(path, `schema version ${version}`);
    return { fresh: false, version };
  } catch (error) {
    if (error instanceof Database.SqliteError && /NOTADB|CORRUPT/.test(error.code)) {
      throw notGovernor(path, error.code, error);
    }
    throw wrapStorageError(error, 'open');
  }
}

/** Inspects an existing file through a read-only connection; throws if it must be refused. */
export function probeFile(path: string, busyTimeoutMs: number): ProbeResult {
  refuseDirectory(path);
  if (!existsSync(path) || statSync(path).size === 0) return { fresh: true, version: 0 };
  checkHeader(path);
  let probe: Database.Database | undefined;
  try {
    probe = new Database(path, {
      readonly: true,
      fileMustExist: true,
      timeout: busyTimeoutMs,
      ...nativeBindingOption(),
    });
    return inspectSchema(probe, path);
  } catch (error) {
    throw wrapStorageError(error, 'open');
  } finally {
    probe?.close();
  }
}

/** Refuses, for a reader, an empty file and one that still needs migrating. */
export function checkReadable(probe: ProbeResult, path: string): void {
  if (probe.fresh) throw notGovernor(path, 'empty file opened read-only');
  if (probe.version < SCHEMA_VERSION) {
    throw new GovernorError(
      'GOV_SCHEMA_NEEDS_MIGRATION',
      `${path} has schema version ${probe.version}; open it read-write once to migrate to ${SCHEMA_VERSION}`,
      { path, version: probe.version, knownVersion: SCHEMA_VERSION },
    );
  }
}
