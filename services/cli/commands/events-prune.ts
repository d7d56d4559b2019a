/**
 * `governor events prune --through-seq N | --older-than DURATION --archive PATH --operator NAME
 * --reason TEXT`: the audited, offline prune of the event log (services/governor/event-log-prune.ts).
 * Refused (exit 2, nothing written) while an owner runs, without who and why, or when it would
 * cut what the log must keep; a database or archive that does not verify exits 4, nothing pruned.
 */
import { displayText } from '../../display-text.js';
import { type CommandContext, requireDatabase, resolveConfig, stringFlag } from '../context.js';
import { CliError, EXIT, type ExitCode } from '../exit-codes.js';
import { commandLocation, governorCommand } from '../printed-command.js';
import { parseAgeMs } from './events.js';
import { requireOperatorFlags } from './operator.js';

const USAGE =
  'usage: governor events prune --through-seq N | --older-than DURATION --archive PATH --operator NAME --reason TEXT';

function selection(context: CommandContext): { throughSeq: number } | { olderThanMs: number } {
  const seqText = stringFlag(context, 'through-seq');
  const ageText = stringFlag(context, 'older-than');
  if ((seqText === undefined) === (ageText === undefined)) {
    throw new CliError(
      EXIT.USAGE,
      'exactly one of --through-seq N and --older-than DURATION is required',
      USAGE,
    );
  }
  if (seqText !== undefined) {
    const seq = /^\d{1,15}$/.test(seqText.trim()) ? Number(seqText.trim()) : 0;
    if (!Number.isSafeInteger(seq) || seq < 1) {
      throw new CliError(
        EXIT.USAGE,
        `--through-seq: expected an integer ≥ 1, got "${displayText(seqText)}"`,
      );
    }
    return { throughSeq: seq };
  }
  const ageMs = parseAgeMs(ageText ?? '');
  if (ageMs === null || ageMs < 1) {
    throw new CliError(
      EXIT.USAGE,
      `--older-than: expected a duration such as 90d, 12h, 30m, 45s, got "${displayText(ageText ?? '')}"`,
    );
  }
  return { olderThanMs: ageMs };
}

export async function eventsPruneCommand(context: CommandContext): Promise<ExitCode> {
  if (context.positionals.length > 0) throw new CliError(EXIT.USAGE, USAGE);
  const selected = selection(context);
  const archivePath = stringFlag(context, 'archive');
  if (archivePath === undefined) throw new CliError(EXIT.USAGE, '--archive is required', USAGE);
  const request = requireOperatorFlags(context, 'events prune');
  const config = await resolveConfig(context);
  requireDatabase(config.dbPath);
  const { pruneEventLogOffline } = await import('../../governor/event-log-prune.js');
  const outcome = pruneEventLogOffline({
    dbPath: config.dbPath,
    archivePath,
    ...selected,
    ...request,
  });
  const { out } = context;
  if (
    outcome.kind === 'unverified' ||
    (outcome.kind === 'pruned' && outcome.violationsAfter.length > 0)
  ) {
    if (context.json) out.json({ ...outcome, exitCode: EXIT.INTEGRITY_FAILURE });
    const violations = outcome.kind === 'unverified' ? outcome.violations : outcome.violationsAfter;
    out.error(
      outcome.kind === 'unverified'
        ? `governor events prune: the ${outcome.what} does not verify; nothing was pruned${outcome.what === 'archive' ? ' (the archive was removed)' : ''}:`
        : 'governor events prune: pruned, but the verification after it found violations:',
    );
    for (const violation of violations) {
      out.error(`  ${displayText(violation.description)}`);
      out.error(`    cause   ${displayText(violation.rootCause)}`);
    }
    out.error(
      `run ${displayText(governorCommand(commandLocation(config), 'verify', ['--full']))} for the details`,
    );
    return EXIT.INTEGRITY_FAILURE;
  }
  if (context.json) {
    out.json({ ...outcome, exitCode: EXIT.OK });
    return EXIT.OK;
  }
  if (outcome.kind === 'nothing') {
    out.line(displayText(outcome.message));
    return EXIT.OK;
  }
  out.line(
    displayText(
      `events prune by ${request.operator}: ${outcome.prunedEvents} events through seq ${outcome.base.seq} pruned; the log now starts after ${outcome.base.seq}:${outcome.base.hash}, attested by OPERATOR_ACTION seq ${outcome.attestationSeq}`,
    ),
  );
  out.line(
    displayText(`archive ${outcome.archivePath} (verified alone; keep it with its .head.json)`),
  );
  if (outcome.head !== null) {
    out.line(
      displayText(
        `head ${outcome.head.seq}:${outcome.head.hash}  (keep it elsewhere: --expect-head)`,
      ),
    );
  }
  return EXIT.OK;
}
