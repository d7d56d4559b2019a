/**
 * `governor shutdown | observe | resume | restart --operator NAME --reason TEXT`: operator
 * actions, refused (exit 2, nothing changed) without both flags. They go to the running daemon
 * over the control socket. With no daemon, `shutdown` latches and `restart` clears the latch
 * directly in the database, through the same audited GovernanceSystem calls; `observe` and
 * `resume` need a running daemon (exit 3).
 */
import { GovernanceSystem } from '../../governor.js';
import { checkOperatorRequest, type OperatorRequest } from '../../operator.js';
import {
  type CommandContext,
  openReadOnly,
  resolveConfig,
  socketPathFor,
  stringFlag,
} from '../context.js';
import { sendControlRequest } from '../control-channel.js';
import { CliError, EXIT, type ExitCode } from '../exit-codes.js';

export type OperatorAction = 'shutdown' | 'observe' | 'resume' | 'restart';

/** resume and restart wait for the startup checks; the daemon answers within its own bound. */
const ACTION_TIMEOUT_MS = 30_000;

function requireOperatorFlags(context: CommandContext, action: OperatorAction): OperatorRequest {
  const operator = stringFlag(context, 'operator');
  const reason = stringFlag(context, 'reason');
  if (operator === undefined || reason === undefined) {
    const missing = [
      operator === undefined ? '--operator NAME' : null,
      reason === undefined ? '--reason TEXT' : null,
    ]
      .filter((flag) => flag !== null)
      .join(' and ');
    throw new CliError(
      EXIT.REFUSED,
      `refused: governor ${action} needs ${missing} (who and why are recorded); nothing was changed`,
    );
  }
  return checkOperatorRequest({ operator, reason }, action);
}

function actOffline(dbPath: string, action: OperatorAction, request: OperatorRequest): unknown {
  openReadOnly(dbPath).close(); // NOT_FOUND when there is no database
  const governance = new GovernanceSystem({ dbPath });
  try {
    if (action === 'restart') governance.operatorRestart(request);
    else governance.operatorShutdown(request);
    return { state: action === 'restart' ? 'STARTING' : 'SHUTDOWN', daemon: false };
  } finally {
    governance.close();
  }
}

export async function operatorCommand(
  context: CommandContext,
  action: OperatorAction,
): Promise<ExitCode> {
  if (context.positionals.length > 0) {
    throw new CliError(EXIT.USAGE, `usage: governor ${action} --operator NAME --reason TEXT`);
  }
  const request = requireOperatorFlags(context, action);
  const config = resolveConfig(context);
  let result: unknown;
  try {
    const response = await sendControlRequest(
      socketPathFor(config),
      { command: action, ...request },
      { timeoutMs: ACTION_TIMEOUT_MS },
    );
    if (!response.ok)
      throw new CliError(EXIT.REFUSED, `refused by the daemon: ${response.message}`);
    result = response.result;
  } catch (error) {
    if (!(error instanceof CliError) || error.exitCode !== EXIT.NOT_RUNNING) throw error;
    if (action === 'observe' || action === 'resume') throw error;
    result = actOffline(config.dbPath, action, request);
  }
  if (context.json) {
    context.out.json(result);
    return EXIT.OK;
  }
  const state = (result as { state?: string }).state ?? 'unknown';
  const where =
    (result as { daemon?: boolean }).daemon === false
      ? ' (no daemon running: recorded in the database)'
      : '';
  context.out.line(`${action} by ${request.operator}: governor is now ${state}${where}`);
  if (action === 'restart' && where !== '') {
    context.out.line(
      'the latch is cleared; the next `governor run` must pass the startup checks again',
    );
  }
  return EXIT.OK;
}
