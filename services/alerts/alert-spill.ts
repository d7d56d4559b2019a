/**
 * Alerts that the database could not store (its writes failing) are kept, besides in memory, in
 * a small file beside the database (`<db>.unstored-alerts.json`, written durably, at most
 * UNSTORED_ALERTS_MAX of them): a restart loses none. The next AlertManager on the file stores
 * them as soon as the database takes writes again, and delivers them.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { writeFileDurably } from '../../persistence/durable-file.js';
import { sideFilePath } from '../../persistence/side-files.js';
import { ALERT_KINDS, ALERT_SEVERITIES, type GovernorAlert } from './types.js';

/** At most this many unstored alerts are kept (the oldest go first). */
export const UNSTORED_ALERTS_MAX = 100;
const SPILL_FILE_BYTES_MAX = 4 * 1024 * 1024;

/** What is kept: the alerts, and for each the sinks that already delivered it. */
export interface SpilledAlerts {
  readonly alerts: readonly GovernorAlert[];
  readonly deliveredTo: Readonly<Record<string, readonly string[]>>;
}

export interface AlertSpill {
  /** Replaces what is kept (no alerts removes the file). */
  save(spilled: SpilledAlerts): void;
  /** What an earlier process kept; empty when nothing (or nothing readable) is there. */
  load(): SpilledAlerts;
}

/** The spill file's path for a database path, or null for an in-memory database. */
export function alertSpillPathFor(dbPath: string): string | null {
  return sideFilePath(dbPath, ALERT_SPILL_SUFFIX);
}

export const ALERT_SPILL_SUFFIX = '.unstored-alerts.json';

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
  const empty: SpilledAlerts = { alerts: [], deliveredTo: {} };
  return {
    save({ alerts, deliveredTo }) {
      if (alerts.length === 0) {
        rmSync(path, { force: true });
        return;
      }
      const kept = alerts.slice(-UNSTORED_ALERTS_MAX);
      const delivered = Object.fromEntries(
        kept.map((alert) => [alert.alertId, deliveredTo[alert.alertId] ?? []]),
      );
      const text = JSON.stringify({ version: 1, alerts: kept, deliveredTo: delivered });
      writeFileDurably(path, `${text}\n`, 0o600);
    },
    load() {
      if (!existsSync(path)) return empty;
      try {
        const text = readFileSync(path, 'utf8');
        if (text.length > SPILL_FILE_BYTES_MAX) return empty;
        const parsed = JSON.parse(text) as {
          version?: unknown;
          alerts?: unknown;
          deliveredTo?: unknown;
        };
        if (parsed.version !== 1 || !Array.isArray(parsed.alerts)) return empty;
        const alerts = parsed.alerts
          .map(revive)
          .filter((alert): alert is GovernorAlert => alert !== null)
          .slice(-UNSTORED_ALERTS_MAX);
        const recorded = (
          typeof parsed.deliveredTo === 'object' && parsed.deliveredTo !== null
            ? parsed.deliveredTo
            : {}
        ) as Record<string, unknown>;
        const deliveredTo: Record<string, string[]> = {};
        for (const alert of alerts) {
          const sinks = recorded[alert.alertId];
          deliveredTo[alert.alertId] = Array.isArray(sinks)
            ? sinks.filter((sink): sink is string => typeof sink === 'string')
            : [];
        }
        return { alerts, deliveredTo };
      } catch {
        return empty;
      }
    },
  };
}
