/**
 * What `governor shutdown` says about the venues: it reads, through a read-only connection, the
 * owner's VENUE_FLAT and VENUE_NOT_FLAT events written after the request (flat N ms after the
 * request, on the command's own monotonic clock), or, with no owner to cancel, when each venue's
 * dead man's switch will cancel its orders (the expiry on record); a venue whose orders lived in
 * the stopped owner's process is flat then (nothing can rest there).
 */
import type { StoredEvent } from '../../persistence/index.js';
import { ModeJournal } from '../../persistence/mode-journal.js';
import type { VenueRecord } from '../../persistence/venues.js';
import { describeError } from '../errors.js';
import { openDatabaseReader } from './ownership/index.js';

/** What the command reads before its request: where the log ends, and the venues on record. */
export interface VenueBaseline {
  readonly headSeq: number;
  readonly venues: readonly VenueRecord[];
  /** A latch was already in force: this request starts no new cancel. */
  readonly latched: boolean;
}

export type VenueOutcome =
  | {
      readonly venue: string;
      readonly kind: 'flat';
      readonly cancelledCount: number | null;
      /** Monotonic ms from the request to the moment this command read VENUE_FLAT. */
      readonly afterRequestMs: number;
    }
  | {
      readonly venue: string;
      readonly kind: 'not-flat';
      readonly openOrders: number | null;
      /** The owner's ms from its SHUTDOWN to the VENUE_NOT_FLAT it wrote. */
      readonly afterMs: number;
      readonly error: string | null;
    }
  /** No VENUE_FLAT or VENUE_NOT_FLAT from the owner within the wait. */
  | { readonly venue: string; readonly kind: 'no-word'; readonly waitedMs: number }
  /** No owner to cancel: the venue's own switch cancels by `expiresAt` (ISO), or did already. */
  | {
      readonly venue: string;
      readonly kind: 'switch';
      readonly expiresAt: string;
      readonly inMs: number;
    }
  /** No owner to cancel and no switch armed on record: nothing cancels there. */
  | { readonly venue: string; readonly kind: 'no-switch' }
  /** No owner running, and the venue's orders lived in its owner's process: nothing rests there. */
  | { readonly venue: string; readonly kind: 'process-gone' }
  /** Already SHUTDOWN before the request (no new cancel): the venue as recorded. */
  | {
      readonly venue: string;
      readonly kind: 'recorded';
      readonly flat: boolean | null;
      readonly openOrders: number | null;
    };

/** True when the outcome leaves the venue not confirmed flat and nothing on its way to flat. */
export function leavesOrders(outcome: VenueOutcome): boolean {
  if (outcome.kind === 'recorded') return outcome.flat !== true;
  return outcome.kind === 'not-flat' || outcome.kind === 'no-word' || outcome.kind === 'no-switch';
}

/** Already latched before the request: each venue as the owner last recorded it. */
export function recordedOutcomes(baseline: VenueBaseline): VenueOutcome[] {
  return baseline.venues.map((record) => ({
    venue: record.name,
    kind: 'recorded',
    flat: record.flat,
    openOrders: record.openOrders,
  }));
}

/** The log's head and the venues on record, or null when the database cannot be read. */
export function readVenueBaseline(dbPath: string): VenueBaseline | null {
  try {
    const store = openDatabaseReader(dbPath);
    try {
      return {
        headSeq: store.events.head()?.seq ?? 0,
        venues: store.venues.list(),
        latched: new ModeJournal(store).readLatch() !== null,
      };
    } finally {
      store.close();
    }
  } catch {
    return null;
  }
}

const PAGE_EVENTS_MAX = 500;

/**
 * Reads the owner's verdict on each venue of `baseline`: the first VENUE_FLAT or VENUE_NOT_FLAT
 * after the baseline's head, polling every `pollMs`, for at most `waitMs` from `requestedAtMs`
 * (both on `monotonicNow`, the command's own clock).
 */
export async function awaitVenueOutcomes(
  dbPath: string,
  baseline: VenueBaseline,
  options: {
    readonly requestedAtMs: number;
    readonly waitMs: number;
    readonly pollMs?: number;
    readonly monotonicNow?: () => number;
  },
): Promise<VenueOutcome[]> {
  const now = options.monotonicNow ?? (() => performance.now());
  const pollMs = options.pollMs ?? 5;
  const found = new Map<string, VenueOutcome>();
  const names = new Set(baseline.venues.map((venue) => venue.name));
  let nextSeq = baseline.headSeq + 1;
  const store = openDatabaseReader(dbPath);
  try {
    for (;;) {
      for (;;) {
        const page = store.events.readPage(nextSeq, PAGE_EVENTS_MAX);
        const readAtMs = now();
        for (const event of page) {
          nextSeq = event.seq + 1;
          const outcome = outcomeOf(event, readAtMs - options.requestedAtMs);
          if (outcome !== null && names.has(outcome.venue) && !found.has(outcome.venue)) {
            found.set(outcome.venue, outcome);
          }
        }
        if (page.length < PAGE_EVENTS_MAX) break;
      }
      const waitedMs = now() - options.requestedAtMs;
      if (found.size === names.size || waitedMs >= options.waitMs) {
        return [...names].map(
          (venue) => found.get(venue) ?? { venue, kind: 'no-word', waitedMs: Math.round(waitedMs) },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  } finally {
    store.close();
  }
}

function outcomeOf(event: StoredEvent, afterRequestMs: number): VenueOutcome | null {
  if (event.eventType !== 'VENUE_FLAT' && event.eventType !== 'VENUE_NOT_FLAT') return null;
  const metadata = event.metadata;
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) return null;
  const fields = metadata as Record<string, unknown>;
  // A cancel for the fleet lease's end is not the verdict on the SHUTDOWN asked for.
  if (fields.cause === 'FLEET_LEASE_ENDED') return null;
  const venue = fields.venue;
  if (typeof venue !== 'string') return null;
  const count = (value: unknown): number | null =>
    typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : null;
  if (event.eventType === 'VENUE_FLAT') {
    return {
      venue,
      kind: 'flat',
      cancelledCount: count(fields.cancelledCount),
      afterRequestMs: Math.max(0, Math.round(afterRequestMs)),
    };
  }
  return {
    venue,
    kind: 'not-flat',
    openOrders: count(fields.openOrders),
    afterMs: count(fields.afterMs) ?? 0,
    error: typeof fields.error === 'string' ? fields.error : null,
  };
}

/**
 * With no owner running: each venue's dead man's switch as recorded (its last armed expiry, wall
 * time), re-read now. A venue disarmed (a planned stop) or never armed has nothing to cancel it.
 * A venue whose orders lived in the owner's process (`inProcess` on record) is flat: that process
 * is gone, and its orders with it.
 */
export function switchOutcomes(dbPath: string, wallNowMs: number): VenueOutcome[] {
  let venues: readonly VenueRecord[];
  try {
    const store = openDatabaseReader(dbPath);
    try {
      venues = store.venues.list();
    } finally {
      store.close();
    }
  } catch (error) {
    throw new Error(`the venues on record could not be read: ${describeError(error)}`);
  }
  return venues.map((record): VenueOutcome => {
    if (record.inProcess) return { venue: record.name, kind: 'process-gone' };
    const expiresAt = record.switchExpiresAt;
    const expiresAtMs = expiresAt === null ? Number.NaN : Date.parse(expiresAt);
    if (expiresAt === null || !Number.isFinite(expiresAtMs)) {
      return { venue: record.name, kind: 'no-switch' };
    }
    return { venue: record.name, kind: 'switch', expiresAt, inMs: expiresAtMs - wallNowMs };
  });
}
