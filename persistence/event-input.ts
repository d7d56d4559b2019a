/**
 * An event as a caller gives it: read once into a plain copy (persistence/plain-copy.ts), a batch
 * bounded before it is read, and each copy validated into the fields a row stores, with the parts
 * of the hash encoding that do not depend on the event's place in the chain made once.
 */
import { GovernorError } from '../services/errors.js';
import { jsonString, middleFragment } from './event-hash.js';
import { nextEventId } from './event-id.js';
import { readArray, readFields } from './plain-copy.js';
import { checkIdentifier, checkText, LIMITS, serialiseJson } from './validation.js';

export interface EventInput {
  readonly eventType: string;
  readonly reason: string;
  /** Any plain JSON value; stored as JSON text. Default `{}`. */
  readonly metadata?: unknown;
  /** Any identifier up to 256 bytes. Default: a time-ordered UUIDv7 (persistence/event-id.ts). */
  readonly eventId?: string;
}

/** The most events a batch may hold; a larger one is refused before anything is read or written. */
export const EVENT_BATCH_SIZE_MAX = 10_000;

export interface PreparedEvent {
  readonly eventId: string;
  readonly eventType: string;
  readonly reason: string;
  readonly metadataText: string;
  /** The event id as a JSON string. */
  readonly eventIdJson: string;
  /** The hash encoding's fragment that does not depend on the position in the chain. */
  readonly middleJson: string;
}

/**
 * The caller's event read once into a plain copy (persistence/plain-copy.ts): its four fields,
 * each read once; metadata is copied when it is serialised. Check and store only the copy.
 */
export function readEventInput(value: unknown): EventInput {
  if (typeof value !== 'object' || value === null) {
    throw new GovernorError('GOV_INVALID_ARGUMENT', 'Expected an event object', { field: 'event' });
  }
  return readFields('event', value, EVENT_INPUT_KEYS) as EventInput;
}

/** The caller's batch read once: its length (at most EVENT_BATCH_SIZE_MAX), then each event once. */
export function readEventInputs(value: unknown): EventInput[] {
  return readArray('inputs', value, EVENT_BATCH_SIZE_MAX).map(readEventInput);
}

const EVENT_INPUT_KEYS = ['eventType', 'reason', 'metadata', 'eventId'] as const;

/** Validates a plain copy (`readEventInput`'s) into the row fields; metadata is copied once here. */
export function prepareInput(input: EventInput): PreparedEvent {
  const eventType = checkText('eventType', input.eventType, LIMITS.eventTypeBytesMax);
  const reason = checkText('reason', input.reason, LIMITS.reasonBytesMax);
  const metadataText =
    input.metadata === undefined
      ? '{}'
      : serialiseJson('metadata', input.metadata, LIMITS.metadataBytesMax);
  // A generated UUID needs no JSON escaping; a caller's id is checked.
  const eventId =
    input.eventId === undefined ? nextEventId() : checkIdentifier('eventId', input.eventId);
  const eventIdJson = input.eventId === undefined ? `"${eventId}"` : jsonString(eventId);
  const middleJson = middleFragment(eventType, reason, metadataText);
  return { eventId, eventType, reason, metadataText, eventIdJson, middleJson };
}
