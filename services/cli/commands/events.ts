/**
 * `governor events [--limit N] [--type TYPE]... [--since WHEN] [--follow] [--json]`: the newest
 * events of the log that match the filters (read-only), oldest first, then, with --follow, new
 * matching ones as they are appended (polled, in bounded pages) until Ctrl-C. Operator actions
 * say who did what; every other event (the heartbeat included) is shown as stored.
 */
import type { EventLog, StoredEvent } from '../../../persistence/index.js';
import { displayText } from '../../display-text.js';
import { GOVERNOR_EVENT_TYPES, isGovernorEventType } from '../../governor/event-catalogue.js';
import {
  booleanFlag,
  type CommandContext,
  openReadOnly,
  resolveConfig,
  stringFlag,
} from '../context.js';
import { CliError, EXIT, type ExitCode } from '../exit-codes.js';
import { type Output, toJson } from '../output.js';

export const EVENTS_LIMIT_DEFAULT = 20;
export const EVENTS_LIMIT_MAX = 10_000;
/** --follow polls this often, reading at most FOLLOW_PAGE_EVENTS per poll. */
export const FOLLOW_POLL_MS = 500;
export const FOLLOW_PAGE_EVENTS = 1_000;
/** The history is scanned (newest first) in pages of this many events. */
export const SCAN_PAGE_EVENTS = 1_000;
/** At most this many --type values. */
export const EVENT_TYPES_MAX = 32;

const AGE_UNITS_MS: Readonly<Record<string, number>> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

export interface EventFilter {
  /** Only these event types; null: every type. */
  readonly types: ReadonlySet<string> | null;
  /** Only events at or after this ISO-8601 time; null: from the start. */
  readonly since: string | null;
}

function metadataOf(event: StoredEvent): Record<string, unknown> {
  const metadata = event.metadata;
  return typeof metadata === 'object' && metadata !== null && !Array.isArray(metadata)
    ? (metadata as Record<string, unknown>)
    : {};
}

/** The text shown after an event's type: for operator actions, who did what and why. */
export function eventText(event: StoredEvent): string {
  if (event.eventType === 'OPERATOR_ACTION') {
    const { operator, action, state, throughSeq } = metadataOf(event);
    if (typeof operator === 'string' && typeof action === 'string') {
      const where =
        typeof state === 'string'
          ? ` in ${state}`
          : typeof throughSeq === 'number'
            ? ` through seq ${throughSeq}`
            : '';
      return `${operator} ${action}${where}: ${event.reason}`;
    }
  }
  return event.reason;
}

/** Prints one event: NDJSON with `json`, else one line whatever its type and reason hold. */
export function printEvent(out: Output, event: StoredEvent, json: boolean): void {
  if (json) {
    out.line(toJson(event));
    return;
  }
  const shownType = displayText(event.eventType);
  const type =
    event.eventType === 'SYSTEM_SHUTDOWN'
      ? out.paint('red', shownType)
      : event.eventType === 'OPERATOR_ACTION' || event.eventType === 'CAPITAL_CORRECTED'
        ? out.paint('yellow', shownType)
        : shownType;
  out.line(
    `${String(event.seq).padStart(7)}  ${displayText(event.timestamp)}  ${type}  ${out.paint('grey', displayText(eventText(event)))}`,
  );
}

function parseLimit(text: string | undefined): number {
  if (text === undefined) return EVENTS_LIMIT_DEFAULT;
  const limit = Number(text);
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > EVENTS_LIMIT_MAX) {
    throw new CliError(EXIT.USAGE, `--limit: expected an integer from 1 to ${EVENTS_LIMIT_MAX}`);
  }
  return limit;
}

/** `--type A --type B,C` → {A, B, C}; null when not given. */
export function parseTypes(values: readonly string[] | undefined): ReadonlySet<string> | null {
  if (values === undefined || values.length === 0) return null;
  const types = new Set<string>();
  for (const value of values) {
    for (const type of value.split(',')) {
      const trimmed = type.trim();
      if (trimmed === '' || trimmed.length > 128) {
        throw new CliError(EXIT.USAGE, '--type: expected event types such as OPERATOR_ACTION');
      }
      types.add(trimmed);
    }
  }
  if (types.size > EVENT_TYPES_MAX) {
    throw new CliError(EXIT.USAGE, `--type: at most ${EVENT_TYPES_MAX} types`);
  }
  return types;
}

/**
 * Refuses (exit 2) a `--type` that is neither one of governor's (the event-type catalogue) nor a
 * type the log holds (an engine's own, such as ORDER_FILLED): a typo would match nothing.
 */
