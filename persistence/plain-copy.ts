/**
 * The one place a caller's object is read: each field (and each JSON value nested in it) is read
 * exactly once into a plain copy, and only the copy is validated, hashed and stored. A getter, a
 * Proxy or an inherited property that answers one thing to the check and another to the write
 * therefore cannot slip a value past the check: there is no second read.
 */
import { GovernorError } from '../services/errors.js';

/** The deepest a JSON value may nest (docs/schema.md, "Size limits"). */
export const JSON_DEPTH_MAX = 64;

/** What `readFields` returns: the named fields that were not `undefined`, as read once. */
export type PlainFields<K extends string> = { readonly [P in K]?: unknown };

/** Reads `read()` once; a getter or Proxy trap that throws becomes a GovernorError naming `what`. */
function readOnce<T>(read: () => T, fail: (message: string) => GovernorError, what: string): T {
  try {
    return read();
  } catch (error) {
    throw fail(`${what} could not be read: ${error instanceof Error ? error.message : 'threw'}`);
  }
}

/** Array.isArray read once: it throws for a revoked Proxy. */
function isArray(
  value: unknown,
  fail: (message: string) => GovernorError,
  what: string,
): value is unknown[] {
  return readOnce(() => Array.isArray(value), fail, what);
}

function invalidArgument(field: string): (message: string) => GovernorError {
  return (message) => new GovernorError('GOV_INVALID_ARGUMENT', message, { field });
}

/**
 * Reads the named fields of the caller's object once each (own or inherited, through getters and
 * Proxy traps alike) into a plain object holding exactly those fields (`undefined` when absent).
 * The names are the caller's fixed field names, never data. Anything but an object is refused
 * (GOV_INVALID_ARGUMENT naming `field`).
 */
export function readFields<K extends string>(
  field: string,
  value: unknown,
  keys: readonly K[],
): PlainFields<K> {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) {
    throw new GovernorError('GOV_INVALID_ARGUMENT', `Expected ${field} to be an object`, {
      field,
      received: value === null ? 'null' : typeof value,
    });
  }
  // Every named field is set (undefined when absent): the copy inherits none of them, and
  // copies of one kind share one shape.
  const copy: Record<string, unknown> = {};
  for (const key of keys) {
    try {
      copy[key] = Reflect.get(value, key);
    } catch (error) {
      throw invalidArgument(field)(`${field}.${key} could not be read: ${describeThrown(error)}`);
    }
  }
  return copy as PlainFields<K>;
}

/**
 * Each own enumerable key of the caller's object (strings, then symbols, so that a caller who
 * refuses unknown keys can refuse a symbol too) with its value, each read once: for an object
 * whose every key matters, such as thresholds. `fail` turns a getter or Proxy trap that threw
 * (key null: while listing the keys) into the caller's error.
 */
export function readOwnEntries(
  value: object,
  fail: (key: string | symbol | null) => never,
): Array<[string | symbol, unknown]> {
  let keys: Array<string | symbol>;
  try {
    keys = [
      ...Object.keys(value),
      ...Object.getOwnPropertySymbols(value).filter((symbol) =>
        Object.prototype.propertyIsEnumerable.call(value, symbol),
      ),
    ];
  } catch {
    return fail(null);
  }
  return keys.map((key): [string | symbol, unknown] => {
    try {
      return [key, Reflect.get(value, key)];
    } catch {
      return fail(key);
    }
  });
}

/**
 * Reads the caller's array once: its length once (refused above `lengthMax` before any element
 * is read), then each element once, into a new plain array.
 */
export function readArray(field: string, value: unknown, lengthMax: number): unknown[] {
  if (!isArray(value, invalidArgument(field), field)) {
    throw new GovernorError('GOV_INVALID_ARGUMENT', `Expected ${field} to be an array`, {
      field,
      length: null,
    });
  }
  const length = readOnce(() => value.length, invalidArgument(field), `${field}.length`);
  if (!Number.isSafeInteger(length) || length < 0 || length > lengthMax) {
    throw new GovernorError(
      'GOV_INVALID_ARGUMENT',
      `Expected ${field} to hold at most ${lengthMax} items`,
      { field, length: Number.isSafeInteger(length) ? length : null },
    );
  }
  const copy: unknown[] = new Array(length);
  for (let index = 0; index < length; index++) {
    copy[index] = readOnce(() => value[index], invalidArgument(field), `${field}[${index}]`);
  }
  return copy;
}

