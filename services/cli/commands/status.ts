/**
 * `governor status [--json]`: the live status from the daemon, or, when none answers (no socket,
 * or a daemon that does not answer within 3 s, retries included), what the database recorded
 * (opened read-only), with the owner when one runs.
 * A database nobody owns is shown as NOT RUNNING (or SHUTDOWN when latched), never as trading.
 * Exit 0 either way; the state is in the output. Every text of the report is shown through
 * `displayText`: a reason cannot add or rewrite a line.
 */
import { displayText } from '../../display-text.js';
import type { GovernorStatus, VenueStatus } from '../../governor/status.js';
import {
  type CommandContext,
  formatAge,
  openRecordReadOnly,
  resolveConfig,
  socketPathFor,
} from '../context.js';
import {
  ControlSocketError,
  SOCKET_PATH_BYTES_MAX,
  sendControlRequest,
} from '../control-channel.js';
import { CliError, EXIT, type ExitCode } from '../exit-codes.js';
import { type Output, stateColour } from '../output.js';
import { type CommandLocation, commandLocation, governorCommand } from '../printed-command.js';

/**
 * How long status tries the daemon (every attempt and retry included) before it reads the
 * database instead.
 */
export const STATUS_SOCKET_WAIT_MS = 3_000;
/** A connection closed without an answer (the daemon was full) is retried after this, doubling. */
export const STATUS_RETRY_DELAY_MS_MIN = 25;
export const STATUS_RETRY_DELAY_MS_MAX = 400;

