/**
 * The PagerDuty Events API v2 sink: `trigger` for a raised alert and `resolve` when an operator's
 * restart ends the incident, both keyed by the incident's `dedup_key` (at most 255 characters).
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { clip, displayText } from '../../display-text.js';
import { GovernorError } from '../../errors.js';
import type { AlertSeverity, AlertSink, GovernorAlert } from '../types.js';
import { checkSinkName, checkUrl, httpTarget, postJson } from './http.js';

export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';
export const PAGERDUTY_DEDUP_KEY_CHARS_MAX = 255;
const SUMMARY_CHARS_MAX = 1_024;

export interface PagerDutySinkOptions {
  /** The Events API v2 integration key of the service (a secret: never logged). */
  readonly routingKey: string;
  /** Default the public Events API v2 endpoint. */
  readonly url?: string;
  /** Default `pagerduty`. */
  readonly name?: string;
  /**
   * `payload.source`. Default: the governor's instance name, `<host>:<absolute database path>`
   * (unique per governor on a host), cut to 255 characters; the host name outside a governor.
   */
  readonly source?: string;
  /** Per request, default 5000. */
  readonly timeoutMs?: number;
}

const SEVERITIES: { readonly [S in AlertSeverity]: 'critical' | 'warning' | 'info' } = {
  CRITICAL: 'critical',
  WARNING: 'warning',
  INFO: 'info',
};

/** The incident key itself when it fits in 255 characters, else a prefix and its SHA-256. */
export function pagerDutyDedupKey(dedupKey: string): string {
  if (dedupKey.length <= PAGERDUTY_DEDUP_KEY_CHARS_MAX) return dedupKey;
  const digest = createHash('sha256').update(dedupKey).digest('hex');
  return `${dedupKey.slice(0, PAGERDUTY_DEDUP_KEY_CHARS_MAX - digest.length - 1)}:${digest}`;
}

export function pagerDutyTrigger(routingKey: string, source: string, alert: GovernorAlert) {
  const summary = `${alert.title}: ${alert.message}`;
  return {
    routing_key: routingKey,
    event_action: 'trigger' as const,
    dedup_key: pagerDutyDedupKey(alert.dedupKey),
    payload: {
      // Shown to the person paged: one line, control and bidi characters as visible escapes.
      summary: displayText(summary, { maxLength: SUMMARY_CHARS_MAX }),
      source,
      severity: SEVERITIES[alert.severity],
      timestamp: alert.timestamp.toISOString(),
      component: 'governor',
      class: alert.kind,
      custom_details: {
        alertId: alert.alertId,
        message: alert.message,
        rootCause: alert.rootCause,
        recommendedAction: alert.recommendedAction,
        metadata: alert.metadata ?? null,
      },
    },
  };
}

export function pagerDutyResolve(routingKey: string, alert: GovernorAlert) {
  return {
    routing_key: routingKey,
    event_action: 'resolve' as const,
    dedup_key: pagerDutyDedupKey(alert.dedupKey),
  };
}

/** PagerDuty's limit on `payload.source`. */
const SOURCE_CHARS_MAX = 255;

export function pagerDutySink(options: PagerDutySinkOptions): AlertSink {
  const name = checkSinkName('pagerduty', options.name, 'pagerduty');
  const routingKey = options.routingKey;
  if (typeof routingKey !== 'string' || !/^[\x21-\x7e]{1,256}$/.test(routingKey)) {
    throw new GovernorError(
      'GOV_INVALID_CONFIG',
      `${name} sink: routingKey must be the integration key (1 to 256 printable characters)`,
      { sink: name, field: 'routingKey' },
    );
  }
  let source = options.source ?? hostname();
  if (typeof source !== 'string' || source.length === 0 || source.length > SOURCE_CHARS_MAX) {
    throw new GovernorError(
      'GOV_INVALID_CONFIG',
      `${name} sink: source must be 1 to 255 characters`,
      {
        sink: name,
        field: 'source',
      },
    );
  }
  const target = httpTarget(
    name,
    checkUrl(name, 'url', options.url ?? PAGERDUTY_EVENTS_URL),
    options,
  );
  return {
    name,
    start: (context) => {
      if (options.source === undefined && context.instance !== undefined) {
        source = clip(context.instance, SOURCE_CHARS_MAX);
      }
    },
    deliver: (alert) => postJson(name, target, pagerDutyTrigger(routingKey, source, alert)),
    resolve: (alert) => postJson(name, target, pagerDutyResolve(routingKey, alert)),
  };
}
