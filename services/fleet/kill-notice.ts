/**
 * The kill a NOTIFY payload announces: a wake-up hint that closes a host's gate at once until
 * the renewal it wakes reads the record (lease.ts). Never the record itself: a payload that is
 * not the authority's kill of a scope the host obeys announces nothing.
 */

export interface KillNotice {
  readonly scope: string;
  readonly epoch: number;
  /** Monotonic ms it was heard: a renewal sent from then on reads a record that holds it. */
  readonly heardAtMs: number;
}

/**
 * The kill a notification's payload announces (`{"scope","state":"killed","epoch"}`, as the
 * authority's kill sends it) for a scope in `obeyed`; null for anything else.
 */
export function killNotice(
  payload: string | undefined,
  obeyed: readonly string[],
): { scope: string; epoch: number } | null {
  if (payload === undefined || payload.length > 1_000) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const { scope, state, epoch } = parsed as Record<string, unknown>;
  if (state !== 'killed' || typeof scope !== 'string' || !obeyed.includes(scope)) return null;
  if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 1) return null;
  return { scope, epoch };
}
