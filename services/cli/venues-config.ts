/**
 * The `venues` section of the config file: the exchange accounts `governor venues flat` (and the
 * shutdown's fallback) cancels at itself. Each names a ccxt exchange id and the environment
 * variables that hold its credentials; the credentials themselves never live in the file (a key
 * there is refused). An API URL may be overridden (a local exchange for tests): https anywhere,
 * plain http only to a loopback address.
 */
import { GovernorError } from '../errors.js';

export interface VenueConfig {
  /** Unique among the venues; in the command's output. Default the exchange id. */
  readonly name: string;
  /** ccxt's exchange id: kraken, okx, bybit, ... */
  readonly exchange: string;
  /** The environment variable that holds the API key. */
  readonly apiKeyEnv: string;
  /** The environment variable that holds the secret. */
  readonly secretEnv: string;
  /** The environment variable that holds the passphrase (OKX), when the exchange needs one. */
  readonly passwordEnv: string | null;
  /** Replaces every URL of the exchange's API (`exchange.urls.api`), or null. */
  readonly apiUrl: string | null;
  readonly symbols: readonly string[] | null;
  readonly keepReduceOnly: boolean;
  /** ccxt's timeout for one request, in ms. */
  readonly requestTimeoutMs: number;
}

export const VENUES_MAX = 32;
export const VENUE_KEYS: readonly string[] = [
  'name',
  'exchange',
  'apiKeyEnv',
  'secretEnv',
  'passwordEnv',
  'apiUrl',
  'symbols',
  'keepReduceOnly',
  'requestTimeoutMs',
];
/** Keys that would put a credential in the file: refused, with the variable to use instead. */
const CREDENTIAL_KEYS: Readonly<Record<string, string>> = {
  apiKey: 'apiKeyEnv',
  key: 'apiKeyEnv',
  secret: 'secretEnv',
  password: 'passwordEnv',
  passphrase: 'passwordEnv',
  privateKey: 'secretEnv',
};
export const DEFAULT_REQUEST_TIMEOUT_MS = 2_000;
const REQUEST_TIMEOUT_MS_MAX = 30_000;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const EXCHANGE_ID = /^[a-z][a-z0-9]{1,31}$/;

function invalid(key: string, message: string): never {
  throw new GovernorError('GOV_INVALID_CONFIG', `${key}: ${message}`, { key });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function envName(key: string, value: unknown): string {
  if (typeof value !== 'string' || !ENV_NAME.test(value)) {
    invalid(key, 'expected the name of an environment variable (letters, digits, _)');
  }
  return value;
}

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function apiUrl(key: string, value: unknown): string {
  if (typeof value !== 'string' || value.length > 2_048) invalid(key, 'expected a URL');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    invalid(key, `not a URL: ${value}`);
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    invalid(key, 'no credentials, query or fragment in the URL');
  }
  if (url.protocol === 'https:') return value.replace(/\/+$/, '');
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return value.replace(/\/+$/, '');
  return invalid(key, 'expected https, or plain http to a loopback address (a local exchange)');
}

/** Parses and checks the `venues` list of a config file; `at` names its place for errors. */
export function parseVenuesSection(at: string, value: unknown): VenueConfig[] {
  if (!Array.isArray(value)) invalid(at, 'expected a list of venues');
  if (value.length > VENUES_MAX) invalid(at, `at most ${VENUES_MAX} venues`);
  const venues = value.map((entry, index) => parseVenue(`${at}[${index}]`, entry));
  const names = new Set<string>();
  for (const venue of venues) {
    if (names.has(venue.name)) invalid(at, `two venues are named ${venue.name}`);
    names.add(venue.name);
  }
  return venues;
}

