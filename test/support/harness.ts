/**
 * Test support: a GovernanceSystem on a SimulatedClock over a temporary database file, with
 * helpers to read its event log, reach into its SQLite connection to inject faults, and clean up.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import type { Store, StoredEvent } from '../../persistence/index.js';
import type { AlertSink, GovernorAlert } from '../../services/alerts/types.js';
import { SimulatedClock } from '../../services/clock.js';
import type { Thresholds } from '../../services/config.js';
import { GovernanceSystem, type GovernanceSystemOptions } from '../../services/governor.js';

export interface Harness {
  readonly gov: GovernanceSystem;
  readonly clock: SimulatedClock;
  readonly dir: string;
  readonly dbPath: string;
  readonly delivered: GovernorAlert[];
  /** Reopens a GovernanceSystem on the same file (the old one must be closed or abandoned). */
  reopen(options?: Partial<GovernanceSystemOptions>): GovernanceSystem;
  cleanup(): void;
}

export function tempDir(prefix = 'governor-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function recordingSink(into: GovernorAlert[]): AlertSink {
  return { name: 'recording', deliver: (alert) => void into.push(alert) };
}

export function makeHarness(
  options: { thresholds?: Partial<Thresholds>; desiredMode?: 'AGGRESSIVE' | 'OBSERVE_ONLY' } = {},
): Harness {
  const dir = tempDir();
  const dbPath = join(dir, 'governor.db');
  const clock = new SimulatedClock();
  const delivered: GovernorAlert[] = [];
  const build = (extra: Partial<GovernanceSystemOptions> = {}): GovernanceSystem =>
    new GovernanceSystem({
      dbPath,
      clock,
      alertSinks: [recordingSink(delivered)],
      ...(options.thresholds ? { thresholds: options.thresholds } : {}),
      ...(options.desiredMode ? { desiredMode: options.desiredMode } : {}),
      ...extra,
    });
  const opened: GovernanceSystem[] = [];
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
    cleanup() {
      for (const g of opened) {
        try {
          g.close();
        } catch {
          // already closed or broken on purpose
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The raw better-sqlite3 handle behind a Store: for fault injection in tests only. */
export function rawDb(store: Store): Database.Database {
  return (store as unknown as { connection: { db: Database.Database } }).connection.db;
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
