/**
 * `governor verify [--full] [--expect-head HASH|SEQ:HASH] [--json]`: runs `verifyDatabaseAsync`
 * (the same verifier as startup: chain, snapshots, capital, strategies, system mode and, with
 * --full, the file structure; the chain walked in worker threads) on the database opened
 * read-only, and prints its violations. Exit 4 on any.
 */

import type { IntegrityCheckName } from '../../../persistence/integrity/index.js';
import { displayText } from '../../display-text.js';
import {
  type ExpectedHead,
  parseExpectedHead,
  type VerifyDatabaseResult,
  verifyDatabaseAsync,
} from '../../health/verify-database.js';
import {
  booleanFlag,
  type CommandContext,
  requireDatabase,
  resolveConfig,
  stringFlag,
  tellReadNote,
} from '../context.js';
import { CliError, EXIT, type ExitCode } from '../exit-codes.js';
import type { Output } from '../output.js';
import { type CommandLocation, commandLocation, locateCommands } from '../printed-command.js';

/** Below this many events the walk is quick: no progress bar. */
export const PROGRESS_BAR_EVENTS_MIN = 10_000;
const PROGRESS_BAR_WIDTH = 30;

const CHECKS: ReadonlyArray<{ readonly check: IntegrityCheckName; readonly label: string }> = [
  { check: 'EVENT_LOG', label: 'event log' },
  { check: 'SNAPSHOTS', label: 'snapshots' },
  { check: 'CAPITAL', label: 'capital' },
  { check: 'STRATEGIES', label: 'strategies' },
  { check: 'SYSTEM_MODE', label: 'system mode' },
];

/** A progress bar on a terminal (never with --json, never for a short walk); else nothing. */
function progressBar(
  out: Output,
  json: boolean,
): ((checkedEvents: number, totalEvents: number) => void) | undefined {
  if (json || !out.tty) return undefined;
  return (checkedEvents, totalEvents) => {
    if (totalEvents < PROGRESS_BAR_EVENTS_MIN) return;
    const fraction = Math.min(1, checkedEvents / totalEvents);
    const filled = Math.round(fraction * PROGRESS_BAR_WIDTH);
    out.status(
      `verifying [${'#'.repeat(filled)}${'-'.repeat(PROGRESS_BAR_WIDTH - filled)}] ${Math.floor(fraction * 100)}% ${checkedEvents}/${totalEvents} events`,
    );
  };
}

function expectedHeadFlag(context: CommandContext): ExpectedHead | null {
  const text = stringFlag(context, 'expect-head');
  if (text === undefined) return null;
  try {
    return parseExpectedHead(text);
  } catch {
    throw new CliError(
      EXIT.USAGE,
      '--expect-head: expected a 64-character lower-case hex hash, optionally prefixed by "SEQ:"',
    );
  }
}

function scopeOf(result: VerifyDatabaseResult, full: boolean): string {
  const run = result.run;
  if (run === null) return '';
  if (run.full) {
    return full
      ? ' (full, with the file structure check)'
      : ' (whole log: no anchored head to start from)';
  }
  return run.fromSeq === null
    ? ' (nothing after the anchored head; --full checks all)'
    : ` (from seq ${run.fromSeq}, after the anchored head; --full checks all)`;
}

function printResult(
  out: Output,
  result: VerifyDatabaseResult,
  options: { full: boolean; expected: ExpectedHead | null; location: CommandLocation },
): void {
  const mark = (ok: boolean): string =>
    ok ? out.paint('green', 'ok  ') : out.paint('red', 'FAIL');
  const { expected } = options;
  const run = result.run;
  const scope = scopeOf(result, options.full);
  for (const { check, label } of CHECKS) {
    const found = result.violations.filter((v) => v.check === check);
    const detail =
      check === 'EVENT_LOG' ? `: ${run?.eventsChecked ?? 0} events checked${scope}` : '';
    out.line(`${mark(found.length === 0)} ${label}${detail}`);
    for (const violation of found) {
      // A damaged database is the input here: what it holds is shown, never interpreted.
      out.line(`     ${displayText(violation.description)}`);
      out.line(`       cause   ${displayText(violation.rootCause)}`);
      out.line(
        `       action  ${displayText(locateCommands(violation.recommendedAction, options.location))}`,
      );
    }
  }
  if (result.head !== null) {
    out.line(
      `     head ${result.head.seq}:${displayText(result.head.hash)}  (keep it elsewhere: --expect-head)`,
    );
  }
  if (expected !== null) {
    const at = expected.seq === undefined ? '' : `${expected.seq}:`;
    out.line(
      `${mark(result.anchorMatches === true)} expected head ${at}${expected.hash}${result.anchorMatches === true ? ' is in the chain' : ': not in the chain (events were removed or rewritten)'}`,
    );
  }
}

export async function verifyCommand(context: CommandContext): Promise<ExitCode> {
  const expected = expectedHeadFlag(context);
  const config = await resolveConfig(context);
  requireDatabase(config.dbPath);
  // A remembered head is only meaningful against a chain verified from seq 1.
  const full = booleanFlag(context, 'full') || expected !== null;
  const onProgress = progressBar(context.out, context.json);
  let result: VerifyDatabaseResult;
  try {
    result = await verifyDatabaseAsync({
      dbPath: config.dbPath,
      full,
      ...(expected === null ? {} : { expectHead: expected }),
      ...(onProgress === undefined ? {} : { onProgress }),
    });
  } finally {
    context.out.status('');
  }
  if (result.readNote !== null) tellReadNote(context, result.readNote);
  if (context.json) context.out.json(result);
  else printResult(context.out, result, { full, expected, location: commandLocation(config) });
  return result.ok ? EXIT.OK : EXIT.INTEGRITY_FAILURE;
}
