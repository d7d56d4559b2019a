/**
 * Builds the configured venues for the command line: a ccxt client per venue (credentials from
 * the environment variables the config names, the API URL overridden when it says so) made a
 * Venue by the ccxt adapter; without a dead man's switch for the commands that only cancel, with
 * the adapter's default one for the daemon, which renews it. ccxt is loaded here, lazily: one
 * exchange's module when its file is where ccxt 4 keeps it (a third of the time of loading all
 * of ccxt), all of ccxt otherwise.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describeError } from '../errors.js';
import { type CcxtExchange, type CcxtVenue, ccxtVenue } from '../venues/ccxt-venue.js';
import type { Venue } from '../venues/venue.js';
import { CliError, EXIT } from './exit-codes.js';
import { type VenueConfig, venueCredentials } from './venues-config.js';

/** A configured venue this command could not build, and why. */
export interface UnbuiltVenue {
  readonly name: string;
  readonly reason: string;
}

interface ExchangeClient extends CcxtExchange {
  urls: { api: unknown };
  loadMarkets?: () => Promise<unknown>;
  /** ccxt's shared keep-alive connection pool (an undici dispatcher), once it made a request. */
  readonly fetchDispatcher?: { destroy?: () => Promise<void> | void } | undefined;
}

type ExchangeClass = new (config: Record<string, unknown>) => ExchangeClient;

/** The ccxt class of `exchangeId`, or undefined when ccxt has no such exchange. */
async function exchangeClass(exchangeId: string): Promise<ExchangeClass | undefined> {
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve('ccxt');
  } catch {
    throw new CliError(
      EXIT.REFUSED,
      'the venues need ccxt, an optional peer dependency of governor: npm install ccxt@4',
    );
  }
  // ccxt 4 ships each exchange as js/src/<id>.js beside dist/ccxt.cjs.
  const single = join(dirname(entry), '..', 'js', 'src', `${exchangeId}.js`);
  if (existsSync(single)) {
    const module = (await import(pathToFileURL(single).href)) as { default?: unknown };
    if (typeof module.default === 'function') return module.default as ExchangeClass;
  }
  const ccxt = ((await import('ccxt')) as { default: Record<string, unknown> }).default;
  const found = Object.hasOwn(ccxt, exchangeId) ? ccxt[exchangeId] : undefined;
  return typeof found === 'function' ? (found as ExchangeClass) : undefined;
}

/** Every URL of the client's API replaced by `url` (a local exchange for tests). */
function overrideApiUrl(client: ExchangeClient, url: string): void {
  const api = client.urls.api;
  client.urls.api =
    typeof api === 'object' && api !== null
      ? Object.fromEntries(Object.keys(api).map((key) => [key, url]))
      : url;
}

export interface BuildVenuesOptions {
  /**
   * Build each venue with the adapter's default dead man's switch (the venue's recommended
   * countdown where the adapter knows one), for an owner that renews it. Default false: none.
   */
  readonly deadMansSwitch?: boolean;
  /**
   * Load each exchange's markets before returning (ccxt's cancel loads them first: two public
   * calls), for a caller that builds ahead of need. Failures are left for the cancel to meet.
   */
  readonly loadMarkets?: boolean;
}

/**
 * Releases the clients' connections; `graceMs` lets the calls sent or queued so far (a planned
 * stop's disarms) finish first, for at most that long.
 */
export type ReleaseVenues = (graceMs?: number) => Promise<void>;

/**
 * The venues of `configs` that have credentials, built; the others with the reason; and
 * `release`, which drops the clients' kept-alive connections (ccxt keeps idle sockets open up to
 * a minute or more, which would hold the command's process after its work is done).
 */
export async function buildConfiguredVenues(
  configs: readonly VenueConfig[],
  env: NodeJS.ProcessEnv,
  options: BuildVenuesOptions = {},
): Promise<{ venues: Venue[]; unbuilt: UnbuiltVenue[]; release: ReleaseVenues }> {
  const venues: CcxtVenue[] = [];
  const unbuilt: UnbuiltVenue[] = [];
  const clients: ExchangeClient[] = [];
  const release: ReleaseVenues = async (graceMs = 0) => {
    if (graceMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
      });
      await Promise.race([Promise.allSettled(venues.map((venue) => venue.whenIdle())), grace]);
      clearTimeout(timer);
    }
    await Promise.allSettled(clients.map(async (client) => client.fetchDispatcher?.destroy?.()));
  };
  for (const config of configs) {
    const credentials = venueCredentials(config, env);
    if ('missing' in credentials) {
      unbuilt.push({
        name: config.name,
        reason: `no credentials: ${credentials.missing.join(', ')} not set`,
      });
      continue;
    }
    const Exchange = await exchangeClass(config.exchange);
    if (Exchange === undefined) {
      unbuilt.push({ name: config.name, reason: `ccxt has no exchange ${config.exchange}` });
      continue;
    }
    try {
      const client = new Exchange({
        apiKey: credentials.apiKey,
        secret: credentials.secret,
        ...(credentials.password === undefined ? {} : { password: credentials.password }),
        timeout: config.requestTimeoutMs,
        // One kill pass: wait for nothing but the exchange itself.
        enableRateLimit: false,
      });
      clients.push(client);
      if (config.apiUrl !== null) overrideApiUrl(client, config.apiUrl);
      venues.push(
        ccxtVenue(client, {
          name: config.name,
          ...(options.deadMansSwitch === true ? {} : { deadMansSwitch: false }),
          keepReduceOnly: config.keepReduceOnly,
          ...(config.symbols === null ? {} : { symbols: config.symbols }),
        }),
      );
    } catch (error) {
      unbuilt.push({ name: config.name, reason: describeError(error) });
    }
  }
  if (options.loadMarkets === true) {
    // Each bounded by the client's own request timeout.
    await Promise.allSettled(clients.map(async (client) => client.loadMarkets?.()));
  }
  return { venues, unbuilt, release };
}

/**
 * The daemon's venues: every configured venue built with its dead man's switch, or a refusal
 * (exit 2) naming the venue and what is missing. Credentials are checked before ccxt is loaded.
 */
export async function buildDaemonVenues(
  configs: readonly VenueConfig[],
  env: NodeJS.ProcessEnv,
): Promise<{ venues: Venue[]; release: ReleaseVenues }> {
  if (configs.length === 0) return { venues: [], release: async () => {} };
  for (const config of configs) {
    const credentials = venueCredentials(config, env);
    if ('missing' in credentials) {
      throw new CliError(
        EXIT.REFUSED,
        `venue ${config.name}: no credentials: ${credentials.missing.join(', ')} not set; the daemon cancels at every configured venue on SHUTDOWN, so it does not start without them`,
      );
    }
  }
  const built = await buildConfiguredVenues(configs, env, { deadMansSwitch: true });
  const unbuilt = built.unbuilt[0];
  if (unbuilt !== undefined) {
    await built.release();
    throw new CliError(EXIT.REFUSED, `venue ${unbuilt.name}: ${unbuilt.reason}`);
  }
  return { venues: built.venues, release: built.release };
}
