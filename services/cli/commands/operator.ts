/**
 * `governor shutdown | observe | resume | restart --operator NAME --reason TEXT`: operator
 * actions, refused (exit 2, nothing changed) without both flags. Each is recorded in the
 * database and carried out by the owner of the database, whoever it is (the daemon, an engine
 * that embeds governor), which confirms it; with no owner running, this command carries it out
 * itself and the next start honours it. An owner that does not confirm in time: exit 7. A
 * restart runs its pre-flight in the owner (refused, exit 2, naming each rule, unless --force);
 * one that ends in SHUTDOWN again exits 8.
 */
import { formatDuration } from '../../clock.js';
import { displayText } from '../../display-text.js';
import type { RecordedResultFields } from '../../governor/operator-results.js';
import { operatorCommandEntry } from '../../governor/operator-vocabulary.js';
import { type RequestOutcome, sendOwnerRequest } from '../../governor/ownership/index.js';
import type { ThresholdsOrigin } from '../../governor/preflight.js';
import {
  awaitVenueOutcomes,
  leavesOrders,
  readVenueBaseline,
  recordedOutcomes,
  switchOutcomes,
  type VenueBaseline,
  type VenueOutcome,
} from '../../governor/venue-report.js';
import { checkOperatorRequest, type OperatorRequest } from '../../operator.js';
import type { DaemonConfig } from '../config.js';
import { type CommandContext, ownerRequestTarget, resolveConfig, stringFlag } from '../context.js';
import { CliError, EXIT, type ExitCode } from '../exit-codes.js';
import {
  type CommandLocation,
  commandLocation,
  governorCommand,
  nextCommands,
} from '../printed-command.js';
import { needsVenueFallback, prepareFallbackLate } from './shutdown-fallback.js';
import type { VenuesFlatResult } from './venues.js';

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

/**
 * The line saying whose thresholds the pre-flight used (none when the owner did not say); what
 * the database recorded is shown through `displayText`.
 */
function thresholdsLine(used: ThresholdsOrigin | undefined): string[] {
  switch (used?.source) {
    case 'recorded':
      return [
        `pre-flight with the thresholds owner pid ${used.pid} recorded at ${displayText(used.recordedAt)}`,
      ];
    case 'command':
      return [
        used.recorded === 'unusable'
          ? "pre-flight with this command's thresholds: the ones the owner recorded cannot be used"
          : "pre-flight with this command's thresholds: no owner ever recorded any",
      ];
    case 'owner':
      return ["pre-flight with the running owner's thresholds"];
    default:
      return [];
  }
}

/** A message recorded by the owner, for people: without its `GOV_…: ` code prefix. */
function plain(message: string | undefined, fallback: string): string {
  return (message ?? fallback).replace(/^GOV_[A-Z_]+: /, '');
}

/** The refusal's first line; a pre-flight's trips follow on lines of their own. */
function refusalText(result: RecordedResultFields): string {
  if (result.code === 'GOV_RESTART_WOULD_TRIP') {
    return 'restart would shut governor down again at once; nothing was changed';
  }
  return plain(result.message, 'not possible');
}

/** What the operator can do about a refusal, when there is something to say. */
function refusalHint(
  action: string,
  result: RecordedResultFields,
  location: CommandLocation,
): string[] {
  const next = nextCommands(location);
  if (result.code === 'GOV_RESTART_WOULD_TRIP') {
    const trips = result.preflight?.trips ?? [];
    const capital = trips.some((trip) => trip.trigger === 'CAPITAL_INCONSISTENT');
    return [
      'the pre-flight found:',
      ...trips.map((trip) => `  ${trip.trigger ?? '?'}: ${trip.reason ?? ''}`),
      ...(result.preflight?.warnings ?? []).map((warning) => `  warning: ${warning}`),
      ...thresholdsLine(result.preflight?.thresholds),
      capital
        ? `Correct the records first (${next.adjust}; --dry-run shows the mismatch), then restart again.`
        : `Fix the cause first (${next.status} shows the input ages), then restart again.`,
      `To restart anyway: ${next.restartForced}`,
    ];
  }
  if (action === 'resume' && result.state === 'SHUTDOWN') {
    return [`A SHUTDOWN is left only by a restart: ${next.restart}`];
  }
  if (action === 'restart' && result.state === 'OBSERVE_ONLY') {
    return [`OBSERVE_ONLY is left by a resume: ${next.resume}`];
  }
  return [];
}

/** A restart (or resume) that ended somewhere other than where it aimed: what to do next. */
function landingHint(
  action: string,
  result: RecordedResultFields,
  location: CommandLocation,
): string[] {
  if (result.settling === true) return [];
  if (result.state === 'OBSERVE_ONLY' && (action === 'restart' || action === 'resume')) {
    const next = nextCommands(location);
    return [
      `Its startup checks did not all pass: ${next.status} names them; fix them, then ${next.resume}`,
    ];
  }
  return [];
}

