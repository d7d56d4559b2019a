/**
 * The one source of time in governor: wall time (for timestamps people read), monotonic time
 * (for every age and deadline) and timers. `SystemClock` is the real one; `SimulatedClock`
 * drives tests and simulations deterministically and also satisfies XState's clock interface.
 */

/** An opaque timer handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = { readonly id: number };

export interface Clock {
  /** Wall-clock time in ms since the Unix epoch. Only for display and timestamps. */
  wallNow(): number;
  /** Monotonic time in ms from an arbitrary origin. Use it for every age and deadline. */
  monotonicNow(): number;
  /** Runs `callback` once after `delayMs` (monotonic). Never keeps the process alive by itself. */
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

function assertDelay(delayMs: number): void {
  if (!Number.isFinite(delayMs) || delayMs < 0) {
    throw new TypeError(`Expected a finite, non-negative delay in ms, got ${String(delayMs)}`);
  }
}

/** The real clock: `Date.now()`, `performance.now()` and unref'd Node timers. */
export class SystemClock implements Clock {
  private nextId = 1;
  private readonly timers = new Map<number, NodeJS.Timeout>();

  wallNow(): number {
    return Date.now();
  }

  monotonicNow(): number {
    return performance.now();
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    assertDelay(delayMs);
    const id = this.nextId++;
    const timer = setTimeout(() => {
      this.timers.delete(id);
      callback();
    }, delayMs);
    timer.unref();
    this.timers.set(id, timer);
    return { id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle === undefined) return;
    const timer = this.timers.get(handle.id);
    if (timer !== undefined) {
      clearTimeout(timer);
      this.timers.delete(handle.id);
    }
  }
}

interface PendingTimer {
  readonly id: number;
  readonly dueMs: number;
  readonly callback: () => void;
}

/**
 * A deterministic clock. Time moves only when told:
 * - `advance(ms)` moves both clocks forward, firing due timers in deadline order (ties in
 *   scheduling order), including timers that those timers schedule within the window;
 * - `skip(ms)` moves both clocks without firing anything: a stalled event loop. The timers
 *   that became due fire at the next `advance` (or `runDue`);
 * - `jumpWall(ms)` moves only the wall clock, in either direction, as NTP or an operator might.
 */
export class SimulatedClock implements Clock {
  private wallMs: number;
  private monotonicMs: number;
  private nextId = 1;
  private readonly pending = new Map<number, PendingTimer>();

  constructor(options: { wallStartMs?: number; monotonicStartMs?: number } = {}) {
    this.wallMs = options.wallStartMs ?? Date.UTC(2026, 0, 1);
    this.monotonicMs = options.monotonicStartMs ?? 0;
  }

  wallNow(): number {
    return this.wallMs;
  }

  monotonicNow(): number {
    return this.monotonicMs;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    assertDelay(delayMs);
    const id = this.nextId++;
    this.pending.set(id, { id, dueMs: this.monotonicMs + delayMs, callback });
    return { id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle !== undefined) this.pending.delete(handle.id);
  }

  /** The number of timers not yet fired or cleared. */
  pendingCount(): number {
    return this.pending.size;
  }

  /** The monotonic instant of the earliest pending timer, or undefined when none is pending. */
  nextDueMs(): number | undefined {
    let earliest: number | undefined;
    for (const timer of this.pending.values()) {
      if (earliest === undefined || timer.dueMs < earliest) earliest = timer.dueMs;
    }
    return earliest;
  }

  /** Moves both clocks forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    assertDelay(ms);
    const targetMs = this.monotonicMs + ms;
    for (;;) {
      const timer = this.earliestDueBy(targetMs);
      if (timer === undefined) break;
      if (timer.dueMs > this.monotonicMs) {
        this.wallMs += timer.dueMs - this.monotonicMs;
        this.monotonicMs = timer.dueMs;
      }
      this.pending.delete(timer.id);
      timer.callback();
    }
    this.wallMs += targetMs - this.monotonicMs;
    this.monotonicMs = targetMs;
  }

  /** Fires the timers already due without moving time (what a resumed event loop does). */
  runDue(): void {
    this.advance(0);
  }

  /** Moves both clocks forward by `ms` without firing timers: an event loop that stalled. */
  skip(ms: number): void {
    assertDelay(ms);
    this.wallMs += ms;
    this.monotonicMs += ms;
  }

  /** Moves only the wall clock, forward (positive) or backward (negative). */
  jumpWall(ms: number): void {
    if (!Number.isFinite(ms)) throw new TypeError(`Expected a finite jump in ms, got ${ms}`);
    this.wallMs += ms;
  }

  private earliestDueBy(limitMs: number): PendingTimer | undefined {
    let earliest: PendingTimer | undefined;
    for (const timer of this.pending.values()) {
      if (timer.dueMs > limitMs) continue;
      if (
        earliest === undefined ||
        timer.dueMs < earliest.dueMs ||
        (timer.dueMs === earliest.dueMs && timer.id < earliest.id)
      ) {
        earliest = timer;
      }
    }
    return earliest;
  }
}

/**
 * Every duration governor shows a person (uptime, ages and thresholds in reasons, `governor
 * status`): `2d 5h 30m`, `5h 0m`, `12m`, `45s`, the spec's uptime format.
 */
export function formatDuration(ms: number): string {
  const totalSeconds = Math.max(0, Math.floor(ms / 1_000));
  const days = Math.floor(totalSeconds / 86_400);
  const hours = Math.floor((totalSeconds % 86_400) / 3_600);
  const minutes = Math.floor((totalSeconds % 3_600) / 60);
  if (days > 0) return `${days}d ${hours}h ${minutes}m`;
  if (hours > 0) return `${hours}h ${minutes}m`;
  if (minutes > 0) return `${minutes}m`;
  return `${totalSeconds}s`;
}
