/**
 * The `alerts` section of the daemon's configuration, as layers: webhooks, Alertmanager (with its
 * optional watchdog), Slack and PagerDuty, with the options of their sink factories. Each layer is
 * checked for shape here, without loading a sink; alerts-config.ts checks the merged section by
 * building the sinks, every error naming its key.
 */
import type { AlertmanagerSinkOptions } from '../alerts/sinks/alertmanager-sink.js';
import type { PagerDutySinkOptions } from '../alerts/sinks/pagerduty-sink.js';
import type { SlackSinkOptions } from '../alerts/sinks/slack-sink.js';
import type { WebhookSinkOptions } from '../alerts/sinks/webhook-sink.js';
import { GovernorError } from '../errors.js';

/** At most this many webhooks: every sink adds outbox rows and attempts per alert. */
export const ALERT_WEBHOOKS_MAX = 16;
/** The daemon's own sink (the alert printed on its terminal); no configured sink may take it. */
export const TERMINAL_SINK_NAME = 'terminal';
const STRING_CHARS_MAX = 4_096;

export interface AlertsConfig {
  readonly webhooks: readonly WebhookSinkOptions[];
  readonly alertmanager: AlertmanagerSinkOptions | null;
  readonly slack: SlackSinkOptions | null;
  readonly pagerduty: PagerDutySinkOptions | null;
}

export const NO_ALERT_SINKS: AlertsConfig = Object.freeze({
  webhooks: [],
  alertmanager: null,
  slack: null,
  pagerduty: null,
});

type Mutable<T> = { -readonly [K in keyof T]?: T[K] };

/** One layer's `alerts` (file or environment); absent sections are not set. */
export interface AlertsLayer {
  webhooks?: WebhookSinkOptions[];
  alertmanager?: Mutable<AlertmanagerSinkOptions>;
  slack?: Mutable<SlackSinkOptions>;
  pagerduty?: Mutable<PagerDutySinkOptions>;
}

type FieldKind = 'string' | 'integer' | 'headers' | 'watchdog';

const WEBHOOK_FIELDS: Readonly<Record<string, FieldKind>> = {
  url: 'string',
  name: 'string',
  headers: 'headers',
  timeoutMs: 'integer',
};
const ALERTMANAGER_FIELDS: Readonly<Record<string, FieldKind>> = {
  url: 'string',
  name: 'string',
  instance: 'string',
  runbookUrl: 'string',
  generatorUrl: 'string',
  headers: 'headers',
  timeoutMs: 'integer',
  firingForMs: 'integer',
  watchdog: 'watchdog',
};
const SLACK_FIELDS: Readonly<Record<string, FieldKind>> = {
  url: 'string',
  name: 'string',
  timeoutMs: 'integer',
};
const PAGERDUTY_FIELDS: Readonly<Record<string, FieldKind>> = {
  routingKey: 'string',
  url: 'string',
  name: 'string',
  source: 'string',
  timeoutMs: 'integer',
};
const WATCHDOG_FIELDS: Readonly<Record<string, FieldKind>> = {
  intervalMs: 'integer',
  endsAfterIntervals: 'integer',
};
const SECTIONS = ['webhooks', 'alertmanager', 'slack', 'pagerduty'];

/** Every key each section takes (the sample config lists them all; a test checks it). */
export const ALERT_SECTION_KEYS: Readonly<Record<string, readonly string[]>> = {
  webhooks: Object.keys(WEBHOOK_FIELDS),
  alertmanager: Object.keys(ALERTMANAGER_FIELDS),
  slack: Object.keys(SLACK_FIELDS),
  pagerduty: Object.keys(PAGERDUTY_FIELDS),
  watchdog: Object.keys(WATCHDOG_FIELDS),
};
/** The watchdog's keys (alerts.alertmanager.watchdog.*), for naming them in errors. */
export const WATCHDOG_KEYS: readonly string[] = ['intervalMs', 'endsAfterIntervals'];

function invalid(key: string, message: string): never {
  throw new GovernorError('GOV_INVALID_CONFIG', `${key}: ${message}`, { key });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkField(key: string, kind: FieldKind, value: unknown): unknown {
  switch (kind) {
    case 'string':
      if (typeof value !== 'string' || value.trim() === '' || value.length > STRING_CHARS_MAX) {
        invalid(key, `expected a non-empty string of at most ${STRING_CHARS_MAX} characters`);
      }
      return value;
    case 'integer':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
        invalid(key, `expected an integer, got ${String(value)}`);
      }
      return value;
    case 'headers': {
      if (!isRecord(value)) invalid(key, 'expected a mapping of header names to strings');
      for (const [name, header] of Object.entries(value)) {
        if (typeof header !== 'string') invalid(`${key}.${name}`, 'expected a string');
      }
      return value;
    }
    case 'watchdog':
      return checkMapping(key, value, WATCHDOG_FIELDS);
  }
}

