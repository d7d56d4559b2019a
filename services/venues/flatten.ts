/**
 * Flattening a set of venues: `cancelAllOrders` at every venue at once, then `countOpenOrders`
 * until it answers 0, cancelling again while orders remain, with bounded exponential backoff and
 * a timeout on every call. Used by the owner when it enters SHUTDOWN and by the command line's
 * own kill path; neither waits on a venue for anything else.
 */
import type { Clock, TimerHandle } from '../clock.js';
import { describeError, GovernorError } from '../errors.js';
import type { Venue } from './venue.js';

/** The defaults of {@link FlattenOptions}, in one place for the docs and the tests. */
export const FLATTEN_DEFAULTS = Object.freeze({
  callTimeoutMs: 2_000,
  notFlatAfterMs: 5_000,
  initialBackoffMs: 100,
  maxBackoffMs: 2_000,
  maxCallsInFlightPerVenue: 4,
});

export interface FlattenOptions {
  /** Every wait, timeout and latency is measured on this clock's monotonic time. */
  readonly clock: Clock;
  /** The longest one venue call may take before it counts as failed (default 2 s). */
  readonly callTimeoutMs?: number;
  /**
   * A venue not flat this long after the start is reported once as not flat (a `not-flat` event:
   * the owner raises its CRITICAL alert on it); the retries go on (default 5 s).
   */
  readonly notFlatAfterMs?: number;
  /** The first wait between two rounds at one venue; it doubles each round (default 100 ms). */
  readonly initialBackoffMs?: number;
  /** The longest wait between two rounds at one venue (default 2 s). */
  readonly maxBackoffMs?: number;
  /**
   * Stop retrying a venue this long after the start and report it not flat. Without it the
   * retries go on until every venue is flat or `signal` aborts (the owner: an operator's
   * acknowledgement or `close()`).
   */
  readonly stopAfterMs?: number;
  /** Ends every retry and wait at once; the report then says `stopped`. */
  readonly signal?: AbortSignal;
  /**
   * Calls of one venue still unanswered (timed out but not settled) beyond which no new call is
   * made to it: a round then fails at once, so a venue that hangs accumulates at most this many
   * pending promises (default 4).
   */
  readonly maxCallsInFlightPerVenue?: number;
  /** Each attempt and outcome as it happens, for the event log and the alerts. Must not throw. */
  readonly onEvent?: (event: FlattenEvent) => void;
}

/** How one venue call ended. */
export type CallOutcome = 'ok' | 'error' | 'timeout';

export type FlattenEvent =
  | {
      readonly type: 'cancel';
      readonly venue: string;
      /** The round at this venue, from 1. */
      readonly attempt: number;
      readonly outcome: CallOutcome;
      readonly latencyMs: number;
      /** The number of orders the venue said it cancelled, when it says. */
      readonly cancelledCount: number | undefined;
      readonly error: string | undefined;
    }
  | {
      readonly type: 'count';
      readonly venue: string;
      readonly attempt: number;
      readonly outcome: CallOutcome;
      readonly latencyMs: number;
      readonly openOrders: number | undefined;
      readonly error: string | undefined;
    }
  | {
      readonly type: 'flat';
      readonly venue: string;
      readonly attempts: number;
      /** Monotonic ms from the start of the flatten to the count of 0. */
      readonly afterMs: number;
      /** The orders the venue said it cancelled over all rounds, when it said each time. */
      readonly cancelledCount: number | undefined;
    }
  | {
      readonly type: 'not-flat';
      readonly venue: string;
      readonly attempts: number;
      readonly afterMs: number;
      /** The last count the venue gave, undefined when it never answered one. */
      readonly openOrders: number | undefined;
      readonly error: string | undefined;
    };

/** What became of one venue. */
export interface VenueFlattenResult {
  readonly venue: string;
  readonly flat: boolean;
  /** The orders the venue said it cancelled over all rounds; undefined when it did not say. */
  readonly cancelledCount: number | undefined;
  /** Monotonic ms from the start to the count of 0, when flat. */
  readonly flatAfterMs: number | undefined;
  /** The last count answered (0 when flat); undefined when no count ever came back. */
  readonly openOrders: number | undefined;
  /** Monotonic ms from the start to the end of this venue's rounds. */
  readonly elapsedMs: number;
  readonly attempts: number;
  /** The latency of the last `cancelAllOrders` that answered, in ms. */
  readonly lastCancelLatencyMs: number | undefined;
  /** What the last failed call said, if the last round had one. */
  readonly lastError: string | undefined;
}

export interface FlattenReport {
  readonly venues: readonly VenueFlattenResult[];
  readonly allFlat: boolean;
  /** True when `signal` ended the retries before every venue was flat. */
  readonly stopped: boolean;
  readonly elapsedMs: number;
}

type Resolved = Required<Omit<FlattenOptions, 'stopAfterMs' | 'signal' | 'onEvent'>> & {
  readonly stopAfterMs: number | undefined;
  readonly signal: AbortSignal | undefined;
  readonly onEvent: (event: FlattenEvent) => void;
};

