/**
 * Staleness, decided in one place. An input (market data, the last event-log write, the last
 * snapshot, the heartbeat) is stale when it is older than its limit, as the spec writes it ("> 5
 * minutes old"): at its limit exactly it is still fresh. The gate, health, the fail-safe and the
 * heartbeat all judge through `isStale`, on instants of the monotonic clock, so they agree at
 * every boundary; `exactDuration` gives the figures their reasons quote.
 */
import { formatDuration } from '../clock.js';

/**
 * True when an input last updated at `lastMs` is stale at `nowMs` (the same clock): strictly
 * older than `limitMs`. The gate stays open through `lastMs + limitMs` (see `freshThroughMs`).
 */
export function isStale(nowMs: number, lastMs: number, limitMs: number): boolean {
  return nowMs > freshThroughMs(lastMs, limitMs);
}

/** The last instant at which an input last updated at `lastMs` is still fresh. */
export function freshThroughMs(lastMs: number, limitMs: number): number {
  return lastMs + limitMs;
}

const SECOND_MS = 1_000;
const MINUTE_MS = 60 * SECOND_MS;

/** Whether `formatDuration` shows `ms` exactly (it shows whole seconds, or whole minutes past one). */
function shownExactly(ms: number): boolean {
  if (!Number.isInteger(ms) || ms < 0) return false;
  return ms < MINUTE_MS ? ms % SECOND_MS === 0 : ms % MINUTE_MS === 0;
}

/**
 * A duration with exact figures: `5m` when that is exact, else `5m (300001 ms)`. A fraction of a
 * millisecond is rounded up (to 0.001 ms), so an age past its limit never reads as at it.
 */
export function exactDuration(ms: number): string {
  if (!Number.isFinite(ms)) return `${ms} ms`;
  const short = formatDuration(ms);
  if (shownExactly(ms)) return short;
  const exact = Number.isInteger(ms) ? ms : Math.ceil(ms * 1_000) / 1_000;
  return `${short} (${exact} ms)`;
}

/**
 * The instant a latch counts an input from, given when it was last updated and its limit. The
 * gate always judges the true age; a latch may judge a later instant (see `arrivalLatchFrom`).
 */
export type LatchFrom = (lastMs: number, limitMs: number) => number;

/** Every rule judges the true age. */
export const FROM_LAST_UPDATE: LatchFrom = (lastMs) => lastMs;

/**
 * The fail-safe's rule for inputs stale on arrival. A new process restores each input's age
 * (downtime included), so market data an hour old closes the gate from the first instant; but
 * a latch needs an operator, and the engine has had no chance to report. Such an input latches
 * `min(limit, graceMs)` after `startedAtMs` unless reported first: a restart never opens the
 * gate on stale data, and never latches before the engine's first report could arrive.
 */
export function arrivalLatchFrom(startedAtMs: number, graceMs: number): LatchFrom {
  return (lastMs, limitMs) => Math.max(lastMs, startedAtMs - Math.max(0, limitMs - graceMs));
}
