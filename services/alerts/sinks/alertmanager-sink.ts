/**
 * The Prometheus Alertmanager sink (API v2, `POST /api/v2/alerts`): labels identify the incident
 * (alertname, severity, kind, trigger, instance, a stable dedup_key, service), snake_case
 * annotations carry the text and a runbook link; `endsAt` is set when an operator resolves it.
 * Opt-in `watchdog` adds the dead man's switch (./watchdog.ts).
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock } from '../../clock.js';
import { GovernorError } from '../../errors.js';
import type {
  AlertKind,
  AlertSink,
  AlertSinkContext,
  GovernorAlert,
  WatchdogStats,
} from '../types.js';
import { checkSinkName, checkUrl, type HttpTarget, httpTarget, postJson } from './http.js';
import { alertmanagerEndpoint, Watchdog, type WatchdogSettings } from './watchdog.js';

export { alertmanagerEndpoint };

/** How long a firing alert stays active at Alertmanager without being resolved (default). */
export const ALERTMANAGER_FIRING_FOR_MS_DEFAULT = 7 * 24 * 3_600_000;
const FIRING_FOR_MS_MAX = 366 * 24 * 3_600_000;

export interface AlertmanagerSinkOptions {
  /** Alertmanager's base URL (`http://127.0.0.1:9093`) or its `/api/v2/alerts` endpoint. */
  readonly url: string;
  /** Default `alertmanager`. */
  readonly name?: string;
  /**
   * The `instance` label. Default: the governor's instance name, `<host>:<absolute database
   * path>` (unique per governor on a host; services/alerts/instance.ts); the host name when the
   * sink runs outside a GovernanceSystem.
   */
  readonly instance?: string;
  /**
   * Where docs/operations.md is published (e.g. `https://git.example/governor/blob/main/docs/operations.md`);
   * `runbook_url` is it plus the alert's anchor. Default `docs/operations.md` (the file in the
   * repository and the package).
   */
  readonly runbookUrl?: string;
  /** `generatorURL`: a link back to this governor (e.g. its health API); optional. */
  readonly generatorUrl?: string;
  /** Extra headers, e.g. `Authorization`; never logged. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Per request, default 5000. */
  readonly timeoutMs?: number;
  /**
   * How long a raised alert stays firing at Alertmanager if no operator resolves it (governor does
   * not re-send alerts). Default 7 days.
   */
  readonly firingForMs?: number;
  /** Opt-in dead man's switch: a `Watchdog` alert re-sent every `intervalMs` while governor runs. */
  readonly watchdog?: Partial<Pick<WatchdogSettings, 'intervalMs' | 'endsAfterIntervals'>>;
}

/** `SHUTDOWN` → `GovernorShutdown`, `HEARTBEAT_LOSS` → `GovernorHeartbeatLoss`. */
export function alertmanagerAlertName(kind: AlertKind): string {
  return `Governor${kind
    .toLowerCase()
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('')}`;
}

export interface PostableAlert {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly generatorURL?: string;
}

/** Where docs/operations.md is, when no `runbookUrl` is given. */
export const RUNBOOK_URL_DEFAULT = 'docs/operations.md';
/** Hex digits of the `dedup_key` label: 64 bits of SHA-256, no collision among real incidents. */
export const DEDUP_LABEL_HEX_CHARS = 16;

/**
 * The `dedup_key` label: the first 16 hex digits of the SHA-256 of governor's incident key. The
 * incident key of a SHUTDOWN holds the latch time (`shutdown:<at>:<trigger>`); the label is a
 * stable identifier of the incident without a timestamp, the same on every re-delivery and on
 * the resolve. The incident key itself is the `incident_key` annotation.
 */
export function alertmanagerDedupLabel(dedupKey: string): string {
  return createHash('sha256')
    .update(dedupKey, 'utf8')
    .digest('hex')
    .slice(0, DEDUP_LABEL_HEX_CHARS);
}

/** The shutdown trigger of a SHUTDOWN alert (its metadata), or null for other kinds. */
export function alertTrigger(alert: GovernorAlert): string | null {
  if (alert.kind !== 'SHUTDOWN') return null;
  const trigger = alert.metadata?.trigger;
  return typeof trigger === 'string' && /^[A-Z_]{1,64}$/.test(trigger) ? trigger : null;
}

/**
 * The anchor in docs/operations.md for an alert: `alert-shutdown-<trigger>` for a SHUTDOWN
 * (`alert-shutdown-market-data-stall`), `alert-<kind>` for the others (`alert-heartbeat-loss`).
 */
export function runbookAnchor(alert: Pick<GovernorAlert, 'kind' | 'metadata'>): string {
  const slug = (text: string) => text.toLowerCase().replaceAll('_', '-');
  const trigger = alertTrigger(alert as GovernorAlert);
  return trigger === null
    ? `alert-${slug(alert.kind)}`
    : `alert-${slug(alert.kind)}-${slug(trigger)}`;
}

