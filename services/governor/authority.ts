/**
 * The latch and the hold in force, resolved in one place for the lifecycle a governor begins and
 * for the status read from a database: the record in `system_state`, else the latch the event
 * log justifies, else the fallback file's (a SHUTDOWN the database could not take).
 */
import type {
  LifecycleState,
  ObserveCause,
  SafeModeHold,
  ShutdownLatch,
  ShutdownTrigger,
} from '../../machines/types.js';
import type { AuthorityRecord } from '../../persistence/mode-journal.js';
import type { FallbackRecord } from '../fallback-file.js';

/** The gate's answer: may capital be deployed now, in which state, and why. */
export interface Authorization {
  readonly allowed: boolean;
  readonly state: LifecycleState;
  readonly reason: string;
}

/** Why the machine is where it is: OBSERVE_ONLY's cause or SHUTDOWN's trigger, and the reason. */
export interface Cause {
  readonly cause: ObserveCause | null;
  readonly trigger: ShutdownTrigger | null;
  readonly reason: string | null;
}

export type LatchSource = 'database' | 'event-log' | 'fallback-file';

export interface AuthorityInForce {
  readonly latch: ShutdownLatch | null;
  /** Where the latch in force was found, or null when none is. */
  readonly latchSource: LatchSource | null;
  readonly hold: SafeModeHold | null;
}

export function authorityInForce(
  record: Pick<AuthorityRecord, 'latch' | 'loggedLatch' | 'hold'>,
  fallback: FallbackRecord | null,
): AuthorityInForce {
  const hold = record.hold ?? fallback?.hold ?? null;
  if (record.latch !== null) return { latch: record.latch, latchSource: 'database', hold };
  if (record.loggedLatch !== null) {
    return { latch: record.loggedLatch, latchSource: 'event-log', hold };
  }
  const latch = fallback?.latch ?? null;
  return { latch, latchSource: latch === null ? null : 'fallback-file', hold };
}

/** Why a lifecycle is where it is, from its state, context and latch. */
export function causeOf(lifecycle: {
  readonly state: LifecycleState;
  readonly context: {
    readonly observeCause: ObserveCause | null;
    readonly causeReason: string | null;
  };
  readonly latch: ShutdownLatch | null;
}): Cause {
  const state = lifecycle.state;
  if (state === 'SHUTDOWN') {
    const latch = lifecycle.latch;
    return { cause: null, trigger: latch?.trigger ?? null, reason: latch?.reason ?? null };
  }
  if (state === 'OBSERVE_ONLY') {
    const context = lifecycle.context;
    return { cause: context.observeCause, trigger: null, reason: context.causeReason };
  }
  return { cause: null, trigger: null, reason: null };
}