interface Fetched {
  readonly status: GovernorStatus;
  /** Why the socket did not answer (a hung or dying daemon), when the database was read instead. */
  readonly socketProblem: string | null;
  /** Where the database is, for the commands the status names. */
  readonly location: CommandLocation;
  /** The socket's directory is not this user's (a monitoring user): it was not asked. */
  readonly socketForeign: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The monotonic clock in ms (process.hrtime: `performance` would load perf_hooks at start). */
const monotonicNowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/**
 * The daemon's live status; null when no daemon listens; a problem when it did not answer
 * within STATUS_SOCKET_WAIT_MS. A connection closed or reset without an answer (a full daemon
 * evicting it, a daemon restarting) is retried within the same bound.
 */
async function askDaemon(
  socketPath: string,
): Promise<{ status: GovernorStatus } | { problem: string; foreign?: true } | null> {
  const startedMs = monotonicNowMs();
  let retryDelayMs = STATUS_RETRY_DELAY_MS_MIN;
  for (;;) {
    const remainingMs = STATUS_SOCKET_WAIT_MS - (monotonicNowMs() - startedMs);
    try {
      const response = await sendControlRequest(
        socketPath,
        { command: 'status' },
        { timeoutMs: Math.max(1, Math.ceil(remainingMs)) },
      );
      if (response.ok) return { status: response.result as GovernorStatus };
      throw new CliError(EXIT.FAILURE, `daemon: ${response.message}`);
    } catch (error) {
      if (error instanceof CliError && error.exitCode === EXIT.NOT_RUNNING) return null;
      // Another user's control directory (a monitoring user): its socket is not for this user.
      if (error instanceof CliError && error.exitCode === EXIT.REFUSED) {
        return { problem: `${error.message}: the daemon was not asked`, foreign: true };
      }
      if (!(error instanceof ControlSocketError)) throw error;
      const leftMs = STATUS_SOCKET_WAIT_MS - (monotonicNowMs() - startedMs);
      if (!error.retryable || leftMs <= retryDelayMs) {
        return {
          problem: error.retryable
            ? `${error.message}, retried for ${STATUS_SOCKET_WAIT_MS} ms`
            : `no answer from the daemon within ${STATUS_SOCKET_WAIT_MS} ms (${socketPath})`,
        };
      }
      await sleep(retryDelayMs);
      retryDelayMs = Math.min(retryDelayMs * 2, STATUS_RETRY_DELAY_MS_MAX);
    }
  }
}

async function fetchStatus(context: CommandContext): Promise<Fetched> {
  const config = await resolveConfig(context);
  const location = commandLocation(config);
  const socketPath = socketPathFor(config);
  // A default socket path too long for a Unix socket (a deeply nested database): `run` refuses
  // it, so no daemon listens there; the database says the rest. A --socket too long is the
  // caller's mistake, refused as such by the request.
  const unlistenable =
    config.controlSocket === null && Buffer.byteLength(socketPath) > SOCKET_PATH_BYTES_MAX;
  const answer = unlistenable ? null : await askDaemon(socketPath);
  if (answer !== null && 'status' in answer) {
    return { status: answer.status, socketProblem: null, socketForeign: false, location };
  }
  // No daemon, or one that does not answer (hung, dying, or too busy): the database still says
  // who owns it and what it recorded.
  // Only now the record's readers (a daemon's answer needs none of them).
  const [store, { recordedStatus }, { ownerAlive, ownerOnRecord }] = await Promise.all([
    openRecordReadOnly(config.dbPath, context),
    import('../../governor/status.js'),
    // The owner's read-only look only: the module's index would load the whole store.
    import('../../governor/ownership/find-owner.js'),
  ]);
  try {
    const owner = ownerAlive(config.dbPath) ? ownerOnRecord(store) : null;
    return {
      status: recordedStatus(store, config.dbPath, owner),
      socketProblem: answer === null ? null : answer.problem,
      socketForeign: answer?.foreign === true,
      location,
    };
  } finally {
    store.close();
  }
}

/** Untrusted text (it may come from the database, or from an exchange) on one line. */
const text = (value: string | null | undefined): string => displayText(value ?? '');

/** The control socket when the database was read: none, silent, or another user's. */
export type SocketState = boolean | 'foreign';

function headline(out: Output, status: GovernorStatus, socketState: SocketState): string {
  const socket =
    socketState === 'foreign'
      ? "its control socket is not this user's"
      : socketState
        ? 'its control socket did not answer'
        : 'no control socket';
  const where = status.running
    ? status.source === 'live'
      ? `daemon pid ${status.pid}`
      : `owner pid ${status.owner?.pid ?? '?'} on ${text(status.owner?.host ?? '?')}, ${socket}: as recorded`
    : 'no owner running';
  if (status.state === null) {
    const last =
      status.recordedState === null ? '' : ` (last recorded ${text(status.recordedState)})`;
    return `${out.paint('bold', 'governor')}  ${out.paint('yellow', 'NOT RUNNING')}${last}  (${where})`;
  }
  const state = text(status.state);
  return `${out.paint('bold', 'governor')}  ${out.paint(stateColour(state), state)}  (${where})`;
}

/**
 * Prints `status` for a person: one line per row, whatever the report's texts hold; the command
 * it names is for the database at `location` when given.
 */
export function printStatus(
  out: Output,
  status: GovernorStatus,
  socketState: SocketState = false,
  location: CommandLocation | null = null,
): void {
  out.line(headline(out, status, socketState));
  const row = (label: string, value: string): void => out.line(`  ${label.padEnd(11)} ${value}`);
  row('database', text(status.db));
  row(
    'gate',
    status.canDeployCapital
      ? out.paint('green', 'open')
      : `${out.paint('red', 'closed')}: ${text(status.reason)}`,
  );
  row('desired', text(status.desiredMode));
  if (status.hold !== null) {
    row(
      'held',
      out.paint(
        'yellow',
        `${text(status.hold.cause)}: ${text(status.hold.reason)} (until an operator resumes)`,
      ),
    );
  }
  row(
    'latch',
    status.latch === null
      ? 'none'
      : out.paint(
          'red',
          `${text(status.latch.trigger)} at ${text(status.latch.at)}: ${text(status.latch.reason)}${status.latchSource === 'fallback-file' ? ' (from the fallback file)' : status.latchSource === 'event-log' ? ' (from the event log: the latch record was cleared outside governor)' : ''}`,
        ),
  );
  if (status.discrepancy !== null) row('TAMPERED', out.paint('red', text(status.discrepancy)));
  if (status.source === 'live') {
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
      : out.paint(
          'yellow',
          `${status.unacknowledgedAlerts} unacknowledged (${location === null ? 'governor alerts' : displayText(governorCommand(location, 'alerts'))})`,
        ),
  );
  row(
    'event log',
    status.eventLogHead === null
      ? 'empty'
      : `head seq ${status.eventLogHead.seq} hash ${text(status.eventLogHead.hash)}`,
  );
  // An older daemon's status has no venues.
  for (const venue of status.venues ?? []) {
    row('venue', venueText(out, venue, status.time, status.running));
  }
}

/**
 * One venue: flat or not since the last SHUTDOWN, open orders, last cancel, switch expiry; with
 * no owner running, a venue whose orders lived in the owner's process is flat, and says why.
 */
function venueText(out: Output, venue: VenueStatus, time: string, running: boolean): string {
  if (venue.inProcess === true && !running) {
    return `${text(venue.name)}: ${out.paint('green', 'flat')}: its orders lived in the stopped process; nothing rests there`;
  }
  const flat =
    venue.flat === null
      ? 'no SHUTDOWN yet'
      : venue.flat
        ? out.paint('green', 'flat')
        : out.paint('red', venue.cancelling ? 'NOT FLAT (still cancelling)' : 'NOT FLAT');
  const open = venue.openOrders === null ? 'open orders unknown' : `${venue.openOrders} open`;
  const cancel =
    venue.lastCancelLatencyMs === null ? '' : `; last cancel ${venue.lastCancelLatencyMs} ms`;
  const expiresAt = venue.deadMansSwitchExpiresAt;
  const inMs = expiresAt === null ? Number.NaN : Date.parse(expiresAt) - Date.parse(time);
  const dms =
    expiresAt === null
      ? "dead man's switch not armed"
      : inMs > 0
        ? `dead man's switch expires ${text(expiresAt)} (in ${formatAge(inMs)})`
        : `dead man's switch expired ${text(expiresAt)}`;
  return `${text(venue.name)}: ${flat}, ${open}${cancel}; ${dms}`;
}

export async function statusCommand(context: CommandContext): Promise<ExitCode> {
  const { status, socketProblem, socketForeign, location } = await fetchStatus(context);
  if (socketProblem !== null) {
    context.out.error(
      `governor status: ${socketProblem}; showing the state recorded in the database instead`,
    );
  }
  if (context.json) context.out.json(status);
  else {
    printStatus(context.out, status, socketForeign ? 'foreign' : socketProblem !== null, location);
  }
  return EXIT.OK;
}
