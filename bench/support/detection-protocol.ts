/**
 * What bench/detection.ts and its two children share: the schedule of a round (the same timer
 * delays and spacing for governor and for the bare timers) and the messages they exchange.
 */

/** The staleness threshold: the fail-safe deadline is this long after the last market data. */
export const THRESHOLD_MS = 1_000;
/** Within a round, trial k starts (its last market data, or its bare timer) at k × this. */
export const SPACING_MS = 60;

/**
 * How the governor child writes an incident: `after`, the shipped path (the shutdown's events,
 * the latch and the CRITICAL alert's row in one commit); `before`, the former path kept behind
 * an internal switch (the alert's row in a second commit of its own, after the latch's).
 */
export type IncidentPath = 'before' | 'after';

/** Run a round of this many trials (the governor child: along `path`); or end: clean up and exit. */
export type ChildRequest =
  | { readonly kind: 'round'; readonly trials: number; readonly path?: IncidentPath }
  | { readonly kind: 'end' };

export interface GovernorSample {
  /** From the deadline to the machine receiving the fail-safe trigger (the gate latched shut). */
  readonly gateLatchedMs: number;
  /** From the deadline to the CRITICAL alert stored: its listener, told once its commit returned. */
  readonly alertPersistedMs: number;
  /** From the deadline to the mode-change listeners told (after the head anchor's synced write). */
  readonly toldMs: number;
  /** Whether another governor of the round wrote its shutdown between this deadline and its detection. */
  readonly overlapped: boolean;
  /** MARKET_DATA_STALL, or HEALTH_CHECK_FAILED when the check found stale market data first. */
  readonly trigger: string;
}

export interface GovernorRound {
  readonly kind: 'governor';
  readonly path: IncidentPath;
  readonly samples: readonly GovernorSample[];
}

export interface BaselineRound {
  readonly kind: 'baseline';
  /** How late each bare timer fired, in ms past its due time. */
  readonly latenessMs: readonly number[];
}

/** Runs `start(k)` for k = 0 … trials − 1, k × SPACING_MS after the round starts. */
export function scheduleStarts(trials: number, start: (k: number) => void): void {
  for (let k = 0; k < trials; k++) setTimeout(() => start(k), k * SPACING_MS);
}
