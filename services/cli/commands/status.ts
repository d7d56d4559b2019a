/**
 * `governor status [--json]`: the live status from the daemon, or, when none answers, what the
 * database recorded (opened read-only), with the owner when one runs without a control socket.
 * A database nobody owns is shown as NOT RUNNING (or SHUTDOWN when latched), never as trading.
 * Exit 0 either way; the state is in the output.
 */
import { type GovernorStatus, recordedStatus } from '../../governor/status.js';
import {
  type CommandContext,
  formatAge,
  openReadOnly,
  resolveConfig,
  socketPathFor,
} from '../context.js';
import { sendControlRequest } from '../control-channel.js';
import { CliError, EXIT, type ExitCode } from '../exit-codes.js';
import { type Output, stateColour } from '../output.js';
import { ownerAlive, ownerOnRecord } from '../owner-client.js';

async function fetchStatus(context: CommandContext): Promise<GovernorStatus> {
  const config = resolveConfig(context);
  try {
    const response = await sendControlRequest(socketPathFor(config), { command: 'status' });
    if (!response.ok) throw new CliError(EXIT.FAILURE, `daemon: ${response.message}`);
    return response.result as GovernorStatus;
  } catch (error) {
    if (!(error instanceof CliError) || error.exitCode !== EXIT.NOT_RUNNING) throw error;
  }
  const store = openReadOnly(config.dbPath);
  try {
    const owner = ownerAlive(config.dbPath) ? ownerOnRecord(store) : null;
    return recordedStatus(store, config.dbPath, owner);
  } finally {
    store.close();
  }
}

function headline(out: Output, status: GovernorStatus): string {
  const where = status.running
    ? status.source === 'live'
      ? `daemon pid ${status.pid}`
      : `owner pid ${status.owner?.pid ?? '?'} on ${status.owner?.host ?? '?'}, no control socket: as recorded`
    : 'no owner running';
  if (status.state === null) {
    const last = status.recordedState === null ? '' : ` (last recorded ${status.recordedState})`;
    return `${out.paint('bold', 'governor')}  ${out.paint('yellow', 'NOT RUNNING')}${last}  (${where})`;
  }
  return `${out.paint('bold', 'governor')}  ${out.paint(stateColour(status.state), status.state)}  (${where})`;
}

function printStatus(out: Output, status: GovernorStatus): void {
  out.line(headline(out, status));
  const row = (label: string, value: string): void => out.line(`  ${label.padEnd(11)} ${value}`);
  row('database', status.db);
  row(
    'gate',
    status.canDeployCapital
      ? out.paint('green', 'open')
      : `${out.paint('red', 'closed')}: ${status.reason ?? ''}`,
  );
  row('desired', status.desiredMode);
  if (status.hold !== null) {
    row(
      'held',
      out.paint(
        'yellow',
        `${status.hold.cause}: ${status.hold.reason} (until an operator resumes)`,
      ),
    );
  }
  row(
    'latch',
    status.latch === null
      ? 'none'
      : out.paint(
          'red',
          `${status.latch.trigger} at ${status.latch.at}: ${status.latch.reason}${status.latchSource === 'fallback-file' ? ' (from the fallback file)' : status.latchSource === 'event-log' ? ' (from the event log: the latch record was cleared outside governor)' : ''}`,
        ),
  );
  if (status.discrepancy !== null) row('TAMPERED', out.paint('red', status.discrepancy));
  if (status.source === 'live') {
    row('heartbeat', `${formatAge(status.heartbeatAgeMs)} ago`);
    const health = status.health;
    if (health !== null) {
      row(
        'health',
        health.healthy ? 'healthy' : out.paint('red', `unhealthy: ${health.reasons.join('; ')}`),
      );
      row(
        'inputs',
        `market data ${formatAge(health.marketDataAgeMs)}, event log ${formatAge(health.eventLogWriteAgeMs)}, snapshot ${formatAge(health.snapshotWriteAgeMs)} ago; ${health.errorRate.toFixed(1)} errors/min`,
      );
    }
    if (status.startupChecks !== null) {
      row(
        'startup',
        status.startupChecks.passed
          ? 'checks passed'
          : out.paint('yellow', `failed: ${status.startupChecks.failed.join(', ')}`),
      );
    }
  }
  row(
    'alerts',
    status.unacknowledgedAlerts === 0
      ? 'none unacknowledged'
      : out.paint('yellow', `${status.unacknowledgedAlerts} unacknowledged (governor alerts)`),
  );
  row(
    'event log',
    status.eventLogHead === null
      ? 'empty'
      : `head seq ${status.eventLogHead.seq} hash ${status.eventLogHead.hash}`,
  );
}

export async function statusCommand(context: CommandContext): Promise<ExitCode> {
  const status = await fetchStatus(context);
  if (context.json) context.out.json(status);
  else printStatus(context.out, status);
  return EXIT.OK;
}
