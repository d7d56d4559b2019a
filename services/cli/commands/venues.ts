/**
 * `governor venues flat`: cancels every working order at the venues of the config file's
 * `venues` section itself (credentials from the environment variables it names), all at once,
 * and confirms by listing open orders until each venue counts 0 or `--within` runs out. It
 * prints one line per venue; exit 0 when every venue is confirmed flat, 9 otherwise. It needs
 * no database and no owner: it is the way to flat when the engine that owns the venues is frozen
 * or gone, and the fallback of `governor shutdown` when the owner does not confirm flat.
 */

import { SystemClock } from '../../clock.js';
import { displayText } from '../../display-text.js';
import { type FlattenReport, flattenVenues } from '../../venues/flatten.js';
import type { DaemonConfig } from '../config-layers.js';
import { type CommandContext, resolveConfig, stringFlag } from '../context.js';
import { CliError, EXIT, type ExitCode } from '../exit-codes.js';
import type { Output } from '../output.js';
import { buildConfiguredVenues } from '../venue-clients.js';

export const DEFAULT_WITHIN_MS = 30_000;
const WITHIN_MS_MAX = 600_000;

/** One venue's outcome, as printed and as `--json` gives it. */
export interface VenueFlatLine {
  readonly name: string;
  readonly flat: boolean;
  readonly openOrders: number | null;
  readonly flatAfterMs: number | null;
  readonly attempts: number;
  /** Why the venue is not flat (the last error, or why it could not be reached at all). */
  readonly error: string | null;
}

export interface VenuesFlatResult {
  readonly allFlat: boolean;
  readonly venues: readonly VenueFlatLine[];
  readonly elapsedMs: number;
}

/** The configured venues' clients, built (ccxt loaded) and not yet asked anything. */
export type PreparedVenues = Awaited<ReturnType<typeof buildConfiguredVenues>>;

/**
 * Builds the configured venues' clients ahead of need, markets loaded: loading ccxt and the
 * markets takes seconds on a busy host, which `governor shutdown` spends while it waits for a
 * frozen owner, not after.
 */
export function prepareConfiguredVenues(
  config: DaemonConfig,
  env: NodeJS.ProcessEnv,
): Promise<PreparedVenues> {
  return buildConfiguredVenues(config.venues, env, { loadMarkets: true });
}

/**
 * Flattens the configured venues (with the clients `prepared` built, when given); a venue
 * without credentials is reported not flat.
 */
export async function flattenConfiguredVenues(
  config: DaemonConfig,
  env: NodeJS.ProcessEnv,
  withinMs: number = DEFAULT_WITHIN_MS,
  prepared?: Promise<PreparedVenues>,
): Promise<VenuesFlatResult> {
  const clock = new SystemClock();
  const startMs = clock.monotonicNow();
  const { venues, unbuilt, release } = await (prepared ??
    buildConfiguredVenues(config.venues, env));
  let report: FlattenReport | null = null;
  // SystemClock's timers are unref'd: without this the process could exit in a backoff wait.
  const keepAlive = setInterval(() => {}, 60_000);
  try {
    report =
      venues.length === 0
        ? null
        : await flattenVenues(venues, {
            clock,
            callTimeoutMs: Math.max(...config.venues.map((v) => v.requestTimeoutMs)) + 500,
            stopAfterMs: withinMs,
            notFlatAfterMs: withinMs,
          });
  } finally {
    clearInterval(keepAlive);
    await release();
  }
  const lines: VenueFlatLine[] = [
    ...(report?.venues ?? []).map((result) => ({
      name: result.venue,
      flat: result.flat,
      openOrders: result.openOrders ?? null,
      flatAfterMs: result.flatAfterMs ?? null,
      attempts: result.attempts,
      error: result.flat ? null : (result.lastError ?? null),
    })),
    ...unbuilt.map((venue) => ({
      name: venue.name,
      flat: false,
      openOrders: null,
      flatAfterMs: null,
      attempts: 0,
      error: venue.reason,
    })),
  ];
  return {
    allFlat: lines.every((line) => line.flat),
    venues: lines,
    elapsedMs: clock.monotonicNow() - startMs,
  };
}

/** One line per venue: FLAT with its time, or NOT FLAT with the open orders and the error. */
export function venuesFlatLines(out: Output, result: VenuesFlatResult): string[] {
  return result.venues.map((venue) => {
    const name = displayText(venue.name);
    if (venue.flat) {
      const rounds = `${venue.attempts} round${venue.attempts === 1 ? '' : 's'}`;
      return `${out.paint('green', 'FLAT')}      ${name}: 0 open orders, confirmed after ${Math.round(venue.flatAfterMs ?? 0)} ms (${rounds})`;
    }
    const open =
      venue.openOrders === null ? 'open orders unknown' : `${venue.openOrders} open orders`;
    const error = venue.error === null ? '' : `; ${displayText(venue.error)}`;
    return `${out.paint('red', 'NOT FLAT')}  ${name}: ${open}${error}`;
  });
}

function withinFlag(context: CommandContext): number {
  const text = stringFlag(context, 'within');
  if (text === undefined) return DEFAULT_WITHIN_MS;
  if (!/^\d{1,7}$/.test(text) || Number(text) < 1 || Number(text) > WITHIN_MS_MAX) {
    throw new CliError(
      EXIT.USAGE,
      `--within: expected milliseconds in 1..${WITHIN_MS_MAX}, got "${text}"`,
    );
  }
  return Number(text);
}

export async function venuesFlatCommand(context: CommandContext): Promise<ExitCode> {
  const withinMs = withinFlag(context);
  const config = await resolveConfig(context);
  if (config.venues.length === 0) {
    throw new CliError(
      EXIT.REFUSED,
      `no venues configured${config.configPath === null ? ' (no config file)' : ` in ${config.configPath}`}: add a venues section naming each exchange and the environment variables of its credentials`,
    );
  }
  const result = await flattenConfiguredVenues(config, context.env, withinMs);
  if (context.json) context.out.json(result);
  else for (const line of venuesFlatLines(context.out, result)) context.out.line(line);
  return result.allFlat ? EXIT.OK : EXIT.NOT_FLAT;
}
