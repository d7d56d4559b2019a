/**
 * `Store`: the one object through which governor reads and writes its SQLite database. It opens
 * (or refuses) the file, runs the migrations, and exposes one repository per table group: the
 * core ones (store-core.ts) and, made on first use, the others.
 */
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { AlertOutbox } from './alert-outbox.js';
import { Capital } from './capital.js';
import { Connection } from './connection.js';
import { fsyncDirectory } from './durable-file.js';
import { IntegrityScan } from './integrity/integrity-scan.js';
import { OperatorActions } from './operator-actions.js';
import { OperatorRequests } from './operator-requests.js';
import { Snapshots } from './snapshots.js';
import { StartupReports } from './startup-reports.js';
import { StoreCore, type StoreOpenOptions } from './store-core.js';
import { Strategies } from './strategies.js';

export class Store extends StoreCore {
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

  private constructor(connection: Connection) {
    super(connection);
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

  /** Read access for the integrity module (persistence/integrity/): scans, `verifyChain`. */
  get integrityScan(): IntegrityScan {
    this.madeIntegrityScan ??= new IntegrityScan(this.openConnection());
    return this.madeIntegrityScan;
  }

  /**
   * Opens the governor database at `path` (a file, created if missing, or `:memory:`) with WAL,
   * synchronous=FULL, foreign keys and a busy timeout, and migrates it to the current schema.
   * Refuses, without modifying it, a file that is not a governor database
   * (GOV_NOT_A_GOVERNOR_DATABASE) or was written by a newer governor (GOV_SCHEMA_TOO_NEW).
   * `faults` (tests and the simulator only) is a FaultInjector consulted before every write.
   */
  static override open(path: string, options: StoreOpenOptions = {}): Store {
    return new Store(Connection.open(path, options));
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
}
