/**
 * `governor shutdown | observe | resume | restart --operator NAME --reason TEXT`: operator
 * actions, refused (exit 2, nothing changed) without both flags. Each is recorded in the
 * database and carried out by the owner of the database, whoever it is (the daemon, an engine
 * that embeds governor), which confirms it; with no owner running, this command carries it out
 * itself and the next start honours it. An owner that does not confirm in time: exit 7.
 */
import { checkOperatorRequest, type OperatorRequest } from '../../operator.js';
import { createAlertSinks } from '../alerts-config.js';
import { type CommandContext, resolveConfig, stringFlag } from '../context.js';
import { CliError, EXIT, type ExitCode } from '../exit-codes.js';
import { type RequestOutcome, sendOwnerRequest } from '../owner-client.js';

export type OperatorAction = 'shutdown' | 'observe' | 'resume' | 'restart';

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

interface Reported {
  readonly state?: string;
  readonly handledBy?: string;
  readonly latencyMs?: number;
  readonly message?: string;
  readonly settling?: boolean;
}

/** What the outcome means to an operator: one line (or two), and the exit code. */
export function describeOutcome(
  action: string,
  operator: string,
  outcome: RequestOutcome,
): { lines: string[]; exitCode: ExitCode } {
  const result = (outcome.request.result ?? {}) as Reported;
  switch (outcome.kind) {
    case 'confirmed': {
      const settling = result.settling === true ? ' (its startup checks are still running)' : '';
      return {
        lines: [
          `${action} by ${operator}: governor is now ${result.state ?? 'unknown'}${settling} (confirmed by ${result.handledBy ?? 'the owner'}, ${result.latencyMs ?? outcome.waitedMs} ms after the request)`,
        ],
        exitCode: EXIT.OK,
      };
    }
    case 'refused':
      return {
        lines: [`refused by the owner: ${result.message ?? 'not allowed'}`],
        exitCode: EXIT.REFUSED,
      };
    case 'failed':
      return {
        lines: [`failed in the owner: ${result.message ?? 'unknown error'}`],
        exitCode: EXIT.FAILURE,
      };
    case 'no-owner': {
      if (outcome.status === 'refused') {
        // Refused because no lifecycle runs (STARTING): it needs a running owner. Refused in
        // another state (a resume in SHUTDOWN): the state is the reason, as with an owner.
        const needsOwner = result.state === 'STARTING';
        return {
          lines: [
            `refused: ${result.message ?? 'not allowed'}${needsOwner ? ' (no owner is running)' : ''}`,
          ],
          exitCode: needsOwner && action === 'resume' ? EXIT.NOT_RUNNING : EXIT.REFUSED,
        };
      }
      if (outcome.status === 'failed') {
        return { lines: [`failed: ${result.message ?? 'unknown error'}`], exitCode: EXIT.FAILURE };
      }
      if (outcome.status === 'pending') {
        // Carried out or not, its outcome was not recorded: never report that as done.
        return {
          lines: [
            `failed: no owner is running, and the outcome of request ${outcome.request.id} could not be recorded; check governor status and the logs`,
          ],
          exitCode: EXIT.FAILURE,
        };
      }
      const next =
        action === 'restart'
          ? 'the latch is cleared; the next start must pass the startup checks again'
          : action === 'observe'
            ? 'the next start goes to OBSERVE_ONLY'
            : 'the next start honours it';
      return {
        lines: [
          `${action} by ${operator}: governor is now ${result.state ?? 'unknown'} (no owner running: recorded in the database; ${next})`,
        ],
        exitCode: EXIT.OK,
      };
    }
    case 'unconfirmed': {
      const owner =
        outcome.owner === null
          ? 'the owner'
          : `the owner (pid ${outcome.owner.pid} on ${outcome.owner.host})`;
      const fate = outcome.withdrawn
        ? 'the request was withdrawn: nothing was changed'
        : 'the request stays recorded: the owner carries it out when it reads it, or the next start does';
      return {
        lines: [
          `NOT CONFIRMED: ${owner} did not confirm the ${action} within ${Math.round(outcome.waitedMs / 1000)} s; ${fate}.`,
          'Check `governor status`; if the owner hangs, stop it (kill it if it must be): nothing trades without a live owner.',
        ],
        exitCode: EXIT.NOT_CONFIRMED,
      };
    }
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
  const outcome = await sendOwnerRequest(
    config,
    { command: action, ...request },
    createAlertSinks(config.alerts),
  );
  const { lines, exitCode } = describeOutcome(action, request.operator, outcome);
  if (context.json) {
    context.out.json({ outcome: outcome.kind, request: outcome.request, exitCode });
  } else {
    for (const line of lines) {
      if (exitCode === EXIT.OK) context.out.line(line);
      else context.out.error(line);
    }
  }
  return exitCode;
}
