/**
 * Incidents: what governor alerts about, each with a typed key (one alert per incident), and
 * the alert it raises. The only place that builds dedup keys, alert titles and causes from the
 * catalogue; the rest of governor names an incident and lets this module raise or resolve it.
 */
import type { ShutdownLatch, StartupReport } from '../../machines/types.js';
import type { AlertManager, RaiseAlertInput, StagedAlert } from '../alerts/alert-manager.js';
import {
  AUTHORITY_LOSS_ALERT,
  AUTHORITY_QUEUE_ALERT,
  HEARTBEAT_LOSS_ALERT,
  INTEGRITY_ALERT,
  SHUTDOWN_ALERTS,
  STARTUP_FAILURE_ALERT,
  VENUE_NOT_FLAT_ALERT,
  VENUE_NOT_FLAT_LEASE_ENDED_ALERT,
} from '../alerts/catalogue.js';
import type { AlertKind } from '../alerts/types.js';

export type Incident =
  | { readonly kind: 'SHUTDOWN'; readonly latch: ShutdownLatch }
  | { readonly kind: 'HEARTBEAT_LOSS'; readonly lifecycleId: string }
  | { readonly kind: 'INTEGRITY_VIOLATION'; readonly lifecycleId: string }
  | { readonly kind: 'STARTUP_FAILURE'; readonly lifecycleId: string; readonly visit: number }
  | { readonly kind: 'LATCH_DISCREPANCY'; readonly latch: ShutdownLatch }
  | { readonly kind: 'VENUE_NOT_FLAT'; readonly latch: ShutdownLatch; readonly venue: string }
  | {
      readonly kind: 'VENUE_NOT_FLAT_LEASE_ENDED';
      readonly endedAt: string;
      readonly venue: string;
    }
  | { readonly kind: 'AUTHORITY_LOSS' | 'AUTHORITY_QUEUE'; readonly lifecycleId: string };

/** The dedup key of an incident: stable (no timestamps but the latch's own), unique per incident. */
export function incidentKey(incident: Incident): string {
  switch (incident.kind) {
    case 'SHUTDOWN':
      return `shutdown:${incident.latch.at}:${incident.latch.trigger}`;
    case 'HEARTBEAT_LOSS':
      return `heartbeat:${incident.lifecycleId}`;
    case 'INTEGRITY_VIOLATION':
      return `integrity:${incident.lifecycleId}`;
    case 'STARTUP_FAILURE':
      return `startup:${incident.lifecycleId}:${incident.visit}`;
    case 'LATCH_DISCREPANCY':
      return `latch-discrepancy:${incident.latch.at}:${incident.latch.trigger}`;
    case 'VENUE_NOT_FLAT':
      return `venue-not-flat:${incident.latch.at}:${incident.venue}`;
    case 'VENUE_NOT_FLAT_LEASE_ENDED':
      return `venue-not-flat:lease-ended:${incident.endedAt}:${incident.venue}`;
    case 'AUTHORITY_LOSS':
      return `authority-loss:${incident.lifecycleId}`;
    case 'AUTHORITY_QUEUE':
      return `authority-queue:${incident.lifecycleId}`;
  }
}

/**
 * Why governor cancels at a venue: a SHUTDOWN (its latch), or the end of the fleet lease (a venue
 * without a dead man's switch, whose orders nothing else would cancel; docs/venues.md).
 */
export type VenueCancelCause =
  | { readonly kind: 'shutdown'; readonly latch: ShutdownLatch }
  | { readonly kind: 'lease-ended'; readonly at: string; readonly reason: string };

function venueNotFlatKey(cause: VenueCancelCause, venue: string): string {
  return cause.kind === 'shutdown'
    ? incidentKey({ kind: 'VENUE_NOT_FLAT', latch: cause.latch, venue })
    : incidentKey({ kind: 'VENUE_NOT_FLAT_LEASE_ENDED', endedAt: cause.at, venue });
}

/** The alert kinds of a failure's safe mode, resolved by an operator's resume. */
export const SAFE_MODE_ALERT_KINDS: readonly AlertKind[] = [
  'STARTUP_FAILURE',
  'HEARTBEAT_LOSS',
  'INTEGRITY_VIOLATION',
  'AUTHORITY_LOSS',
];

export interface IntegrityFinding {
  readonly description: string;
  readonly rootCause: string;
  readonly recommendedAction: string;
  readonly check: string;
  readonly location: Readonly<Record<string, string | number>>;
}

