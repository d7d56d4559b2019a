/**
 * A bounded count of the errors in a sliding window on the monotonic clock. The count is exact
 * while the window holds at most `exactCapacity` errors (their times sit in a ring); beyond
 * that it comes from time buckets and may include errors up to one bucket older than the
 * window, never fewer than are in it. Memory is fixed whatever the error rate, and the state
 * can be exported (ages relative to now) and restored after a process restart.
 */
import type { Clock } from '../clock.js';
import { assert, GovernorError } from '../errors.js';

/** Buckets per window: the bucket count is exact to windowMs / 120 (0.5 s for a 1 min window). */
export const ERROR_WINDOW_BUCKETS = 120;
/** Error times kept exactly: while the window holds at most this many errors, no rounding. */
export const ERROR_WINDOW_EXACT_CAPACITY = 4_096;
/** `exportState()` lists exact ages only when the window holds at most this many errors. */
export const ERROR_WINDOW_EXPORT_EXACT_MAX = 256;
/** The most buckets a state given to `restore()` may list. */
const STATE_BUCKETS_MAX = 10_000;

export interface ErrorWindowOptions {
  /** The window: an error counts while its age is below this. */
  readonly windowMs: number;
  /** Buckets per window (default {@link ERROR_WINDOW_BUCKETS}); sets the bucket width. */
  readonly bucketsPerWindow?: number;
  /** Error times kept exactly (default {@link ERROR_WINDOW_EXACT_CAPACITY}). */
  readonly exactCapacity?: number;
}

/**
 * A window's content relative to the instant it was exported: plain JSON, no monotonic
 * instant in it, so another process (another clock origin) can restore it.
 */
export interface ErrorWindowState {
  readonly version: 1;
  readonly windowMs: number;
  readonly bucketMs: number;
  /** The age of the older edge of the newest bucket, in 0..bucketMs. */
  readonly newestBucketAgeMs: number;
  /**
   * Errors per bucket, newest first: `counts[i]` holds the errors aged in
   * [newestBucketAgeMs + (i − 1)·bucketMs, newestBucketAgeMs + i·bucketMs) (from 0 for i = 0).
   * Only the buckets that overlap the window; trailing empty buckets are left out.
   */
  readonly counts: readonly number[];
  /**
   * The exact age of every error in the window, oldest first: present only when the window
   * knew them exactly and held at most {@link ERROR_WINDOW_EXPORT_EXACT_MAX}.
   */
  readonly exactAgesMs?: readonly number[];
}

export class ErrorWindow {
  readonly windowMs: number;
  readonly bucketMs: number;
  /** Ring of bucket counts; bucket j holds the errors timed in (origin + (j − 1)·w, origin + j·w]. */
  private readonly bucketCounts: Float64Array;
  private originMs: number;
  /** The newest bucket in the ring; the ring holds buckets newestBucket − length + 1 .. newestBucket. */
  private newestBucket = 0;
  /** Ring of the latest error times, oldest first from exactNext − exactSize. */
  private readonly exactTimesMs: Float64Array;
  private exactNext = 0;
  private exactSize = 0;
  /** The exact ring holds every error timed after this instant. */
  private exactFromMs = Number.NEGATIVE_INFINITY;
  /** Whether anything was recorded or restored yet (a fresh window restores aligned). */
  private used = false;

  constructor(
    private readonly clock: Clock,
    options: ErrorWindowOptions,
  ) {
    const { windowMs } = options;
    const buckets = options.bucketsPerWindow ?? ERROR_WINDOW_BUCKETS;
    const capacity = options.exactCapacity ?? ERROR_WINDOW_EXACT_CAPACITY;
    assert(Number.isFinite(windowMs) && windowMs > 0, `error window of ${windowMs} ms`);
    assert(Number.isInteger(buckets) && buckets >= 1 && buckets <= 10_000, `${buckets} buckets`);
    assert(Number.isInteger(capacity) && capacity >= 1 && capacity <= 1_000_000, `${capacity}`);
    this.windowMs = windowMs;
    this.bucketMs = Math.ceil(windowMs / buckets);
    // A window that starts anywhere inside a bucket spans at most ceil(window / width) + 1.
    this.bucketCounts = new Float64Array(Math.ceil(windowMs / this.bucketMs) + 1);
    this.exactTimesMs = new Float64Array(capacity);
    this.originMs = clock.monotonicNow();
  }

