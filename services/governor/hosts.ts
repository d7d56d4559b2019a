/**
 * What each part asks of the GovernanceSystem, as the callbacks `assembly.ts` hands it: the
 * machine's effects (lifecycle), the fail-safe, the heartbeat, the fleet link and the request
 * watcher. Each callback turns what it is told into one dispatch, an effect, or an answer.
 */
import type { LifecycleState } from '../../machines/types.js';
import type { PoolBalance } from '../../persistence/capital.js';
import { GovernorError } from '../errors.js';
import type { FailSafeState, TriggerDecision } from '../health/fail-safe-manager.js';
import { causeOf } from './authority.js';
import {
  alertFailure,
  authorityLost,
  checkOwnership,
  heartbeatLost,
  lifecycleFailed,
  requestShutdown,
} from './dispatcher.js';
import type { FleetLinkHost } from './fleet-link.js';
import { refreshGateDeadline } from './gate-deadline.js';
import type { LifecycleHost } from './lifecycle.js';
import {
  acknowledgeAlert,
  capitalMismatch,
  operatorAdjustCapital,
  operatorObserve,
  operatorRestart,
  operatorResume,
  operatorShutdown,
  preflightRestart,
} from './operator-actions.js';
import type { CommandTarget } from './operator-commands.js';
import { announceRestart } from './restart.js';
import type { Runtime } from './runtime.js';
import { performStartupChecks, runStartupChecks } from './startup.js';

/** The machine's effects: entries, the gate, the startup checks, the losses' incidents. */
export function lifecycleHost(runtime: Runtime): LifecycleHost {
  const { effects, invariants, gate } = runtime;
  return {
    enter: (from, to, context) => {
      effects.enter(from, to, context);
      if (to === 'SHUTDOWN') invariants.recordedLatch.persisted(effects.persistedTo !== null);
    },
    settled: () => {
      invariants.check();
      effects.tellListeners();
    },
    restarted: (event) => {
      invariants.recordedLatch.began(event.authority.latch);
      announceRestart(effects, runtime.logger, event);
    },
    openGate: () => gate.setOpen(!runtime.flags.closed),
    closeGate: () => gate.setOpen(false),
    startupChecks: (input) => performStartupChecks(runtime, input),
    alertFailure: (event, state) => {
      // Never throw into the machine: an alert that cannot be raised leaves the mode as it is.
      try {
        alertFailure(runtime, event, state);
      } catch (error) {
        runtime.logger.error({ err: error, event: event.type }, 'a loss could not be alerted');
        runtime.health.recordError();
      }
    },
    lossHeld: (event) => {
      runtime.logger.warn({ event: event.type }, 'still lost (held, alerted before)');
    },
    failed: (error) => lifecycleFailed(runtime, error),
  };
}

/** What the fail-safe manager reads and asks (health/fail-safe-manager.ts). */
export function failSafeHost(runtime: Runtime) {
  return {
    lifecycleState: (): LifecycleState => runtime.lifecycle.state,
    failSafeState: (): FailSafeState => {
      const latch = runtime.lifecycle.latch;
      return {
        inShutdown: latch !== null,
        trigger: latch?.trigger ?? null,
        reason: latch?.reason ?? null,
        at: latch === null ? null : new Date(latch.at),
        latched: latch !== null,
        persistedTo: latch === null ? null : runtime.effects.persistedTo,
      };
    },
    shutdown: (decision: TriggerDecision): void => requestShutdown(runtime, decision),
    capitalMismatch: (): string | null => capitalMismatch(runtime),
  };
}

/** What the heartbeat monitor writes and reports (health/heartbeat-monitor.ts). */
export function heartbeatHost(runtime: Runtime, inputsText: (closed: boolean) => string) {
  return {
    writeHeartbeat: (): void => {
      checkOwnership(runtime);
      runtime.journal.recordHeartbeat(
        { heartbeat: true, uptime: runtime.health.getUptimeString() },
        inputsText(false),
      );
      // The database takes writes again: store the alerts it could not take before.
      runtime.alerts.storeUnpersisted();
    },
    heartbeatSucceeded: (): void => refreshGateDeadline(runtime),
    heartbeatLost: (sinceMs: number): void => heartbeatLost(runtime, sinceMs),
    heartbeatRecovered: (): void => {
      runtime.logger.warn('heartbeat recovered; the mode stays as it is until an operator acts');
    },
    heartbeatFailed: (error: unknown): void => {
      runtime.logger.error({ err: error }, 'heartbeat could not be written');
      runtime.health.recordError();
    },
  };
}