function positiveMs(value: number | undefined, fallback: number, name: string): number {
  const ms = value ?? fallback;
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new GovernorError(
      'GOV_INVALID_ARGUMENT',
      `${name} must be a finite number of ms > 0, got ${String(ms)}`,
    );
  }
  return ms;
}

function resolveOptions(options: FlattenOptions): Resolved {
  const initialBackoffMs = positiveMs(
    options.initialBackoffMs,
    FLATTEN_DEFAULTS.initialBackoffMs,
    'initialBackoffMs',
  );
  const maxBackoffMs = positiveMs(
    options.maxBackoffMs,
    FLATTEN_DEFAULTS.maxBackoffMs,
    'maxBackoffMs',
  );
  if (maxBackoffMs < initialBackoffMs) {
    throw new GovernorError('GOV_INVALID_ARGUMENT', 'maxBackoffMs must be >= initialBackoffMs');
  }
  const maxInFlight = options.maxCallsInFlightPerVenue ?? FLATTEN_DEFAULTS.maxCallsInFlightPerVenue;
  if (!Number.isSafeInteger(maxInFlight) || maxInFlight < 1) {
    throw new GovernorError(
      'GOV_INVALID_ARGUMENT',
      'maxCallsInFlightPerVenue must be an integer >= 1',
    );
  }
  const onEvent = options.onEvent;
  return {
    clock: options.clock,
    callTimeoutMs: positiveMs(
      options.callTimeoutMs,
      FLATTEN_DEFAULTS.callTimeoutMs,
      'callTimeoutMs',
    ),
    notFlatAfterMs: positiveMs(
      options.notFlatAfterMs,
      FLATTEN_DEFAULTS.notFlatAfterMs,
      'notFlatAfterMs',
    ),
    initialBackoffMs,
    maxBackoffMs,
    maxCallsInFlightPerVenue: maxInFlight,
    stopAfterMs:
      options.stopAfterMs === undefined
        ? undefined
        : positiveMs(options.stopAfterMs, 0, 'stopAfterMs'),
    signal: options.signal,
    onEvent: (event) => {
      // A listener that throws must not end the flatten: the cancels matter more than the record.
      try {
        onEvent?.(event);
      } catch {}
    },
  };
}

/**
 * Flattens every venue in `venues` at once and resolves when each is flat, was given up
 * (`stopAfterMs`) or `signal` aborted. It never rejects for a venue's failure: a venue that
 * refuses, throws or hangs is retried and reported, never waited on beyond `callTimeoutMs`.
 */
export async function flattenVenues(
  venues: readonly Venue[],
  options: FlattenOptions,
): Promise<FlattenReport> {
  const resolved = resolveOptions(options);
  const names = new Set<string>();
  for (const venue of venues) {
    if (names.has(venue.name)) {
      throw new GovernorError('GOV_INVALID_ARGUMENT', `two venues are named ${venue.name}`);
    }
    names.add(venue.name);
  }
  const startMs = resolved.clock.monotonicNow();
  const results = await Promise.all(venues.map((venue) => flattenOne(venue, startMs, resolved)));
  return {
    venues: results,
    allFlat: results.every((result) => result.flat),
    stopped: resolved.signal?.aborted === true && !results.every((result) => result.flat),
    elapsedMs: resolved.clock.monotonicNow() - startMs,
  };
}

type CallResult<T> =
  | { readonly outcome: 'ok'; readonly value: T; readonly latencyMs: number }
  | { readonly outcome: 'error' | 'timeout'; readonly error: string; readonly latencyMs: number };

interface VenueRun {
  attempts: number;
  cancelledCount: number | undefined;
  cancelCountKnown: boolean;
  openOrders: number | undefined;
  lastCancelLatencyMs: number | undefined;
  lastError: string | undefined;
  inFlight: number;
  reportedNotFlat: boolean;
}

