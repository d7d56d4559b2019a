/**
 * `StoreCore`: an open governor database with the repositories every user of it reads (the event
 * log, system state, alerts, venues) and the connection's own reads and writes. `Store`
 * (store.ts) adds the other repositories. A short read of the record (`governor status` with
 * nobody running) opens a StoreCore, and so loads none of the other repositories' modules.
 */
import { Alerts } from './alerts.js';
import { Connection, type OpenOptions } from './connection.js';
import { EventLog } from './event-log.js';
import { SystemState } from './system-state.js';
import { Venues } from './venues.js';

export type StoreOpenOptions = OpenOptions;

export class StoreCore {
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
  protected readonly connection: Connection;
  private madeVenues: Venues | null = null;

  protected constructor(connection: Connection) {
    this.connection = connection;
    this.path = connection.path;
    this.readonly = connection.readonly;
    this.readNote = connection.readNote;
    this.events = new EventLog(connection);
    this.systemState = new SystemState(connection);
    this.alerts = new Alerts(connection);
  }

  /** The venues an owner registered: counts, flatness, dead man's switch expiry. */
  get venues(): Venues {
    this.madeVenues ??= new Venues(this.openConnection());
    return this.madeVenues;
  }

  /** The connection, for a repository made on first use (GOV_STORE_CLOSED once closed). */
  protected openConnection(): Connection {
    this.connection.assertOpen();
    return this.connection;
  }

  /**
   * Opens the database as `Store.open` does (read-only with `{ readonly: true }`), with the core
   * repositories only.
   */
  static open(path: string, options: StoreOpenOptions = {}): StoreCore {
    return new StoreCore(Connection.open(path, options));
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

  get isClosed(): boolean {
    return this.connection.isClosed;
  }

  /** Closes the database; later calls fail with GOV_STORE_CLOSED. Closing twice is harmless. */
  close(): void {
    this.connection.close();
  }
}
