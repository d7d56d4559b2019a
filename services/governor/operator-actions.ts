/**
 * The operator's actions on a running GovernanceSystem, however they come (the embedding code,
 * another process's request, a fleet kill): each request is validated, audited with what it
 * changes in the authority record, and sent to the chart as one event, which decides what it does.
 */
import { randomUUID } from 'node:crypto';
import type { GovernorEvent, LifecycleState } from '../../machines/types.js';
import type { PoolBalance } from '../../persistence/capital.js';
import type { ModeJournal } from '../../persistence/mode-journal.js';
import { readFields } from '../../persistence/plain-copy.js';
import { AssertionError, GovernorError } from '../errors.js';
import { clearFallbackHold, retireFallbackRecord } from '../fallback-file.js';
import { checkOperatorRequest, type OperatorRequest } from '../operator.js';
import { dispatch, dispatchRestart } from './dispatcher.js';
import { type PreflightReport, preflight } from './preflight.js';
import { restartEvent } from './restart.js';
import { nowIso, type Runtime } from './runtime.js';

/** Refuses any call on a closed governor. */
export function assertOpen(runtime: Runtime): void {
  if (runtime.flags.closed) {
    throw new GovernorError('GOV_CLOSED', 'the GovernanceSystem has been closed');
  }
}

/** The kill switch: SHUTDOWN now, from any state (the chart ignores it in SHUTDOWN); audited. */
export function operatorShutdown(runtime: Runtime, request: OperatorRequest): void {
  const checked = checkOperatorRequest(request, 'shutdown');
  assertOpen(runtime);
  const from = runtime.lifecycle.state;
  dispatch(runtime, { type: 'operator.shutdown', ...checked, at: nowIso(runtime) });
  audit(runtime, checked, 'SHUTDOWN', from, null);
}

/** CHECKING or AGGRESSIVE → OBSERVE_ONLY (before a lifecycle: OBSERVE_ONLY is desired). */
export function operatorObserve(runtime: Runtime, request: OperatorRequest): void {
  const checked = checkOperatorRequest(request, 'observe');
  assertOpen(runtime);
  const state = runtime.lifecycle.state;
  const event: GovernorEvent = { type: 'operator.observe', ...checked, at: nowIso(runtime) };
  assertAccepted(runtime, event, 'observe');
  dispatch(runtime, event);
  audit(runtime, checked, 'OBSERVE', state, (writes) => writes.setDesiredMode('OBSERVE_ONLY'));
}

/** OBSERVE_ONLY → CHECKING, the held failure cleared; resolves true when AGGRESSIVE is reached. */
export async function operatorResume(runtime: Runtime, request: OperatorRequest): Promise<boolean> {
  const checked = checkOperatorRequest(request, 'resume');
  assertOpen(runtime);
  const event: GovernorEvent = { type: 'operator.resume', ...checked, at: nowIso(runtime) };
  assertAccepted(runtime, event, 'resume');
  audit(runtime, checked, 'RESUME', 'OBSERVE_ONLY', (writes) => {
    writes.setDesiredMode('AGGRESSIVE');
    writes.clearHold();
  });
  clearFallbackHold(runtime.fallbackPath, event.at);
  runtime.incidents.resolveSafeMode();
  dispatch(runtime, event);
  return (await runtime.lifecycle.settled()) === 'AGGRESSIVE';
}

/** What a restart now would run into: the fail-safe rules on the inputs as they are, capital. */
export function preflightRestart(runtime: Runtime): PreflightReport {
  assertOpen(runtime);
  return preflight({
    health: runtime.health,
    thresholds: runtime.thresholds,
    thresholdsOrigin: runtime.thresholdsOrigin,
    capitalMismatch: () => capitalMismatch(runtime),
    heartbeatLost: runtime.heartbeat.isLost(),
  });
}

/** The pools whose total differs from their accounts' sum, in words, or null. */
export function capitalMismatch(runtime: Runtime): string | null {
  const { mismatches } = runtime.store.capital.reconcile();
  if (mismatches.length === 0) return null;
  return mismatches
    .map(
      (m) =>
        `pool ${m.poolId}: total ${m.totalMinor} != accounts ${m.accountsSumMinor} (diff ${m.differenceMinor})`,
    )
    .join('; ');
}

/**
 * Clears the latch in an operator's name: refused unless a latch is in force, and (unless
 * `force`) when the pre-flight finds a trip (`GOV_RESTART_WOULD_TRIP`), before anything is
 * written. The record is cleared and audited, then the chart's restart leaves `halted`.
 */
