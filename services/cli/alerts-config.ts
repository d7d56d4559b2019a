/**
 * The alert sinks of the daemon's configuration: builds them from the merged `alerts` section
 * (alerts-layers.ts), which checks every option through the sink factories, each error naming
 * its config key. Loaded only by the commands that deliver alerts.
 */
import { alertmanagerSink } from '../alerts/sinks/alertmanager-sink.js';
import { pagerDutySink } from '../alerts/sinks/pagerduty-sink.js';
import { slackSink } from '../alerts/sinks/slack-sink.js';
import { webhookSink } from '../alerts/sinks/webhook-sink.js';
import type { AlertSink } from '../alerts/types.js';
import { GovernorError, isGovernorError } from '../errors.js';
import { type AlertsConfig, TERMINAL_SINK_NAME, WATCHDOG_KEYS } from './alerts-layers.js';

export * from './alerts-layers.js';

function invalid(key: string, message: string): never {
  throw new GovernorError('GOV_INVALID_CONFIG', `${key}: ${message}`, { key });
}

/** Runs a sink factory; its GOV_INVALID_CONFIG is re-thrown naming the config key. */
function build(
  key: string,
  create: () => AlertSink,
  fieldKey = (field: string) => field,
): AlertSink {
  try {
    return create();
  } catch (error) {
    if (!isGovernorError(error) || error.code !== 'GOV_INVALID_CONFIG') throw error;
    const field = error.details.field;
    const message = error.message.replace(/^GOV_INVALID_CONFIG: /, '');
    invalid(typeof field === 'string' ? `${key}.${fieldKey(field)}` : key, message);
  }
}

/**
 * Builds the configured sinks (nothing starts until the AlertManager starts them). Throws
 * GOV_INVALID_CONFIG naming the key: a bad URL, a range, a missing routing key, a duplicate name.
 */
export function createAlertSinks(alerts: AlertsConfig): AlertSink[] {
  const sinks: Array<{ key: string; sink: AlertSink }> = [];
  alerts.webhooks.forEach((options, index) => {
    const key = `alerts.webhooks[${index}]`;
    sinks.push({ key, sink: build(key, () => webhookSink(options)) });
  });
  if (alerts.alertmanager !== null) {
    const options = alerts.alertmanager;
    const watchdogField = (field: string) =>
      WATCHDOG_KEYS.includes(field) ? `watchdog.${field}` : field;
    sinks.push({
      key: 'alerts.alertmanager',
      sink: build('alerts.alertmanager', () => alertmanagerSink(options), watchdogField),
    });
  }
  if (alerts.slack !== null) {
    const options = alerts.slack;
    sinks.push({ key: 'alerts.slack', sink: build('alerts.slack', () => slackSink(options)) });
  }
  if (alerts.pagerduty !== null) {
    const options = alerts.pagerduty;
    sinks.push({
      key: 'alerts.pagerduty',
      sink: build('alerts.pagerduty', () => pagerDutySink(options)),
    });
  }
  const names = new Set<string>([TERMINAL_SINK_NAME]);
  for (const { key, sink } of sinks) {
    if (names.has(sink.name)) {
      invalid(
        `${key}.name`,
        `the sink name ${sink.name} is taken (${TERMINAL_SINK_NAME} is the daemon's own); names key the outbox rows and must be unique`,
      );
    }
    names.add(sink.name);
  }
  return sinks.map(({ sink }) => sink);
}
