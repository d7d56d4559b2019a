/**
 * `Store`: the one object through which governor reads and writes its SQLite database. It opens
 * (or refuses) the file, runs the migrations, and exposes one repository per table group.
 */
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { AlertOutbox } from './alert-outbox.js';
import { Alerts } from './alerts.js';
import { Capital } from './capital.js';
import { Connection, type OpenOptions } from './connection.js';
import { fsyncDirectory } from './durable-file.js';
import { EventLog } from './event-log.js';
import { IntegrityScan } from './integrity/integrity-scan.js';
import { OperatorActions } from './operator-actions.js';
import { OperatorRequests } from './operator-requests.js';
import { Snapshots } from './snapshots.js';
import { StartupReports } from './startup-reports.js';
import { Strategies } from './strategies.js';
import { SystemState } from './system-state.js';
import { Venues } from './venues.js';

export type StoreOpenOptions = OpenOptions;

export class Store {
  readonly path: string;
  readonly readonly: boolean;
  /**
   * Set when a read-only store reads a private copy of the file (this user cannot create or use
   * the -wal and -shm beside it): where its data comes from and what it may lack. Else null.
   */
  readonly readNote: string | null;
  readonly events: EventLog;
  readonly systemState: SystemState;
  readonly alerts: Alerts;
  private readonly connection: Connection;
  // The other repositories prepare their statements when first used: a short command (`governor
  // status`) reads three tables and need not prepare every table's statements.
  private madeSnapshots: Snapshots | null = null;
  private madeCapital: Capital | null = null;
  private madeStrategies: Strategies | null = null;
  private madeAlertOutbox: AlertOutbox | null = null;
  private madeOperatorActions: OperatorActions | null = null;
  private madeOperatorRequests: OperatorRequests | null = null;
  private madeStartupReports: StartupReports | null = null;
  private madeIntegrityScan: IntegrityScan | null = null;
  private madeVenues: Venues | null = null;

  private constructor(connection: Connection) {
    this.connection = connection;
    this.path = connection.path;
    this.readonly = connection.readonly;
    this.readNote = connection.readNote;
    this.events = new EventLog(connection);
    this.systemState = new SystemState(connection);
    this.alerts = new Alerts(connection);
  }

  get snapshots(): Snapshots {
    this.madeSnapshots ??= new Snapshots(this.openConnection());
    return this.madeSnapshots;
  }

  get capital(): Capital {
    this.madeCapital ??= new Capital(this.openConnection());
    return this.madeCapital;
  }

  get strategies(): Strategies {
    this.madeStrategies ??= new Strategies(this.openConnection());
    return this.madeStrategies;
  }

  get alertOutbox(): AlertOutbox {
    this.madeAlertOutbox ??= new AlertOutbox(this.openConnection());
    return this.madeAlertOutbox;
  }

  get operatorActions(): OperatorActions {
    this.madeOperatorActions ??= new OperatorActions(this.openConnection());
    return this.madeOperatorActions;
  }

  get operatorRequests(): OperatorRequests {
    this.madeOperatorRequests ??= new OperatorRequests(this.openConnection());
    return this.madeOperatorRequests;
  }

  get startupReports(): StartupReports {
    this.madeStartupReports ??= new StartupReports(this.openConnection());
    return this.madeStartupReports;
  }

  /** The venues an owner registered: counts, flatness, dead man's switch expiry. */
  get venues(): Venues {
    this.madeVenues ??= new Venues(this.openConnection());
    return this.madeVenues;
  }

  /** Read access for the integrity module (persistence/integrity/): scans, `verifyChain`. */
  get integrityScan(): IntegrityScan {
    this.madeIntegrityScan ??= new IntegrityScan(this.openConnection());
    return this.madeIntegrityScan;
  }

  /** The connection, for a repository made on first use (GOV_STORE_CLOSED once closed). */
  private openConnection(): Connection {
    this.connection.assertOpen();
    return this.connection;
  }

  /**
   * Opens the governor database at `path` (a file, created if missing, or `:memory:`) with WAL,
   * synchronous=FULL, foreign keys and a busy timeout, and migrates it to the current schema.
   * Refuses, without modifying it, a file that is not a governor database
   * (GOV_NOT_A_GOVERNOR_DATABASE) or was written by a newer governor (GOV_SCHEMA_TOO_NEW).
   * `faults` (tests and the simulator only) is a FaultInjector consulted before every write.
   */
  static open(path: string, options: StoreOpenOptions = {}): Store {
    return new Store(Connection.open(path, options));
  }

  /**
   * Runs `fn` in one immediate write transaction: every store write inside it commits together
   * or not at all. Nests (inner calls use savepoints). `fn` must be synchronous.
   */
  transaction<T>(fn: () => T): T {
    return this.connection.write('transaction', fn);
  }

  /**
   * SQLite's `PRAGMA data_version` of this connection: it changes when another connection (in
   * this process or another) commits, and never for this connection's own commits. Cheap.
   */
  dataVersion(): number {
    return this.connection.dataVersion();
  }

  /** Runs `fn` inside one read snapshot (a deferred transaction): its reads see one state. */
  readSnapshot<T>(fn: () => T): T {
    return this.connection.read('readSnapshot', () => this.connection.db.transaction(fn)());
  }

  /** Runs a read-only SQL query (internal: the mode journal's few reads of its own tables). */
  query<T>(operation: string, sql: string, ...params: unknown[]): T[] {
    return this.connection.read(operation, () =>
      this.connection.db.prepare(sql).all(...params),
    ) as T[];
  }

  /** Runs one SQL write inside a transaction (internal: the mode journal's owner row). */
  execute(operation: string, sql: string, ...params: unknown[]): number {
    return this.connection.write(operation, () => this.connection.db.prepare(sql).run(...params))
      .changes;
  }

  /**
   * Writes a complete, consistent copy of the database to `path` with SQLite's `VACUUM INTO`
   * (one read snapshot; the file must not exist), then fsyncs it and its directory. Outside any
   * transaction of this store. Throws GOV_STORAGE_FAILURE when SQLite cannot write it.
   */
  archiveTo(path: string): void {
    this.connection.read('archive', () => {
      this.connection.db.prepare('VACUUM INTO ?').run(path);
    });
    const fd = openSync(path, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    fsyncDirectory(path);
  }

  /** Tests only (governor/testing): the raw handle, to produce real SQLite faults on it. */
  rawHandleForFaultInjection(): import('better-sqlite3').Database {
    return this.connection.db;
  }

  get isClosed(): boolean {
    return this.connection.isClosed;
  }

  /** Closes the database; later calls fail with GOV_STORE_CLOSED. Closing twice is harmless. */
  close(): void {
    this.connection.close();
  }
}