/**
 * What the outcome means to an operator: one line (or a few), and the exit code; the commands
 * it names are for the database at `location`.
 */
export function describeOutcome(
  action: string,
  operator: string,
  outcome: RequestOutcome,
  location: CommandLocation,
): { lines: string[]; exitCode: ExitCode } {
  const result: RecordedResultFields = outcome.request.result ?? {};
  switch (outcome.kind) {
    case 'confirmed': {
      // Measured on this command's own clock: the owner's may be another (a simulated one).
      const by = `(confirmed by ${result.handledBy ?? 'the owner'}, ${outcome.waitedMs} ms after the request)`;
      if (action === 'restart' && result.state === 'SHUTDOWN') {
        const why = `${result.trigger ?? 'latched'}: ${result.reason ?? ''}`;
        return {
          lines: [
            `${action} by ${operator}: governor is SHUTDOWN again (${why}) ${by}`,
            `The latch holds again and a new alert was raised: read it (${nextCommands(location).alerts}), fix the cause, then restart.`,
          ],
          exitCode: EXIT.RESTARTED_INTO_SHUTDOWN,
        };
      }
      const settling = result.settling === true ? ' (its startup checks are still running)' : '';
      return {
        lines: [
          `${action} by ${operator}: governor is now ${result.state ?? 'unknown'}${settling} ${by}`,
          ...thresholdsLine(result.preflightThresholds),
          ...landingHint(action, result, location),
        ],
        exitCode: EXIT.OK,
      };
    }
    case 'refused':
      return {
        lines: [
          `refused by the owner: ${refusalText(result)}`,
          ...refusalHint(action, result, location),
        ],
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
            ...refusalHint(action, result, location),
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
          ...thresholdsLine(result.preflightThresholds),
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

/**
 * The request's options from the entry's option flags (e.g. restart's `--force` → `force`):
 * a boolean flag given counts as true, a string flag as its text; flags not given are left out.
 */
function optionsFromFlags(
  context: CommandContext,
  optionFlags: Readonly<Record<string, string>>,
): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const [flag, key] of Object.entries(optionFlags)) {
    const value = context.values[flag];
    if (value === true || typeof value === 'string') options[key] = value;
  }
  return options;
}

/** A command of the operator vocabulary that needs nothing beyond --operator, --reason and its option flags. */
export async function operatorCommand(context: CommandContext, action: string): Promise<ExitCode> {
  const entry = operatorCommandEntry(action);
  if (context.positionals.length > 0) {
    throw new CliError(EXIT.USAGE, `usage: governor ${action} --operator NAME --reason TEXT`);
  }
  const request = requireOperatorFlags(context, action);
  const config = await resolveConfig(context);
  const options = optionsFromFlags(context, entry.cli.optionFlags ?? {});
  // The kill switch reports flatness: the venues on record and where the log ended, read first.
  const baseline = action === 'shutdown' ? readVenueBaseline(config.dbPath) : null;
  const requestedAtMs = performance.now();
  const early = action === 'shutdown' ? prepareFallbackLate(config, context.env) : null;
  let outcome: Awaited<ReturnType<typeof sendOwnerRequest>>;
  try {
    outcome = await sendOwnerRequest(ownerRequestTarget(config), {
      command: action,
      ...request,
      ...(Object.keys(options).length === 0 ? {} : { options }),
    });
  } finally {
    early?.stopWaiting();
  }
  const described = describeOutcome(action, request.operator, outcome, commandLocation(config));
  const lines = [...described.lines];
  let exitCode = described.exitCode;
  let venues: VenueOutcome[] | null = null;
  if (baseline !== null && baseline.venues.length > 0) {
    venues = await venueOutcomes(config, baseline, outcome, requestedAtMs);
    if (venues !== null) {
      lines.push(...venues.map((venue) => venueLine(venue, commandLocation(config))));
      if (exitCode === EXIT.OK && venues.some(leavesOrders)) exitCode = EXIT.NOT_FLAT;
    }
  }
  // The owner did not confirm every configured venue flat: cancel there from here.
  let fallback: VenuesFlatResult | null = null;
  if (action === 'shutdown' && needsVenueFallback(config, outcome, venues, context.env)) {
    const { flattenConfiguredVenues, venuesFlatLines } = await import('./venues.js');
    lines.push(
      'the owner did not confirm every venue of the config flat: cancelling there from this command (as governor venues flat)',
    );
    // Held to the owner's promise: flat within venueFlatWithinMs (venues flat --within to retry).
    fallback = await flattenConfiguredVenues(
      config,
      context.env,
      config.thresholds.venueFlatWithinMs,
      early?.take() ?? undefined,
    );
    lines.push(...venuesFlatLines(context.out, fallback));
    if (!fallback.allFlat) exitCode = EXIT.NOT_FLAT;
    else if (exitCode === EXIT.NOT_FLAT) exitCode = described.exitCode;
  }
  await early?.releaseUnused();
  if (context.json) {
    context.out.json({
      outcome: outcome.kind,
      request: outcome.request,
      exitCode,
      ...(venues === null ? {} : { venues }),
      ...(fallback === null ? {} : { fallback }),
    });
  } else {
    for (const line of lines) {
      if (exitCode === EXIT.OK) context.out.line(line);
      else context.out.error(line);
    }
  }
  return exitCode;
}

/**
 * Each venue after a kill: the owner's verdict (its VENUE_FLAT / VENUE_NOT_FLAT after the
 * request, waited for up to venueFlatWithinMs and a second), or with no owner running, the dead
 * man's switch on record. Null when there is nothing to say (the request was not carried out).
 */
async function venueOutcomes(
  config: DaemonConfig,
  baseline: VenueBaseline,
  outcome: Awaited<ReturnType<typeof sendOwnerRequest>>,
  requestedAtMs: number,
): Promise<VenueOutcome[] | null> {
  if (outcome.kind === 'confirmed' && baseline.latched) return recordedOutcomes(baseline);
  if (outcome.kind === 'confirmed') {
    return awaitVenueOutcomes(config.dbPath, baseline, {
      requestedAtMs,
      waitMs: config.thresholds.venueFlatWithinMs + VENUE_WAIT_MARGIN_MS,
    });
  }
  if (outcome.kind === 'no-owner' && outcome.status === 'done') {
    return switchOutcomes(config.dbPath, Date.now());
  }
  return null;
}

/** How long past venueFlatWithinMs the command waits for the owner's word on each venue. */
const VENUE_WAIT_MARGIN_MS = 1_000;

function ordersText(count: number | null, what: string): string {
  if (count === null) return `${what} unknown`;
  return `${count} order${count === 1 ? '' : 's'} ${what}`;
}

/** One line per venue, as an operator reads it (names and errors from the database escaped). */
export function venueLine(outcome: VenueOutcome, location: CommandLocation): string {
  return displayText(venueText(outcome, location));
}

/** `governor venues flat` for this database, with the config file that holds the venues' keys. */
function venuesFlatCommand(location: CommandLocation): string {
  const config = location.configPath === null ? [{ shell: '--config' }, { shell: 'FILE' }] : [];
  return governorCommand(location, 'venues flat', config);
}

function venueText(outcome: VenueOutcome, location: CommandLocation): string {
  switch (outcome.kind) {
    case 'flat':
      return `${outcome.venue}: ${outcome.cancelledCount === null ? 'orders cancelled' : ordersText(outcome.cancelledCount, 'cancelled')}, flat ${outcome.afterRequestMs} ms after the request`;
    case 'not-flat':
      return `${outcome.venue}: NOT FLAT after ${formatDuration(outcome.afterMs)}: ${ordersText(outcome.openOrders, 'open')}${outcome.error === null ? '' : ` (${outcome.error})`}; governor keeps cancelling until flat or its alert is acknowledged`;
    case 'no-word':
      return `${outcome.venue}: NOT CONFIRMED FLAT: no word from the owner within ${formatDuration(outcome.waitedMs)} (is the venue registered with it?); check governor status, or ${venuesFlatCommand(location)}`;
    case 'switch':
      return outcome.inMs > 0
        ? `${outcome.venue}: no owner running to cancel; the venue's dead man's switch cancels every order at ${outcome.expiresAt} (in ${formatDuration(outcome.inMs)}), unless renewed`
        : `${outcome.venue}: no owner running to cancel; the venue's dead man's switch expired at ${outcome.expiresAt} (${formatDuration(-outcome.inMs)} ago): its orders were cancelled by the venue`;
    case 'recorded':
      return outcome.flat === true
        ? `${outcome.venue}: already SHUTDOWN before this request: flat on record`
        : `${outcome.venue}: already SHUTDOWN before this request: NOT CONFIRMED FLAT on record, ${ordersText(outcome.openOrders, 'open')} at the last count (governor status)`;
    case 'no-switch':
      return `${outcome.venue}: NOT CONFIRMED FLAT: no owner running to cancel and no dead man's switch armed on record: cancel there now (${venuesFlatCommand(location)})`;
    case 'process-gone':
      return `${outcome.venue}: its orders lived in the stopped process; nothing rests there`;
  }
}
