/**
 * Opening a governor database (refusing foreign or newer files without touching them), the
 * pragmas every connection runs with, and the `Connection` the repositories share: it runs reads
 * and immediate write transactions and turns SQLite failures into GOV_STORAGE_FAILURE.
 *
 * Its parts: database-probe.ts (telling a governor database from any other file, before and as
 * it is opened), open-reader.ts (the read-only open, on a private copy when the -wal and -shm
 * cannot be used) and storage-error.ts (`wrapStorageError`).
 */
import Database from 'better-sqlite3';
import type { Clock } from '../services/clock.js';
import { AssertionError, GovernorError } from '../services/errors.js';
import { probeFile } from './database-probe.js';
import type { FaultInjector } from './faults.js';
import { applyMigrations, SCHEMA_VERSION } from './migrations.js';
import { openReader } from './open-reader.js';
import type { ReadSnapshot } from './read-snapshot.js';
import { nativeBindingOption } from './sqlite-addon.js';
import { wrapStorageError } from './storage-error.js';
import { isoFromWallMs } from './validation.js';

export { refuseDirectory } from './database-probe.js';
export { wrapStorageError } from './storage-error.js';

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

/**
 * Refuses, before anything is created beside it (the owner lock), a path that is a directory, a
 * file that is not a governor database or one written by a newer governor; a missing or empty
 * file passes (it becomes a new database). Reads only.
 */
export function checkDatabaseFile(path: string): void {
  if (path !== ':memory:') probeFile(path, BUSY_TIMEOUT_MS_DEFAULT);
}

/** The open database shared by the repositories of one `Store`. */
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
