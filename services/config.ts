/**
 * Thresholds and their defaults (the spec's figures), with validation that names the bad key
 * and its allowed range, and asserts the relationships between thresholds.
 */
import type { Mode } from '../machines/types.js';
import { MODES } from '../machines/types.js';
import { readOwnEntries } from '../persistence/plain-copy.js';
import { clip } from './display-text.js';
import { assert, GovernorError } from './errors.js';

const SECOND_MS = 1_000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

export interface Thresholds {
  /** Unhealthy when more than this many errors fall in the error window. Spec: 10 per minute. */
  readonly errorRatePerMinuteMax: number;
  /** The sliding window over which errors are counted. */
  readonly errorWindowMs: number;
  /** Unhealthy when market data is older than this. Spec: 5 min. */
  readonly marketDataUnhealthyAfterMs: number;
  /** Unhealthy when the last event-log write is older than this. Spec: 10 min. */
  readonly eventLogUnhealthyAfterMs: number;
  /** Fail-safe MARKET_DATA_STALL when no market data for this long. Spec: 10 min. */
  readonly marketDataShutdownAfterMs: number;
  /** Fail-safe EVENT_LOG_WRITE_FAILURE when no successful event-log write for this long. Spec: 15 min. */
  readonly eventLogShutdownAfterMs: number;
  /** Fail-safe SNAPSHOT_WRITE_FAILURE when no successful snapshot write for this long. Spec: 25 h. */
  readonly snapshotShutdownAfterMs: number;
  /** A heartbeat is appended to the event log this often. Spec: 30 s. */
  readonly heartbeatIntervalMs: number;
  /** No successful heartbeat for this long: heartbeat lost, and the gate's lease expires. Spec: 2 min. */
  readonly heartbeatLossMs: number;
  /** The periodic fail-safe check (on top of deadline-driven detection). Spec example: 1 min. */
  readonly failSafeCheckIntervalMs: number;
  /** The periodic (incremental) data integrity check. Spec example: 1 h. */
  readonly integrityCheckIntervalMs: number;
  /** The background scrub re-verifies the whole database once per this while running. */
  readonly integrityScrubPassMs: number;
  /** CHECKING fails safe into OBSERVE_ONLY when the startup checks take longer than this. */
  readonly startupChecksTimeoutMs: number;
  /** Each adapter ping must answer within this. */
  readonly adapterPingTimeoutMs: number;
  /** A venue not confirmed flat this long after a SHUTDOWN's cancel: one CRITICAL alert. */
  readonly venueFlatWithinMs: number;
  /** Each venue's dead man's switch cancels its orders unless renewed within this. */
  readonly deadMansSwitchTimeoutMs: number;
  /** How often governor renews each venue's dead man's switch (while the gate may open). */
  readonly deadMansSwitchRenewEveryMs: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = Object.freeze({
  errorRatePerMinuteMax: 10,
  errorWindowMs: MINUTE_MS,
  marketDataUnhealthyAfterMs: 5 * MINUTE_MS,
  eventLogUnhealthyAfterMs: 10 * MINUTE_MS,
  marketDataShutdownAfterMs: 10 * MINUTE_MS,
  eventLogShutdownAfterMs: 15 * MINUTE_MS,
  snapshotShutdownAfterMs: 25 * HOUR_MS,
  heartbeatIntervalMs: 30 * SECOND_MS,
  heartbeatLossMs: 2 * MINUTE_MS,
  failSafeCheckIntervalMs: MINUTE_MS,
  integrityCheckIntervalMs: HOUR_MS,
  integrityScrubPassMs: DAY_MS,
  startupChecksTimeoutMs: 60 * SECOND_MS,
  adapterPingTimeoutMs: 5 * SECOND_MS,
  venueFlatWithinMs: 5 * SECOND_MS,
  deadMansSwitchTimeoutMs: 60 * SECOND_MS,
  deadMansSwitchRenewEveryMs: 20 * SECOND_MS,
});

/** The allowed range of each threshold: [minimum, maximum], inclusive. */
export const THRESHOLD_RANGES: { readonly [K in keyof Thresholds]: readonly [number, number] } = {
  errorRatePerMinuteMax: [1, 100_000],
  errorWindowMs: [SECOND_MS, HOUR_MS],
  marketDataUnhealthyAfterMs: [SECOND_MS, 7 * DAY_MS],
  eventLogUnhealthyAfterMs: [SECOND_MS, 7 * DAY_MS],
  marketDataShutdownAfterMs: [SECOND_MS, 7 * DAY_MS],
  eventLogShutdownAfterMs: [SECOND_MS, 7 * DAY_MS],
  snapshotShutdownAfterMs: [MINUTE_MS, 30 * DAY_MS],
  heartbeatIntervalMs: [100, HOUR_MS],
  heartbeatLossMs: [200, DAY_MS],
  failSafeCheckIntervalMs: [100, DAY_MS],
  integrityCheckIntervalMs: [SECOND_MS, 7 * DAY_MS],
  integrityScrubPassMs: [MINUTE_MS, 30 * DAY_MS],
  startupChecksTimeoutMs: [100, HOUR_MS],
  adapterPingTimeoutMs: [10, 10 * MINUTE_MS],
  venueFlatWithinMs: [100, HOUR_MS],
  deadMansSwitchTimeoutMs: [SECOND_MS, DAY_MS],
  deadMansSwitchRenewEveryMs: [100, DAY_MS],
};

function invalid(key: string, message: string, details: Record<string, unknown> = {}): never {
  throw new GovernorError('GOV_INVALID_CONFIG', `${key}: ${message}`, { key, ...details });
}

/** The longest key or string value an error message repeats; longer ones are cut. */
const QUOTED_LENGTH_MAX = 80;

function quoted(text: string): string {
  return JSON.stringify(clip(text, QUOTED_LENGTH_MAX));
}

function keyText(key: string | symbol): string {
  return clip(String(key), QUOTED_LENGTH_MAX);
}

/** A value for an error message, whatever its type: never throws (JSON.stringify(10n) does). */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(value);
    case 'bigint':
      return `${value}n (a bigint)`;
    case 'string':
      return `${quoted(value)} (a string)`;
    case 'symbol':
      return `${value.toString()} (a symbol)`;
    case 'function':
      return 'a function';
    default:
      return value === null ? 'null' : Array.isArray(value) ? 'an array' : 'an object';
  }
}