export interface ShutdownAlertDetails {
  readonly from: string;
  readonly lifecycleId: string;
  readonly persistedTo: string | null;
}

function shutdownAlert(latch: ShutdownLatch, details: ShutdownAlertDetails): RaiseAlertInput {
  const text = SHUTDOWN_ALERTS[latch.trigger];
  return {
    kind: 'SHUTDOWN',
    dedupKey: incidentKey({ kind: 'SHUTDOWN', latch }),
    severity: 'CRITICAL',
    title: text.title,
    message: `${details.from} -> SHUTDOWN: ${latch.reason}`,
    rootCause: `${latch.trigger}: ${text.rootCause}`,
    recommendedAction: text.recommendedAction,
    metadata: {
      trigger: latch.trigger,
      lifecycleId: details.lifecycleId,
      persistedTo: details.persistedTo,
    },
  };
}

export class Incidents {
  constructor(private readonly alerts: AlertManager) {}

  /** The CRITICAL alert of a SHUTDOWN (one per latch). */
  shutdown(latch: ShutdownLatch, details: ShutdownAlertDetails): boolean {
    return this.alerts.raise(shutdownAlert(latch, details)) !== null;
  }

  /**
   * The CRITICAL alert of a SHUTDOWN written inside the caller's transaction (the latch's), held
   * back until the caller releases it after the commit; null when it is already open.
   */
  stageShutdown(latch: ShutdownLatch, details: ShutdownAlertDetails): StagedAlert | null {
    return this.alerts.stage(shutdownAlert(latch, details));
  }

  /** True while the SHUTDOWN alert of this latch is stored and unresolved. */
  shutdownAlertOpen(latch: ShutdownLatch): boolean {
    return this.alerts.isOpen(incidentKey({ kind: 'SHUTDOWN', latch }));
  }

  startupFailure(
    report: StartupReport | null,
    causeReason: string,
    lifecycleId: string,
    visit: number,
  ): void {
    const failed = report?.results.filter((r) => !r.passed) ?? [];
    const rootCause =
      failed.length > 0
        ? `failed checks: ${failed.map((r) => `${r.name} (${r.rootCause || r.details})`).join('; ')}`
        : causeReason;
    this.alerts.raise({
      kind: 'STARTUP_FAILURE',
      dedupKey: incidentKey({ kind: 'STARTUP_FAILURE', lifecycleId, visit }),
      severity: 'CRITICAL',
      title: STARTUP_FAILURE_ALERT.title,
      message: causeReason,
      rootCause,
      recommendedAction: failed[0]?.recommendedAction || STARTUP_FAILURE_ALERT.recommendedAction,
      metadata: { lifecycleId, visit, failedChecks: failed.map((r) => r.name) },
    });
  }

  heartbeatLoss(reason: string, lifecycleId: string, details: Record<string, unknown>): void {
    this.alerts.raise({
      kind: 'HEARTBEAT_LOSS',
      dedupKey: incidentKey({ kind: 'HEARTBEAT_LOSS', lifecycleId }),
      severity: 'CRITICAL',
      title: HEARTBEAT_LOSS_ALERT.title,
      message: reason,
      rootCause: HEARTBEAT_LOSS_ALERT.rootCause,
      recommendedAction: HEARTBEAT_LOSS_ALERT.recommendedAction,
      metadata: { lifecycleId, ...details },
    });
  }

  authorityLoss(reason: string, lifecycleId: string, details: Record<string, unknown>): void {
    this.alerts.raise({
      kind: 'AUTHORITY_LOSS',
      dedupKey: incidentKey({ kind: 'AUTHORITY_LOSS', lifecycleId }),
      severity: 'CRITICAL',
      title: AUTHORITY_LOSS_ALERT.title,
      message: reason,
      rootCause: AUTHORITY_LOSS_ALERT.rootCause,
      recommendedAction: AUTHORITY_LOSS_ALERT.recommendedAction,
      metadata: { lifecycleId, ...details },
    });
  }

  authorityQueue(usage: number, lifecycleId: string): void {
    this.alerts.raise({
      kind: 'AUTHORITY_QUEUE',
      dedupKey: incidentKey({ kind: 'AUTHORITY_QUEUE', lifecycleId }),
      severity: 'WARNING',
      title: AUTHORITY_QUEUE_ALERT.title,
      message: `pg_notification_queue_usage() = ${usage.toFixed(3)}`,
      rootCause: AUTHORITY_QUEUE_ALERT.rootCause,
      recommendedAction: AUTHORITY_QUEUE_ALERT.recommendedAction,
      metadata: { lifecycleId, usage },
    });
  }

