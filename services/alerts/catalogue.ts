/**
 * What each alert says: a title, the root cause and the recommended action for every
 * shutdown trigger and observe cause. docs/operations.md is the long form of this table.
 */
import type { ShutdownTrigger } from '../../machines/types.js';

export interface AlertText {
  readonly title: string;
  readonly rootCause: string;
  readonly recommendedAction: string;
}

export const SHUTDOWN_ALERTS: { readonly [T in ShutdownTrigger]: AlertText } = {
  HEALTH_CHECK_FAILED: {
    title: 'Fail-safe shutdown: system unhealthy',
    rootCause:
      'a health rule broke: error rate above its limit, stale market data, a stale event-log write, or a stalled execution queue',
    recommendedAction:
      'Read the reason for the rule that broke; fix the feed, the errors or the queue; then `governor restart --operator NAME --reason TEXT` (its pre-flight refuses while the rule still breaks; an error storm ages out after the error window).',
  },
  MARKET_DATA_STALL: {
    title: 'Fail-safe shutdown: market data stalled',
    rootCause: 'the market data feed delivered nothing for longer than the stall threshold',
    recommendedAction:
      'Check the feed connection and the exchange status; once data flows again, `governor restart --operator NAME --reason TEXT`.',
  },
  EVENT_LOG_WRITE_FAILURE: {
    title: 'Fail-safe shutdown: event log not written',
    rootCause:
      'no event-log write succeeded for longer than the threshold (disk full, read-only, I/O errors)',
    recommendedAction:
      'Check disk space, permissions and the database file; run `governor verify --full`; then `governor restart --operator NAME --reason TEXT`.',
  },
  SNAPSHOT_WRITE_FAILURE: {
    title: 'Fail-safe shutdown: snapshots not written',
    rootCause: 'no snapshot was written for longer than the threshold',
    recommendedAction:
      'Check the job that writes daily snapshots and the database; write the missing snapshot; then `governor restart --operator NAME --reason TEXT`.',
  },
  CAPITAL_INCONSISTENT: {
    title: 'Fail-safe shutdown: capital reconciliation failed',
    rootCause: 'a capital pool total does not equal the sum of its accounts',
    recommendedAction:
      'Reconcile the named pool against the exchange and the ledger; correct the records with `governor capital adjust --pool ID --account ID --amount MINOR --operator NAME --reason TEXT` (`--dry-run` first shows the mismatch it resolves); `governor verify`; then `governor restart --operator NAME --reason TEXT`.',
  },
  UNRECOVERABLE_EXCEPTION: {
    title: 'Fail-safe shutdown: unrecoverable exception',
    rootCause:
      'the embedding code reported, or the process raised, an exception it could not recover from',
    recommendedAction:
      'Read the exception in the logs, fix or work around its cause, then `governor restart --operator NAME --reason TEXT`.',
  },
  OPERATOR_KILL: {
    title: 'Shutdown: operator kill switch',
    rootCause: 'an operator pulled the kill switch',
    recommendedAction:
      'Confirm with the operator named in the reason; when it is safe, `governor restart --operator NAME --reason TEXT`.',
  },
  VENUE_DEAD_MANS_SWITCH_FIRED: {
    title: "Shutdown: a venue's dead man's switch fired",
    rootCause:
      "governor could not renew the venue's dead man's switch within its timeout (the process froze, the event loop stalled, the heartbeat failed, or the venue did not answer), so the venue may have cancelled every order",
    recommendedAction:
      'Reconcile the orders and positions at the named venue (`governor status` shows its open orders); find why the renewal stopped; then `governor restart --operator NAME --reason TEXT` (the startup checks arm the switch again before the gate may open).',
  },
  INVARIANT_VIOLATED: {
    title: 'Fail-safe shutdown: internal invariant violated',
    rootCause:
      'after a step of the statechart, governor found its own state inconsistent (the gate disagreed with the machine, or a latch was recorded while the machine ran): a bug, or memory or the database changed under it',
    recommendedAction:
      'Keep the logs and the database file for the maintainers (the reason names the invariant); check the database with `governor verify --full`; then `governor restart --operator NAME --reason TEXT`.',
  },
};

export const VENUE_NOT_FLAT_ALERT: Omit<AlertText, 'rootCause'> = {
  title: 'Venue not flat after SHUTDOWN',
  recommendedAction:
    'Cancel the named orders at the venue by hand (its own console or `governor venues flat --config FILE`), check its status page and the credentials; governor keeps cancelling until the venue is flat or this alert is acknowledged (docs/operations.md: A venue not flat).',
};

export const VENUE_NOT_FLAT_LEASE_ENDED_ALERT: Omit<AlertText, 'rootCause'> = {
  title: 'Venue not flat after the fleet lease ended',
  recommendedAction:
    'Cancel the named orders at the venue by hand (its own console or `governor venues flat --config FILE`) and find why this host lost the fleet authority (`governor fleet status`); governor keeps cancelling there until the venue is flat, this alert is acknowledged, or the lease is granted again (docs/venues.md: Orders follow the fleet lease).',
};

export const STARTUP_FAILURE_ALERT: Omit<AlertText, 'rootCause'> = {
  title: 'Startup checks failed: OBSERVE_ONLY',
  recommendedAction:
    'Fix what the failed checks name (`governor status` lists them), then `governor resume --operator NAME --reason TEXT` to run the checks again.',
};

export const HEARTBEAT_LOSS_ALERT: AlertText = {
  title: 'Heartbeat lost: OBSERVE_ONLY',
  rootCause:
    'no heartbeat reached the event log within the loss threshold: the process stalled, or the event log cannot be written',
  recommendedAction:
    'Check the host (CPU, memory, swap, event-loop stalls) and the database; once heartbeats flow, `governor resume --operator NAME --reason TEXT`.',
};

export const AUTHORITY_LOSS_ALERT: AlertText = {
  title: 'Fleet authority lost: OBSERVE_ONLY',
  rootCause:
    'no lease renewal reached the fleet authority (PostgreSQL) for longer than authorityLossMs: the database is down or frozen, or this host is cut off from it; the gate closed when the lease ended',
  recommendedAction:
    'Check the database (`governor fleet status --authority URL`), the network and this host; once renewals succeed, `governor resume --operator NAME --reason TEXT` (docs/fleet.md).',
};

export const AUTHORITY_QUEUE_ALERT: AlertText = {
  title: 'Fleet authority: NOTIFY queue filling',
  rootCause:
    "PostgreSQL's NOTIFY queue (pg_notification_queue_usage) is half full or more: a listener is not consuming (a stuck session, a long transaction); kills still land through the renewals, but their wake-up hint is at risk",
  recommendedAction:
    'Find the session holding the queue (pg_stat_activity: a LISTEN session idle in transaction) and end it; see docs/fleet.md.',
};

export const INTEGRITY_ALERT: Omit<AlertText, 'rootCause'> = {
  title: 'Data integrity violation: OBSERVE_ONLY',
  recommendedAction:
    'Run `governor verify --full --json`, repair or restore the named records (docs/operations.md: Back up and restore), then `governor resume --operator NAME --reason TEXT`.',
};
