/**
 * Test support: a GovernanceSystem on a SimulatedClock over a temporary database file, with
 * helpers to read its database through a connection of the test's own (read-only, or raw for
 * tampering as an attacker would), and clean up. Nothing here reaches into private state: real
 * faults on governor's own connection go through `governor/testing`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import Sqlite from 'better-sqlite3';
import { Store, type StoredEvent } from '../../persistence/index.js';
import type { AlertSink, GovernorAlert } from '../../services/alerts/types.js';
import { SimulatedClock } from '../../services/clock.js';
import type { Thresholds } from '../../services/config.js';
import {
  GovernanceSystem,
  type GovernanceSystemOptions,
} from '../../services/governor/governance-system.js';

export interface Harness {
  readonly gov: GovernanceSystem;
  readonly clock: SimulatedClock;
  readonly dir: string;
  readonly dbPath: string;
  readonly delivered: GovernorAlert[];
  /** Reopens a GovernanceSystem on the same file (the old one must be closed or crashed). */
  reopen(options?: Partial<GovernanceSystemOptions>): GovernanceSystem;
  /** A read-only Store on the database (a connection of the test's own; closed at cleanup). */
  reader(): Store;
  /** A raw read-write connection on the database, for tampering (closed at cleanup). */
  tamper(): Sqlite.Database;
  cleanup(): void;
}

export function tempDir(prefix = 'governor-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function recordingSink(into: GovernorAlert[]): AlertSink {
  return { name: 'recording', deliver: (alert) => void into.push(alert) };
}

export function makeHarness(
  options: {
    thresholds?: Partial<Thresholds>;
    desiredMode?: 'AGGRESSIVE' | 'OBSERVE_ONLY';
    /** A clock of the test's own (e.g. shared with fake venues). */
    clock?: SimulatedClock;
    /** Further options of the first GovernanceSystem (and of `reopen`'s, under their own). */
    system?: Partial<GovernanceSystemOptions>;
  } = {},
): Harness {
  const dir = tempDir();
  const dbPath = join(dir, 'governor.db');
  const clock = options.clock ?? new SimulatedClock();
  const delivered: GovernorAlert[] = [];
  const build = (extra: Partial<GovernanceSystemOptions> = {}): GovernanceSystem =>
    new GovernanceSystem({
      dbPath,
      clock,
      alertSinks: [recordingSink(delivered)],
      ...(options.thresholds ? { thresholds: options.thresholds } : {}),
      ...(options.desiredMode ? { desiredMode: options.desiredMode } : {}),
      ...options.system,
      ...extra,
    });
  const opened: GovernanceSystem[] = [];
  const connections: Array<{ close(): unknown }> = [];
  const gov = build();
  opened.push(gov);
  return {
    gov,
    clock,
    dir,
    dbPath,
    delivered,
    reopen(extra = {}) {
      const next = build(extra);
      opened.push(next);
      return next;
    },
    reader() {
      const store = Store.open(dbPath, { readonly: true });
      connections.push(store);
      return store;
    },
    tamper() {
      const db = new Sqlite(dbPath, { timeout: 1_000 });
      connections.push(db);
      return db;
    },
    cleanup() {
      for (const g of opened) {
        try {
          g.close();
        } catch {
          // already closed or broken on purpose
        }
      }
      for (const connection of connections) {
        try {
          connection.close();
        } catch {
          // already closed
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The raw better-sqlite3 handle behind a Store: for fault injection in tests only. */
export function rawDb(store: Store): Database.Database {
  return store.rawHandleForFaultInjection();
}

export function eventsOf(store: Store): StoredEvent[] {
  return [...store.events.iterate(1)];
}

export function nonHeartbeat(events: StoredEvent[]): StoredEvent[] {
  return events.filter(
    (e) =>
      !(
        e.eventType === 'SYSTEM_MODE_CHANGE' &&
        (e.metadata as { heartbeat?: boolean } | null)?.heartbeat === true
      ),
  );
}

/** Lets queued microtasks and immediates (alert delivery) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