  integrityViolation(findings: readonly IntegrityFinding[], lifecycleId: string): void {
    const summary = findings
      .slice(0, 20)
      .map((v) => ({ check: v.check, description: v.description, location: v.location }));
    this.alerts.raise({
      kind: 'INTEGRITY_VIOLATION',
      dedupKey: incidentKey({ kind: 'INTEGRITY_VIOLATION', lifecycleId }),
      severity: 'CRITICAL',
      title: INTEGRITY_ALERT.title,
      message: findings.map((v) => v.description).join('; '),
      rootCause: [...new Set(findings.map((v) => v.rootCause))].join('; '),
      recommendedAction: findings[0]?.recommendedAction ?? INTEGRITY_ALERT.recommendedAction,
      metadata: { violations: summary },
    });
  }

  /** The latch in system_state and the one the event log justifies disagree: tampering. */
  latchDiscrepancy(latch: ShutdownLatch, discrepancy: string): void {
    this.alerts.raise({
      kind: 'INTEGRITY_VIOLATION',
      dedupKey: incidentKey({ kind: 'LATCH_DISCREPANCY', latch }),
      severity: 'CRITICAL',
      title: 'Shutdown latch tampered with: SHUTDOWN',
      message: discrepancy,
      rootCause:
        'the latch record and the hash-chained event log disagree: the database was edited outside governor (or events were removed)',
      recommendedAction:
        'Find who edited the database; run `governor verify --full`; compare with a backup and the externally kept head; when it is safe, `governor restart --operator NAME --reason TEXT`.',
      metadata: { trigger: latch.trigger, latchAt: latch.at },
    });
  }

  /**
   * A venue not confirmed flat within venueFlatWithinMs of a SHUTDOWN or of the fleet lease's end
   * (one CRITICAL alert per venue and latch or lease end). Returns the alert's id, or null when
   * it was already open or not raised.
   */
  venueNotFlat(
    cause: VenueCancelCause,
    details: {
      venue: string;
      openOrders: number | undefined;
      afterMs: number;
      attempts: number;
      error: string | undefined;
    },
  ): string | null {
    const left =
      details.openOrders === undefined
        ? 'its open orders unknown (it answered no count)'
        : `${details.openOrders} order${details.openOrders === 1 ? '' : 's'} open`;
    const shutdown = cause.kind === 'shutdown';
    const text = shutdown ? VENUE_NOT_FLAT_ALERT : VENUE_NOT_FLAT_LEASE_ENDED_ALERT;
    const after = shutdown
      ? `the SHUTDOWN (${cause.latch.trigger})`
      : `the fleet lease ended (${cause.reason})`;
    const raised = this.alerts.raise({
      kind: 'VENUE_NOT_FLAT',
      dedupKey: venueNotFlatKey(cause, details.venue),
      severity: 'CRITICAL',
      title: `${text.title}: ${details.venue}`,
      message: `${details.venue}: not flat ${details.afterMs} ms after ${after}, ${left} after ${details.attempts} attempts${details.error === undefined ? '' : `; last error: ${details.error}`}`,
      rootCause:
        'the venue did not confirm that every order was cancelled: it refused or did not answer the cancel, or orders remained open after it',
      recommendedAction: text.recommendedAction,
      metadata: {
        venue: details.venue,
        openOrders: details.openOrders ?? null,
        afterMs: details.afterMs,
        attempts: details.attempts,
        ...(shutdown
          ? { trigger: cause.latch.trigger }
          : { trigger: null, cause: 'FLEET_LEASE_ENDED', leaseEndedAt: cause.at }),
      },
    });
    return raised?.alertId ?? null;
  }

  /** A venue confirmed flat after all: its not-flat incident is over. */
  resolveVenueNotFlat(cause: VenueCancelCause, venue: string): void {
    this.alerts.resolveIncident(venueNotFlatKey(cause, venue));
  }

  /** An operator's resume: the failure's incidents are over. */
  resolveSafeMode(): void {
    this.alerts.resolveOpenIncidents(SAFE_MODE_ALERT_KINDS);
  }

  /** An operator's restart: every open incident is over (the shutdown and any failure before it). */
  resolveAll(): void {
    this.alerts.resolveOpenIncidents(['SHUTDOWN', 'VENUE_NOT_FLAT', ...SAFE_MODE_ALERT_KINDS]);
  }
}
