/**
 * The `venues` table: one row per venue an owner registered, with what governor last learned of
 * it: its open orders, whether it was confirmed flat after the last SHUTDOWN, the latency of the
 * last cancel, and its dead man's switch (the expiry of the last successful arm or renewal, in
 * wall time), and whether its orders live in the owner's process (`in_process`, migration 8).
 * What `governor status` shows and what `governor shutdown` reads with no owner alive.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { GovernorError } from '../services/errors.js';
import type { Connection } from './connection.js';
import { checkIdentifier, isoFromWallMs } from './validation.js';

export interface VenueRecord {
  readonly name: string;
  /** The last count of open orders governor received, or null. */
  readonly openOrders: number | null;
  /** True once confirmed flat since the last SHUTDOWN, false while not; null before any. */
  readonly flat: boolean | null;
  readonly lastCancelLatencyMs: number | null;
  /** ISO wall time of the last cancel-all sent, or null. */
  readonly lastCancelAt: string | null;
  readonly switchTimeoutMs: number | null;
  /** ISO wall time of the last successful arm or renewal of the dead man's switch. */
  readonly switchArmedAt: string | null;
  /** ISO wall time by which the venue cancels everything unless renewed; null when disarmed. */
  readonly switchExpiresAt: string | null;
  /**
   * True when the owner that last registered the venue said its orders live in that owner's
   * process (`Venue.inProcess`): with no owner running, nothing rests there.
   */
  readonly inProcess: boolean;
  readonly updatedAt: string;
}

/** A venue as an owner registers it: its name, and whether its orders live in the owner's process. */
export interface VenueRegistration {
  readonly name: string;
  readonly inProcess: boolean;
}

interface VenueRow {
  name: string;
  open_orders: number | null;
  flat: number | null;
  last_cancel_latency_ms: number | null;
  last_cancel_at: string | null;
  switch_timeout_ms: number | null;
  switch_armed_at: string | null;
  switch_expires_at: string | null;
  in_process: number;
  updated_at: string;
}

function toRecord(row: VenueRow): VenueRecord {
  return {
    name: row.name,
    openOrders: row.open_orders,
    flat: row.flat === null ? null : row.flat === 1,
    lastCancelLatencyMs: row.last_cancel_latency_ms,
    lastCancelAt: row.last_cancel_at,
    switchTimeoutMs: row.switch_timeout_ms,
    switchArmedAt: row.switch_armed_at,
    switchExpiresAt: row.switch_expires_at,
    inProcess: row.in_process === 1,
    updatedAt: row.updated_at,
  };
}

function checkCount(field: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new GovernorError('GOV_INVALID_ARGUMENT', `Expected ${field} to be an integer ≥ 0`, {
      field,
    });
  }
  return value;
}

function checkMs(field: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new GovernorError('GOV_INVALID_ARGUMENT', `Expected ${field} to be a number of ms ≥ 0`, {
      field,
    });
  }
  return value;
}

/** The `venues` table. Obtain it as `store.venues`. */
export class Venues {
  private readonly connection: Connection;
  private readonly upsertName: BetterSqlite3.Statement<[string, number, string]>;
  private readonly selectAll: BetterSqlite3.Statement<[], VenueRow>;
  private readonly deleteInProcess: BetterSqlite3.Statement<[string]>;
  private readonly updateCancel: BetterSqlite3.Statement<[number, string, string, string]>;
  private readonly updateCount: BetterSqlite3.Statement<[number, number | null, string, string]>;
  private readonly updateFlat: BetterSqlite3.Statement<[number, string, string]>;
  private readonly updateSwitch: BetterSqlite3.Statement<
    [number | null, string | null, string | null, string, string]
  >;

