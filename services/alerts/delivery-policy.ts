/**
 * The bounds of alert delivery: how many attempts, how long to wait between them (exponential
 * backoff with jitter, capped), how long one attempt may take, how many run at once and how many
 * deliveries may wait. `resolveDeliveryPolicy` checks a partial policy against its ranges.
 */
import { GovernorError } from '../errors.js';

export interface DeliveryPolicy {
  /** Attempts per (alert, sink, operation) before the row is marked failed. */
  readonly attemptsMax: number;
  /** Backoff before the second attempt; doubles per attempt. */
  readonly backoffBaseMs: number;
  /** No wait between attempts is longer than this. */
  readonly backoffMaxMs: number;
  /** An attempt that has not settled after this long counts as failed. */
  readonly attemptTimeoutMs: number;
  /** Attempts in flight at once, over all sinks. */
  readonly concurrencyMax: number;
  /** Deliveries waiting (pending or retrying) at once; beyond it new ones are dropped and logged. */
  readonly queueMax: number;
}

export const DEFAULT_DELIVERY_POLICY: DeliveryPolicy = Object.freeze({
  attemptsMax: 10,
  backoffBaseMs: 1_000,
  backoffMaxMs: 5 * 60_000,
  attemptTimeoutMs: 15_000,
  concurrencyMax: 4,
  queueMax: 1_000,
});

export const DELIVERY_POLICY_RANGES: { readonly [K in keyof DeliveryPolicy]: [number, number] } = {
  attemptsMax: [1, 100],
  backoffBaseMs: [1, 3_600_000],
  backoffMaxMs: [1, 24 * 3_600_000],
  attemptTimeoutMs: [1, 600_000],
  concurrencyMax: [1, 64],
  queueMax: [1, 100_000],
};

/** Fills a partial policy with defaults; GOV_INVALID_CONFIG for a value outside its range. */
export function resolveDeliveryPolicy(partial: Partial<DeliveryPolicy> = {}): DeliveryPolicy {
  const policy = { ...DEFAULT_DELIVERY_POLICY, ...partial };
  for (const key of Object.keys(DELIVERY_POLICY_RANGES) as Array<keyof DeliveryPolicy>) {
    const [min, max] = DELIVERY_POLICY_RANGES[key];
    const value = policy[key];
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new GovernorError(
        'GOV_INVALID_CONFIG',
        `alert delivery ${key} must be an integer from ${min} to ${max}, got ${String(value)}`,
        { field: key },
      );
    }
  }
  if (policy.backoffMaxMs < policy.backoffBaseMs) {
    throw new GovernorError(
      'GOV_INVALID_CONFIG',
      'alert delivery backoffMaxMs must be at least backoffBaseMs',
      { field: 'backoffMaxMs' },
    );
  }
  return Object.freeze(policy);
}

/**
 * The wait after failed attempt number `attempt` (1-based): "equal jitter", i.e. half of
 * min(max, base · 2^(attempt−1)) plus a random share of the other half. `random` ∈ [0, 1).
 */
export function backoffDelayMs(policy: DeliveryPolicy, attempt: number, random: number): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 40);
  const ceiling = Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** exponent);
  const half = ceiling / 2;
  return Math.round(half + Math.min(Math.max(random, 0), 1) * half);
}
