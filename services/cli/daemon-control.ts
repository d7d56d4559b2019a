/**
 * What the daemon does with each control-socket request: status, the operator actions (each
 * through the GovernanceSystem's audited calls), and alert acknowledgement. resume and restart
 * answer once the new startup checks settle, or after a bound with the state at that moment.
 */

import type { GovernanceSystem } from '../governor.js';
import type { AdaptersArgument } from '../health/startup-checks.js';
import { checkOperatorRequest } from '../operator.js';
import type { ControlHandler, ControlRequest } from './control-channel.js';
import { liveStatus } from './status-report.js';

/** resume/restart answer after at most this long, even if the checks are still running. */
export const SETTLE_ANSWER_MS_MAX = 20_000;

export interface DaemonControlOptions {
  readonly governance: GovernanceSystem;
  readonly adapters: AdaptersArgument;
  /** Called after an operator restart cleared the latch (the demo clears its fault). */
  readonly onRestart?: () => void;
}

async function settledWithin(
  work: Promise<unknown>,
  governance: GovernanceSystem,
): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise((resolve) => {
    timer = setTimeout(resolve, SETTLE_ANSWER_MS_MAX);
  });
  try {
    await Promise.race([work, bound]);
  } finally {
    clearTimeout(timer);
  }
  return { state: governance.getMode(), cause: governance.getCause(), daemon: true };
}

export function daemonControlHandler(options: DaemonControlOptions): ControlHandler {
  const { governance } = options;
  const operatorRequest = (request: ControlRequest) =>
    checkOperatorRequest({ operator: request.operator, reason: request.reason }, request.command);
  return async (request) => {
    switch (request.command) {
      case 'ping':
        return { pid: process.pid, state: governance.getMode() };
      case 'status':
        return liveStatus(governance);
      case 'shutdown':
        governance.operatorShutdown(operatorRequest(request));
        return { state: governance.getMode(), daemon: true };
      case 'observe':
        governance.operatorObserve(operatorRequest(request));
        return { state: governance.getMode(), daemon: true };
      case 'resume': {
        const checked = operatorRequest(request);
        const resumed = governance.operatorResume(checked);
        // A refusal (wrong state) rejects at once: report it rather than a state.
        await Promise.race([resumed, Promise.resolve()]);
        return settledWithin(resumed, governance);
      }
      case 'restart': {
        governance.operatorRestart(operatorRequest(request));
        options.onRestart?.();
        return settledWithin(governance.runStartupChecks(options.adapters), governance);
      }
      case 'ack': {
        const operator = request.operator ?? '';
        checkOperatorRequest({ operator, reason: 'acknowledge' }, 'ack');
        return governance.alertManager.acknowledge(request.alertId ?? '', operator);
      }
    }
  };
}
