/**
 * The daemon's configuration, layer by layer: defaults, then the demo profile (with --demo),
 * then a config file (JSON or YAML; /etc/governor/governor.yaml when none is named and it
 * exists), then GOVERNOR_* environment variables, then flags; each layer validated with an error
 * that names the bad key, where it came from, and the allowed range. No alert sink is loaded here.
 * The checks the layers share are config-values.ts; the `authority` section and its flags are
 * authority-layers.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import type { Mode } from '../../machines/types.js';
import {
  DEFAULT_THRESHOLDS,
  parseMode,
  RENAMED_THRESHOLDS,
  resolveThresholds,
  THRESHOLD_RANGES,
  type Thresholds,
} from '../config.js';
import { describeError } from '../errors.js';
import {
  type AlertsConfig,
  type AlertsLayer,
  alertsEnvLayer,
  alertsFileLayer,
  mergeAlertsLayers,
} from './alerts-layers.js';
import {
  type AuthorityConfig,
  type AuthorityFlags,
  type AuthorityLayer,
  authorityFileLayer,
  authorityFlagLayer,
  resolveAuthority,
} from './authority-layers.js';
import {
  booleanText,
  checkLogLevel,
  checkPort,
  checkString,
  checkToken,
  integerText,
  invalid,
  isRecord,
  setThreshold,
  thresholdEnvName,
} from './config-values.js';
import { DEFAULT_CONFIG_PATH, DEFAULT_DB_PATH } from './paths.js';
import { parseVenuesSection, type VenueConfig } from './venues-config.js';

export { AUTHORITY_KEYS, type AuthorityConfig } from './authority-layers.js';
export {
  BEARER_TOKEN_LENGTH_MAX,
  BEARER_TOKEN_LENGTH_MIN,
  thresholdEnvName,
} from './config-values.js';

export interface ApiConfig {
  readonly enabled: boolean;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly bearerToken: string | null;
}

export interface DaemonConfig {
  readonly dbPath: string;
  readonly desiredMode: Mode;
  readonly logLevel: string;
  readonly api: ApiConfig;
  /** Overrides the control socket path (default: beside the database). */
  readonly controlSocket: string | null;
  readonly thresholds: Thresholds;
  /** The alert sinks besides the daemon's terminal (none by default). */
  readonly alerts: AlertsConfig;
  /** The exchange accounts `governor venues flat` cancels at (the config file's `venues`). */
  readonly venues: readonly VenueConfig[];
  /** The fleet authority, or null: none (the local database is the only authority). */
  readonly authority: AuthorityConfig | null;
  /** The config file that was read, or null (none named, and no file at the default path). */
  readonly configPath: string | null;
}

/** What flags may set (the command line parses them; undefined means "not given"). */
export interface ConfigFlags extends AuthorityFlags {
  readonly config?: string | undefined;
  readonly db?: string | undefined;
  readonly desiredMode?: string | undefined;
  readonly logLevel?: string | undefined;
  readonly apiHost?: string | undefined;
  readonly apiPort?: string | undefined;
  readonly noApi?: boolean | undefined;
  readonly socket?: string | undefined;
  /** `name=ms` pairs from repeated `--threshold`. */
  readonly threshold?: readonly string[] | undefined;
}

export { DEFAULT_CONFIG_PATH, DEFAULT_DB_PATH } from './paths.js';
export const DEFAULT_API_PORT = 8080;
export const CONFIG_FILE_BYTES_MAX = 1_048_576;

/**
 * Thresholds of the `--demo` profile: seconds instead of minutes, so a newcomer sees a
 * fail-safe within a few seconds. A config file, env or flags still override them.
 */
export const DEMO_THRESHOLDS: Partial<Thresholds> = Object.freeze({
  // An error storm's errors age out 10 s after the gate closed them off: a restart passes then.
  errorWindowMs: 10_000,
  heartbeatIntervalMs: 1_000,
  heartbeatLossMs: 4_000,
  marketDataUnhealthyAfterMs: 8_000,
  marketDataShutdownAfterMs: 8_000,
  eventLogUnhealthyAfterMs: 10_000,
  eventLogShutdownAfterMs: 15_000,
  failSafeCheckIntervalMs: 1_000,
  integrityCheckIntervalMs: 5_000,
  startupChecksTimeoutMs: 10_000,
  adapterPingTimeoutMs: 2_000,
});

