/**
 * The verifier's options: what a DataIntegrityVerifier is built with (its tolerances, bounds and
 * anchor), what one `verify` or `verifyAsync` call may ask for, the defaults and ranges, and
 * their resolution into checked settings (GOV_INVALID_ARGUMENT naming an option out of range).
 */
import type { Clock } from '../../services/clock.js';
import type { ChainProgress } from './chain-in-thread.js';
import { headAnchorPathFor } from './head-anchor.js';
import { integerOption } from './options.js';

export interface DataIntegrityVerifierOptions {
  /** Wall time for the future-timestamp bound and the anchor's `at`. Default `Date.now`. */
  readonly clock?: Pick<Clock, 'wallNow'>;
  /** Where the head anchor lives; default `<db>.head.json` (null: no anchor, e.g. `:memory:`). */
  readonly anchorPath?: string | null;
  /** Write the anchor after a clean verification. Default true. */
  readonly writeAnchor?: boolean;
  /**
   * A full verification (startup, `governor verify`) finds an event timestamp more than this
   * ahead of the wall clock implausible. Default 5 min.
   */
  readonly futureToleranceMs?: number;
  /**
   * How far a wall clock may step (NTP, an operator) without its timestamps being a violation:
   * an event may be this much older than its predecessor, and this much further ahead of the
   * clock than `futureToleranceMs` allows. Default 24 h.
   */
  readonly clockStepToleranceMs?: number;
  /** The most violations kept per check (the rest are counted in one more violation). Default 20. */
  readonly violationsPerCheckMax?: number;
  /**
   * Without `full`, a first verification starts after the anchored head (trusting the prefix an
   * earlier verification anchored) instead of at seq 1. Default false: the first run is full.
   */
  readonly resumeFromAnchor?: boolean;
  /**
   * SQLite's structural check in full runs: `except-events` (default: every table but the event
   * log, whose rows the chain walk reads), `all` (what `governor verify --full` uses), or `none`.
   */
  readonly structureCheck?: 'all' | 'except-events' | 'none';
  /**
   * `verifyAsync`: the most worker threads the chain walk uses; it uses
   * min(os.availableParallelism(), workersMax), and none below 2 (0: never). Default 4.
   */
  readonly workersMax?: number;
  /**
   * `verifyAsync`: a walk of fewer events than this runs on the calling thread, a page at a
   * time, instead of starting workers. Default 50,000.
   */
  readonly parallelEventsMin?: number;
}

/** What one `verify` call may ask for. */
export interface VerifyRunOptions {
  /** Walk the whole log (and run the structure check), not only what is new. */
  readonly full?: boolean;
  /**
   * Called as the chain walk advances: once per page (1,024 events) in `verify`, about every
   * 16 pages per worker in `verifyAsync`. For a progress bar; must not throw.
   */
  readonly onProgress?: ChainProgress | undefined;
  /**
   * Without `full`, a first run of this verifier starts after the anchored head when the chain
   * still has the anchored hash there (the verifier's `resumeFromAnchor`, for this run only).
   */
  readonly resumeFromAnchor?: boolean;
}

export interface VerifyAsyncOptions extends VerifyRunOptions {
  /** Aborting stops the walk (workers are terminated); the promise rejects with the reason. */
  readonly signal?: AbortSignal | undefined;
}

export const FUTURE_TOLERANCE_MS_DEFAULT = 5 * 60 * 1000;
export const FUTURE_TOLERANCE_MS_MAX = 7 * 24 * 60 * 60 * 1000;
export const CLOCK_STEP_TOLERANCE_MS_DEFAULT = 24 * 60 * 60 * 1000;
export const VIOLATIONS_PER_CHECK_MAX_DEFAULT = 20;
const VIOLATIONS_PER_CHECK_MAX_MAX = 1000;
export const WORKERS_MAX_DEFAULT = 4;
const WORKERS_MAX_MAX = 64;
export const PARALLEL_EVENTS_MIN_DEFAULT = 50_000;

/** The options resolved: every default applied, every bound checked. */
export interface VerifierSettings {
  readonly clock: Pick<Clock, 'wallNow'>;
  readonly anchorPath: string | null;
  readonly writeAnchor: boolean;
  readonly resumeFromAnchor: boolean;
  readonly structureCheck: 'all' | 'except-events' | 'none';
  readonly futureToleranceMs: number;
  readonly clockStepToleranceMs: number;
  readonly perCheckMax: number;
  readonly workersMax: number;
  readonly parallelEventsMin: number;
}

/**
 * Checks and completes the options of a verifier of the database at `storePath` (the anchor's
 * default lives beside it). Throws GOV_INVALID_ARGUMENT naming the first option out of range.
 */
export function resolveVerifierOptions(
  storePath: string,
  options: DataIntegrityVerifierOptions,
): VerifierSettings {
  const clockStepToleranceMs = integerOption(
    'clockStepToleranceMs',
    options.clockStepToleranceMs,
    CLOCK_STEP_TOLERANCE_MS_DEFAULT,
    0,
    FUTURE_TOLERANCE_MS_MAX,
  );
  const futureToleranceMs = integerOption(
    'futureToleranceMs',
    options.futureToleranceMs,
    FUTURE_TOLERANCE_MS_DEFAULT,
    0,
    FUTURE_TOLERANCE_MS_MAX,
  );
  const perCheckMax = integerOption(
    'violationsPerCheckMax',
    options.violationsPerCheckMax,
    VIOLATIONS_PER_CHECK_MAX_DEFAULT,
    1,
    VIOLATIONS_PER_CHECK_MAX_MAX,
  );
  const workersMax = integerOption(
    'workersMax',
    options.workersMax,
    WORKERS_MAX_DEFAULT,
    0,
    WORKERS_MAX_MAX,
  );
  const parallelEventsMin = integerOption(
    'parallelEventsMin',
    options.parallelEventsMin,
    PARALLEL_EVENTS_MIN_DEFAULT,
    0,
    Number.MAX_SAFE_INTEGER,
  );
  return {
    clock: options.clock ?? { wallNow: () => Date.now() },
    anchorPath:
      options.anchorPath === undefined ? headAnchorPathFor(storePath) : options.anchorPath,
    writeAnchor: options.writeAnchor ?? true,
    resumeFromAnchor: options.resumeFromAnchor ?? false,
    structureCheck: options.structureCheck ?? 'except-events',
    futureToleranceMs,
    clockStepToleranceMs,
    perCheckMax,
    workersMax,
    parallelEventsMin,
  };
}
