/**
 * The `governor` command's exit codes, and the error type that carries one. Scripts and
 * supervisors rely on these numbers: docs/operations.md lists them, and they never change.
 */
import { describeError, isGovernorError } from '../errors.js';

export const EXIT = {
  /** The command did what was asked. */
  OK: 0,
  /** Bad usage: an unknown command or flag, a missing argument. Nothing was changed. */
  USAGE: 1,
  /** Refused: missing --operator/--reason, invalid configuration, or not allowed in this state. Nothing was changed. */
  REFUSED: 2,
  /** The command needs a running owner and none runs (`resume` with nothing running). */
  NOT_RUNNING: 3,
  /** `verify` found an integrity problem (broken chain, head mismatch, capital mismatch). */
  INTEGRITY_FAILURE: 4,
  /** The named thing does not exist: the database file, an alert id. */
  NOT_FOUND: 5,
  /** An unexpected failure (storage, I/O, a timeout on the control socket). */
  FAILURE: 6,
  /** An owner is running but did not confirm the operator request in time (see the message). */
  NOT_CONFIRMED: 7,
  /**
   * `restart` was carried out but governor is in SHUTDOWN again (a forced restart into a trip,
   * or a trigger during its startup checks): the latch holds again; read the new alert.
   */
  RESTARTED_INTO_SHUTDOWN: 8,
  /**
   * `venues flat` (or the venue fallback of `shutdown`): at least one venue is not confirmed flat:
   * orders still open, no answer, or no credentials in the environment.
   */
  NOT_FLAT: 9,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error the command reports as one line on stderr, exiting with `exitCode`. */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    /** The command's usage line, printed on a line of its own after the message. */
    readonly usage: string | null = null,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** The exit code for any error thrown by a command. */
export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof CliError) return error.exitCode;
  if (!isGovernorError(error)) return EXIT.FAILURE;
  switch (error.code) {
    case 'GOV_INVALID_CONFIG':
    case 'GOV_INVALID_MODE':
    case 'GOV_OPERATOR_REQUIRED':
    case 'GOV_REASON_REQUIRED':
    case 'GOV_INVALID_OPERATOR_ACTION':
    case 'GOV_INVALID_ARGUMENT':
    case 'GOV_NOT_A_GOVERNOR_DATABASE':
    case 'GOV_SCHEMA_TOO_NEW':
    case 'GOV_SCHEMA_NEEDS_MIGRATION':
    case 'GOV_LIFECYCLE_RUNNING':
    case 'GOV_DATABASE_OWNED':
    case 'GOV_RESTART_WOULD_TRIP':
    case 'GOV_INVALID_AMOUNT':
    case 'GOV_INVALID_TEXT':
    case 'GOV_INVALID_SCOPE':
    case 'GOV_AUTHORITY_SCHEMA':
    case 'GOV_AUTHORITY_DENIED':
    case 'GOV_SCOPE_KILLED':
      return EXIT.REFUSED;
    case 'GOV_UNKNOWN_ALERT':
    case 'GOV_UNKNOWN_POOL':
    case 'GOV_UNKNOWN_ACCOUNT':
      return EXIT.NOT_FOUND;
    default:
      return EXIT.FAILURE;
  }
}

/**
 * An error's message for people: a GovernorError's `GOV_…: ` prefix dropped (its code stays in
 * `--json` output and the docs), so a refusal reads "observe is not possible in OBSERVE_ONLY".
 */
export function plainMessage(error: unknown): string {
  const message = describeError(error);
  return message.replace(/^GOV_[A-Z_]+: /, '');
}
