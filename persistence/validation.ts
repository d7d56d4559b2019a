/**
 * Input checks shared by every write in the store, and the size limits they enforce. Each check
 * either returns the value in its stored form or throws a `GovernorError` with a precise code,
 * so a write validates everything before it touches SQLite.
 */
import { findLoneSurrogate, findUnsafeCharacter } from '../services/display-text.js';
import { GovernorError } from '../services/errors.js';
import { copyJson, JSON_DEPTH_MAX } from './plain-copy.js';

/** Documented size limits, in UTF-8 bytes (docs/schema.md, "Size limits"). */
export const LIMITS = {
  identifierBytesMax: 256,
  eventTypeBytesMax: 128,
  shortTextBytesMax: 256,
  reasonBytesMax: 4 * 1024,
  metadataBytesMax: 64 * 1024,
  snapshotBytesMax: 4 * 1024 * 1024,
  metadataDepthMax: JSON_DEPTH_MAX,
} as const;

/** The largest amount of minor units a balance, a total or a move may hold (SQLite int64). */
export const AMOUNT_MINOR_MAX = 2n ** 63n - 1n;

/** True when `text` is at most `bytesMax` UTF-8 bytes, counting exactly only when it matters. */
function fitsBytes(text: string, bytesMax: number): boolean {
  // A UTF-16 code unit encodes to 1–3 UTF-8 bytes (a surrogate pair to 4, i.e. 2 per unit).
  if (text.length * 3 <= bytesMax) return true;
  if (text.length > bytesMax) return false;
  return Buffer.byteLength(text, 'utf8') <= bytesMax;
}

// String.prototype.isWellFormed (Node ≥ 20) is newer than the ES2023 lib the project compiles with.
const isWellFormed = (text: string): boolean =>
  (text as unknown as { isWellFormed(): boolean }).isWellFormed();

/** A required text field: a well-formed string, non-empty unless `allowEmpty`, within `bytesMax`. */
export function checkText(
  field: string,
  value: unknown,
  bytesMax: number,
  options: { allowEmpty?: boolean } = {},
): string {
  if (typeof value !== 'string') {
    throw new GovernorError('GOV_INVALID_ARGUMENT', `Expected ${field} to be a string`, {
      field,
      received: typeof value,
    });
  }
  if (value.length === 0 && options.allowEmpty !== true) {
    throw new GovernorError('GOV_INVALID_TEXT', `Expected ${field} to be non-empty`, { field });
  }
  if (!isWellFormed(value)) {
    throw new GovernorError('GOV_INVALID_TEXT', `${field} contains a lone surrogate`, { field });
  }
  if (!fitsBytes(value, bytesMax)) {
    throw new GovernorError('GOV_PAYLOAD_TOO_LARGE', `${field} is larger than ${bytesMax} bytes`, {
      field,
      bytesMax,
      bytes: Buffer.byteLength(value, 'utf8'),
    });
  }
  return value;
}

export function checkIdentifier(field: string, value: unknown): string {
  return checkText(field, value, LIMITS.identifierBytesMax);
}

/**
 * The one rule for an operator's name and reason, in UTF-8 bytes (what SQLite stores), applied
 * by the governor before anything happens and by the store before anything is written: each is
 * trimmed of surrounding whitespace, then must be non-empty and fit its limit.
 */
export const OPERATOR_NAME_BYTES_MAX = LIMITS.identifierBytesMax;
export const OPERATOR_REASON_BYTES_MAX = LIMITS.reasonBytesMax;

/**
 * The operator name, trimmed, or GOV_OPERATOR_REQUIRED before anything is written: for a name
 * that is not a string, blank, longer than OPERATOR_NAME_BYTES_MAX bytes once trimmed, or that
 * holds a control, format (zero-width, bidi) or line-separator character or a lone surrogate
 * anywhere, even where trimming would drop it: it is shown wherever the action is. The position
 * in the message counts characters of the name as given, from 1. `action` names what needed it.
 */
export function checkOperator(given: unknown, action = 'an operator action'): string {
  const operator = typeof given === 'string' ? given.trim() : '';
  if (operator === '' || !fitsBytes(operator, OPERATOR_NAME_BYTES_MAX)) {
    throw new GovernorError(
      'GOV_OPERATOR_REQUIRED',
      `${action} needs a non-empty operator name of at most ${OPERATOR_NAME_BYTES_MAX} bytes (UTF-8)`,
      { field: 'operator', bytesMax: OPERATOR_NAME_BYTES_MAX },
    );
  }
  const unsafe = findUnsafeCharacter(given as string);
  if (unsafe !== null) {
    throw new GovernorError(
      'GOV_OPERATOR_REQUIRED',
      `${action}: operator contains ${unsafe.description} at position ${unsafe.position}; a name may not hold control, zero-width or bidi characters`,
      { field: 'operator', character: unsafe.description, position: unsafe.position },
    );
  }
  return operator;
}

/**
 * The reason, trimmed, or, before anything is written: GOV_REASON_REQUIRED for a reason that is
 * not a string, blank, or longer than OPERATOR_REASON_BYTES_MAX bytes once trimmed;
 * GOV_INVALID_TEXT for one holding a lone surrogate (it cannot be stored verbatim). Any other
 * character is kept, and escaped wherever the reason is shown.
 */