/** What the fleet link needs of this governor (fleet-link.ts). */
export function fleetHost(runtime: Runtime): FleetLinkHost {
  const inForce = (): boolean => runtime.flags.closed || runtime.lifecycle.latch !== null;
  const lifecycleId = (): string => runtime.lifecycle.context.lifecycleId;
  return {
    state: (): LifecycleState => runtime.lifecycle.state,
    gateOpen: (): boolean => runtime.gate.canDeployCapital(),
    restartRefusal: (): string | null => {
      if (runtime.flags.closed) return 'governor is closed';
      const report = preflightRestart(runtime);
      return report.ok ? null : report.trips.map((t) => `${t.trigger}: ${t.reason}`).join('; ');
    },
    refreshDeadline: (): void => refreshGateDeadline(runtime),
    kill: (kill): void => {
      if (inForce()) return;
      runtime.logger.fatal(kill, 'fleet kill: this host is in a killed scope');
      const reason = `fleet kill of scope ${kill.scope} (epoch ${kill.epoch}): ${kill.reason}`;
      try {
        operatorShutdown(runtime, { operator: kill.changedBy, reason });
      } catch (error) {
        // An operator name the local checks refuse still shuts down (its audit aside).
        runtime.logger.error(
          { err: error },
          'fleet kill could not be audited as an operator action',
        );
        requestShutdown(runtime, {
          trigger: 'OPERATOR_KILL',
          reason: `${kill.changedBy}: ${reason}`,
        });
      }
    },
    lost: (reason: string): void => authorityLost(runtime, reason),
    queueUsageHigh: (usage: number): void => {
      if (!runtime.flags.closed) runtime.incidents.authorityQueue(usage, lifecycleId());
    },
    leaseEnded: (reason: string): void => {
      // In SHUTDOWN every venue is cancelled at already.
      if (inForce()) return;
      if (runtime.venues.count > 0) {
        runtime.logger.warn(
          { reason },
          'fleet lease ended: cancelling at the venues without a switch',
        );
      }
      runtime.venues.onLeaseEnded(reason);
    },
    leaseHeld: (): void => {
      if (!runtime.flags.closed) runtime.venues.onLeaseHeld();
    },
    leaseChanged: (view): void => {
      for (const listener of runtime.leaseListeners) {
        try {
          listener(view);
        } catch (error) {
          runtime.logger.error({ err: error }, 'an authority lease listener threw');
        }
      }
    },
  };
}

/** The request watcher's target: each command another process recorded, as an operator action. */
export function commandTarget(runtime: Runtime): CommandTarget {
  return {
    operatorShutdown: (request) => operatorShutdown(runtime, request),
    operatorObserve: (request) => operatorObserve(runtime, request),
    operatorResume: (request) => operatorResume(runtime, request),
    restartFromOutside: (request, options) => {
      operatorRestart(runtime, request, options);
      // A restart from another process: run a new lifecycle as the last one ran.
      const adapters = runtime.flags.adapters;
      return adapters === null ? Promise.resolve() : runStartupChecks(runtime, adapters);
    },
    thresholdsOrigin: () => runtime.thresholdsOrigin,
    acknowledgeAlert: (alertId, operator) => acknowledgeAlert(runtime, alertId, operator),
    adjustCapital: (request, options) => {
      const { before, after, reconciled } = operatorAdjustCapital(runtime, request, {
        poolId: typeof options.poolId === 'string' ? options.poolId : '',
        accountId: typeof options.accountId === 'string' ? options.accountId : null,
        amountMinor: parseMinor(options.amountMinor),
      });
      return { before: balanceText(before), after: balanceText(after), reconciled };
    },
    commandResult: () => ({
      state: runtime.lifecycle.state,
      gateOpen: runtime.gate.canDeployCapital(),
      ...causeOf(runtime.lifecycle),
    }),
  };
}

/** A signed amount of minor units given as a decimal string (or a safe integer). */
export function parseMinor(value: unknown): bigint {
  if (typeof value === 'string' && /^[+-]?\d{1,19}$/.test(value)) return BigInt(value);
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  throw new GovernorError(
    'GOV_INVALID_AMOUNT',
    'capital adjust: expected the amount as a signed integer number of minor units',
    { field: 'amountMinor' },
  );
}

/** A pool's balance with its amounts as decimal strings (JSON has no bigint). */
export function balanceText(balance: PoolBalance): Record<string, string> {
  return {
    poolId: balance.poolId,
    totalMinor: balance.totalMinor.toString(),
    accountsSumMinor: balance.accountsSumMinor.toString(),
    differenceMinor: balance.differenceMinor.toString(),
  };
}
