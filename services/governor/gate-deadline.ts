/**
 * The gate's deadline and the answers around it: the earliest instant any lease or input runs
 * out (`refreshGateDeadline`), `authorize()`'s decision with its reason (why the gate is shut,
 * judged at one clock read), and whether the venues' dead man's switches may be renewed.
 */
import { AssertionError } from '../errors.js';
import { nextStalenessDeadlineMs, staleRuleReasons } from '../health/fail-safe-manager.js';
import { exactDuration, isStale } from '../health/staleness.js';
import type { Authorization } from './authority.js';
import type { AuthorizeOptions } from './options.js';
import type { Runtime } from './runtime.js';

const ALLOWED: Authorization = Object.freeze({
  allowed: true,
  state: 'AGGRESSIVE',
  reason: 'AGGRESSIVE with a fresh heartbeat lease',
});

/**
 * The gate's decision with its reason. An order that only reduces exposure is also allowed in
 * OBSERVE_ONLY, and in SHUTDOWN only with `allowRiskReducingInShutdown`.
 */
export function authorize(runtime: Runtime, options?: AuthorizeOptions): Authorization {
  // One clock read: the decision and its reason judge the same instant.
  const nowMs = runtime.clock.monotonicNow();
  if (runtime.gate.canDeployCapitalAt(nowMs)) return ALLOWED;
  const lifecycle = runtime.lifecycle;
  const state = lifecycle.state;
  if (runtime.flags.closed) return { allowed: false, state, reason: 'governor is closed' };
  // No default object for `options`: the allowed path allocates nothing.
  const reducing = options?.reducesExposure === true;
  if (state === 'SHUTDOWN') {
    const latch = lifecycle.latch;
    const why = `SHUTDOWN (${latch?.trigger ?? 'latched'}): ${latch?.reason ?? ''}`;
    if (reducing && runtime.allowRiskReducingInShutdown) {
      return { allowed: true, state, reason: `risk-reducing order allowed in ${why}` };
    }
    return { allowed: false, state, reason: why };
  }
  if (state === 'OBSERVE_ONLY') {
    const context = lifecycle.context;
    const why = `OBSERVE_ONLY (${context.observeCause}): ${context.causeReason ?? ''}`;
    if (reducing) return { allowed: true, state, reason: `risk-reducing order allowed in ${why}` };
    return { allowed: false, state, reason: why };
  }
  if (state !== 'AGGRESSIVE') {
    return { allowed: false, state, reason: `${state}: not yet AGGRESSIVE` };
  }
  return { allowed: false, state, reason: deadlineReason(runtime, nowMs) };
}

/**
 * Why the gate closed by its deadline in AGGRESSIVE (before the machine reacted): each rule
 * past its limit at `nowMs`, judged by the comparison the deadline was computed with.
 */
export function deadlineReason(runtime: Runtime, nowMs: number): string {
  const notice = runtime.fleet?.lease.pendingNotice() ?? null;
  if (notice !== null) {
    return `fleet kill of scope ${notice.scope} (epoch ${notice.epoch}) announced: no capital while the authority's record is read`;
  }
  const leaseEnd = runtime.fleet?.lease.leaseEndsAtMs ?? Number.POSITIVE_INFINITY;
  if (nowMs >= leaseEnd) {
    return `fleet authority lease ended ${exactDuration(nowMs - leaseEnd)} ago: no capital until a renewal is granted`;
  }
  const lossMs = runtime.thresholds.heartbeatLossMs;
  const lastBeatMs = runtime.heartbeat.lastSuccessMonotonicMs();
  if (isStale(nowMs, lastBeatMs, lossMs)) {
    const since =
      lastBeatMs === Number.NEGATIVE_INFINITY
        ? 'no successful heartbeat yet in this process'
        : `no successful heartbeat for ${exactDuration(nowMs - lastBeatMs)} (threshold ${exactDuration(lossMs)})`;
    return `heartbeat lease expired (${since}): no capital until a heartbeat succeeds and the machine decides`;
  }
  const lapsed = runtime.venues.lapsedSwitch();
  if (lapsed !== null) {
    return `${lapsed.venue}: dead man's switch not renewed within ${exactDuration(lapsed.timeoutMs)}: no capital, the venue may have cancelled every order`;
  }
  const reasons = staleRuleReasons(runtime.health, runtime.thresholds, nowMs);
  // Unreachable while the deadline is the earliest of these same rules.
  if (reasons.length === 0)
    throw new AssertionError('the gate deadline passed with no rule broken');
  return `an input went stale (${reasons.join('; ')}): no capital until the machine decides`;
}

/**
 * The gate's deadline is the last instant it may be open: the heartbeat lease's end, the first
 * input to go stale, and 1 ms before a venue's switch or the fleet lease ends (at that instant
 * the gate must already be closed).
 */
export function refreshGateDeadline(runtime: Runtime): void {
  runtime.gate.setDeadline(
    Math.min(
      runtime.heartbeat.leaseExpiresAtMs,
      nextStalenessDeadlineMs(runtime.health, runtime.thresholds),
      runtime.venues.switchDeadlineMs() - 1,
      (runtime.fleet?.lease.leaseEndsAtMs ?? Number.POSITIVE_INFINITY) - 1,
    ),
  );
}

/**
 * The switches are renewed while the gate may open (or soon may): a lifecycle runs (CHECKING,
 * AGGRESSIVE, OBSERVE_ONLY), the heartbeat is healthy and, in a fleet, the lease is held.
 */
export function mayRenewSwitches(runtime: Runtime): boolean {
  if (runtime.flags.closed) return false;
  const state = runtime.lifecycle.state;
  if (state !== 'CHECKING' && state !== 'AGGRESSIVE' && state !== 'OBSERVE_ONLY') return false;
  // Orders follow the fleet lease: a host that lost the authority stops renewing at once, so the
  // venues' own countdowns cancel its orders.
  const now = runtime.clock.monotonicNow();
  if (runtime.fleet !== null && now >= runtime.fleet.lease.leaseEndsAtMs) return false;
  return !runtime.heartbeat.isLost() && now < runtime.heartbeat.leaseExpiresAtMs;
}