  /** Counts one error now. O(1) amortised, allocates nothing. */
  record(): void {
    const nowMs = this.clock.monotonicNow();
    this.used = true;
    this.addToBucket(this.bucketOf(nowMs), 1);
    this.pushExact(nowMs);
  }

  /** The errors aged below windowMs: exact, or at most one bucket's worth of older ones more. */
  count(): number {
    const nowMs = this.clock.monotonicNow();
    const cutoffMs = nowMs - this.windowMs;
    return cutoffMs >= this.exactFromMs ? this.exactCountAfter(cutoffMs) : this.bucketSum(cutoffMs);
  }

  /** The window's content relative to now, for {@link restore} in this or a later process. */
  exportState(): ErrorWindowState {
    const nowMs = this.clock.monotonicNow();
    const cutoffMs = nowMs - this.windowMs;
    const nowBucket = Math.max(this.bucketOf(nowMs), this.newestBucket);
    const counts: number[] = [];
    for (let bucket = nowBucket; bucket >= this.oldestBucketAfter(cutoffMs); bucket--) {
      counts.push(bucket > this.newestBucket ? 0 : (this.bucketCounts[this.slot(bucket)] ?? 0));
    }
    while (counts.length > 0 && counts[counts.length - 1] === 0) counts.pop();
    const edgeAgeMs = nowMs - (this.originMs + (nowBucket - 1) * this.bucketMs);
    const state = {
      version: 1 as const,
      windowMs: this.windowMs,
      bucketMs: this.bucketMs,
      newestBucketAgeMs: Math.min(this.bucketMs, Math.max(0, edgeAgeMs)),
      counts,
    };
    if (cutoffMs < this.exactFromMs) return state;
    const inWindow = this.exactCountAfter(cutoffMs);
    if (inWindow > ERROR_WINDOW_EXPORT_EXACT_MAX) return state;
    const exactAgesMs: number[] = [];
    for (let position = this.exactSize - inWindow; position < this.exactSize; position++) {
      exactAgesMs.push(nowMs - this.exactTimeAt(position));
    }
    return { ...state, exactAgesMs };
  }

  /**
   * Adds an exported state's errors, aged by `elapsedSinceExportMs` (measured by the caller,
   * e.g. on the wall clock; negative counts as 0). Restored into a fresh window with the same
   * bucket width, buckets keep their edges and the precision stays one bucket; otherwise each
   * bucket's errors are placed at its youngest age (never under-counted, up to one old bucket
   * more). Errors older than the state's window at export are not in it. Throws
   * GOV_INVALID_ARGUMENT naming the field when the state is malformed.
   */
  restore(state: ErrorWindowState, elapsedSinceExportMs: number): void {
    checkState(state);
    if (typeof elapsedSinceExportMs !== 'number' || !Number.isFinite(elapsedSinceExportMs)) {
      throw new GovernorError(
        'GOV_INVALID_ARGUMENT',
        `error window restore: elapsedSinceExportMs must be a finite number of ms, got ${String(elapsedSinceExportMs)}`,
      );
    }
    const nowMs = this.clock.monotonicNow();
    const exportedAtMs = nowMs - Math.max(0, elapsedSinceExportMs);
    const fresh = !this.used;
    this.used = true;
    if (fresh && state.bucketMs === this.bucketMs) {
      this.originMs = exportedAtMs - state.newestBucketAgeMs;
      this.newestBucket = Math.max(1, this.bucketOf(nowMs));
      state.counts.forEach((count, index) => {
        this.addToBucket(1 - index, count);
      });
    } else {
      this.advanceTo(this.bucketOf(nowMs));
      state.counts.forEach((count, index) => {
        const youngestAgeMs = Math.max(0, state.newestBucketAgeMs + (index - 1) * state.bucketMs);
        if (count > 0) this.addToBucket(this.bucketOf(exportedAtMs - youngestAgeMs), count);
      });
    }
    if (fresh && state.exactAgesMs !== undefined) {
      this.exactFromMs = exportedAtMs - state.windowMs;
      for (const ageMs of state.exactAgesMs) this.pushExact(exportedAtMs - ageMs);
    } else {
      this.exactFromMs = Math.max(this.exactFromMs, exportedAtMs);
    }
  }

  private bucketOf(timeMs: number): number {
    return Math.ceil((timeMs - this.originMs) / this.bucketMs);
  }

  private slot(bucket: number): number {
    const length = this.bucketCounts.length;
    return ((bucket % length) + length) % length;
  }

