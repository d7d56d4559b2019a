/**
 * The value checks every layer of the daemon's configuration shares (file, environment, flags):
 * strings, ports, integers and booleans written as text, the log level, the health API's bearer
 * token, and a threshold set by any of its names. Each refuses with GOV_INVALID_CONFIG naming
 * the key and where it came from, and the allowed range.
 */
import {
  checkThresholdValue,
  THRESHOLD_RANGES,
  type Thresholds,
  thresholdNamed,
} from '../config.js';
import { GovernorError } from '../errors.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Refuses `key` with GOV_INVALID_CONFIG: `<key>: <message>`. */
export function invalid(key: string, message: string): never {
  throw new GovernorError('GOV_INVALID_CONFIG', `${key}: ${message}`, { key });
}

/** GOVERNOR_THRESHOLDS_<NAME> for a threshold key: heartbeatIntervalMs → HEARTBEAT_INTERVAL_MS. */
export function thresholdEnvName(key: string): string {
  return `GOVERNOR_THRESHOLDS_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/** Sets the threshold `name` means (old names included) to `value`, checked; `key` names where. */
export function setThreshold(
  thresholds: Partial<Record<keyof Thresholds, number>>,
  key: string,
  name: string,
  value: unknown,
): void {
  const threshold = thresholdNamed(name);
  if (threshold === null) {
    invalid(key, `unknown threshold; known: ${Object.keys(THRESHOLD_RANGES).join(', ')}`);
  }
  if (Object.hasOwn(thresholds, threshold)) {
    invalid(key, `sets ${threshold} a second time (under its old name, or its new one)`);
  }
  thresholds[threshold] = checkThresholdValue(key, threshold, value);
}

export function integerText(key: string, text: string): number {
  if (!/^\d{1,12}$/.test(text.trim())) invalid(key, `expected an integer, got "${text}"`);
  return Number(text.trim());
}

export function checkString(key: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > 4_096) {
    invalid(key, 'expected a non-empty string of at most 4096 characters');
  }
  return value;
}

export function checkPort(key: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65_535) {
    invalid(key, `expected a port number in 0..65535 (0 picks a free one), got ${String(value)}`);
  }
  return value;
}

/**
 * The health API's token rule (services/api/options.ts; a test keeps them equal), repeated here
 * so that resolving a configuration does not load the API's modules.
 */
export const BEARER_TOKEN_LENGTH_MIN = 16;
export const BEARER_TOKEN_LENGTH_MAX = 1_024;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/** The health API's bearer token, checked here so that `run` refuses it before anything starts. */
export function checkToken(key: string, value: unknown): string {
  if (
    typeof value !== 'string' ||
    value.length < BEARER_TOKEN_LENGTH_MIN ||
    value.length > BEARER_TOKEN_LENGTH_MAX ||
    !TOKEN68.test(value)
  ) {
    const length = typeof value === 'string' ? `${value.length} characters` : typeof value;
    invalid(
      key,
      `expected ${BEARER_TOKEN_LENGTH_MIN} to ${BEARER_TOKEN_LENGTH_MAX} token68 characters (letters, digits, -._~+/ then =), got ${length}`,
    );
  }
  return value;
}

export function checkLogLevel(key: string, value: unknown): string {
  if (typeof value !== 'string' || !LOG_LEVELS.includes(value)) {
    invalid(key, `expected one of ${LOG_LEVELS.join(', ')}`);
  }
  return value;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function booleanText(key: string, text: string): boolean {
  const lower = text.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(lower)) return true;
  if (['0', 'false', 'no', 'off'].includes(lower)) return false;
  invalid(key, `expected true or false, got "${text}"`);
}
