/**
 * The one catalogue of governor's errors. Every error thrown on purpose is a `GovernorError`
 * with a stable `code` listed here and documented in docs/errors.md (a test checks that).
 * Programmer errors (broken invariants) are `AssertionError`s and are not caught.
 */

/**
 * One code's entry: what it means and, with `refusal: true`, that an operator command ending
 * in it was refused (nothing changed) rather than failed.
 */
export interface CatalogueEntry {
  readonly description: string;
  readonly refusal?: true;
}

export const ERROR_CATALOGUE = {
  GOV_INVALID_ARGUMENT: {
    refusal: true,
    description: 'An argument has the wrong type, is missing, or is out of range.',
  },
  GOV_INVALID_AMOUNT: {
    refusal: true,
    description:
      'A money amount is not an integer number of minor units (NaN, fractional, negative, or too large).',
  },
  GOV_INVALID_DATE: { description: 'A date is not a valid calendar date written as YYYY-MM-DD.' },
  GOV_INVALID_MODE: { description: 'A mode is not one of AGGRESSIVE or OBSERVE_ONLY.' },
  GOV_INVALID_METADATA: {
    description: 'Metadata is not a plain JSON value (functions, cycles, NaN, bigint).',
  },
  GOV_PAYLOAD_TOO_LARGE: {
    description: 'A text or JSON payload is larger than its documented limit.',
  },
  GOV_DUPLICATE_EVENT_ID: {
    description: 'An event with this event_id is already in the event log.',
  },
  GOV_DUPLICATE_SNAPSHOT: {
    description: 'A snapshot for this date already exists; snapshots are never overwritten.',
  },
  GOV_SNAPSHOT_OUT_OF_ORDER: {
    description:
      'A snapshot date must be later than every date already written; snapshots are written in date order.',
  },
  GOV_UNKNOWN_POOL: { refusal: true, description: 'No capital pool has this id.' },
  GOV_UNKNOWN_ACCOUNT: { refusal: true, description: 'No capital account has this id.' },
  GOV_DUPLICATE_POOL: { description: 'A capital pool with this id already exists.' },
  GOV_DUPLICATE_ACCOUNT: { description: 'A capital account with this id already exists.' },
  GOV_INSUFFICIENT_FUNDS: {
    description: 'The account balance is smaller than the amount to move.',
  },
  GOV_UNKNOWN_STRATEGY: { description: 'No strategy has this id.' },
  GOV_DUPLICATE_STRATEGY: { description: 'A strategy with this id is already registered.' },
  GOV_INVALID_STRATEGY_STATE: {
    description: 'A strategy state is not one of the documented states.',
  },
  GOV_INVALID_STRATEGY_TRANSITION: {
    description: 'The strategy cannot move from its current state to that one.',
  },
  GOV_UNKNOWN_ALERT: { refusal: true, description: 'No alert has this id.' },
  GOV_OPERATOR_REQUIRED: {
    refusal: true,
    description:
      'An operator action needs an operator name: non-empty, without control, zero-width or bidi characters.',
  },
  GOV_REASON_REQUIRED: {
    refusal: true,
    description: 'An operator action needs a non-empty reason.',
  },
  GOV_INVALID_OPERATOR_ACTION: {
    refusal: true,
    description: 'The operator action is not allowed in the current state.',
  },
  GOV_SCHEMA_TOO_NEW: {
    description:
      'The database was written by a newer governor; this version refuses to open it and changes nothing.',
  },
  GOV_NOT_A_GOVERNOR_DATABASE: {
    description:
      'The file is not a governor database (or is damaged); it is refused and left unchanged.',
  },
  GOV_INVALID_TIMESTAMP: {
    description: 'A timestamp is not an ISO-8601 UTC time such as 2025-12-17T09:30:00.000Z.',
  },
  GOV_INVALID_TEXT: {
    description:
      'A text field is empty where it must not be, or is not well-formed Unicode (lone surrogates).',
  },
  GOV_CURRENCY_MISMATCH: {
    description: 'A transfer between two pools that hold different currencies.',
  },
  GOV_DUPLICATE_ALERT: {
    description:
      'An alert with this id, or an unresolved alert with this dedup key, already exists.',
  },
  GOV_SCHEMA_NEEDS_MIGRATION: {
    description:
      'The database uses an older schema and was opened read-only; open it read-write once to migrate it.',
  },
  GOV_CORRUPT_RECORD: {
    description:
      'A stored record cannot be decoded (its JSON or a value was altered outside governor).',
  },
  GOV_STORE_CLOSED: { description: 'The store has been closed.' },
  GOV_STORAGE_FAILURE: {
    description:
      'SQLite could not complete a read or write (disk full, read-only, I/O error, locked).',
  },
  GOV_INVALID_CONFIG: {
    description: 'A configuration key is missing, of the wrong type, or outside its allowed range.',
  },
  GOV_CLOSED: { description: 'The GovernanceSystem has been closed.' },
  GOV_LIFECYCLE_RUNNING: {
    description: 'A lifecycle is already running; it cannot be started twice.',
  },
  GOV_RESTART_WOULD_TRIP: {
    refusal: true,
    description:
      'A restart was refused: its pre-flight found a rule that would shut governor down again at once.',
  },
  GOV_DATABASE_OWNED: {
    description:
      'Another process (or another GovernanceSystem in this one) owns the database; one owner at a time.',
  },
  GOV_OWNERSHIP_LOST: {
    description:
      "The owner's lock file was deleted or replaced: a second owner could start, so this one shuts down.",
  },
  GOV_VENUE_BUSY: {
    description:
      'Too many calls already wait for one venue (the exchange answers slowly or not at all); this one was refused at once.',
  },
  GOV_INVALID_SCOPE: {
    description:
      'A fleet scope is not a path of names (letters, digits, dot, dash, underscore, colon) joined by /.',
  },
  GOV_AUTHORITY_UNREACHABLE: {
    description:
      'The fleet authority (PostgreSQL) could not be reached, or did not answer in time.',
  },
  GOV_AUTHORITY_SCHEMA: {
    description:
      'The fleet authority database has no governor schema yet (run `governor fleet init`), or one newer than this governor.',
  },
  GOV_AUTHORITY_DENIED: {
    description:
      'PostgreSQL refused the fleet action to this role (a host role may not kill or release, nor write another host row; an operator kills and releases only in the scopes granted to it).',
  },
  GOV_SCOPE_KILLED: {
    description:
      'A fleet scope this host belongs to (or a wider one) is killed: its gate stays closed until an operator releases it.',
  },
  GOV_ALERT_DELIVERY_FAILED: {
    description:
      'A sink could not deliver an alert (receiver unreachable, timed out, or answered with an error); the outbox retries it.',
  },
} as const satisfies Readonly<Record<string, CatalogueEntry>>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/**
 * True when `error` is a refusal: a GovernorError whose code the catalogue marks `refusal`
 * (the request itself, or the state it met, was refused; nothing was changed). An operator
 * request that ends in one is recorded `refused`, any other error `failed`.
 */