export function operatorRestart(
  runtime: Runtime,
  request: OperatorRequest,
  options: { force?: boolean } = {},
): void {
  const checked = checkOperatorRequest(request, 'restart');
  assertOpen(runtime);
  const state = runtime.lifecycle.state;
  if (runtime.lifecycle.latch === null) {
    throw new GovernorError(
      'GOV_INVALID_OPERATOR_ACTION',
      `restart is possible only in SHUTDOWN, with a latch in force (governor is ${state}); nothing was changed`,
      { state },
    );
  }
  const force = readFields('options', options, ['force']).force === true;
  if (!force) {
    const report = preflightRestart(runtime);
    // The command carrying a restart out with no owner running: nothing restarts now, and the
    // inputs nothing reports are stale by the downtime. The next start judges the inputs its
    // engine reports; capital stays wrong.
    const trips = runtime.actingOwner
      ? report.trips.filter((trip) => trip.trigger === 'CAPITAL_INCONSISTENT')
      : report.trips;
    if (trips.length > 0) {
      throw new GovernorError(
        'GOV_RESTART_WOULD_TRIP',
        `restart refused, nothing was changed: it would shut down again at once: ${trips.map((t) => `${t.trigger}: ${t.reason}`).join('; ')}. Fix that first, or restart with --force`,
        { preflight: { ...report, ok: false, trips } },
      );
    }
  }
  const at = nowIso(runtime);
  const lifecycleId = randomUUID();
  audit(runtime, checked, 'RESTART', 'SHUTDOWN', (writes) => {
    writes.clearLatch({ operator: checked.operator, reason: checked.reason, at });
    writes.clearHold();
    writes.setLifecycle('STARTING', lifecycleId);
  });
  retireFallbackRecord(runtime.fallbackPath, at);
  runtime.venues.onRestart();
  runtime.incidents.resolveAll();
  // The chart leaves the latch: halted → a new lifecycle, from the authority recorded now.
  dispatchRestart(runtime, restartEvent(checked, { at, lifecycleId, passed: !force, force }));
}

/** A capital correction with its audit row and CAPITAL_CORRECTED event, in one transaction. */
export function operatorAdjustCapital(
  runtime: Runtime,
  request: OperatorRequest,
  correction: { poolId: string; accountId?: string | null; amountMinor: bigint },
): { before: PoolBalance; after: PoolBalance; reconciled: boolean } {
  const checked = checkOperatorRequest(request, 'capital adjust');
  assertOpen(runtime);
  const given = readFields('correction', correction, ['poolId', 'accountId', 'amountMinor']);
  const poolId = given.poolId as string;
  const amountMinor = given.amountMinor;
  const accountId = (given.accountId ?? null) as string | null;
  if (typeof amountMinor !== 'bigint' || amountMinor === 0n) {
    throw new GovernorError('GOV_INVALID_AMOUNT', 'capital adjust: expected a non-zero amount');
  }
  let corrected: { before: PoolBalance; after: PoolBalance } | null = null;
  runtime.journal.recordOperatorAction(
    {
      operator: checked.operator,
      reason: checked.reason,
      action: 'ADJUST_CAPITAL',
      state: runtime.lifecycle.state,
      lifecycleId: runtime.lifecycle.context.lifecycleId,
    },
    (writes) => {
      corrected = writes.correctCapital(poolId, accountId, amountMinor);
    },
  );
  const result = corrected as { before: PoolBalance; after: PoolBalance } | null;
  if (result === null) throw new AssertionError('capital correction without a result');
  runtime.logger.warn(
    { operator: checked.operator, poolId, accountId, amountMinor: amountMinor.toString() },
    'operator capital correction',
  );
  return { ...result, reconciled: result.after.differenceMinor === 0n };
}

/** Acknowledges an alert; a venue's not-flat alert acknowledged stops the cancels there. */
export function acknowledgeAlert(runtime: Runtime, alertId: string, operator: string): unknown {
  assertOpen(runtime);
  const acknowledged = runtime.alerts.acknowledge(alertId, operator);
  runtime.venues.acknowledged(alertId, operator);
  return acknowledged;
}

/** Audits an operator action; `apply` (its change to the record) commits with it or not at all. */
function audit(
  runtime: Runtime,
  request: OperatorRequest,
  action: 'SHUTDOWN' | 'OBSERVE' | 'RESUME' | 'RESTART',
  state: LifecycleState,
  apply: Parameters<ModeJournal['recordOperatorAction']>[1] | null,
): void {
  try {
    runtime.journal.recordOperatorAction(
      {
        operator: request.operator,
        reason: request.reason,
        action,
        state,
        lifecycleId: runtime.lifecycle.context.lifecycleId,
      },
      apply ?? (() => {}),
    );
  } catch (error) {
    runtime.logger.error(
      { err: error, action, operator: request.operator },
      'operator action could not be audited',
    );
    // The kill switch and observe work without their audit; resume and restart need it.
    if (action === 'RESUME' || action === 'RESTART') throw error;
  }
}

/** Refuses an operator event the chart would not take in its current state (its guards too). */
function assertAccepted(runtime: Runtime, event: GovernorEvent, action: string): void {
  if (runtime.lifecycle.accepts(event)) return;
  const state = runtime.lifecycle.state;
  const where =
    state === 'STARTING' ? 'STARTING (no lifecycle runs yet: start governor first)' : state;
  throw new GovernorError(
    'GOV_INVALID_OPERATOR_ACTION',
    `${action} is not possible in ${where}; nothing was changed`,
    { state },
  );
}