/** The keys a config file may hold at its top level. */
export const TOP_LEVEL_KEYS: readonly string[] = [
  'db',
  'desiredMode',
  'logLevel',
  'api',
  'controlSocket',
  'thresholds',
  'alerts',
  'venues',
  'authority',
];
/** The keys of its `api` section. */
export const API_KEYS: readonly string[] = ['enabled', 'host', 'port', 'bearerToken'];

interface Layer {
  db?: string;
  desiredMode?: Mode;
  logLevel?: string;
  api?: Partial<{ -readonly [K in keyof ApiConfig]: ApiConfig[K] }>;
  controlSocket?: string;
  thresholds?: Partial<Record<keyof Thresholds, number>>;
  alerts?: AlertsLayer;
  venues?: VenueConfig[];
  authority?: AuthorityLayer;
}

/**
 * The YAML parser, loaded on first use: a command without a YAML config never pays for it. The
 * bundled command (CommonJS) has `require`, through which the build bundles the parser into it
 * (its code then comes from the command's code cache: loaded from its 71 files it cost 35–64 ms
 * a start); the ES modules of dist/ load the installed package.
 */
function parseYaml(text: string): unknown {
  const yaml = (
    typeof require === 'function' ? require('yaml') : createRequire(import.meta.url)('yaml')
  ) as typeof import('yaml');
  return yaml.parse(text);
}

/** Reads and validates a config file; unknown keys are refused. */
export function readConfigFile(path: string): Layer {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    invalid('--config', `cannot read ${path}: ${describeError(error)}`);
  }
  if (Buffer.byteLength(text) > CONFIG_FILE_BYTES_MAX) {
    invalid('--config', `${path} is larger than ${CONFIG_FILE_BYTES_MAX} bytes`);
  }
  let parsed: unknown;
  try {
    parsed = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    invalid(
      '--config',
      `${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${describeError(error)}`,
    );
  }
  if (parsed === null || parsed === undefined) return {};
  return fileLayer(path, parsed);
}

function fileLayer(path: string, parsed: unknown): Layer {
  const at = (key: string): string => `${path}: ${key}`;
  if (!isRecord(parsed)) invalid(at('(root)'), 'expected a mapping of keys');
  const layer: Layer = {};
  for (const key of Object.keys(parsed)) {
    if (!TOP_LEVEL_KEYS.includes(key)) {
      invalid(at(key), `unknown key; known: ${TOP_LEVEL_KEYS.join(', ')}`);
    }
  }
  if (parsed.db !== undefined) layer.db = checkString(at('db'), parsed.db);
  if (parsed.desiredMode !== undefined)
    layer.desiredMode = parseMode(parsed.desiredMode, at('desiredMode'));
  if (parsed.logLevel !== undefined)
    layer.logLevel = checkLogLevel(at('logLevel'), parsed.logLevel);
  if (parsed.controlSocket !== undefined) {
    layer.controlSocket = checkString(at('controlSocket'), parsed.controlSocket);
  }
  if (parsed.api !== undefined) layer.api = apiLayer(at('api'), parsed.api);
  if (parsed.alerts !== undefined && parsed.alerts !== null) {
    layer.alerts = alertsFileLayer(at('alerts'), parsed.alerts);
  }
  if (parsed.venues !== undefined && parsed.venues !== null) {
    layer.venues = parseVenuesSection(at('venues'), parsed.venues);
  }
  if (parsed.authority !== undefined && parsed.authority !== null) {
    layer.authority = authorityFileLayer(at('authority'), parsed.authority);
  }
  if (parsed.thresholds !== undefined) {
    if (!isRecord(parsed.thresholds))
      invalid(at('thresholds'), 'expected a mapping of thresholds in ms');
    const thresholds: Partial<Record<keyof Thresholds, number>> = {};
    for (const [name, value] of Object.entries(parsed.thresholds)) {
      setThreshold(thresholds, at(`thresholds.${name}`), name, value);
    }
    layer.thresholds = thresholds;
  }
  return layer;
}