export function refuseUnknownTypes(types: ReadonlySet<string> | null, events: EventLog): void {
  if (types === null) return;
  const unknown = [...types].filter((type) => !isGovernorEventType(type) && !events.hasType(type));
  if (unknown.length === 0) return;
  throw new CliError(
    EXIT.REFUSED,
    `--type: unknown event type ${unknown.map((type) => displayText(type)).join(', ')}: the log holds none; governor's types are ${Object.keys(GOVERNOR_EVENT_TYPES).join(', ')} (an engine's own types are accepted once the log holds one)`,
  );
}

/** An age such as 30s, 15m, 2h, 7d in ms, or null when `text` is not one. */
export function parseAgeMs(text: string): number | null {
  const age = /^(\d{1,9})([smhd])$/.exec(text.trim());
  if (age === null) return null;
  const [, amount = '0', unit = 's'] = age;
  return Number(amount) * (AGE_UNITS_MS[unit] ?? 0);
}

/** `--since`: an ISO-8601 time, or an age (30s, 15m, 2h, 7d) before `nowMs`; as ISO-8601 UTC. */
export function parseSince(text: string | undefined, nowMs: number): string | null {
  if (text === undefined) return null;
  const ageMs = parseAgeMs(text);
  if (ageMs !== null) return new Date(nowMs - ageMs).toISOString();
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text.trim()) ? Date.parse(text.trim()) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new CliError(
      EXIT.USAGE,
      `--since: expected an ISO-8601 time (2025-12-17T09:30:00Z) or an age such as 30s, 15m, 2h, 7d; got "${displayText(text)}"`,
    );
  }
  return new Date(ms).toISOString();
}

function matches(event: StoredEvent, filter: EventFilter): boolean {
  if (filter.types !== null && !filter.types.has(event.eventType)) return false;
  return filter.since === null || event.timestamp >= filter.since;
}

/**
 * The first seq whose timestamp is at or after `since`, by binary search (governor writes
 * non-decreasing times; `verify` reports a log where they step back).
 */
function firstSeqSince(events: EventLog, headSeq: number, since: string): number {
  let low = 1;
  let high = headSeq + 1;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    const event = events.readPage(middle, 1)[0];
    if (event === undefined || event.timestamp >= since) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** The newest `limit` events from `fromSeq` to `headSeq` that match, oldest first. */
export function newestMatching(
  events: EventLog,
  fromSeq: number,
  headSeq: number,
  limit: number,
  filter: EventFilter,
): StoredEvent[] {
  const found: StoredEvent[] = [];
  let end = headSeq;
  while (end >= fromSeq && found.length < limit) {
    const start = Math.max(fromSeq, end - SCAN_PAGE_EVENTS + 1);
    const page = events.readPage(start, end - start + 1);
    for (let index = page.length - 1; index >= 0 && found.length < limit; index--) {
      const event = page[index] as StoredEvent;
      if (event.seq <= end && matches(event, filter)) found.push(event);
    }
    end = start - 1;
  }
  return found.reverse();
}

export async function eventsCommand(context: CommandContext): Promise<ExitCode> {
  const limit = parseLimit(stringFlag(context, 'limit'));
  const typeValues = context.values.type;
  const filter: EventFilter = {
    types: parseTypes(Array.isArray(typeValues) ? typeValues : undefined),
    since: parseSince(stringFlag(context, 'since'), Date.now()),
  };
  const config = await resolveConfig(context);
  const store = await openReadOnly(config.dbPath, context);
  if (store.readNote !== null && booleanFlag(context, 'follow')) {
    store.close();
    throw new CliError(
      EXIT.REFUSED,
      '--follow cannot follow a private copy (new events never reach it): run it as a user who may write the database directory, or without --follow',
    );
  }
  let stopped = false;
  const stop = (): void => {
    stopped = true;
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    refuseUnknownTypes(filter.types, store.events);
    const headSeq = store.events.head()?.seq ?? 0;
    const fromSeq =
      headSeq === 0 || filter.since === null
        ? 1
        : firstSeqSince(store.events, headSeq, filter.since);
    const found =
      headSeq === 0 ? [] : newestMatching(store.events, fromSeq, headSeq, limit, filter);
    for (const event of found) printEvent(context.out, event, context.json);
    // An empty answer says so (NDJSON stays empty: no line is no event).
    if (found.length === 0 && !context.json) {
      context.out.line(
        booleanFlag(context, 'follow') ? 'no events match yet; following' : 'no events match',
      );
    }
    let next = headSeq + 1;
    // --follow ends when the reader of stdout goes away (`| head`), as on Ctrl-C.
    while (booleanFlag(context, 'follow') && !stopped && !context.out.closed) {
      await new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS));
      for (const event of store.events.readPage(next, FOLLOW_PAGE_EVENTS)) {
        if (matches(event, filter)) printEvent(context.out, event, context.json);
        next = event.seq + 1;
      }
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    store.close();
  }
  return EXIT.OK;
}
