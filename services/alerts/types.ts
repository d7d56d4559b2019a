/**
 * The alert vocabulary: the spec's Alert shape, the five (plus integrity) criteria that may
 * raise one, and the sink interface through which alerts leave the process.
 */
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';

export const ALERT_SEVERITIES = ['CRITICAL', 'WARNING', 'INFO'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/**
 * The only reasons an alert may be raised (spec: Alert Criteria; DESIGN adds integrity
 * violations, which block execution and need an operator). A capital integrity violation shuts
 * down (CAPITAL_INCONSISTENT), so its alert is a SHUTDOWN alert. Routine events have no kind.
 */
export const ALERT_KINDS = [
  'SHUTDOWN',
  'STARTUP_FAILURE',
  'HEARTBEAT_LOSS',
  'INTEGRITY_VIOLATION',
  'VENUE_NOT_FLAT',
  'AUTHORITY_LOSS',
  'AUTHORITY_QUEUE',
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/** The spec's alert structure. */
export interface Alert {
  alertId: string;
  timestamp: Date;
  severity: AlertSeverity;
  title: string;
  message: string;
  rootCause: string;
  recommendedAction: string;
  metadata?: Record<string, unknown>;
  acknowledged: boolean;
}

/** An alert as governor keeps it: the spec's shape plus its incident key and kind. */
export interface GovernorAlert extends Alert {
  kind: AlertKind;
  /** One alert per incident: a second raise with an open alert of this key is dropped. */
  dedupKey: string;
  acknowledgedBy: string | null;
  acknowledgedAt: Date | null;
  resolvedAt: Date | null;
}

/**
 * What a sink may use when the AlertManager starts it: the injected clock, a logger, and the
 * governor's instance name (unique per database on a host: see services/alerts/instance.ts).
 */
export interface AlertSinkContext {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly instance?: string;
}

/** A dead man's switch's beats so far (a sink with a watchdog reports them, for metrics). */
export interface WatchdogStats {
  readonly intervalMs: number;
  /** Beats Alertmanager accepted. */
  readonly beatsSucceeded: number;
  /** Beats that failed (unreachable, or refused). */
  readonly beatsFailed: number;
  /** Wall time (ms since the epoch, on the injected clock) of the last accepted beat, or null. */
  readonly lastSuccessWallMs: number | null;
}

/**
 * Where alerts go. Delivery is asynchronous (through the outbox) and never blocks the gate or
 * the machine; a sink throws or rejects to have the attempt retried. `name` identifies the
 * sink's outbox rows across restarts, so it must be unique and stable.
 */
export interface AlertSink {
  readonly name: string;
  deliver(alert: GovernorAlert): Promise<void> | void;
  /** Called when an operator's restart resolves the incident (optional). */
  resolve?(alert: GovernorAlert): Promise<void> | void;
  /** Called once when the AlertManager starts (e.g. to start a watchdog); optional. */
  start?(context: AlertSinkContext): void;
  /** Called when the AlertManager stops; must stop every timer the sink started. */
  stop?(): void;
  /** The sink's dead man's switch, if it runs one (optional; read by metrics). */
  watchdogStats?(): WatchdogStats | null;
}
