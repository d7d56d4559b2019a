/**
 * What the daemon answers on its control socket: `ping`, the live `status`, and the operator
 * commands, carried out through the same code as commands recorded in the database (used when
 * the database cannot take the request). resume and restart answer once their checks settle,
 * or after a bound with the state at that moment.
 */
import type { GovernanceSystem } from '../governor/governance-system.js';
import { liveStatus } from '../governor/status.js';
import { checkOperatorRequest } from '../operator.js';
import type { ControlHandler } from './control-channel.js';

export interface DaemonControlOptions {
  readonly governance: GovernanceSystem;
}

export function daemonControlHandler(options: DaemonControlOptions): ControlHandler {
  const { governance } = options;
  return async (request) => {
    switch (request.command) {
      case 'ping':
        return { pid: process.pid, state: governance.getState() };
      case 'status':
        return liveStatus(governance);
      case 'ack': {
        const operator = request.operator ?? '';
        checkOperatorRequest({ operator, reason: 'acknowledge' }, 'ack');
        return governance.executeOperatorCommand({
          command: 'ack',
          operator,
          reason: `acknowledge alert ${request.alertId ?? ''}`,
          alertId: request.alertId ?? '',
        });
      }
      default: {
        const checked = checkOperatorRequest(
          { operator: request.operator, reason: request.reason },
          request.command,
        );
        return governance.executeOperatorCommand({ command: request.command, ...checked });
      }
    }
  };
}
