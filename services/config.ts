/**
 * Thresholds and their defaults (the spec's figures), with validation that names the bad key
 * and its allowed range, and asserts the relationships between thresholds.
 */
import type { Mode } from '../machines/types.js';
import { MODES } from '../machines/types.js';
import { GovernorError } from './errors.js';

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
  readonly marketDataStaleMsMax: number;
  /** Unhealthy when the last event-log write is older than this. Spec: 10 min. */
  readonly eventLogWriteStaleMsMax: number;
  /** Fail-safe MARKET_DATA_STALL when no market data for this long. Spec: 10 min. */
  readonly marketDataStallMs: number;
  /** Fail-safe EVENT_LOG_WRITE_FAILURE when no successful event-log write for this long. Spec: 15 min. */
  readonly eventLogWriteFailureMs: number;
  /** Fail-safe SNAPSHOT_WRITE_FAILURE when no successful snapshot write for this long. Spec: 25 h. */
  readonly snapshotWriteFailureMs: number;
  /** A heartbeat is appended to the event log this often. Spec: 30 s. */
  readonly heartbeatIntervalMs: number;
  /** No successful heartbeat for this long: heartbeat lost, and the gate's lease expires. Spec: 2 min. */
  readonly heartbeatLossMs: number;
  /** The periodic fail-safe check (on top of deadline-driven detection). Spec example: 1 min. */
  readonly failSafeCheckIntervalMs: number;
  /** The periodic (incremental) data integrity check. Spec example: 1 h. */
  readonly integrityCheckIntervalMs: number;
  /** CHECKING fails safe into OBSERVE_ONLY when the startup checks take longer than this. */
  readonly startupChecksTimeoutMs: number;
  /** Each adapter ping must answer within this. */
  readonly adapterPingTimeoutMs: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = Object.freeze({
  errorRatePerMinuteMax: 10,
  errorWindowMs: MINUTE_MS,
  marketDataStaleMsMax: 5 * MINUTE_MS,
  eventLogWriteStaleMsMax: 10 * MINUTE_MS,
  marketDataStallMs: 10 * MINUTE_MS,
  eventLogWriteFailureMs: 15 * MINUTE_MS,
  snapshotWriteFailureMs: 25 * HOUR_MS,
  heartbeatIntervalMs: 30 * SECOND_MS,
  heartbeatLossMs: 2 * MINUTE_MS,
  failSafeCheckIntervalMs: MINUTE_MS,
  integrityCheckIntervalMs: HOUR_MS,
  startupChecksTimeoutMs: 60 * SECOND_MS,
  adapterPingTimeoutMs: 5 * SECOND_MS,
});

/** The allowed range of each threshold: [minimum, maximum], inclusive. */
export const THRESHOLD_RANGES: { readonly [K in keyof Thresholds]: readonly [number, number] } = {
  errorRatePerMinuteMax: [1, 100_000],
  errorWindowMs: [SECOND_MS, HOUR_MS],
  marketDataStaleMsMax: [SECOND_MS, 7 * DAY_MS],
  eventLogWriteStaleMsMax: [SECOND_MS, 7 * DAY_MS],
  marketDataStallMs: [SECOND_MS, 7 * DAY_MS],
  eventLogWriteFailureMs: [SECOND_MS, 7 * DAY_MS],
  snapshotWriteFailureMs: [MINUTE_MS, 30 * DAY_MS],
  heartbeatIntervalMs: [100, HOUR_MS],
  heartbeatLossMs: [200, DAY_MS],
  failSafeCheckIntervalMs: [100, DAY_MS],
  integrityCheckIntervalMs: [SECOND_MS, 7 * DAY_MS],
  startupChecksTimeoutMs: [100, HOUR_MS],
  adapterPingTimeoutMs: [10, 10 * MINUTE_MS],
};

function invalid(key: string, message: string, details: Record<string, unknown> = {}): never {
  throw new GovernorError('GOV_INVALID_CONFIG', `${key}: ${message}`, { key, ...details });
}

/**
 * Merges `overrides` onto the defaults and validates every key. Unknown keys, non-integers,
 * out-of-range values and broken relationships are refused with GOV_INVALID_CONFIG.
 */
export function resolveThresholds(overrides: unknown = {}, keyPrefix = 'thresholds'): Thresholds {
  if (overrides === null || typeof overrides !== 'object' || Array.isArray(overrides)) {
    invalid(keyPrefix, 'expected an object of thresholds in ms');
  }
  const merged: Record<string, number> = { ...DEFAULT_THRESHOLDS };
  for (const [key, value] of Object.entries(overrides)) {
    const range = (THRESHOLD_RANGES as Record<string, readonly [number, number] | undefined>)[key];
    if (range === undefined) {
      invalid(
        `${keyPrefix}.${key}`,
        `unknown threshold; known: ${Object.keys(THRESHOLD_RANGES).join(', ')}`,
      );
    }
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      invalid(`${keyPrefix}.${key}`, `expected an integer, got ${JSON.stringify(value)}`, {
        range,
      });
    }
    if (value < range[0] || value > range[1]) {
      invalid(
        `${keyPrefix}.${key}`,
        `${value} is outside the allowed range ${range[0]}..${range[1]}`,
        {
          range,
        },
      );
    }
    merged[key] = value;
  }
  const thresholds = merged as unknown as Thresholds;
  assertRelationships(thresholds, keyPrefix);
  return Object.freeze(thresholds);
}

function assertRelationships(t: Thresholds, keyPrefix: string): void {
  const below = (a: keyof Thresholds, b: keyof Thresholds, strict: boolean): void => {
    const ok = strict ? t[a] < t[b] : t[a] <= t[b];
    if (!ok) {
      invalid(
        `${keyPrefix}.${a}`,
        `must be ${strict ? 'below' : 'at most'} ${keyPrefix}.${b} (${t[a]} vs ${t[b]})`,
      );
    }
  };
  below('heartbeatIntervalMs', 'heartbeatLossMs', true);
  below('marketDataStaleMsMax', 'marketDataStallMs', false);
  below('eventLogWriteStaleMsMax', 'eventLogWriteFailureMs', false);
  below('heartbeatIntervalMs', 'eventLogWriteStaleMsMax', true);
  below('adapterPingTimeoutMs', 'startupChecksTimeoutMs', true);
}

export function parseMode(value: unknown, key = 'desiredMode'): Mode {
  if (typeof value === 'string' && (MODES as readonly string[]).includes(value))
    return value as Mode;
  throw new GovernorError('GOV_INVALID_MODE', `${key}: expected one of ${MODES.join(', ')}`, {
    key,
    value: typeof value === 'string' ? value : typeof value,
  });
}