function apiLayer(key: string, value: unknown): NonNullable<Layer['api']> {
  if (!isRecord(value)) invalid(key, 'expected a mapping');
  const api: NonNullable<Layer['api']> = {};
  for (const name of Object.keys(value)) {
    if (!API_KEYS.includes(name))
      invalid(`${key}.${name}`, `unknown key; known: ${API_KEYS.join(', ')}`);
  }
  if (value.enabled !== undefined) {
    if (typeof value.enabled !== 'boolean') invalid(`${key}.enabled`, 'expected true or false');
    api.enabled = value.enabled;
  }
  if (value.host !== undefined) api.host = checkString(`${key}.host`, value.host);
  if (value.port !== undefined) api.port = checkPort(`${key}.port`, value.port);
  if (value.bearerToken !== undefined)
    api.bearerToken = checkToken(`${key}.bearerToken`, value.bearerToken);
  return api;
}

/** The GOVERNOR_* environment layer. An unknown GOVERNOR_THRESHOLDS_* variable is refused. */
export function envLayer(env: NodeJS.ProcessEnv): Layer {
  const layer: Layer = {};
  const api: NonNullable<Layer['api']> = {};
  const value = (name: string): string | undefined => {
    const text = env[name];
    return text === undefined || text === '' ? undefined : text;
  };
  const db = value('GOVERNOR_DB');
  if (db !== undefined) layer.db = db;
  const mode = value('GOVERNOR_DESIRED_MODE');
  if (mode !== undefined) layer.desiredMode = parseMode(mode, 'GOVERNOR_DESIRED_MODE');
  const level = value('GOVERNOR_LOG_LEVEL');
  if (level !== undefined) layer.logLevel = checkLogLevel('GOVERNOR_LOG_LEVEL', level);
  const socket = value('GOVERNOR_CONTROL_SOCKET');
  if (socket !== undefined) layer.controlSocket = socket;
  const enabled = value('GOVERNOR_API_ENABLED');
  if (enabled !== undefined) api.enabled = booleanText('GOVERNOR_API_ENABLED', enabled);
  const host = value('GOVERNOR_API_HOST');
  if (host !== undefined) api.host = host;
  const port = value('GOVERNOR_API_PORT');
  if (port !== undefined)
    api.port = checkPort('GOVERNOR_API_PORT', integerText('GOVERNOR_API_PORT', port));
  const token = value('GOVERNOR_API_TOKEN');
  if (token !== undefined) api.bearerToken = checkToken('GOVERNOR_API_TOKEN', token);
  if (Object.keys(api).length > 0) layer.api = api;
  const alerts = alertsEnvLayer(value);
  if (alerts !== null) layer.alerts = alerts;

  const byEnvName = new Map(
    [...Object.keys(THRESHOLD_RANGES), ...Object.keys(RENAMED_THRESHOLDS)].map((k) => [
      thresholdEnvName(k),
      k,
    ]),
  );
  const thresholds: Partial<Record<keyof Thresholds, number>> = {};
  for (const [name, text] of Object.entries(env)) {
    if (!name.startsWith('GOVERNOR_THRESHOLDS_') || text === undefined || text === '') continue;
    const key = byEnvName.get(name);
    if (key === undefined) {
      invalid(name, `unknown threshold variable; known: ${[...byEnvName.keys()].join(', ')}`);
    }
    setThreshold(thresholds, name, key, integerText(name, text));
  }
  if (Object.keys(thresholds).length > 0) layer.thresholds = thresholds;
  return layer;
}

