/**
 * The one door into the statechart: `dispatch` is the only code that sends the machine an event,
 * and every input (an operator command, a heartbeat or fleet loss, an integrity finding, a
 * fail-safe trigger, a latch another process wrote, a broken invariant) comes through it as one
 * event. Which state reacts, and how, is the chart's to decide; this module only words the input.
 */
import { randomUUID } from 'node:crypto';
import type {
  AuthorityEvent,
  LifecycleState,
  OperatorRestartEvent,
  ShutdownLatch,
} from '../../machines/types.js';
import type { IntegrityViolation } from '../../persistence/integrity/index.js';
import type { AuthorityRecord } from '../../persistence/mode-journal.js';
import { LIMITS } from '../../persistence/validation.js';
import { clipBytes } from '../display-text.js';
import { describeError } from '../errors.js';
import { readFallbackRecord } from '../fallback-file.js';
import type { TriggerDecision } from '../health/fail-safe-manager.js';
import { exactDuration } from '../health/staleness.js';
import { authorityInForce } from './authority.js';
import { nowIso, type Runtime } from './runtime.js';

/** A state's reason in bytes: the store's 4 KiB less room for an operator's name and prefix. */
export const STATE_REASON_BYTES_MAX = LIMITS.reasonBytesMax - LIMITS.identifierBytesMax - 64;

/** The events whose reason becomes the state's reason (cut to what the store keeps). */
const STATE_REASON_EVENTS: ReadonlySet<AuthorityEvent['type']> = new Set([
  'failsafe.triggered',
  'operator.shutdown',
  'operator.observe',
  'heartbeat.lost',
  'integrity.violated',
  'authority.lost',
]);

/** The latch assumed when the record cannot be read: in doubt, stay shut down. */
const UNREADABLE_LATCH: ShutdownLatch = {
  trigger: 'UNRECOVERABLE_EXCEPTION',
  reason: 'system state unreadable',
  at: new Date(0).toISOString(),
};

/**
 * Sends one event to the machine: the only `send` of the GovernanceSystem. Nothing reaches a
 * closed governor's stopped actor. A reason from the engine or an exception has no bound of its
 * own; a shutdown still lands whatever its length: the state's reason is cut so that, with what
 * the machine prefixes ("operator NAME: "), it fits what the store keeps.
 */
export function dispatch(runtime: Runtime, event: AuthorityEvent): void {
  if (runtime.flags.closed) return;
  const bounded =
    STATE_REASON_EVENTS.has(event.type) && 'reason' in event
      ? { ...event, reason: clipBytes(event.reason, STATE_REASON_BYTES_MAX) }
      : event;
  runtime.lifecycle.send(bounded);
}

/** A fail-safe trigger (any source): SHUTDOWN from every state that is not already SHUTDOWN. */
export function requestShutdown(runtime: Runtime, decision: TriggerDecision): void {
  dispatch(runtime, {
    type: 'failsafe.triggered',
    trigger: decision.trigger,
    reason: decision.reason,
    at: nowIso(runtime),
  });
}

/** The heartbeat lease ran out: the chart holds OBSERVE_ONLY, or alerts in place. */
export function heartbeatLost(runtime: Runtime, sinceMs: number): void {
  const lossMs = runtime.thresholds.heartbeatLossMs;
  dispatch(runtime, {
    type: 'heartbeat.lost',
    reason: `no successful heartbeat for ${exactDuration(sinceMs)} (threshold ${exactDuration(lossMs)})`,
    at: nowIso(runtime),
  });
}

/** The fleet authority's lease was lost: the chart holds OBSERVE_ONLY, or alerts in place. */
export function authorityLost(runtime: Runtime, reason: string): void {
  dispatch(runtime, { type: 'authority.lost', reason, at: nowIso(runtime) });
}

/**
 * Integrity findings (a verification or a scrub slice): logged as one event; a capital mismatch
 * shuts down, anything else is an `integrity.violated` for the chart. Its incident carries the
 * findings, which no event does: raised here, unless a latch is in force (its alert says more).
 */
export function integrityViolations(runtime: Runtime, violations: IntegrityViolation[]): void {
  if (runtime.flags.closed) return;
  const summary = violations
    .slice(0, 20)
    .map((v) => ({ check: v.check, description: v.description, location: v.location }));
  try {
    runtime.store.events.append({
      eventType: 'INTEGRITY_VIOLATION',
      reason: `${violations.length} integrity violation(s): ${violations[0]?.description ?? ''}`,
      metadata: { count: violations.length, violations: summary },
    });
  } catch (error) {
    runtime.logger.error({ err: error }, 'integrity incident could not be logged');
  }
  const capital = violations.filter((v) => v.check === 'CAPITAL');
  if (capital.length > 0) {
    requestShutdown(runtime, {
      trigger: 'CAPITAL_INCONSISTENT',
      reason: capital.map((v) => v.description).join('; '),
    });
    return;
  }
  dispatch(runtime, {
    type: 'integrity.violated',
    reason: violations.map((v) => v.description).join('; '),
    at: nowIso(runtime),
  });
  if (runtime.lifecycle.latch !== null) return;
  runtime.incidents.integrityViolation(violations, runtime.lifecycle.context.lifecycleId);
}