/**
 * The caller's own enumerable keys (symbols included, so they are refused, not ignored), each
 * with its value read once (persistence/plain-copy.ts).
 */
function ownEntries(overrides: object, keyPrefix: string): Array<[string | symbol, unknown]> {
  return readOwnEntries(overrides, (key) =>
    key === null
      ? invalid(keyPrefix, 'the keys could not be read')
      : invalid(`${keyPrefix}.${keyText(key)}`, 'the value could not be read'),
  );
}

/**
 * Thresholds renamed (to say what they do: unhealthy after, shut down after): their old names
 * are still accepted, in code, configuration files and the environment, and mean the new ones.
 */
export const RENAMED_THRESHOLDS: Readonly<Record<string, keyof Thresholds>> = Object.freeze({
  marketDataStaleMsMax: 'marketDataUnhealthyAfterMs',
  eventLogWriteStaleMsMax: 'eventLogUnhealthyAfterMs',
  marketDataStallMs: 'marketDataShutdownAfterMs',
  eventLogWriteFailureMs: 'eventLogShutdownAfterMs',
  snapshotWriteFailureMs: 'snapshotShutdownAfterMs',
});

/** The threshold `name` means (its name, or a name it had before), or null for none. */
export function thresholdNamed(name: string): keyof Thresholds | null {
  if (Object.hasOwn(THRESHOLD_RANGES, name)) return name as keyof Thresholds;
  return Object.hasOwn(RENAMED_THRESHOLDS, name) ? (RENAMED_THRESHOLDS[name] ?? null) : null;
}

/**
 * One threshold's value checked: an integer in its range. `key` is where the caller set it (a
 * key path, a flag, an environment variable), named in the GOV_INVALID_CONFIG it throws.
 */
export function checkThresholdValue(
  key: string,
  threshold: keyof Thresholds,
  value: unknown,
): number {
  const range = THRESHOLD_RANGES[threshold];
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    const expected = `expected an integer number of ms in ${range[0]}..${range[1]}`;
    invalid(key, `${expected}, got ${describeValue(value)}`, { range });
  }
  if (value < range[0] || value > range[1]) {
    invalid(key, `${value} is outside the allowed range ${range[0]}..${range[1]}`, { range });
  }
  return value;
}