export function checkReason(given: unknown, action = 'an operator action'): string {
  const reason = typeof given === 'string' ? given.trim() : '';
  if (reason === '' || !fitsBytes(reason, OPERATOR_REASON_BYTES_MAX)) {
    throw new GovernorError(
      'GOV_REASON_REQUIRED',
      `${action} needs a non-empty reason of at most ${OPERATOR_REASON_BYTES_MAX} bytes (UTF-8)`,
      { field: 'reason', bytesMax: OPERATOR_REASON_BYTES_MAX },
    );
  }
  const surrogate = findLoneSurrogate(given as string);
  if (surrogate !== null) {
    throw new GovernorError(
      'GOV_INVALID_TEXT',
      `${action}: reason contains ${surrogate.description} at position ${surrogate.position}; a reason must be well-formed Unicode`,
      { field: 'reason', character: surrogate.description, position: surrogate.position },
    );
  }
  return reason;
}

/** A money amount in minor units: a bigint or a safe integer number, > 0 and ≤ int64 max. */
export function checkAmount(field: string, value: unknown): bigint {
  let amount: bigint;
  if (typeof value === 'bigint') {
    amount = value;
  } else if (typeof value === 'number' && Number.isSafeInteger(value)) {
    amount = BigInt(value);
  } else {
    throw new GovernorError(
      'GOV_INVALID_AMOUNT',
      `Expected ${field} to be a bigint or a safe integer number of minor units, got ${String(value)}`,
      { field, received: typeof value === 'number' ? String(value) : typeof value },
    );
  }
  if (amount <= 0n || amount > AMOUNT_MINOR_MAX) {
    throw new GovernorError(
      'GOV_INVALID_AMOUNT',
      `Expected ${field} to be between 1 and ${AMOUNT_MINOR_MAX} minor units, got ${amount}`,
      { field, amountMinor: amount.toString() },
    );
  }
  return amount;
}

const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A calendar date written YYYY-MM-DD (proleptic Gregorian, years 0001–9999). */
export function checkDate(field: string, value: unknown): string {
  const match = typeof value === 'string' ? DATE_PATTERN.exec(value) : null;
  if (match !== null) {
    const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
    const probe = new Date(0);
    probe.setUTCFullYear(year, month - 1, day);
    if (
      year >= 1 &&
      probe.getUTCFullYear() === year &&
      probe.getUTCMonth() === month - 1 &&
      probe.getUTCDate() === day
    ) {
      return value as string;
    }
  }
  throw new GovernorError(
    'GOV_INVALID_DATE',
    `Expected ${field} as YYYY-MM-DD, got ${String(value)}`,
    {
      field,
      received: typeof value === 'string' ? value.slice(0, 64) : typeof value,
    },
  );
}

const TIMESTAMP_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/** An ISO-8601 UTC timestamp such as `2025-12-17T09:30:00.000Z` (the form `toISOString` gives). */
export function checkTimestamp(field: string, value: unknown): string {
  if (typeof value === 'string' && TIMESTAMP_PATTERN.test(value)) {
    const date = checkDateSafe(value.slice(0, 10));
    const ms = Date.parse(value);
    if (date && Number.isFinite(ms)) return value;
  }
  throw new GovernorError(
    'GOV_INVALID_TIMESTAMP',
    `Expected ${field} as an ISO-8601 UTC timestamp, got ${String(value).slice(0, 64)}`,
    { field },
  );
}

function checkDateSafe(text: string): boolean {
  try {
    checkDate('date', text);
    return true;
  } catch {
    return false;
  }
}

/** Wall time in ms → the ISO-8601 text stored in every timestamp column. */
export function isoFromWallMs(wallMs: number): string {
  return new Date(wallMs).toISOString();
}

/** One of a fixed set of strings, or the given error code. */
export function checkMember<T extends string>(
  field: string,
  value: unknown,
  members: readonly T[],
  code: 'GOV_INVALID_MODE' | 'GOV_INVALID_STRATEGY_STATE' | 'GOV_INVALID_ARGUMENT',
): T {
  if (typeof value === 'string' && (members as readonly string[]).includes(value))
    return value as T;
  throw new GovernorError(
    code,
    `Expected ${field} to be one of ${members.join(', ')}, got ${String(value)}`,
    {
      field,
      allowed: [...members],
    },
  );
}

/**
 * Copies a JSON value once (persistence/plain-copy.ts: each property read once, validated as it
 * is copied) and returns the copy's stored text (JSON.stringify), within `bytesMax`: what is
 * validated is what is stored, and hashed.
 */
export function serialiseJson(field: string, value: unknown, bytesMax: number): string {
  const text = JSON.stringify(copyJson(field, value, bytesMax));
  if (!fitsBytes(text, bytesMax)) {
    throw new GovernorError(
      'GOV_PAYLOAD_TOO_LARGE',
      `${field} is larger than ${bytesMax} bytes as JSON`,
      {
        field,
        bytesMax,
        bytes: Buffer.byteLength(text, 'utf8'),
      },
    );
  }
  return text;
}

/** Parses a stored JSON column, turning damage done outside governor into GOV_CORRUPT_RECORD. */
export function parseStoredJson(table: string, key: string | number, text: unknown): unknown {
  if (typeof text !== 'string') {
    throw new GovernorError('GOV_CORRUPT_RECORD', `${table} ${key}: JSON column is not text`, {
      table,
      key,
    });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new GovernorError(
      'GOV_CORRUPT_RECORD',
      `${table} ${key}: JSON column does not parse`,
      { table, key },
      {
        cause: error,
      },
    );
  }
}

/** A page or list size: an integer from 1 to `max` (GOV_INVALID_ARGUMENT naming `field`). */
export function checkLimit(limit: unknown, max: number, field = 'limit'): number {
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1 || limit > max) {
    throw new GovernorError('GOV_INVALID_ARGUMENT', `Expected ${field} from 1 to ${max}`, {
      field,
      received: String(limit),
    });
  }
  return limit;
}
