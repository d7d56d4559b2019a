/**
 * `governor shutdown`'s own cancel at the config's venues, for when the owner does not confirm
 * every venue flat: whether it is needed, and the venue clients it builds while a late owner is
 * still awaited (so that the cancels go out as the confirmation deadline passes).
 */
import type { RequestOutcome } from '../../governor/ownership/index.js';
import type { VenueOutcome } from '../../governor/venue-report.js';
import type { DaemonConfig } from '../config.js';
import { anyVenueCredentials } from '../venues-config.js';
import type { PreparedVenues } from './venues.js';

/**
 * How long a kill waits for the owner before it builds the config's venue clients for its
 * fallback: a live owner confirms in tens of milliseconds, and loading ccxt blocks this
 * process's event loop (so it would slow every confirmation if done at once).
 */
const FALLBACK_PREPARE_AFTER_MS = 1_000;

/**
 * The fallback's venue clients, built while a late owner is still awaited: after
 * FALLBACK_PREPARE_AFTER_MS with no answer, and only when the config names venues with
 * credentials. `take` hands them to the fallback; `releaseUnused` closes them otherwise.
 */
export function prepareFallbackLate(config: DaemonConfig, env: NodeJS.ProcessEnv) {
  if (config.venues.length === 0 || !anyVenueCredentials(config.venues, env)) return null;
  let prepared: Promise<PreparedVenues> | null = null;
  let taken = false;
  const timer = setTimeout(() => {
    prepared = import('./venues.js').then((m) => m.prepareConfiguredVenues(config, env));
    // Awaited by `take` or `releaseUnused`; never left to reject unobserved.
    prepared.catch(() => {});
  }, FALLBACK_PREPARE_AFTER_MS);
  return {
    stopWaiting: (): void => clearTimeout(timer),
    take: (): Promise<PreparedVenues> | null => {
      taken = true;
      return prepared;
    },
    releaseUnused: async (): Promise<void> => {
      if (taken || prepared === null) return;
      await (prepared as Promise<PreparedVenues>).then(
        (built) => built.release(),
        () => {},
      );
    },
  };
}

/**
 * Whether `governor shutdown` cancels at the config's venues itself: the config names venues
 * with credentials in the environment, and the owner did not confirm each of them flat (it did
 * not answer, failed, is not running, or reported a venue not flat or nothing about it).
 */
export function needsVenueFallback(
  config: DaemonConfig,
  outcome: RequestOutcome,
  venues: readonly VenueOutcome[] | null,
  env: NodeJS.ProcessEnv,
): boolean {
  if (config.venues.length === 0 || !anyVenueCredentials(config.venues, env)) return false;
  if (outcome.kind === 'refused') return false;
  const flat = new Set((venues ?? []).filter((v) => v.kind === 'flat').map((v) => v.venue));
  return config.venues.some((venue) => !flat.has(venue.name));
}