/**
 * Merges `overrides` onto the defaults and validates every key. Unknown keys, values that are
 * not integers (of any type: bigint, string, NaN, objects…), out-of-range values and broken
 * relationships are refused with GOV_INVALID_CONFIG naming a key the caller set.
 */
export function resolveThresholds(overrides: unknown = {}, keyPrefix = 'thresholds'): Thresholds {
  if (overrides === null || typeof overrides !== 'object' || Array.isArray(overrides)) {
    invalid(keyPrefix, 'expected an object of thresholds in ms');
  }
  const merged: Record<string, number> = { ...DEFAULT_THRESHOLDS };
  const given = new Set<keyof Thresholds>();
  for (const [key, value] of ownEntries(overrides, keyPrefix)) {
    const name = `${keyPrefix}.${keyText(key)}`;
    const threshold = typeof key === 'string' ? thresholdNamed(key) : null;
    if (threshold === null) {
      invalid(name, `unknown threshold; known: ${Object.keys(THRESHOLD_RANGES).join(', ')}`);
    }
    if (value === undefined) continue;
    if (given.has(threshold)) {
      invalid(name, `sets ${threshold} a second time (under its old name, or its new one)`);
    }
    merged[threshold] = checkThresholdValue(name, threshold, value);
    given.add(threshold);
  }
  const thresholds = merged as unknown as Thresholds;
  assertRelationships(thresholds, keyPrefix, given);
  return Object.freeze(thresholds);
}

/** `smaller` < `larger` (strict) or ≤: each relationship the thresholds must keep. */
const RELATIONSHIPS: ReadonlyArray<{
  smaller: keyof Thresholds;
  larger: keyof Thresholds;
  strict: boolean;
}> = [
  { smaller: 'heartbeatIntervalMs', larger: 'heartbeatLossMs', strict: true },
  { smaller: 'marketDataUnhealthyAfterMs', larger: 'marketDataShutdownAfterMs', strict: false },
  { smaller: 'eventLogUnhealthyAfterMs', larger: 'eventLogShutdownAfterMs', strict: false },
  { smaller: 'heartbeatIntervalMs', larger: 'eventLogUnhealthyAfterMs', strict: true },
  { smaller: 'adapterPingTimeoutMs', larger: 'startupChecksTimeoutMs', strict: true },
  { smaller: 'deadMansSwitchRenewEveryMs', larger: 'deadMansSwitchTimeoutMs', strict: true },
];

/**
 * Refuses a broken relationship, naming the key the caller set. The defaults keep every
 * relationship, so at least one side was set; when both were, the one that differs from its
 * default is named (the other is then the default), else both.
 */
function assertRelationships(
  t: Thresholds,
  keyPrefix: string,
  given: ReadonlySet<keyof Thresholds>,
): void {
  for (const { smaller, larger, strict } of RELATIONSHIPS) {
    if (strict ? t[smaller] < t[larger] : t[smaller] <= t[larger]) continue;
    const set = [smaller, larger].filter((key) => given.has(key));
    const changed = set.filter((key) => t[key] !== DEFAULT_THRESHOLDS[key]);
    const blamed = changed.length === 1 ? changed : set;
    assert(
      blamed.length > 0,
      `the default thresholds keep ${smaller} ${strict ? '<' : '≤'} ${larger}`,
    );
    const quote = (key: keyof Thresholds): string =>
      `${keyPrefix}.${key} (${t[key]}${given.has(key) ? '' : ', its default'})`;
    const names = blamed.map((key) => `${keyPrefix}.${key}`);
    const message =
      blamed.length === 2
        ? `must keep ${smaller} ${strict ? '<' : '≤'} ${larger}, got ${t[smaller]} vs ${t[larger]}`
        : blamed[0] === smaller
          ? `must be ${strict ? 'below' : 'at most'} ${quote(larger)}, got ${t[smaller]}`
          : `must be ${strict ? 'above' : 'at least'} ${quote(smaller)}, got ${t[larger]}`;
    invalid(names.join(', '), message, { key: names[0], keys: names });
  }
}

export function parseMode(value: unknown, key = 'desiredMode'): Mode {
  if (typeof value === 'string' && (MODES as readonly string[]).includes(value))
    return value as Mode;
  throw new GovernorError('GOV_INVALID_MODE', `${key}: expected one of ${MODES.join(', ')}`, {
    key,
    value: typeof value === 'string' ? value : typeof value,
  });
}