function parseVenue(at: string, value: unknown): VenueConfig {
  if (!isRecord(value)) invalid(at, 'expected a mapping');
  for (const key of Object.keys(value)) {
    const instead = CREDENTIAL_KEYS[key];
    if (instead !== undefined) {
      invalid(
        `${at}.${key}`,
        `credentials never go in the config file; put it in an environment variable and name that variable with ${instead}`,
      );
    }
    if (!VENUE_KEYS.includes(key)) {
      invalid(`${at}.${key}`, `unknown key; known: ${VENUE_KEYS.join(', ')}`);
    }
  }
  if (typeof value.exchange !== 'string' || !EXCHANGE_ID.test(value.exchange)) {
    invalid(`${at}.exchange`, "expected a ccxt exchange id such as 'kraken'");
  }
  const name = value.name ?? value.exchange;
  if (typeof name !== 'string' || name.trim() === '' || name.length > 64) {
    invalid(`${at}.name`, 'expected a non-empty name of at most 64 characters');
  }
  if (value.apiKeyEnv === undefined) invalid(`${at}.apiKeyEnv`, 'required');
  if (value.secretEnv === undefined) invalid(`${at}.secretEnv`, 'required');
  let symbols: string[] | null = null;
  if (value.symbols !== undefined) {
    if (
      !Array.isArray(value.symbols) ||
      value.symbols.length === 0 ||
      value.symbols.length > 256 ||
      value.symbols.some((s) => typeof s !== 'string' || s.trim() === '')
    ) {
      invalid(`${at}.symbols`, "expected a non-empty list of ccxt symbols such as 'BTC/USD'");
    }
    symbols = value.symbols as string[];
  }
  if (value.keepReduceOnly !== undefined && typeof value.keepReduceOnly !== 'boolean') {
    invalid(`${at}.keepReduceOnly`, 'expected true or false');
  }
  const timeout = value.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  if (
    typeof timeout !== 'number' ||
    !Number.isInteger(timeout) ||
    timeout < 100 ||
    timeout > REQUEST_TIMEOUT_MS_MAX
  ) {
    invalid(`${at}.requestTimeoutMs`, `expected an integer in 100..${REQUEST_TIMEOUT_MS_MAX}`);
  }
  return {
    name,
    exchange: value.exchange,
    apiKeyEnv: envName(`${at}.apiKeyEnv`, value.apiKeyEnv),
    secretEnv: envName(`${at}.secretEnv`, value.secretEnv),
    passwordEnv:
      value.passwordEnv === undefined ? null : envName(`${at}.passwordEnv`, value.passwordEnv),
    apiUrl: value.apiUrl === undefined ? null : apiUrl(`${at}.apiUrl`, value.apiUrl),
    symbols,
    keepReduceOnly: value.keepReduceOnly === true,
    requestTimeoutMs: timeout,
  };
}

/** A venue's credentials from the environment, or the names of the variables that are unset. */
export function venueCredentials(
  venue: VenueConfig,
  env: NodeJS.ProcessEnv,
):
  | { readonly apiKey: string; readonly secret: string; readonly password: string | undefined }
  | { readonly missing: readonly string[] } {
  const read = (name: string | null): string | undefined =>
    name === null || env[name] === undefined || env[name] === '' ? undefined : env[name];
  const apiKey = read(venue.apiKeyEnv);
  const secret = read(venue.secretEnv);
  const password = read(venue.passwordEnv);
  const missing = [
    ...(apiKey === undefined ? [venue.apiKeyEnv] : []),
    ...(secret === undefined ? [venue.secretEnv] : []),
    ...(venue.passwordEnv !== null && password === undefined ? [venue.passwordEnv] : []),
  ];
  if (apiKey === undefined || secret === undefined || missing.length > 0) return { missing };
  return { apiKey, secret, password };
}

/** Whether any of `venues` has its credentials in the environment. */
export function anyVenueCredentials(
  venues: readonly VenueConfig[],
  env: NodeJS.ProcessEnv,
): boolean {
  return venues.some((venue) => !('missing' in venueCredentials(venue, env)));
}
