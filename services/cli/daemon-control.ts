/**
 * What the daemon answers on its control socket: `ping` (a daemon is here, and its state) and
 * the live `status`. Operator commands do not come this way: they are recorded in the database
 * and carried out by its owner (services/governor/ownership/request.ts), so they land whether or
 * not the socket can be reached.
 */
import type { GovernanceSystem } from '../governor/governance-system.js';
import { liveStatus } from '../governor/status.js';
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
    }
  };
}
