/**
 * State invariants of the governor statechart that must hold in every reachable snapshot,
 * shared by the model checker and the property tests. Each returns the broken rule, or null.
 */
import type { GovernorContext } from '../../machines/index.js';

/** What the invariants need of a snapshot: its state value, status and context. */
export interface SnapshotView {
  readonly value: string;
  readonly status: string;
  readonly context: GovernorContext;
}

/** The first invariant `snapshot` breaks, in words, or null when it holds all of them. */
export function brokenInvariant(snapshot: SnapshotView): string | null {
  const { value, status, context } = snapshot;
  switch (value) {
    case 'AGGRESSIVE': {
      const report = context.report;
      if (report === null || !report.passed) return 'AGGRESSIVE without a passing report';
      if (report.visit !== context.visit) return 'AGGRESSIVE on a report from another visit';
      if (report.lifecycleId !== context.lifecycleId) {
        return 'AGGRESSIVE on a report from another lifecycle';
      }
      if (context.desiredMode !== 'AGGRESSIVE') return 'AGGRESSIVE while OBSERVE_ONLY is desired';
      if (context.configuredMode !== 'AGGRESSIVE') {
        return 'AGGRESSIVE above the configured OBSERVE_ONLY';
      }
      if (context.hold !== null) return 'AGGRESSIVE with a failure held';
      if (context.shutdown !== null) return 'AGGRESSIVE with a shutdown recorded';
      if (context.latch !== null) return 'AGGRESSIVE with a shutdown latch set';
      return null;
    }
    case 'OBSERVE_ONLY':
      if (context.observeCause === null || context.causeReason === null) {
        return 'OBSERVE_ONLY without a cause and reason';
      }
      if (
        (context.observeCause === 'STARTUP_CHECKS_FAILED' ||
          context.observeCause === 'HEARTBEAT_LOST' ||
          context.observeCause === 'INTEGRITY_VIOLATION') &&
        context.hold === null
      ) {
        return 'OBSERVE_ONLY for a failure without the failure held';
      }
      return context.shutdown === null ? null : 'OBSERVE_ONLY with a shutdown recorded';
    case 'STARTING':
      if (context.report !== null || context.visit !== 0) return 'STARTING after a visit';
      if (context.latch !== null) return 'STARTING with a latch (must be SHUTDOWN)';
      return context.shutdown === null ? null : 'STARTING with a shutdown recorded';
    case 'CHECKING':
      if (context.report !== null) return 'CHECKING with a report already recorded';
      if (context.visit < 1) return 'CHECKING without a visit number';
      return context.shutdown === null ? null : 'CHECKING with a shutdown recorded';
    case 'SHUTDOWN':
      if (status !== 'done') return 'SHUTDOWN but the machine is still active';
      if (context.shutdown === null || context.causeReason === null) {
        return 'SHUTDOWN without a trigger and reason';
      }
      return null;
    default:
      return `unexpected settled state ${value}`;
  }
}