function describeThrown(error: unknown): string {
  return error instanceof Error ? error.message : 'threw';
}

function invalidJson(field: string, path: string, problem: string): GovernorError {
  return new GovernorError('GOV_INVALID_METADATA', `${field}${path} ${problem}`, {
    field,
    path: path === '' ? '$' : `$${path}`,
  });
}

interface JsonWalk {
  readonly field: string;
  readonly ancestors: unknown[];
  /** Values still allowed: each costs at least one byte of JSON, so `bytesMax` bounds them. */
  budget: number;
  readonly bytesMax: number;
}

/**
 * A plain copy of a JSON value, each property read once: null, booleans, finite numbers, strings,
 * arrays and plain objects (copied as plain objects and arrays of the copier's own making, so
 * an own `toJSON`, a getter or a Proxy of the caller's is never met by the serialisation; only a
 * function value is refused). An object property whose value is `undefined` is omitted, as JSON.stringify
 * does; `undefined` elsewhere, functions, symbols, bigints, NaN, Infinity, cycles, class
 * instances (Date, Map, Number…), nesting deeper than 64, and more values than `bytesMax` could
 * hold are refused (GOV_INVALID_METADATA or GOV_PAYLOAD_TOO_LARGE naming `field`). Symbol keys
 * are not copied (JSON has none).
 */
export function copyJson(field: string, value: unknown, bytesMax: number): unknown {
  return copyJsonValue({ field, ancestors: [], budget: bytesMax, bytesMax }, value, '');
}

function copyJsonValue(walk: JsonWalk, value: unknown, path: string): unknown {
  walk.budget -= 1;
  if (walk.budget < 0) {
    throw new GovernorError(
      'GOV_PAYLOAD_TOO_LARGE',
      `${walk.field} holds more values than ${walk.bytesMax} bytes of JSON can`,
      { field: walk.field, bytesMax: walk.bytesMax },
    );
  }
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) {
        throw invalidJson(walk.field, path, `is ${value}, not a finite number`);
      }
      return value;
    case 'object':
      break;
    default:
      throw invalidJson(walk.field, path, `is a ${typeof value}, not a JSON value`);
  }
  if (value === null) return null;
  if (walk.ancestors.includes(value)) throw invalidJson(walk.field, path, 'contains a cycle');
  if (walk.ancestors.length >= JSON_DEPTH_MAX) {
    throw invalidJson(walk.field, path, `is nested deeper than ${JSON_DEPTH_MAX}`);
  }
  walk.ancestors.push(value);
  let copy: unknown;
  try {
    copy = Array.isArray(value) ? copyArray(walk, value, path) : copyObject(walk, value, path);
  } catch (error) {
    // A getter or Proxy trap that threw (Array.isArray throws for a revoked Proxy).
    if (error instanceof GovernorError) throw error;
    throw invalidJson(walk.field, path, `could not be read: ${describeThrown(error)}`);
  }
  walk.ancestors.pop();
  return copy;
}

function copyArray(walk: JsonWalk, value: readonly unknown[], path: string): unknown[] {
  const length = value.length;
  if (!Number.isSafeInteger(length) || length > walk.budget) {
    throw new GovernorError(
      'GOV_PAYLOAD_TOO_LARGE',
      `${walk.field}${path} holds more values than ${walk.bytesMax} bytes of JSON can`,
      { field: walk.field, bytesMax: walk.bytesMax },
    );
  }
  const items: unknown[] = new Array(length);
  for (let index = 0; index < length; index++) {
    items[index] = copyJsonValue(walk, value[index], `${path}[${index}]`);
  }
  return items;
}

function copyObject(walk: JsonWalk, value: object, path: string): Record<string, unknown> {
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) {
    throw invalidJson(
      walk.field,
      path,
      'is not a plain object (class instances such as Date are refused)',
    );
  }
  const record: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const child = (value as Record<string, unknown>)[key];
    if (child === undefined) continue;
    const copied = copyJsonValue(walk, child, `${path}.${key}`);
    // An own "__proto__" key (JSON.parse makes one) is data, never the copy's prototype.
    if (key === '__proto__') {
      Object.defineProperty(record, key, {
        value: copied,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      record[key] = copied;
    }
  }
  return record;
}
