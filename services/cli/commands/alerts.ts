/**
 * `governor alerts [--all] [--json]`: the unacknowledged alerts (or every alert with --all),
 * newest first, each with its delivery status per sink, read from the database opened read-only;
 * `governor ack ID --operator NAME` acknowledges one, through the owner of the database.
 */
import type { StoredAlert } from '../../../persistence/index.js';
import { type AlertDeliveryStatus, readAlertDeliveryStatus } from '../../alerts/delivery-status.js';
import { displayText } from '../../display-text.js';
import type { RecordedResultFields } from '../../governor/operator-results.js';
import { sendOwnerRequest } from '../../governor/ownership/index.js';
import { checkOperatorRequest } from '../../operator.js';
import {
  booleanFlag,
  type CommandContext,
  openReadOnly,
  ownerRequestTarget,
  resolveConfig,
  stringFlag,
} from '../context.js';
import { CliError, EXIT, type ExitCode } from '../exit-codes.js';
import type { Output } from '../output.js';
import { type CommandLocation, commandLocation, locateCommands } from '../printed-command.js';
import { describeOutcome } from './operator.js';

/** At most this many alerts are listed. */
export const ALERTS_LISTED_MAX = 1_000;
/** At most this many delivery rows are shown per alert (one per sink and operation). */
export const DELIVERIES_PER_ALERT_MAX = 100;

/** An alert as `governor alerts` lists it: the stored alert and its deliveries, newest first. */
export type ListedAlert = StoredAlert & { readonly deliveries: readonly AlertDeliveryStatus[] };

function deliveryText(out: Output, delivery: AlertDeliveryStatus): string {
  const colour =
    delivery.status === 'delivered' ? 'green' : delivery.status === 'failed' ? 'red' : 'yellow';
  const operation = delivery.operation === 'deliver' ? '' : ` (${delivery.operation})`;
  const attempts = `${delivery.attempts} attempt${delivery.attempts === 1 ? '' : 's'}`;
  const next =
    delivery.status === 'pending' && delivery.nextAttemptAt !== null
      ? `, next ${displayText(delivery.nextAttemptAt)}`
      : '';
  const error =
    delivery.lastError === null || delivery.status === 'delivered'
      ? ''
      : `: ${displayText(delivery.lastError)}`;
  return `${displayText(delivery.sink)}${operation} ${out.paint(colour, delivery.status)}, ${attempts}${next}${error}`;
}

/**
 * Prints one alert for a person; every stored text is shown through `displayText`, the commands
 * in its recommended action for the database at `location`.
 */
export function printAlert(out: Output, alert: ListedAlert, location: CommandLocation): void {
  const state =
    alert.resolvedAt !== null
      ? out.paint('grey', `resolved ${displayText(alert.resolvedAt)}`)
      : alert.acknowledged
        ? out.paint('cyan', `acknowledged by ${displayText(alert.acknowledgedBy ?? '?')}`)
        : out.paint('yellow', 'unacknowledged');
  const severity = displayText(alert.severity);
  const painted =
    alert.severity === 'CRITICAL' ? out.paint('red', severity) : out.paint('yellow', severity);
  out.line(
    `${painted}  ${displayText(alert.timestamp)}  ${out.paint('bold', displayText(alert.title))}  [${state}]`,
  );
  out.line(`  id       ${displayText(alert.alertId)}`);
  out.line(`  message  ${displayText(alert.message)}`);
  out.line(`  cause    ${displayText(alert.rootCause)}`);
  out.line(`  action   ${displayText(locateCommands(alert.recommendedAction, location))}`);
  if (alert.deliveries.length === 0) out.line('  delivery none recorded');
  for (const [index, delivery] of alert.deliveries.entries()) {
    out.line(`  ${index === 0 ? 'delivery' : '        '} ${deliveryText(out, delivery)}`);
  }
  out.line();
}

export async function alertsCommand(context: CommandContext): Promise<ExitCode> {
  const config = await resolveConfig(context);
  const all = booleanFlag(context, 'all');
  const store = await openReadOnly(config.dbPath, context);
  let alerts: ListedAlert[];
  try {
    alerts = store.alerts
      .list({ unacknowledgedOnly: !all, limit: ALERTS_LISTED_MAX })
      .map((alert) => ({
        ...alert,
        deliveries: readAlertDeliveryStatus(store, {
          alertId: alert.alertId,
          limit: DELIVERIES_PER_ALERT_MAX,
        }).deliveries,
      }));
  } finally {
    store.close();
  }
  if (context.json) {
    context.out.json(alerts);
    return EXIT.OK;
  }
  if (alerts.length === 0) {
    context.out.line(
      all ? 'no alerts' : 'no unacknowledged alerts (governor alerts --all lists every alert)',
    );
    return EXIT.OK;
  }
  const location = commandLocation(config);
  for (const alert of alerts) printAlert(context.out, alert, location);
  return EXIT.OK;
}

export async function ackCommand(context: CommandContext): Promise<ExitCode> {
  const alertId = context.positionals[0];
  if (alertId === undefined || context.positionals.length > 1) {
    throw new CliError(EXIT.USAGE, 'usage: governor ack ID --operator NAME');
  }
  const { operator } = checkOperatorRequest(
    { operator: stringFlag(context, 'operator'), reason: 'acknowledge' },
    'ack',
  );
  const config = await resolveConfig(context);
  const outcome = await sendOwnerRequest(ownerRequestTarget(config), {
    command: 'ack',
    operator,
    reason: `acknowledge alert ${alertId}`,
    alertId,
  });
  const result: RecordedResultFields = outcome.request.result ?? {};
  if (result.code === 'GOV_UNKNOWN_ALERT') {
    throw new CliError(EXIT.NOT_FOUND, `no alert ${alertId}`);
  }
  const { lines, exitCode } = describeOutcome('ack', operator, outcome, commandLocation(config));
  if (exitCode !== EXIT.OK) {
    for (const line of lines) context.out.error(line);
    return exitCode;
  }
  if (context.json) context.out.json(result.alert ?? null);
  else context.out.line(`alert ${displayText(alertId)} acknowledged by ${operator}`);
  return EXIT.OK;
}