  constructor(connection: Connection) {
    this.connection = connection;
    const db = connection.db;
    // A known name keeps its record; only whether its orders live in the owner's process is
    // what the registering owner says now.
    this.upsertName = db.prepare(
      'INSERT INTO venues (name, in_process, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET in_process = excluded.in_process',
    );
    this.selectAll = db.prepare('SELECT * FROM venues ORDER BY name');
    this.deleteInProcess = db.prepare('DELETE FROM venues WHERE name = ? AND in_process = 1');
    this.updateCancel = db.prepare(
      'UPDATE venues SET last_cancel_latency_ms = ?, last_cancel_at = ?, updated_at = ? WHERE name = ?',
    );
    this.updateCount = db.prepare(
      'UPDATE venues SET open_orders = ?, flat = ?, updated_at = ? WHERE name = ?',
    );
    this.updateFlat = db.prepare('UPDATE venues SET flat = ?, updated_at = ? WHERE name = ?');
    this.updateSwitch = db.prepare(
      'UPDATE venues SET switch_timeout_ms = ?, switch_armed_at = ?, switch_expires_at = ?, updated_at = ? WHERE name = ?',
    );
  }

  /**
   * The owner's venues, as it starts: adds a row for each name not yet known, and records for
   * each whether its orders live in the owner's process (a plain name: they do not). Rows of
   * venues no longer registered stay, except, when `retireGoneInProcess` (an engine's owner
   * starting), an earlier owner's in-process venue: its orders lived in that process, which is
   * gone, so nothing rests there and this owner will never report on it.
   */
  register(
    venues: readonly (string | VenueRegistration)[],
    { retireGoneInProcess = false }: { readonly retireGoneInProcess?: boolean } = {},
  ): void {
    const checked = venues.map((venue) =>
      typeof venue === 'string'
        ? { name: checkIdentifier('venue', venue), inProcess: false }
        : { name: checkIdentifier('venue', venue.name), inProcess: venue.inProcess === true },
    );
    const registered = new Set(checked.map(({ name }) => name));
    this.connection.write('venues.register', () => {
      const at = this.connection.nowIso();
      for (const row of retireGoneInProcess ? this.selectAll.all() : []) {
        if (row.in_process === 1 && !registered.has(row.name)) this.deleteInProcess.run(row.name);
      }
      for (const { name, inProcess } of checked) this.upsertName.run(name, inProcess ? 1 : 0, at);
    });
  }

  /** A cancel-all answered after `latencyMs`, sent at wall time `sentAtMs`. */
  recordCancel(name: string, latencyMs: number, sentAtMs: number): void {
    const latency = checkMs('latencyMs', latencyMs);
    this.connection.write('venues.recordCancel', () => {
      this.updateCancel.run(latency, isoFromWallMs(sentAtMs), this.connection.nowIso(), name);
    });
  }

  /** A count of open orders; `flat` true when 0 confirmed flat after a SHUTDOWN (null: unchanged meaning). */
  recordCount(name: string, openOrders: number, flat: boolean | null): void {
    const count = checkCount('openOrders', openOrders);
    this.connection.write('venues.recordCount', () => {
      this.updateCount.run(
        count,
        flat === null ? null : flat ? 1 : 0,
        this.connection.nowIso(),
        name,
      );
    });
  }

  /** Marks a venue not (yet) confirmed flat: a SHUTDOWN began cancelling there. */
  recordNotFlat(name: string): void {
    this.connection.write('venues.recordNotFlat', () => {
      this.updateFlat.run(0, this.connection.nowIso(), name);
    });
  }

  /** The dead man's switch armed or renewed at wall `armedAtMs`, expiring at wall `expiresAtMs`. */
  recordSwitchArmed(name: string, timeoutMs: number, armedAtMs: number, expiresAtMs: number): void {
    const timeout = checkCount('timeoutMs', timeoutMs);
    this.connection.write('venues.recordSwitchArmed', () => {
      this.updateSwitch.run(
        timeout,
        isoFromWallMs(armedAtMs),
        isoFromWallMs(expiresAtMs),
        this.connection.nowIso(),
        name,
      );
    });
  }

  /** The dead man's switch disarmed (a planned stop): no expiry on record. */
  recordSwitchDisarmed(name: string): void {
    this.connection.write('venues.recordSwitchDisarmed', () => {
      this.updateSwitch.run(null, null, null, this.connection.nowIso(), name);
    });
  }

  /** Every venue on record, by name. */
  list(): VenueRecord[] {
    return this.connection.read('venues.list', () => this.selectAll.all()).map(toRecord);
  }
}