/** The flag layer. */
export function flagLayer(flags: ConfigFlags): Layer {
  const layer: Layer = {};
  if (flags.db !== undefined) layer.db = checkString('--db', flags.db);
  if (flags.desiredMode !== undefined)
    layer.desiredMode = parseMode(flags.desiredMode, '--desired-mode');
  if (flags.logLevel !== undefined) layer.logLevel = checkLogLevel('--log-level', flags.logLevel);
  if (flags.socket !== undefined) layer.controlSocket = checkString('--socket', flags.socket);
  const api: NonNullable<Layer['api']> = {};
  if (flags.noApi === true) api.enabled = false;
  if (flags.apiHost !== undefined) api.host = checkString('--api-host', flags.apiHost);
  if (flags.apiPort !== undefined)
    api.port = checkPort('--api-port', integerText('--api-port', flags.apiPort));
  if (Object.keys(api).length > 0) layer.api = api;
  const thresholds: Partial<Record<keyof Thresholds, number>> = {};
  for (const pair of flags.threshold ?? []) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(pair);
    if (match === null) invalid('--threshold', `expected NAME=MS, got "${pair}"`);
    const [, name = '', text = ''] = match;
    setThreshold(thresholds, `--threshold ${name}`, name, integerText(`--threshold ${name}`, text));
  }
  if (Object.keys(thresholds).length > 0) layer.thresholds = thresholds;
  const authority = authorityFlagLayer(flags);
  if (Object.keys(authority).length > 0) layer.authority = authority;
  return layer;
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/**
 * Resolves the configuration: flags > env > file > demo profile > defaults. Throws
 * GOV_INVALID_CONFIG naming the key (and its source) on any invalid or unknown value. The alert
 * sinks' own options are checked by building them (config.ts `resolveDaemonConfig`).
 */
export function resolveConfigLayers(
  flags: ConfigFlags,
  options: { env?: NodeJS.ProcessEnv; demo?: boolean; defaultConfigPath?: string } = {},
): DaemonConfig {
  const env = options.env ?? process.env;
  const configPath = configPathOf(flags, env, options.defaultConfigPath ?? DEFAULT_CONFIG_PATH);
  const file = configPath === null ? {} : readConfigFile(configPath);
  const fromFlags = flagLayer(flags);
  const layers: Layer[] = [
    options.demo === true ? { thresholds: { ...DEMO_THRESHOLDS } } : {},
    file,
    envLayer(env),
    fromFlags,
  ];
  const pick = <K extends keyof Layer>(key: K): Layer[K] | undefined =>
    layers.reduce<Layer[K] | undefined>((found, layer) => layer[key] ?? found, undefined);
  const api = Object.assign({}, ...layers.map((l) => l.api ?? {})) as Partial<ApiConfig>;
  const thresholds = resolveThresholds({
    ...DEFAULT_THRESHOLDS,
    ...Object.assign({}, ...layers.map((l) => l.thresholds ?? {})),
  });
  const resolvedApi: ApiConfig = {
    enabled: api.enabled ?? true,
    host: api.host ?? '127.0.0.1',
    port: api.port ?? DEFAULT_API_PORT,
    bearerToken: api.bearerToken ?? null,
  };
  if (resolvedApi.enabled && !isLoopback(resolvedApi.host) && resolvedApi.bearerToken === null) {
    invalid(
      'api.host',
      `${resolvedApi.host} is not a loopback address: set api.bearerToken (or GOVERNOR_API_TOKEN) too`,
    );
  }
  const alerts = mergeAlertsLayers(layers.map((l) => l.alerts));
  return {
    dbPath: pick('db') ?? DEFAULT_DB_PATH,
    desiredMode: pick('desiredMode') ?? 'AGGRESSIVE',
    logLevel: pick('logLevel') ?? (options.demo === true ? 'warn' : 'info'),
    api: resolvedApi,
    controlSocket: pick('controlSocket') ?? null,
    thresholds,
    alerts,
    venues: pick('venues') ?? [],
    authority: resolveAuthority(
      file.authority ?? {},
      fromFlags.authority ?? {},
      env.GOVERNOR_AUTHORITY === '' ? undefined : env.GOVERNOR_AUTHORITY,
    ),
    configPath,
  };
}

/** The file named by --config or GOVERNOR_CONFIG, else the default path when a file is there. */
function configPathOf(
  flags: ConfigFlags,
  env: NodeJS.ProcessEnv,
  defaultConfigPath: string,
): string | null {
  const named = flags.config ?? (env.GOVERNOR_CONFIG === '' ? undefined : env.GOVERNOR_CONFIG);
  if (named !== undefined) return named;
  return existsSync(defaultConfigPath) ? defaultConfigPath : null;
}
