/**
 * Reading a renewal's answer for the scopes a host obeys (its own and their ancestors, widest
 * first): each scope's epoch, the widest killed scope, and an epoch that rose past what the host
 * knows without it having obeyed a kill there. Pure functions of the answer and what the lease
 * passes in; the lease decides what follows from them.
 */
import { GovernorError } from '../errors.js';
import type { FleetKill, LeaseAnswer, ScopeRow } from './lease-protocol.js';

/** The epoch of each obeyed scope in `answer` (0 for a scope the authority has no row for). */
export function epochsOf(answer: LeaseAnswer, obeyed: readonly string[]): Record<string, number> {
  const epochs: Record<string, number> = {};
  for (const scope of obeyed) {
    epochs[scope] = answer.scopes.find((row) => row.scope === scope)?.epoch ?? 0;
  }
  return epochs;
}

/** The widest killed scope this host obeys, or null. */
export function killedRow(answer: LeaseAnswer, obeyed: readonly string[]): ScopeRow | null {
  for (const scope of obeyed) {
    const row = answer.scopes.find((s) => s.scope === scope);
    if (row?.state === 'killed') return row;
  }
  return null;
}

/**
 * An epoch above the one this host knows (`known`: its baseline, else what an earlier process of
 * it remembered; null: nothing known, nothing risen) that it has not obeyed yet (`reported`: the
 * highest kill epoch per scope it obeyed): a kill and a release while it could not see them.
 */
export function unseenRise(
  answer: LeaseAnswer,
  epochs: Readonly<Record<string, number>>,
  obeyed: readonly string[],
  known: ReadonlyMap<string, number> | null,
  reported: ReadonlyMap<string, number>,
): FleetKill | null {
  if (known === null) return null;
  for (const scope of obeyed) {
    const before = known.get(scope) ?? 0;
    const now = epochs[scope] ?? 0;
    if (now <= before || (reported.get(scope) ?? 0) >= now) continue;
    const row = answer.scopes.find((s) => s.scope === scope);
    return {
      scope,
      epoch: now,
      changedBy: row?.changedBy ?? 'unknown',
      reason: `the epoch of ${scope} rose from ${before} to ${now} while this host could not see it (a kill, then ${row?.reason ?? 'a release'})`,
    };
  }
  return null;
}

/**
 * Why a startup check's round trip may not establish the lease, or null: a kill this start
 * fenced but has not obeyed yet (a renewal of the same start saw it first: passing would let
 * the gate open until it lands), an epoch risen unseen, a killed scope, or a host row not written.
 */
export function establishRefusal(
  answer: LeaseAnswer,
  found: {
    readonly pending: FleetKill | null;
    readonly risen: FleetKill | null;
    readonly killed: ScopeRow | null;
  },
): GovernorError | null {
  const { pending, risen, killed } = found;
  if (pending !== null) {
    return new GovernorError(
      'GOV_SCOPE_KILLED',
      `fleet scope ${pending.scope} (epoch ${pending.epoch}): ${pending.reason}`,
    );
  }
  if (risen !== null) {
    return new GovernorError('GOV_SCOPE_KILLED', `fleet scope ${risen.scope}: ${risen.reason}`);
  }
  if (killed !== null) {
    return new GovernorError(
      'GOV_SCOPE_KILLED',
      `fleet scope ${killed.scope} is killed (epoch ${killed.epoch}) by ${killed.changedBy}: ${killed.reason}`,
    );
  }
  if (!answer.hostRowWritten) {
    return new GovernorError(
      'GOV_AUTHORITY_DENIED',
      'this host row could not be written (another role owns it, or it was removed)',
    );
  }
  return null;
}
