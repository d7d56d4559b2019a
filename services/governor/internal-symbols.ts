/**
 * The symbols by which `trading-governor/testing` (a simulated crash, real storage faults, a
 * forced inconsistency) and bench/detection.ts reach into a GovernanceSystem: not public API.
 */

/**
 * What a simulated crash (kill -9) calls; exported for `trading-governor/testing` only.
 * @internal
 */
export const SIMULATE_CRASH: unique symbol = Symbol('governor.simulateCrash');
/**
 * The raw SQLite handle, for `trading-governor/testing`'s real-fault injection only.
 * @internal
 */
export const RAW_CONNECTION: unique symbol = Symbol('governor.rawConnection');
/**
 * Makes governor's own state inconsistent, for `trading-governor/testing` only.
 * @internal
 */
export const FORCE_INCONSISTENCY: unique symbol = Symbol('governor.forceInconsistency');
/**
 * Puts the shutdown's CRITICAL alert back in a transaction of its own, after the latch's (the
 * former two-commit path), or not: for bench/detection.ts only, which times both in one run.
 * @internal
 */
export const ALERT_IN_ITS_OWN_TRANSACTION: unique symbol = Symbol(
  'governor.alertInItsOwnTransaction',
);