  /** The oldest bucket, still in the ring, holding a time after `cutoffMs`. */
  private oldestBucketAfter(cutoffMs: number): number {
    const firstAfter = Math.floor((cutoffMs - this.originMs) / this.bucketMs) + 1;
    return Math.max(firstAfter, this.newestBucket - this.bucketCounts.length + 1);
  }

  private advanceTo(bucket: number): void {
    if (bucket <= this.newestBucket) return;
    const cleared = Math.min(bucket - this.newestBucket, this.bucketCounts.length);
    for (let step = 1; step <= cleared; step++) {
      this.bucketCounts[this.slot(this.newestBucket + step)] = 0;
    }
    this.newestBucket = bucket;
  }

  private addToBucket(bucket: number, count: number): void {
    this.advanceTo(bucket);
    if (bucket <= this.newestBucket - this.bucketCounts.length) return; // older than the ring
    const slot = this.slot(bucket);
    this.bucketCounts[slot] = (this.bucketCounts[slot] ?? 0) + count;
  }

  private bucketSum(cutoffMs: number): number {
    let total = 0;
    for (let bucket = this.oldestBucketAfter(cutoffMs); bucket <= this.newestBucket; bucket++) {
      total += this.bucketCounts[this.slot(bucket)] ?? 0;
    }
    return total;
  }

  private pushExact(timeMs: number): void {
    const capacity = this.exactTimesMs.length;
    if (this.exactSize === capacity) {
      this.exactFromMs = Math.max(this.exactFromMs, this.exactTimesMs[this.exactNext] ?? timeMs);
    } else {
      this.exactSize++;
    }
    this.exactTimesMs[this.exactNext] = timeMs;
    this.exactNext = (this.exactNext + 1) % capacity;
  }

  /** The time at `position` in the ring, 0 being the oldest kept. */
  private exactTimeAt(position: number): number {
    const capacity = this.exactTimesMs.length;
    const slot = (this.exactNext - this.exactSize + position + capacity) % capacity;
    return this.exactTimesMs[slot] ?? Number.NEGATIVE_INFINITY;
  }

  /** The kept times after `cutoffMs`: binary search, the ring being in time order. */
  private exactCountAfter(cutoffMs: number): number {
    let low = 0;
    let high = this.exactSize;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.exactTimeAt(middle) > cutoffMs) high = middle;
      else low = middle + 1;
    }
    return this.exactSize - low;
  }
}

function checkState(state: unknown): asserts state is ErrorWindowState {
  const bad = (field: string, expected: string): never => {
    throw new GovernorError(
      'GOV_INVALID_ARGUMENT',
      `error window state: ${field}: expected ${expected}`,
      { field },
    );
  };
  if (state === null || typeof state !== 'object') return bad('state', 'an object');
  const s = state as Record<string, unknown>;
  if (s.version !== 1) bad('version', '1');
  const positive = (field: string): number => {
    const value = s[field];
    return typeof value === 'number' && Number.isFinite(value) && value > 0
      ? value
      : bad(field, 'a positive number of ms');
  };
  const windowMs = positive('windowMs');
  const bucketMs = positive('bucketMs');
  const edgeAgeMs = s.newestBucketAgeMs;
  if (typeof edgeAgeMs !== 'number' || !(edgeAgeMs >= 0 && edgeAgeMs <= bucketMs)) {
    bad('newestBucketAgeMs', `a number of ms in 0..${bucketMs}`);
  }
  const maxBuckets = Math.min(STATE_BUCKETS_MAX, Math.ceil(windowMs / bucketMs) + 1);
  const counts = s.counts;
  if (!Array.isArray(counts) || counts.length > maxBuckets) {
    return bad('counts', `an array of at most ${maxBuckets} counts`);
  }
  let total = 0;
  for (const count of counts as unknown[]) {
    if (!Number.isSafeInteger(count) || (count as number) < 0) bad('counts', 'integers ≥ 0');
    total += count as number;
  }
  if (!Number.isSafeInteger(total)) bad('counts', 'a total below 2^53');
  const ages = s.exactAgesMs;
  if (ages === undefined) return;
  if (!Array.isArray(ages) || ages.length > Math.min(ERROR_WINDOW_EXPORT_EXACT_MAX, total)) {
    bad('exactAgesMs', 'an array no longer than 256 or the counts’ total');
  }
  let previousMs = Number.POSITIVE_INFINITY;
  for (const age of ages as unknown[]) {
    if (typeof age !== 'number' || !(age >= 0 && age < windowMs && age <= previousMs)) {
      bad('exactAgesMs', `ages in 0..${windowMs} ms, oldest first`);
    }
    previousMs = age as number;
  }
}