async function flattenOne(
  venue: Venue,
  startMs: number,
  options: Resolved,
): Promise<VenueFlattenResult> {
  const { clock } = options;
  const run: VenueRun = {
    attempts: 0,
    cancelledCount: undefined,
    cancelCountKnown: true,
    openOrders: undefined,
    lastCancelLatencyMs: undefined,
    lastError: undefined,
    inFlight: 0,
    reportedNotFlat: false,
  };
  let needsCancel = true;
  const result = (flat: boolean): VenueFlattenResult => ({
    venue: venue.name,
    flat,
    cancelledCount: run.cancelCountKnown ? run.cancelledCount : undefined,
    flatAfterMs: flat ? clock.monotonicNow() - startMs : undefined,
    openOrders: run.openOrders,
    elapsedMs: clock.monotonicNow() - startMs,
    attempts: run.attempts,
    lastCancelLatencyMs: run.lastCancelLatencyMs,
    lastError: run.lastError,
  });
  for (;;) {
    if (isStopped(options)) return result(false);
    run.attempts += 1;
    run.lastError = undefined;
    if (needsCancel) needsCancel = !(await cancelRound(venue, run, options));
    if (isStopped(options)) return result(false);
    const count = await callVenue(() => venue.countOpenOrders(), run, options);
    const openOrders = count.outcome === 'ok' ? validCount(count.value) : undefined;
    if (count.outcome !== 'ok') run.lastError = count.error;
    else if (openOrders === undefined)
      run.lastError = `countOpenOrders answered ${String(count.value)}`;
    else run.openOrders = openOrders;
    options.onEvent({
      type: 'count',
      venue: venue.name,
      attempt: run.attempts,
      outcome: count.outcome === 'ok' && openOrders === undefined ? 'error' : count.outcome,
      latencyMs: count.latencyMs,
      openOrders,
      error: run.lastError,
    });
    if (openOrders === 0) {
      const flat = result(true);
      options.onEvent({
        type: 'flat',
        venue: venue.name,
        attempts: run.attempts,
        afterMs: flat.flatAfterMs ?? flat.elapsedMs,
        cancelledCount: flat.cancelledCount,
      });
      return flat;
    }
    // Orders remain (placed after the cancel, or the cancel did not take): cancel again.
    if (openOrders !== undefined) needsCancel = true;
    const elapsedMs = clock.monotonicNow() - startMs;
    if (!run.reportedNotFlat && elapsedMs >= options.notFlatAfterMs) {
      run.reportedNotFlat = true;
      options.onEvent({
        type: 'not-flat',
        venue: venue.name,
        attempts: run.attempts,
        afterMs: elapsedMs,
        openOrders: run.openOrders,
        error: run.lastError,
      });
    }
    if (options.stopAfterMs !== undefined && elapsedMs >= options.stopAfterMs) return result(false);
    const backoffMs = Math.min(
      options.maxBackoffMs,
      options.initialBackoffMs * 2 ** Math.min(run.attempts - 1, 30),
    );
    const untilStopMs =
      options.stopAfterMs === undefined ? backoffMs : options.stopAfterMs - elapsedMs;
    await sleep(clock, Math.max(0, Math.min(backoffMs, untilStopMs)), options.signal);
  }
}

/** One `cancelAllOrders`; true when the venue accepted it. */
async function cancelRound(venue: Venue, run: VenueRun, options: Resolved): Promise<boolean> {
  const cancel = await callVenue<unknown>(() => venue.cancelAllOrders(), run, options);
  let cancelledCount: number | undefined;
  if (cancel.outcome === 'ok') {
    run.lastCancelLatencyMs = cancel.latencyMs;
    cancelledCount = validCount(cancel.value);
    if (cancelledCount === undefined) run.cancelCountKnown = false;
    else run.cancelledCount = (run.cancelledCount ?? 0) + cancelledCount;
  } else {
    run.lastError = cancel.error;
  }
  options.onEvent({
    type: 'cancel',
    venue: venue.name,
    attempt: run.attempts,
    outcome: cancel.outcome,
    latencyMs: cancel.latencyMs,
    cancelledCount,
    error: cancel.outcome === 'ok' ? undefined : cancel.error,
  });
  return cancel.outcome === 'ok';
}

function isStopped(options: Resolved): boolean {
  return options.signal?.aborted === true;
}

function validCount(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/**
 * One venue call raced against `callTimeoutMs` and `signal`. A call that times out keeps its slot
 * in `run.inFlight` until it settles, so a hanging venue is not called without bound.
 */
function callVenue<T>(
  call: () => Promise<T>,
  run: VenueRun,
  options: Resolved,
): Promise<CallResult<T>> {
  const { clock } = options;
  const startMs = clock.monotonicNow();
  const latency = (): number => clock.monotonicNow() - startMs;
  if (run.inFlight >= options.maxCallsInFlightPerVenue) {
    return Promise.resolve({
      outcome: 'timeout',
      error: `${run.inFlight} earlier calls still unanswered`,
      latencyMs: 0,
    });
  }
  return new Promise((resolve) => {
    let settled = false;
    let timer: TimerHandle | undefined;
    const finish = (value: CallResult<T>): void => {
      if (settled) return;
      settled = true;
      clock.clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve(value);
    };
    const onAbort = (): void =>
      finish({ outcome: 'timeout', error: 'stopped', latencyMs: latency() });
    timer = clock.setTimeout(
      () =>
        finish({
          outcome: 'timeout',
          error: `no answer within ${options.callTimeoutMs} ms`,
          latencyMs: latency(),
        }),
      options.callTimeoutMs,
    );
    options.signal?.addEventListener('abort', onAbort, { once: true });
    run.inFlight += 1;
    let pending: Promise<T>;
    try {
      pending = call();
    } catch (error) {
      pending = Promise.reject(error);
    }
    Promise.resolve(pending).then(
      (value) => {
        run.inFlight -= 1;
        finish({ outcome: 'ok', value, latencyMs: latency() });
      },
      (error: unknown) => {
        run.inFlight -= 1;
        finish({ outcome: 'error', error: describeError(error), latencyMs: latency() });
      },
    );
  });
}

/** Waits `delayMs` on `clock`, or less when `signal` aborts. */
function sleep(clock: Clock, delayMs: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted === true) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clock.clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = clock.setTimeout(done, delayMs);
    signal?.addEventListener('abort', done, { once: true });
  });
}
