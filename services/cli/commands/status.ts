/**
 * `governor status [--json]`: the live status from the daemon, or, when none runs, what the
 * database recorded (opened read-only). Exit 0 either way; the state is in the output. Every
 * text of the report is shown through `displayText`: a reason cannot add or rewrite a line.
 */
import { displayText } from '../../display-text.js';
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
import { recordedStatus, type StatusReport } from '../status-report.js';

async function fetchStatus(context: CommandContext): Promise<StatusReport> {
  const config = resolveConfig(context);
  try {
    const response = await sendControlRequest(socketPathFor(config), { command: 'status' });
    if (!response.ok) throw new CliError(EXIT.FAILURE, `daemon: ${response.message}`);
    return response.result as StatusReport;
  } catch (error) {
    if (!(error instanceof CliError) || error.exitCode !== EXIT.NOT_RUNNING) throw error;
  }
  const store = openReadOnly(config.dbPath);
  try {
    return recordedStatus(store, config.dbPath);
  } finally {
    store.close();
  }
}

/** Prints `status` for a person: one line per row, whatever the report's texts hold. */
export function printStatus(out: Output, status: StatusReport): void {
  const text = (value: string | null | undefined): string => displayText(value ?? '');
  const state = text(status.state ?? 'UNKNOWN');
  const where = status.running ? `daemon pid ${status.pid}` : 'daemon not running';
  const recorded = status.running ? '' : ' (as recorded)';
  out.line(
    `${out.paint('bold', 'governor')}  ${out.paint(stateColour(state), state)}${recorded}  (${where})`,
  );
  const row = (label: string, value: string): void => out.line(`  ${label.padEnd(11)} ${value}`);
  row('database', text(status.db));
  row(
    'gate',
    status.canDeployCapital
      ? out.paint('green', 'open')
      : `${out.paint('red', 'closed')}: ${text(status.reason)}`,
  );
  row('desired', text(status.desiredMode));
  if (!status.running && status.recordedState !== null && status.recordedState !== status.state) {
    row(
      'recorded',
      `${text(status.recordedState)} (last state written before the process stopped)`,
    );
  }
  row(
    'latch',
    status.latch === null
      ? 'none'
      : out.paint(
          'red',
          `${text(status.latch.trigger)} at ${text(status.latch.at)}: ${text(status.latch.reason)}${status.latchSource === 'fallback-file' ? ' (from the fallback file)' : ''}`,
        ),
  );
  if (status.running) {
    row('heartbeat', `${formatAge(status.heartbeatAgeMs)} ago`);
    const health = status.health;
    if (health !== null) {
      row(
        'health',
        health.healthy
          ? 'healthy'
          : out.paint('red', `unhealthy: ${health.reasons.map(text).join('; ')}`),
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
          : out.paint('yellow', `failed: ${status.startupChecks.failed.map(text).join(', ')}`),
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
      : `head seq ${status.eventLogHead.seq} hash ${text(status.eventLogHead.hash)}`,
  );
}

export async function statusCommand(context: CommandContext): Promise<ExitCode> {
  const status = await fetchStatus(context);
  if (context.json) context.out.json(status);
  else printStatus(context.out, status);
  return EXIT.OK;
}
