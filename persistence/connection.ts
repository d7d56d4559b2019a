/**
 * Opening a governor database (refusing foreign or newer files without touching them), the
 * pragmas every connection runs with, and the `Connection` the repositories share: it runs reads
 * and immediate write transactions and turns SQLite failures into GOV_STORAGE_FAILURE.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Clock } from '../services/clock.js';
import { AssertionError, GovernorError } from '../services/errors.js';
import type { FaultInjector } from './faults.js';
import {
  applyMigrations,
  GOVERNOR_APPLICATION_ID,
  MARKER_TABLE,
  SCHEMA_VERSION,
} from './migrations.js';
import { type ReadSnapshot, takeReadSnapshot } from './read-snapshot.js';
import { nativeBindingOption } from './sqlite-addon.js';
import { isoFromWallMs } from './validation.js';

export interface OpenOptions {
  /** Open without writing anything: no pragmas that write, no migrations. Default false. */
  readonly?: boolean;
  /** How long a statement waits for another connection's lock before failing. Default 5000. */
  busyTimeoutMs?: number;
  /** Source of wall time for every timestamp the store writes. Default `Date.now`. */
  clock?: Pick<Clock, 'wallNow'>;
  /** Tests and the simulator only: consulted before every write, may fail it. Default none. */
  faults?: FaultInjector;
}

export const BUSY_TIMEOUT_MS_DEFAULT = 5000;
export const BUSY_TIMEOUT_MS_MAX = 600_000;

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/** Wraps an error raised by SQLite as GOV_STORAGE_FAILURE; returns anything else unchanged. */
export function wrapStorageError(error: unknown, operation: string): unknown {
  if (error instanceof Database.SqliteError) {
    return new GovernorError(
      'GOV_STORAGE_FAILURE',
      `${operation} failed: ${error.message}`,
      { operation, sqliteCode: error.code },
      { cause: error },
    );
  }
  return error;
}

