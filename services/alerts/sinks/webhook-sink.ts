/**
 * The generic JSON webhook sink: POSTs `{ version, status, alert }` for a raised alert
 * (`status: "firing"`) and for an operator's resolution (`status: "resolved"`). Receivers
 * deduplicate by `alert.dedupKey` (delivery is at least once).
 */
import type { AlertSink, GovernorAlert } from '../types.js';
import { checkSinkName, checkUrl, httpTarget, iso, postJson } from './http.js';

export interface WebhookSinkOptions {
  /** Where to POST, http or https; no credentials in the URL (use `headers`). */
  readonly url: string;
  /** Default `webhook`; unique among the sinks, stable across restarts. */
  readonly name?: string;
  /** Extra headers, e.g. `{ Authorization: 'Bearer …' }`; never logged. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Per request, default 5000. */
  readonly timeoutMs?: number;
}

/** The body the webhook sink sends; `version` changes only with an incompatible shape. */
export interface WebhookPayload {
  readonly version: 1;
  readonly status: 'firing' | 'resolved';
  readonly alert: {
    readonly alertId: string;
    readonly dedupKey: string;
    readonly kind: string;
    readonly severity: string;
    readonly title: string;
    readonly message: string;
    readonly rootCause: string;
    readonly recommendedAction: string;
    readonly metadata: Record<string, unknown> | null;
    readonly timestamp: string;
    readonly acknowledged: boolean;
    readonly acknowledgedBy: string | null;
    readonly acknowledgedAt: string | null;
    readonly resolvedAt: string | null;
  };
}

export function webhookPayload(
  alert: GovernorAlert,
  status: 'firing' | 'resolved',
): WebhookPayload {
  return {
    version: 1,
    status,
    alert: {
      alertId: alert.alertId,
      dedupKey: alert.dedupKey,
      kind: alert.kind,
      severity: alert.severity,
      title: alert.title,
      message: alert.message,
      rootCause: alert.rootCause,
      recommendedAction: alert.recommendedAction,
      metadata: alert.metadata ?? null,
      timestamp: alert.timestamp.toISOString(),
      acknowledged: alert.acknowledged,
      acknowledgedBy: alert.acknowledgedBy,
      acknowledgedAt: iso(alert.acknowledgedAt),
      resolvedAt: iso(alert.resolvedAt),
    },
  };
}

export function webhookSink(options: WebhookSinkOptions): AlertSink {
  const name = checkSinkName('webhook', options.name, 'webhook');
  const target = httpTarget(name, checkUrl(name, 'url', options.url), options);
  return {
    name,
    deliver: (alert) => postJson(name, target, webhookPayload(alert, 'firing')),
    resolve: (alert) => postJson(name, target, webhookPayload(alert, 'resolved')),
  };
}