export function alertmanagerPayload(
  alert: GovernorAlert,
  options: { instance: string; generatorUrl?: string; endsAt: Date; runbookUrl?: string },
): PostableAlert[] {
  const trigger = alertTrigger(alert);
  const runbookUrl = options.runbookUrl ?? RUNBOOK_URL_DEFAULT;
  return [
    {
      labels: {
        alertname: alertmanagerAlertName(alert.kind),
        severity: alert.severity.toLowerCase(),
        kind: alert.kind,
        ...(trigger === null ? {} : { trigger }),
        instance: options.instance,
        dedup_key: alertmanagerDedupLabel(alert.dedupKey),
        service: 'governor',
      },
      annotations: {
        summary: alert.title,
        description: alert.message,
        root_cause: alert.rootCause,
        recommended_action: alert.recommendedAction,
        runbook_url: `${runbookUrl}#${runbookAnchor(alert)}`,
        alert_id: alert.alertId,
        incident_key: alert.dedupKey,
      },
      startsAt: alert.timestamp.toISOString(),
      endsAt: options.endsAt.toISOString(),
      ...(options.generatorUrl === undefined ? {} : { generatorURL: options.generatorUrl }),
    },
  ];
}

function checkInstance(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 256) {
    throw new GovernorError(
      'GOV_INVALID_CONFIG',
      `${name} sink: instance must be 1 to 256 characters`,
      {
        sink: name,
        field: 'instance',
      },
    );
  }
  return value;
}

function checkFiringFor(name: string, value: unknown): number {
  if (value === undefined) return ALERTMANAGER_FIRING_FOR_MS_DEFAULT;
  if (
    !Number.isSafeInteger(value) ||
    (value as number) < 1_000 ||
    (value as number) > FIRING_FOR_MS_MAX
  ) {
    throw new GovernorError(
      'GOV_INVALID_CONFIG',
      `${name} sink: firingForMs must be an integer from 1000 to ${FIRING_FOR_MS_MAX}`,
      { sink: name, field: 'firingForMs' },
    );
  }
  return value as number;
}

function checkRunbookUrl(name: string, value: unknown): string {
  if (value === undefined) return RUNBOOK_URL_DEFAULT;
  if (
    typeof value !== 'string' ||
    value.length === 0 ||
    value.length > 1_024 ||
    /[\s#]/.test(value)
  ) {
    throw new GovernorError(
      'GOV_INVALID_CONFIG',
      `${name} sink: runbookUrl must be 1 to 1024 characters without spaces or a #fragment`,
      { sink: name, field: 'runbookUrl' },
    );
  }
  return value;
}

export function alertmanagerSink(options: AlertmanagerSinkOptions): AlertSink {
  const name = checkSinkName('alertmanager', options.name, 'alertmanager');
  const base = checkUrl(name, 'url', options.url);
  const target: HttpTarget = httpTarget(name, alertmanagerEndpoint(base), options);
  const configuredInstance =
    options.instance === undefined ? null : checkInstance(name, options.instance);
  let instance = configuredInstance ?? hostname();
  const runbookUrl = checkRunbookUrl(name, options.runbookUrl);
  const generatorUrl =
    options.generatorUrl === undefined
      ? undefined
      : checkUrl(name, 'generatorUrl', options.generatorUrl).href;
  const firingForMs = checkFiringFor(name, options.firingForMs);
  // Validated now so that a bad watchdog setting fails at configuration, not at start.
  const watchdogSettings =
    options.watchdog === undefined
      ? null
      : Watchdog.settings({ ...options.watchdog, url: base.href, instance, ...pick(options) });
  let clock: Pick<Clock, 'wallNow'> = { wallNow: () => Date.now() };
  let watchdog: Watchdog | null = null;
  const send = (alert: GovernorAlert, endsAt: Date) =>
    postJson(
      name,
      target,
      alertmanagerPayload(alert, {
        instance,
        endsAt,
        runbookUrl,
        ...(generatorUrl ? { generatorUrl } : {}),
      }),
    );
  return {
    name,
    deliver: (alert) =>
      send(
        alert,
        alert.resolvedAt ??
          new Date(Math.max(clock.wallNow(), alert.timestamp.getTime()) + firingForMs),
      ),
    resolve: (alert) => send(alert, alert.resolvedAt ?? new Date(clock.wallNow())),
    start(context: AlertSinkContext) {
      clock = context.clock;
      if (configuredInstance === null && context.instance !== undefined) {
        instance = checkInstance(name, context.instance);
      }
      if (watchdogSettings !== null && watchdog === null) {
        watchdog = new Watchdog({ ...watchdogSettings, instance }, context);
        watchdog.start();
      }
    },
    stop() {
      watchdog?.stop();
      watchdog = null;
    },
    watchdogStats(): WatchdogStats | null {
      return watchdog?.stats() ?? null;
    },
  };
}

function pick(options: AlertmanagerSinkOptions): {
  headers?: Readonly<Record<string, string>>;
  timeoutMs?: number;
} {
  return {
    ...(options.headers === undefined ? {} : { headers: options.headers }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  };
}
