/**
 * `governor shutdown | observe | resume | restart --operator NAME --reason TEXT`: operator
 * actions, refused (exit 2, nothing changed) without both flags. Each is recorded in the
 * database and carried out by the owner of the database, whoever it is (the daemon, an engine
 * that embeds governor), which confirms it; with no owner running, this command carries it out
 * itself and the next start honours it. An owner that does not confirm in time: exit 7. A
 * restart runs its pre-flight in the owner (refused, exit 2, naming each rule, unless --force);
 * one that ends in SHUTDOWN again exits 8.
 */
import { checkOperatorRequest, type OperatorRequest } from '../../operator.js';
import { booleanFlag, type CommandContext, resolveConfig, stringFlag } from '../context.js';
import { CliError, EXIT, type ExitCode } from '../exit-codes.js';
import { type RequestOutcome, sendOwnerRequest } from '../owner-client.js';

export type OperatorAction = 'shutdown' | 'observe' | 'resume' | 'restart';

/** --operator and --reason, checked (names, lengths), or a refusal naming what is missing. */
export function requireOperatorFlags(context: CommandContext, action: string): OperatorRequest {
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
  readonly message?: string;
  readonly code?: string;
  readonly settling?: boolean;
  readonly trigger?: string | null;
  readonly reason?: string | null;
  readonly preflight?: {
    readonly trips?: ReadonlyArray<{ readonly trigger?: string; readonly reason?: string }>;
    readonly warnings?: readonly string[];
  };
}

/** The exact commands an operator runs next, quoted in refusals and outcomes. */
export const NEXT_COMMANDS = {
  restart: 'governor restart --operator NAME --reason TEXT',
  resume: 'governor resume --operator NAME --reason TEXT',
  adjust:
    'governor capital adjust --pool ID --account ID --amount MINOR --operator NAME --reason TEXT',
} as const;

/** A message recorded by the owner, for people: without its `GOV_…: ` code prefix. */
function plain(message: string | undefined, fallback: string): string {
  return (message ?? fallback).replace(/^GOV_[A-Z_]+: /, '');
}

/** The refusal's first line; a pre-flight's trips follow on lines of their own. */
function refusalText(result: Reported): string {
  if (result.code === 'GOV_RESTART_WOULD_TRIP') {
    return 'restart would shut governor down again at once; nothing was changed';
  }
  return plain(result.message, 'not possible');
}

/** What the operator can do about a refusal, when there is something to say. */
function refusalHint(action: string, result: Reported): string[] {
  if (result.code === 'GOV_RESTART_WOULD_TRIP') {
    const trips = result.preflight?.trips ?? [];
    const capital = trips.some((trip) => trip.trigger === 'CAPITAL_INCONSISTENT');
    return [
      'the pre-flight found:',
      ...trips.map((trip) => `  ${trip.trigger ?? '?'}: ${trip.reason ?? ''}`),
      ...(result.preflight?.warnings ?? []).map((warning) => `  warning: ${warning}`),
      capital
        ? `Correct the records first (${NEXT_COMMANDS.adjust}; --dry-run shows the mismatch), then restart again.`
        : 'Fix the cause first (governor status shows the input ages), then restart again.',
      `To restart anyway: ${NEXT_COMMANDS.restart} --force`,
    ];
  }
  if (action === 'resume' && result.state === 'SHUTDOWN') {
    return [`A SHUTDOWN is left only by a restart: ${NEXT_COMMANDS.restart}`];
  }
  if (action === 'restart' && result.state === 'OBSERVE_ONLY') {
    return [`OBSERVE_ONLY is left by a resume: ${NEXT_COMMANDS.resume}`];
  }
  return [];
}

/** A restart (or resume) that ended somewhere other than where it aimed: what to do next. */
function landingHint(action: string, result: Reported): string[] {
  if (result.settling === true) return [];
  if (result.state === 'OBSERVE_ONLY' && (action === 'restart' || action === 'resume')) {
    return [
      `Its startup checks did not all pass: governor status names them; fix them, then ${NEXT_COMMANDS.resume}`,
    ];
  }
  return [];
}

/** What the outcome means to an operator: one line (or a few), and the exit code. */
export function describeOutcome(
  action: string,
  operator: string,
  outcome: RequestOutcome,
): { lines: string[]; exitCode: ExitCode } {
  const result = (outcome.request.result ?? {}) as Reported;
  switch (outcome.kind) {
    case 'confirmed': {
      // Measured on this command's own clock: the owner's may be another (a simulated one).
      const by = `(confirmed by ${result.handledBy ?? 'the owner'}, ${outcome.waitedMs} ms after the request)`;
      if (action === 'restart' && result.state === 'SHUTDOWN') {
        const why = `${result.trigger ?? 'latched'}: ${result.reason ?? ''}`;
        return {
          lines: [
            `${action} by ${operator}: governor is SHUTDOWN again (${why}) ${by}`,
            'The latch holds again and a new alert was raised: read it (governor alerts), fix the cause, then restart.',
          ],
          exitCode: EXIT.RESTARTED_INTO_SHUTDOWN,
        };
      }
      const settling = result.settling === true ? ' (its startup checks are still running)' : '';
      return {
        lines: [
          `${action} by ${operator}: governor is now ${result.state ?? 'unknown'}${settling} ${by}`,
          ...landingHint(action, result),
        ],
        exitCode: EXIT.OK,
      };
    }
    case 'refused':
      return {
        lines: [`refused by the owner: ${refusalText(result)}`, ...refusalHint(action, result)],
        exitCode: EXIT.REFUSED,
      };
    case 'failed':
      return {
        lines: [`failed in the owner: ${plain(result.message, 'unknown error')}`],
        exitCode: EXIT.FAILURE,
      };
    case 'no-owner': {
      if (outcome.status === 'refused') {
        // Refused because no lifecycle runs (STARTING): it needs a running owner. Refused in
        // another state (a resume in SHUTDOWN): the state is the reason, as with an owner.
        const needsOwner = result.state === 'STARTING';
        return {
          lines: [
            `refused: ${refusalText(result)}${needsOwner ? ' (no owner is running)' : ''}`,
            ...refusalHint(action, result),
          ],
          exitCode: needsOwner && action === 'resume' ? EXIT.NOT_RUNNING : EXIT.REFUSED,
        };
      }
      if (outcome.status === 'failed') {
        return {
          lines: [`failed: ${plain(result.message, 'unknown error')}`],
          exitCode: EXIT.FAILURE,
        };
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
  const config = await resolveConfig(context);
  const force = action === 'restart' && booleanFlag(context, 'force');
  const outcome = await sendOwnerRequest(config, {
    command: action,
    ...request,
    ...(force ? { options: { force: true } } : {}),
  });
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