export function isRefusal(error: unknown): error is GovernorError {
  return error instanceof GovernorError && isRefusalCode(error.code);
}

/** True when the catalogue marks `code` a refusal. */
export function isRefusalCode(code: ErrorCode): boolean {
  const entry: CatalogueEntry = ERROR_CATALOGUE[code];
  return entry.refusal === true;
}

export class GovernorError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options: { cause?: unknown } = {},
  ) {
    super(`${code}: ${message}`, options.cause === undefined ? {} : { cause: options.cause });
    this.name = 'GovernorError';
    this.code = code;
    this.details = Object.freeze({ ...details });
  }
}

export function isGovernorError(error: unknown, code?: ErrorCode): error is GovernorError {
  return error instanceof GovernorError && (code === undefined || error.code === code);
}

/** A broken invariant: a bug in governor or in its caller. Never caught on purpose. */
export class AssertionError extends Error {
  constructor(message: string) {
    super(`invariant violated: ${message}`);
    this.name = 'AssertionError';
  }
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/** How many causes below an error `describeError` follows, and how many errors of an aggregate. */
const CAUSES_DESCRIBED_MAX = 4;
/** The longest text `describeError` takes from one cause (an OpenSSL message can be long). */
const ERROR_TEXT_CHARS_MAX = 256;

/**
 * What went wrong, in words, for a message or a log: an Error's message followed by its causes
 * (`error.cause`, as undici's `fetch failed` carries `connect ECONNREFUSED …` or `bad port`),
 * each with its `code` when its message does not already say it and with the errors of an
 * AggregateError; anything else cut short.
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return describeValue(error);
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth <= CAUSES_DESCRIBED_MAX && current !== undefined; depth++) {
    const text = errorText(current, depth > 0);
    const said = parts.join(': ');
    if (text.length > 0 && !said.includes(text)) parts.push(text);
    current = typeof current === 'object' && current !== null ? causeOf(current) : undefined;
  }
  return parts.length === 0 ? error.name : parts.join(': ');
}

function causeOf(error: object): unknown {
  return 'cause' in error ? error.cause : undefined;
}

/**
 * One error's own words: its message (or name), an aggregate's parts, and, for a cause, its
 * code when the message does not say it.
 */
function errorText(error: unknown, withCode: boolean): string {
  if (typeof error !== 'object' || error === null) return describeValue(error);
  const fields = error as { message?: unknown; name?: unknown; code?: unknown; errors?: unknown };
  let text = typeof fields.message === 'string' ? fields.message : '';
  const code = fields.code;
  if (withCode && typeof code === 'string' && code.length > 0 && !text.includes(code)) {
    text = text.length === 0 ? code : `${code} ${text}`;
  }
  if (Array.isArray(fields.errors) && fields.errors.length > 0) {
    const inner = fields.errors.slice(0, CAUSES_DESCRIBED_MAX).map((each) => errorText(each, true));
    const more = fields.errors.length > inner.length ? ', …' : '';
    text = `${text}${text.length > 0 ? ' ' : ''}(${inner.join(', ')}${more})`;
  }
  if (text.length === 0 && typeof fields.name === 'string') text = fields.name;
  // The error's own message is kept whole (a refusal may list what is accepted); causes are bounded.
  return withCode ? text.slice(0, ERROR_TEXT_CHARS_MAX) : text;
}

function describeValue(value: unknown): string {
  try {
    return String(value).slice(0, ERROR_TEXT_CHARS_MAX);
  } catch {
    return typeof value;
  }
}
