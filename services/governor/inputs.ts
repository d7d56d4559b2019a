/**
 * Input ages that survive a restart. With each heartbeat (and at close) the owner persists how
 * old each monitored input is; a new process starts every age from there, so a crash loop on a
 * dead feed still reaches the spec's thresholds. Ages count running time: downtime after a clean
 * close is not counted; after a crash, the time the process may have lived after its last
 * persist is added (the wall time since, at most one heartbeat interval; a whole interval when
 * the wall clock stepped back). With nothing persisted (a database from before this record), the
 * snapshot age is the wall age of the latest snapshot in the database.
 */
import type { ErrorWindowState } from '../health/error-window.js';
import type { HealthMonitor, InputAges } from '../health/health-monitor.js';
import type { Logger } from '../logger.js';

export interface PersistedInputs {
  readonly version: 1;
  /** ISO-8601 wall time of the persist. */
  readonly at: string;
  /** True when written by a clean close (no running time after it). */
  readonly closed: boolean;
  readonly marketDataAgeMs: number;
  readonly eventLogWriteAgeMs: number;
  readonly snapshotWriteAgeMs: number;
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
    lastWallMs: {
      marketData: wallOrNull(wall.marketData),
      eventLogWrite: wallOrNull(wall.eventLogWrite),
      snapshotWrite: wallOrNull(wall.snapshotWrite),
    },
    ...(record.errors === undefined ? {} : { errors: record.errors }),
  };
}

/**
 * The ages a new process starts from: the persisted ages plus the running time after the persist
 * (none after a clean close; after a crash, the wall time since, at most one heartbeat interval).
 * The snapshot age is at least the wall age of the latest snapshot in the database.
 */
export function restoredAges(
  persisted: PersistedInputs | null,
  options: {
    readonly wallNowMs: number;
    readonly heartbeatIntervalMs: number;
    readonly latestSnapshotWallMs: number | null;
  },
): InputAges | null {
  const snapshotWallAge =
    options.latestSnapshotWallMs === null
      ? null
      : Math.max(0, options.wallNowMs - options.latestSnapshotWallMs);
  if (persisted === null) {
    return snapshotWallAge === null
      ? null
      : { marketDataAgeMs: 0, eventLogWriteAgeMs: 0, snapshotWriteAgeMs: snapshotWallAge };
  }
  const sinceMs = options.wallNowMs - Date.parse(persisted.at);
  // A wall clock set back (negative) or forward beyond an interval: assume the whole interval.
  const lived = persisted.closed
    ? 0
    : sinceMs >= 0 && sinceMs <= options.heartbeatIntervalMs
      ? sinceMs
      : options.heartbeatIntervalMs;
  return {
    marketDataAgeMs: persisted.marketDataAgeMs + lived,
    eventLogWriteAgeMs: persisted.eventLogWriteAgeMs + lived,
    snapshotWriteAgeMs: persisted.snapshotWriteAgeMs + lived,
  };
}

/** What the owner persists now: each input's age in running time, and the error window. */
export function inputsText(health: HealthMonitor, atIso: string, closed: boolean): string {
  const ages = health.ages();
  return serialiseInputs({
    version: 1,
    at: atIso,
    closed,
    marketDataAgeMs: Math.round(ages.marketDataAgeMs),
    eventLogWriteAgeMs: Math.round(ages.eventLogWriteAgeMs),
    snapshotWriteAgeMs: Math.round(ages.snapshotWriteAgeMs),
    lastWallMs: health.lastUpdateWallMs(),
    errors: health.exportErrorWindow(),
  });
}

/**
 * Seeds a new process's health monitor from what the last owner persisted (and the latest
 * snapshot's wall time): the ages, and the error window aged by the same running time.
 */
export function restoreInputAges(
  health: HealthMonitor,
  persistedText: string | null,
  context: {
    readonly latestSnapshotAt: () => string | null;
    readonly wallNowMs: number;
    readonly heartbeatIntervalMs: number;
    readonly logger: Logger;
  },
): void {
  let latestSnapshotWallMs: number | null = null;
  try {
    const latest = context.latestSnapshotAt();
    latestSnapshotWallMs = latest === null ? null : Date.parse(latest);
  } catch (error) {
    context.logger.warn({ err: error }, 'latest snapshot could not be read');
  }
  const persisted = parseInputs(persistedText);
  const ages = restoredAges(persisted, {
    wallNowMs: context.wallNowMs,
    heartbeatIntervalMs: context.heartbeatIntervalMs,
    latestSnapshotWallMs,
  });
  if (persisted?.errors !== undefined && ages !== null) {
    try {
      // The errors age by the same running time as the inputs (none after a clean close).
      const lived = ages.marketDataAgeMs - persisted.marketDataAgeMs;
      health.restoreErrorWindow(persisted.errors as ErrorWindowState, lived);
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