/** A mapping with only `fields`, each of its kind; unknown keys are refused. */
function checkMapping(
  key: string,
  value: unknown,
  fields: Readonly<Record<string, FieldKind>>,
): Record<string, unknown> {
  if (!isRecord(value)) invalid(key, 'expected a mapping');
  const checked: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(value)) {
    const kind = fields[name];
    if (kind === undefined) {
      invalid(`${key}.${name}`, `unknown key; known: ${Object.keys(fields).join(', ')}`);
    }
    if (field !== undefined && field !== null)
      checked[name] = checkField(`${key}.${name}`, kind, field);
  }
  return checked;
}

/** The `alerts` mapping of a config file; `key` names it (with the file) in errors. */
export function alertsFileLayer(key: string, value: unknown): AlertsLayer {
  if (!isRecord(value)) invalid(key, `expected a mapping with ${SECTIONS.join(', ')}`);
  for (const name of Object.keys(value)) {
    if (!SECTIONS.includes(name)) {
      invalid(`${key}.${name}`, `unknown key; known: ${SECTIONS.join(', ')}`);
    }
  }
  const layer: AlertsLayer = {};
  if (value.webhooks !== undefined && value.webhooks !== null) {
    if (!Array.isArray(value.webhooks)) invalid(`${key}.webhooks`, 'expected a list of webhooks');
    if (value.webhooks.length > ALERT_WEBHOOKS_MAX) {
      invalid(`${key}.webhooks`, `at most ${ALERT_WEBHOOKS_MAX} webhooks`);
    }
    layer.webhooks = value.webhooks.map(
      (webhook: unknown, index) =>
        checkMapping(
          `${key}.webhooks[${index}]`,
          webhook,
          WEBHOOK_FIELDS,
        ) as unknown as WebhookSinkOptions,
    );
  }
  if (value.alertmanager !== undefined && value.alertmanager !== null) {
    layer.alertmanager = checkMapping(
      `${key}.alertmanager`,
      value.alertmanager,
      ALERTMANAGER_FIELDS,
    );
  }
  if (value.slack !== undefined && value.slack !== null) {
    layer.slack = checkMapping(`${key}.slack`, value.slack, SLACK_FIELDS);
  }
  if (value.pagerduty !== undefined && value.pagerduty !== null) {
    layer.pagerduty = checkMapping(`${key}.pagerduty`, value.pagerduty, PAGERDUTY_FIELDS);
  }
  return layer;
}

/**
 * The secrets that may come from the environment instead of the file: GOVERNOR_SLACK_WEBHOOK_URL
 * (alerts.slack.url) and GOVERNOR_PAGERDUTY_ROUTING_KEY (alerts.pagerduty.routingKey). Either
 * alone configures its sink with the defaults.
 */
export function alertsEnvLayer(value: (name: string) => string | undefined): AlertsLayer | null {
  const layer: AlertsLayer = {};
  const slackUrl = value('GOVERNOR_SLACK_WEBHOOK_URL');
  if (slackUrl !== undefined) layer.slack = { url: slackUrl };
  const routingKey = value('GOVERNOR_PAGERDUTY_ROUTING_KEY');
  if (routingKey !== undefined) layer.pagerduty = { routingKey };
  return Object.keys(layer).length === 0 ? null : layer;
}

/** Merges layers, later ones first: webhooks are replaced, the other sections merged by key. */
export function mergeAlertsLayers(layers: readonly (AlertsLayer | undefined)[]): AlertsConfig {
  let webhooks: readonly WebhookSinkOptions[] = [];
  let alertmanager: Mutable<AlertmanagerSinkOptions> | null = null;
  let slack: Mutable<SlackSinkOptions> | null = null;
  let pagerduty: Mutable<PagerDutySinkOptions> | null = null;
  for (const layer of layers) {
    if (layer === undefined) continue;
    if (layer.webhooks !== undefined) webhooks = layer.webhooks;
    if (layer.alertmanager !== undefined)
      alertmanager = { ...(alertmanager ?? {}), ...layer.alertmanager };
    if (layer.slack !== undefined) slack = { ...(slack ?? {}), ...layer.slack };
    if (layer.pagerduty !== undefined) pagerduty = { ...(pagerduty ?? {}), ...layer.pagerduty };
  }
  // The factories check the required fields (url, routingKey) and name them in their errors.
  return {
    webhooks,
    alertmanager: alertmanager as AlertmanagerSinkOptions | null,
    slack: slack as SlackSinkOptions | null,
    pagerduty: pagerduty as PagerDutySinkOptions | null,
  };
}

/** True when any sink besides the daemon's terminal is configured. */
export function hasAlertSinks(alerts: AlertsConfig): boolean {
  return (
    alerts.webhooks.length > 0 ||
    alerts.alertmanager !== null ||
    alerts.slack !== null ||
    alerts.pagerduty !== null
  );
}
