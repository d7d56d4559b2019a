/**
 * Input ages that survive a restart. With each heartbeat, at close and when it starts, the owner
 * persists how old each monitored input is; a new process starts each age at the recorded age plus the wall
 * time since it was recorded (downtime counts, whether the last process closed or crashed; a wall
 * clock stepped back counts as no time), so a restart never makes data look fresher than it was.
 * The snapshot's age comes from the database when it holds a snapshot the record does not name
 * (committed after the last persist, before a crash): the wall time since that snapshot was
 * written. With nothing persisted (a database from before this record), likewise.
 */
import type { ErrorWindowState } from '../health/error-window.js';
import type { HealthMonitor, InputAges } from '../health/health-monitor.js';
import type { Logger } from '../logger.js';

export interface PersistedInputs {
  readonly version: 1;
  /** ISO-8601 wall time of the persist. */
  readonly at: string;
  /** True when written by a clean close (for the record: a restart ages the inputs either way). */
  readonly closed: boolean;
  readonly marketDataAgeMs: number;
  readonly eventLogWriteAgeMs: number;
  readonly snapshotWriteAgeMs: number;
  /** The date of the latest snapshot in the database when recorded (null: none, or unknown). */
  readonly latestSnapshotDate: string | null;
  /** Wall times of the last updates (ms since the epoch), for display; null before the first. */
  readonly lastWallMs: {
    readonly marketData: number | null;
    readonly eventLogWrite: number | null;
    readonly snapshotWrite: number | null;
  };
  /** The error window's state (see services/health/health-monitor.ts), when persisted. */
  readonly errors?: unknown;
}

export function serialiseInputs(inputs: PersistedInputs): string {
  return JSON.stringify(inputs);
}

function finiteAge(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null;
}

function wallOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** Parses what was stored; null when absent or not understood (ages then count from this start). */
export function parseInputs(text: string | null): PersistedInputs | null {
  if (text === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const record = value as Record<string, unknown>;
  const marketDataAgeMs = finiteAge(record.marketDataAgeMs);
  const eventLogWriteAgeMs = finiteAge(record.eventLogWriteAgeMs);
  const snapshotWriteAgeMs = finiteAge(record.snapshotWriteAgeMs);
  if (
    record.version !== 1 ||
    typeof record.at !== 'string' ||
    Number.isNaN(Date.parse(record.at)) ||
    marketDataAgeMs === null ||
    eventLogWriteAgeMs === null ||
    snapshotWriteAgeMs === null
  ) {
    return null;
  }
  const wall = (record.lastWallMs ?? {}) as Record<string, unknown>;
  return {
    version: 1,
    at: record.at,
    closed: record.closed === true,
    marketDataAgeMs,
    eventLogWriteAgeMs,
    snapshotWriteAgeMs,
    latestSnapshotDate:
      typeof record.latestSnapshotDate === 'string' ? record.latestSnapshotDate : null,
    lastWallMs: {
      marketData: wallOrNull(wall.marketData),
      eventLogWrite: wallOrNull(wall.eventLogWrite),
      snapshotWrite: wallOrNull(wall.snapshotWrite),
    },
    ...(record.errors === undefined ? {} : { errors: record.errors }),
  };
}

/**
 * The wall time from a persist to now: what a restart adds to every recorded age. A wall clock
 * set back (now before the persist) counts as no time, never as negative time.
 */
export function wallTimeSinceMs(persistedAtIso: string, wallNowMs: number): number {
  return Math.max(0, wallNowMs - Date.parse(persistedAtIso));
}

/** The latest snapshot in the database: its date and the wall time it was written. */
export interface LatestSnapshot {
  readonly date: string;
  readonly writtenAtWallMs: number;
}

/**
 * The ages a new process starts from: each recorded age plus the wall time since it was recorded
 * (the downtime, and whatever the last process lived after its last persist). A snapshot in the
 * database that the record does not name was written after it: its age is the wall time since
 * it was written (none when the wall clock went back). With nothing recorded, likewise.
 */
export function restoredAges(
  persisted: PersistedInputs | null,
  options: {
    readonly wallNowMs: number;
    readonly latestSnapshot: LatestSnapshot | null;
  },
): InputAges | null {
  const latest = options.latestSnapshot;
  const latestAgeMs =
    latest === null ? null : Math.max(0, options.wallNowMs - latest.writtenAtWallMs);
  if (persisted === null) {
    return latestAgeMs === null
      ? null
      : { marketDataAgeMs: 0, eventLogWriteAgeMs: 0, snapshotWriteAgeMs: latestAgeMs };
  }
  const sinceMs = wallTimeSinceMs(persisted.at, options.wallNowMs);
  const newerSnapshot = latest !== null && latest.date !== persisted.latestSnapshotDate;
  return {
    marketDataAgeMs: persisted.marketDataAgeMs + sinceMs,
    eventLogWriteAgeMs: persisted.eventLogWriteAgeMs + sinceMs,
    snapshotWriteAgeMs:
      newerSnapshot && latestAgeMs !== null ? latestAgeMs : persisted.snapshotWriteAgeMs + sinceMs,
  };
}

/**
 * What the owner persists now: each input's age, the latest snapshot's date (a later one found
 * at the next start was written after this record), and the error window.
 */
export function inputsText(
  health: HealthMonitor,
  wallNowMs: number,
  closed: boolean,
  latestSnapshotDate: string | null,
): string {
  const ages = health.ages();
  // Exact ages as of `at` (whole milliseconds of wall time): a rounded age, or one as of an
  // instant up to 1 ms later than `at` says, grew by up to 1 ms per restart, and a crash loop
  // latched a trigger early (sim seed 20: SNAPSHOT_WRITE_FAILURE 5 ms early after 6 crashes).
  const at = new Date(wallNowMs);
  const sinceAtMs = Math.max(0, wallNowMs - at.getTime());
  const asOfAt = (ageMs: number): number => Math.max(0, ageMs - sinceAtMs);
  return serialiseInputs({
    version: 1,
    at: at.toISOString(),
    closed,
    marketDataAgeMs: asOfAt(ages.marketDataAgeMs),
    eventLogWriteAgeMs: asOfAt(ages.eventLogWriteAgeMs),
    snapshotWriteAgeMs: asOfAt(ages.snapshotWriteAgeMs),
    latestSnapshotDate,
    lastWallMs: health.lastUpdateWallMs(),
    errors: health.exportErrorWindow(),
  });
}

/**
 * Seeds a new process's health monitor from what the last owner persisted (and the latest
 * snapshot's wall time): the ages, and the error window aged by the same wall time.
 */
export function restoreInputAges(
  health: HealthMonitor,
  persistedText: string | null,
  context: {
    readonly latestSnapshot: () => { readonly date: string; readonly writtenAt: string } | null;
    readonly wallNowMs: number;
    readonly logger: Logger;
  },
): void {
  let latestSnapshot: LatestSnapshot | null = null;
  try {
    const latest = context.latestSnapshot();
    const writtenAtWallMs = latest === null ? Number.NaN : Date.parse(latest.writtenAt);
    if (latest !== null && Number.isFinite(writtenAtWallMs)) {
      latestSnapshot = { date: latest.date, writtenAtWallMs };
    }
  } catch (error) {
    context.logger.warn({ err: error }, 'latest snapshot could not be read');
  }
  const latestSnapshotWallMs = latestSnapshot?.writtenAtWallMs ?? null;
  const persisted = parseInputs(persistedText);
  const ages = restoredAges(persisted, { wallNowMs: context.wallNowMs, latestSnapshot });
  if (persisted?.errors !== undefined) {
    try {
      // The errors age by the same wall time as the inputs.
      const sinceMs = wallTimeSinceMs(persisted.at, context.wallNowMs);
      health.restoreErrorWindow(persisted.errors as ErrorWindowState, sinceMs);
    } catch (error) {
      context.logger.warn({ err: error }, 'the persisted error window could not be restored');
    }
  }
  if (ages === null) return;
  health.seedAges(ages, {
    marketData: persisted?.lastWallMs.marketData ?? null,
    eventLogWrite: persisted?.lastWallMs.eventLogWrite ?? null,
    snapshotWrite: latestSnapshotWallMs ?? persisted?.lastWallMs.snapshotWrite ?? null,
  });
}
