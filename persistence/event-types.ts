/**
 * The catalogue of the event types governor itself writes into the event log. An embedding
 * engine writes its own types (ORDER_FILLED, ...) and may not use these: the latch is derived
 * from SYSTEM_SHUTDOWN and OPERATOR_ACTION events, so only governor writes them. docs/schema.md
 * documents every entry (a test checks that).
 */
export const GOVERNOR_EVENT_TYPES = {
  SYSTEM_MODE_CHANGE:
    'A lifecycle transition (metadata: from, to, cause, lifecycleId, visit), or the heartbeat (the spec\'s format: reason "Heartbeat - system alive", metadata { heartbeat: true, uptime }).',
  SYSTEM_SHUTDOWN:
    'A SHUTDOWN latched (metadata: trigger, at, from). The latch in force is the last one not followed by an operator restart.',
  FINAL_STATE_PERSISTED:
    'The final state at a shutdown: latch, ages, health, desired mode (the spec\'s "persist final state").',
  STARTUP_CHECKS_COMPLETED: 'The report of one CHECKING visit (metadata: results, passed).',
  OPERATOR_ACTION:
    'An operator action (metadata: operator, action SHUTDOWN | OBSERVE | RESUME | RESTART, state); a RESTART clears the latch. A prune appends one with action PRUNE (metadata: throughSeq, throughHash, archive), attesting the chain base.',
  ALERT_RAISED: 'An alert stored (metadata: alertId, kind, severity, dedupKey).',
  ALERT_ACKNOWLEDGED: 'An alert acknowledged by a named operator (metadata: alertId, operator).',
  INTEGRITY_VIOLATION: 'The integrity verifier found violations (metadata: count, violations).',
  CAPITAL_CORRECTED:
    "An operator's audited correction of a pool's records (metadata: poolId, accountId, deltaMinor, before, after).",
  GOVERNOR_STOPPED: 'The GovernanceSystem was closed cleanly (metadata: state).',
  VENUE_CANCEL_ALL:
    "A cancel-all sent to a venue after a SHUTDOWN, or after the fleet lease ended at a venue without a dead man's switch (cause FLEET_LEASE_ENDED), one per attempt (metadata: venue, attempt, outcome ok | error | timeout, latencyMs, cancelledCount, error).",
  VENUE_FLAT:
    'A venue confirmed flat after a SHUTDOWN: it counted 0 open orders (metadata: venue, attempts, afterMs, cancelledCount).',
  VENUE_NOT_FLAT:
    'A venue not confirmed flat within venueFlatWithinMs of a SHUTDOWN (final: false), or its alert acknowledged and the retries ended there (final: true) (metadata: venue, attempts, afterMs, openOrders, error, final).',
  FLEET_EPOCHS_ESTABLISHED:
    'The fleet epochs a host remembers rose (its checks established them, it obeyed a kill or read a release while obeying it, or they were imported from the side file of an earlier version) (metadata: epochs, scope to epoch; at).',
} as const;

export type GovernorLogEventType = keyof typeof GOVERNOR_EVENT_TYPES;

export function isGovernorEventType(eventType: unknown): eventType is GovernorLogEventType {
  return typeof eventType === 'string' && Object.hasOwn(GOVERNOR_EVENT_TYPES, eventType);
}
