/**
 * The Prometheus Alertmanager sink (API v2, `POST /api/v2/alerts`): labels identify the incident
 * (alertname, severity, kind, instance, dedup_key), annotations carry the text; `endsAt` is set
 * when an operator resolves it. Opt-in `watchdog` adds the dead man's switch (./watchdog.ts).
 */
import { hostname } from 'node:os';
import type { Clock } from '../../clock.js';
import { GovernorError } from '../../errors.js';
import type { AlertKind, AlertSink, AlertSinkContext, GovernorAlert } from '../types.js';
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
  /** The `instance` label; default the host name. */
  readonly instance?: string;
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

export function alertmanagerPayload(
  alert: GovernorAlert,
  options: { instance: string; generatorUrl?: string; endsAt: Date },
): PostableAlert[] {
  return [
    {
      labels: {
        alertname: alertmanagerAlertName(alert.kind),
        severity: alert.severity.toLowerCase(),
        kind: alert.kind,
        instance: options.instance,
        dedup_key: alert.dedupKey,
        service: 'governor',
      },
      annotations: {
        summary: alert.title,
        description: alert.message,
        rootCause: alert.rootCause,
        recommendedAction: alert.recommendedAction,
        alertId: alert.alertId,
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

export function alertmanagerSink(options: AlertmanagerSinkOptions): AlertSink {
  const name = checkSinkName('alertmanager', options.name, 'alertmanager');
  const base = checkUrl(name, 'url', options.url);
  const target: HttpTarget = httpTarget(name, alertmanagerEndpoint(base), options);
  const instance = checkInstance(name, options.instance ?? hostname());
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
      alertmanagerPayload(alert, { instance, endsAt, ...(generatorUrl ? { generatorUrl } : {}) }),
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
      if (watchdogSettings !== null && watchdog === null) {
        watchdog = new Watchdog(watchdogSettings, context);
        watchdog.start();
      }
    },
    stop() {
      watchdog?.stop();
      watchdog = null;
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
