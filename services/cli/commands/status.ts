/**
 * `governor status [--json]`: the live status from the daemon, or, when none answers (no socket,
 * or a daemon that does not answer within 3 s), what the database recorded (opened read-only),
 * with the owner when one runs.
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

/** How long status waits for the daemon's answer before it reads the database instead. */
export const STATUS_SOCKET_WAIT_MS = 3_000;

interface Fetched {
  readonly status: GovernorStatus;
  /** Why the socket did not answer (a hung or dying daemon), when the database was read instead. */
  readonly socketProblem: string | null;
}

async function fetchStatus(context: CommandContext): Promise<Fetched> {
  const config = resolveConfig(context);
  let socketProblem: string | null = null;
  try {
    const response = await sendControlRequest(
      socketPathFor(config),
      { command: 'status' },
      { timeoutMs: STATUS_SOCKET_WAIT_MS },
    );
    if (response.ok) return { status: response.result as GovernorStatus, socketProblem };
    throw new CliError(EXIT.FAILURE, `daemon: ${response.message}`);
  } catch (error) {
    if (!(error instanceof CliError) || error.message.startsWith('daemon: ')) throw error;
    // No daemon (NOT_RUNNING), or one that does not answer (FAILURE: a timeout, a closed
    // connection): the database still says who owns it and what it recorded.
    if (error.exitCode === EXIT.FAILURE) socketProblem = error.message;
    else if (error.exitCode !== EXIT.NOT_RUNNING) throw error;
  }
  const store = openReadOnly(config.dbPath);
  try {
    const owner = ownerAlive(config.dbPath) ? ownerOnRecord(store) : null;
    return { status: recordedStatus(store, config.dbPath, owner), socketProblem };
  } finally {
    store.close();
  }
}

function headline(out: Output, status: GovernorStatus, socketSilent: boolean): string {
  const socket = socketSilent ? 'its control socket did not answer' : 'no control socket';
  const where = status.running
    ? status.source === 'live'
      ? `daemon pid ${status.pid}`
      : `owner pid ${status.owner?.pid ?? '?'} on ${status.owner?.host ?? '?'}, ${socket}: as recorded`
    : 'no owner running';
  if (status.state === null) {
    const last = status.recordedState === null ? '' : ` (last recorded ${status.recordedState})`;
    return `${out.paint('bold', 'governor')}  ${out.paint('yellow', 'NOT RUNNING')}${last}  (${where})`;
  }
  return `${out.paint('bold', 'governor')}  ${out.paint(stateColour(status.state), status.state)}  (${where})`;
}

function printStatus(out: Output, status: GovernorStatus, socketSilent: boolean): void {
  out.line(headline(out, status, socketSilent));
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
  const { status, socketProblem } = await fetchStatus(context);
  if (socketProblem !== null) {
    context.out.error(
      `governor status: ${socketProblem}; showing the state recorded in the database instead`,
    );
  }
  if (context.json) context.out.json(status);
  else printStatus(context.out, status, socketProblem !== null);
  return EXIT.OK;
}
