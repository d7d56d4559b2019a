/**
 * Alerts that the database could not store (its writes failing) are kept, besides in memory, in
 * a small file beside the database (`<db>.unstored-alerts.json`, written durably, at most
 * UNSTORED_ALERTS_MAX of them): a restart loses none. The next AlertManager on the file stores
 * them as soon as the database takes writes again, and delivers them.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { writeFileDurably } from '../durable-file.js';
import { ALERT_KINDS, ALERT_SEVERITIES, type GovernorAlert } from './types.js';

/** At most this many unstored alerts are kept (the oldest go first). */
export const UNSTORED_ALERTS_MAX = 100;
const SPILL_FILE_BYTES_MAX = 4 * 1024 * 1024;

export interface AlertSpill {
  /** Replaces what is kept with `alerts` (an empty list removes the file). */
  save(alerts: readonly GovernorAlert[]): void;
  /** What an earlier process kept; empty when nothing (or nothing readable) is there. */
  load(): GovernorAlert[];
}

/** The spill file's path for a database path, or null for an in-memory database. */
export function alertSpillPathFor(dbPath: string): string | null {
  if (dbPath === ':memory:' || dbPath === '') return null;
  return join(dirname(dbPath), `${basename(dbPath)}.unstored-alerts.json`);
}

function revive(value: unknown): GovernorAlert | null {
  if (typeof value !== 'object' || value === null) return null;
  const a = value as Record<string, unknown>;
  const timestamp = typeof a.timestamp === 'string' ? new Date(a.timestamp) : null;
  if (
    typeof a.alertId !== 'string' ||
    timestamp === null ||
    Number.isNaN(timestamp.getTime()) ||
    !(ALERT_SEVERITIES as readonly unknown[]).includes(a.severity) ||
    !(ALERT_KINDS as readonly unknown[]).includes(a.kind) ||
    typeof a.title !== 'string' ||
    typeof a.message !== 'string' ||
    typeof a.rootCause !== 'string' ||
    typeof a.recommendedAction !== 'string' ||
    typeof a.dedupKey !== 'string'
  ) {
    return null;
  }
  const dateOrNull = (v: unknown): Date | null => (typeof v === 'string' ? new Date(v) : null);
  return {
    alertId: a.alertId,
    timestamp,
    severity: a.severity as GovernorAlert['severity'],
    title: a.title,
    message: a.message,
    rootCause: a.rootCause,
    recommendedAction: a.recommendedAction,
    ...(typeof a.metadata === 'object' && a.metadata !== null
      ? { metadata: a.metadata as Record<string, unknown> }
      : {}),
    acknowledged: a.acknowledged === true,
    kind: a.kind as GovernorAlert['kind'],
    dedupKey: a.dedupKey,
    acknowledgedBy: typeof a.acknowledgedBy === 'string' ? a.acknowledgedBy : null,
    acknowledgedAt: dateOrNull(a.acknowledgedAt),
    resolvedAt: dateOrNull(a.resolvedAt),
  };
}

/** The spill beside a database file (none for `:memory:`). */
export function fileAlertSpill(path: string | null): AlertSpill | null {
  if (path === null) return null;
  return {
    save(alerts) {
      if (alerts.length === 0) {
        rmSync(path, { force: true });
        return;
      }
      const kept = alerts.slice(-UNSTORED_ALERTS_MAX);
      writeFileDurably(path, `${JSON.stringify({ version: 1, alerts: kept })}\n`, 0o600);
    },
    load() {
      if (!existsSync(path)) return [];
      try {
        const text = readFileSync(path, 'utf8');
        if (text.length > SPILL_FILE_BYTES_MAX) return [];
        const parsed = JSON.parse(text) as { version?: unknown; alerts?: unknown };
        if (parsed.version !== 1 || !Array.isArray(parsed.alerts)) return [];
        return parsed.alerts
          .map(revive)
          .filter((alert): alert is GovernorAlert => alert !== null)
          .slice(-UNSTORED_ALERTS_MAX);
      } catch {
        return [];
      }
    },
  };
}