function notGovernor(path: string, why: string, cause?: unknown): GovernorError {
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

interface ProbeResult {
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
function checkHeader(path: string): void {
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
function inspectSchema(db: Database.Database, path: string): ProbeResult {
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
function probeFile(path: string, busyTimeoutMs: number): ProbeResult {
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

/**
 * SQLite's answers when a read-only connection cannot create or use the -wal and -shm files
 * beside a WAL database (a user who may read the file but not write its directory).
 */
const SIDE_FILES_UNUSABLE = new Set([
  'SQLITE_READONLY_DIRECTORY',
  'SQLITE_READONLY_CANTINIT',
  'SQLITE_READONLY_RECOVERY',
  'SQLITE_READONLY_CANTLOCK',
  'SQLITE_CANTOPEN',
]);

function sideFilesUnusable(error: unknown): boolean {
  const cause = error instanceof GovernorError ? error.cause : error;
  return cause instanceof Database.SqliteError && SIDE_FILES_UNUSABLE.has(cause.code);
}

/** A read-only connection and what it reads: the file itself, or a private copy of it. */
interface Reader {
  readonly db: Database.Database;
  readonly snapshot: ReadSnapshot | null;
}

/**
 * Opens `path` read-only on one connection, inspected before use; when SQLite cannot use the
 * -wal and -shm beside it, on a private copy instead (read-snapshot.ts).
 */
function openReader(path: string, busyTimeoutMs: number): Reader {
  refuseDirectory(path);
  if (existsSync(path)) {
    if (statSync(path).size === 0) throw notGovernor(path, 'empty file opened read-only');
    checkHeader(path);
  }
  const open = (file: string): Database.Database => {
    try {
      return new Database(file, {
        readonly: true,
        fileMustExist: true,
        timeout: busyTimeoutMs,
        ...nativeBindingOption(),
      });
    } catch (error) {
      throw wrapStorageError(error, 'open');
    }
  };
  let db = open(path);
  const opened: { snapshot: ReadSnapshot | null } = { snapshot: null };
  try {
    try {
      checkReadable(inspectSchema(db, path), path);
    } catch (error) {
      if (!sideFilesUnusable(error)) throw error;
      db.close();
      const snapshot = takeReadSnapshot(path);
      opened.snapshot = snapshot;
      db = open(snapshot.path);
      try {
        checkReadable(inspectSchema(db, path), path);
      } catch (refusal) {
        if (snapshot.unreadWalBytes === 0) throw refusal;
        throw walUnreadable(path, snapshot.unreadWalBytes, refusal);
      }
    }
    db.pragma('foreign_keys = ON');
    return { db, snapshot: opened.snapshot };
  } catch (error) {
    db.close();
    opened.snapshot?.release();
    throw error;
  }
}

/** Refuses, for a reader, an empty file and one that still needs migrating. */
function checkReadable(probe: ProbeResult, path: string): void {
  if (probe.fresh) throw notGovernor(path, 'empty file opened read-only');
  if (probe.version < SCHEMA_VERSION) {
    throw new GovernorError(
      'GOV_SCHEMA_NEEDS_MIGRATION',
      `${path} has schema version ${probe.version}; open it read-write once to migrate to ${SCHEMA_VERSION}`,
      { path, version: probe.version, knownVersion: SCHEMA_VERSION },
    );
  }
}

/** A copy without its -wal that cannot be read as governor's: what it lacks is in the -wal. */
function walUnreadable(path: string, unreadWalBytes: number, cause: unknown): GovernorError {
  return new GovernorError(
    'GOV_STORAGE_FAILURE',
    `open failed: ${path} cannot be read by this user: what it holds is still in its -wal (${unreadWalBytes} bytes, not yet checkpointed), which this user may not read; give it read permission on the -wal, or write permission on the directory`,
    { operation: 'open', path, unreadWalBytes },
    { cause },
  );
}

function checkOpenArguments(path: unknown, options: OpenOptions): number {
  if (typeof path !== 'string' || path.length === 0) {
    throw new GovernorError('GOV_INVALID_ARGUMENT', 'Expected path to be a non-empty string', {
      field: 'path',
    });
  }
  const busyTimeoutMs = options.busyTimeoutMs ?? BUSY_TIMEOUT_MS_DEFAULT;
  if (
    !Number.isSafeInteger(busyTimeoutMs) ||
    busyTimeoutMs < 0 ||
    busyTimeoutMs > BUSY_TIMEOUT_MS_MAX
  ) {
    throw new GovernorError(
      'GOV_INVALID_ARGUMENT',
      `Expected busyTimeoutMs to be an integer from 0 to ${BUSY_TIMEOUT_MS_MAX}`,
      { field: 'busyTimeoutMs', received: String(busyTimeoutMs) },
    );
  }
  if (options.readonly === true && path === ':memory:') {
    throw new GovernorError(
      'GOV_INVALID_ARGUMENT',
      'A :memory: database cannot be opened read-only',
      {
        field: 'readonly',
      },
    );
  }
  return busyTimeoutMs;
}

/** The open database shared by the repositories of one `Store`. */
/**
 * Refuses, before anything is created beside it (the owner lock), a path that is a directory, a
 * file that is not a governor database or one written by a newer governor; a missing or empty
 * file passes (it becomes a new database). Reads only.
 */
export function checkDatabaseFile(path: string): void {
  if (path !== ':memory:') probeFile(path, BUSY_TIMEOUT_MS_DEFAULT);
}

export class Connection {
  readonly db: Database.Database;
  readonly path: string;
  readonly readonly: boolean;
  /**
   * The file SQLite reads: `path`, or a private copy of it when this user cannot use the -wal
   * and -shm beside it (worker threads open this one).
   */
  readonly readPath: string;
  /** Why and what the reads may lack when they come from a copy; null when from the file. */
  readonly readNote: string | null;
  private readonly snapshot: ReadSnapshot | null;
  private readonly clock: Pick<Clock, 'wallNow'>;
  private readonly immediate: (fn: () => unknown) => unknown;
  private readonly failureListeners: Array<() => void> = [];
  private readonly faults: FaultInjector | null;
  private dataVersionStatement: Database.Statement<[], number> | null = null;
  private readonly commitListeners: Array<() => void> = [];
  private writeDepth = 0;
  private closed = false;

  private constructor(
    db: Database.Database,
    path: string,
    readonly: boolean,
    clock: Pick<Clock, 'wallNow'>,
    faults: FaultInjector | null,
    snapshot: ReadSnapshot | null,
  ) {
    this.db = db;
    this.path = path;
    this.readonly = readonly;
    this.snapshot = snapshot;
    this.readPath = snapshot?.path ?? path;
    this.readNote = snapshot?.note ?? null;
    this.clock = clock;
    this.faults = faults;
    this.immediate = db.transaction((fn: () => unknown) => fn()).immediate;
  }

  /** Opens (creating and migrating if needed) the database at `path`, or refuses it. */
  static open(path: string, options: OpenOptions = {}): Connection {
    const busyTimeoutMs = checkOpenArguments(path, options);
    const readonly = options.readonly === true;
    const clock = options.clock ?? { wallNow: () => Date.now() };
    if (readonly) {
      const reader = openReader(path, busyTimeoutMs);
      return new Connection(reader.db, path, true, clock, options.faults ?? null, reader.snapshot);
    }
    if (path !== ':memory:') probeFile(path, busyTimeoutMs);
    let db: Database.Database | undefined;
    try {
      db = new Database(path, { timeout: busyTimeoutMs, ...nativeBindingOption() });
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      const connection = new Connection(db, path, false, clock, options.faults ?? null, null);
      connection.migrate();
      return connection;
    } catch (error) {
      db?.close();
      throw wrapStorageError(error, 'open');
    }
  }

  /** Brings the schema to SCHEMA_VERSION in one transaction, re-reading the version under lock. */
  private migrate(): void {
    this.immediate(() => {
      const version = this.db.pragma('user_version', { simple: true });
      if (typeof version !== 'number') throw new AssertionError('user_version is not a number');
      if (version > SCHEMA_VERSION) {
        throw new GovernorError(
          'GOV_SCHEMA_TOO_NEW',
          `${this.path} has schema version ${version}`,
          {
            path: this.path,
            version,
            knownVersion: SCHEMA_VERSION,
          },
        );
      }
      if (version < SCHEMA_VERSION) applyMigrations(this.db, version, { nowIso: this.nowIso() });
    });
  }

  dataVersion(): number {
    this.assertOpen();
    if (this.dataVersionStatement === null) {
      this.dataVersionStatement = this.db.prepare<[], number>('PRAGMA data_version').pluck();
    }
    return this.dataVersionStatement.get() ?? -1;
  }

  nowIso(): string {
    return isoFromWallMs(this.clock.wallNow());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Called after each outermost write transaction commits. Listeners must not throw. */
  onCommit(listener: () => void): void {
    this.commitListeners.push(listener);
  }

  /** Called after any failed write, e.g. to drop caches the rolled-back transaction invalidated. */
  onWriteFailure(listener: () => void): void {
    this.failureListeners.push(listener);
  }

  assertOpen(): void {
    if (this.closed)
      throw new GovernorError('GOV_STORE_CLOSED', `The store at ${this.path} is closed`);
  }

  /** Runs a read, wrapping SQLite errors. */
  read<T>(operation: string, fn: () => T): T {
    this.assertOpen();
    try {
      return fn();
    } catch (error) {
      throw wrapStorageError(error, operation);
    }
  }

  /**
   * Runs `fn` in an immediate write transaction (a savepoint when nested): all or nothing. On
   * failure the transaction is rolled back, listeners are told, and SQLite errors are wrapped.
   */
  write<T>(operation: string, fn: () => T): T {
    this.assertOpen();
    let result: T;
    this.writeDepth++;
    try {
      this.faults?.beforeWrite(operation);
      result = this.immediate(fn) as T;
    } catch (error) {
      for (const listener of this.failureListeners) listener();
      throw wrapStorageError(error, operation);
    } finally {
      this.writeDepth--;
    }
    if (this.writeDepth === 0) for (const listener of this.commitListeners) listener();
    return result;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.db.close();
    } finally {
      this.snapshot?.release();
    }
  }
}
