/**
 * The operator restart as the authority statechart sees it: the `operator.restart` event the
 * shell sends (the pre-flight's verdict and the force on it), and the effect of the chart's
 * restart transition (the log line and the listeners told of SHUTDOWN → STARTING).
 */
import type { OperatorFields, OperatorRestartEvent } from '../../machines/types.js';
import type { Logger } from '../logger.js';
import type { Effects } from './effects.js';

/** The restart event without the authority (the shell reads it after the operator's clear). */
export function restartEvent(
  request: OperatorFields,
  restart: { at: string; lifecycleId: string; passed: boolean; force: boolean },
): Omit<OperatorRestartEvent, 'authority'> {
  return {
    type: 'operator.restart',
    operator: request.operator,
    reason: request.reason,
    at: restart.at,
    lifecycleId: restart.lifecycleId,
    preflight: { passed: restart.passed },
    force: restart.force,
  };
}

/** The chart left `halted` for a new lifecycle: log it and tell the listeners. */
export function announceRestart(
  effects: Effects,
  logger: Logger,
  event: OperatorRestartEvent,
): void {
  logger.warn(
    { operator: event.operator, reason: event.reason, force: event.force },
    'operator restart: latch cleared',
  );
  effects.announceRestart(event.lifecycleId, `operator ${event.operator}: ${event.reason}`);
}