/**
 * The chart's `alertFailure` effect: the incident of a heartbeat or fleet authority loss, found
 * in `state` (CHECKING and AGGRESSIVE raise a heartbeat loss's with its hold, effects.ts).
 */
export function alertFailure(runtime: Runtime, event: AuthorityEvent, state: LifecycleState): void {
  const lifecycleId = runtime.lifecycle.context.lifecycleId;
  if (event.type === 'heartbeat.lost') {
    runtime.incidents.heartbeatLoss(event.reason, lifecycleId, { state });
  } else if (event.type === 'authority.lost') {
    runtime.incidents.authorityLoss(event.reason, lifecycleId, { state });
  }
}

/** A latch written into the database by another process (outside governor) is honoured now. */
export function honourExternalLatch(runtime: Runtime): void {
  // Nothing to honour while a latch is in force (the record holds it too).
  if (runtime.flags.closed || runtime.lifecycle.latch !== null) return;
  let recorded: ShutdownLatch | null;
  try {
    recorded = runtime.journal.readLatch();
  } catch {
    return;
  }
  if (recorded === null) return;
  runtime.logger.fatal(
    { latch: recorded },
    'a latch was recorded in the database by another process',
  );
  requestShutdown(runtime, {
    trigger: recorded.trigger,
    reason: `latch recorded in the database by another process: ${recorded.reason}`,
  });
}

/** A deleted or replaced lock file lets a second owner in: fail safe. */
export function checkOwnership(runtime: Runtime): void {
  const lock = runtime.ownerLock;
  if (lock === null || lock.stillInPlace()) return;
  runtime.logger.fatal({ lockPath: lock.lockPath }, 'the owner lock file was deleted or replaced');
  requestShutdown(runtime, {
    trigger: 'UNRECOVERABLE_EXCEPTION',
    reason: `GOV_OWNERSHIP_LOST: the owner lock file ${lock.lockPath} was deleted or replaced; a second owner could start`,
  });
}

/** The authority record, or (when it cannot be read) one with a latch: in doubt, shut down. */
export function readAuthority(runtime: Runtime): AuthorityRecord {
  try {
    return runtime.journal.read();
  } catch (error) {
    runtime.logger.fatal({ err: error }, 'the authority record cannot be read; staying shut down');
    return {
      desiredMode: 'OBSERVE_ONLY',
      lifecycleState: null,
      lifecycleId: null,
      latch: UNREADABLE_LATCH,
      loggedLatch: null,
      discrepancy: null,
      hold: null,
      inputsText: null,
      owner: null,
    };
  }
}

/** Starts the statecharts from the record: a lifecycle at STARTING (SHUTDOWN at once on a latch). */
export function beginLifecycle(
  runtime: Runtime,
  authority: AuthorityRecord,
  lifecycleId = randomUUID(),
): void {
  const { latch, hold } = authorityInForce(authority, readFallbackRecord(runtime.fallbackPath));
  runtime.invariants.recordedLatch.began(latch);
  runtime.lifecycle.begin({
    lifecycleId,
    configuredMode: runtime.configuredMode,
    desiredMode: authority.desiredMode,
    latch,
    hold,
    startupChecksTimeoutMs: runtime.thresholds.startupChecksTimeoutMs,
  });
  // A new authority actor (after a machine failure) runs the timers the old one ran.
  if (runtime.flags.monitorsStarted)
    dispatch(runtime, { type: 'timers.start', at: nowIso(runtime) });
  if (authority.discrepancy !== null && latch !== null) {
    runtime.logger.fatal({ discrepancy: authority.discrepancy }, 'shutdown latch tampered with');
    runtime.incidents.latchDiscrepancy(latch, authority.discrepancy);
  }
}

/** Sends the restart to the chart, with the authority (latch, hold) the record holds now. */
export function dispatchRestart(
  runtime: Runtime,
  event: Omit<OperatorRestartEvent, 'authority'>,
): void {
  const authority = readAuthority(runtime);
  const { latch, hold } = authorityInForce(authority, readFallbackRecord(runtime.fallbackPath));
  dispatch(runtime, { ...event, authority: { desiredMode: authority.desiredMode, latch, hold } });
}

/** The machine failed (a bug in an action): a new lifecycle shuts down through the machine. */
export function lifecycleFailed(runtime: Runtime, error: unknown): void {
  runtime.gate.setOpen(false);
  runtime.logger.fatal({ err: error }, 'the lifecycle machine failed');
  if (runtime.flags.closed) return;
  queueMicrotask(() => {
    if (runtime.flags.closed) return;
    beginLifecycle(runtime, readAuthority(runtime));
    requestShutdown(runtime, {
      trigger: 'UNRECOVERABLE_EXCEPTION',
      reason: `lifecycle machine failed: ${describeError(error)}`,
    });
  });
}
