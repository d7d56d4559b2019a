/**
 * `governor run --demo`: the paper trader from examples/ embedded in the daemon, trading on a
 * simulated feed through the gate, and `--demo-fault`, which injects one fault a few seconds
 * after the gate opens so that a newcomer watches a fail-safe happen live. A few seconds after
 * the SHUTDOWN the simulated world recovers by itself (the feed resumes, the exchange answers),
 * as a real one does once someone fixed it, so that an operator's restart passes its
 * pre-flight; each fault's announcement says which command to run next.
 */

import { SimulatedMarketFeed } from '../../examples/paper-trader/market-feed.js';
import { PaperExchange } from '../../examples/paper-trader/paper-exchange.js';
import {
  CASH_ACCOUNT_ID,
  PAPER_POOL_ID,
  PaperTrader,
} from '../../examples/paper-trader/paper-trader.js';
import { tamperBalance } from '../../testing.js';
import type { Clock } from '../clock.js';
import type { Thresholds } from '../config.js';
import { GovernorError } from '../errors.js';
import type { GovernanceSystem } from '../governor/governance-system.js';
import { errorsThatBreakTheRate } from '../health/health-monitor.js';
import {
  type CommandLocation,
  commandLocation,
  governorCommand,
  nextCommands,
  OPERATOR_NAME,
  PLACEHOLDER,
} from './printed-command.js';

export const DEMO_FAULTS = [
  'market-stall',
  'error-storm',
  'capital-drift',
  'heartbeat-stall',
] as const;
export type DemoFault = (typeof DEMO_FAULTS)[number];

/** The fault is injected this long after the gate first opens. */
export const DEMO_FAULT_DELAY_MS = 5_000;
/**
 * The simulated world recovers (feed back, exchange answering) this long after the SHUTDOWN;
 * GOVERNOR_DEMO_RECOVERY_MS overrides it (0: never by itself, only on an operator's restart).
 */
export const DEMO_RECOVERY_DELAY_MS = 5_000;

/** The recovery delay from GOVERNOR_DEMO_RECOVERY_MS (an integer of ms), else the default. */
export function demoRecoveryMs(env: NodeJS.ProcessEnv): number | null {
  const text = env.GOVERNOR_DEMO_RECOVERY_MS;
  if (text === undefined || text === '') return DEMO_RECOVERY_DELAY_MS;
  if (!/^\d{1,9}$/.test(text)) {
    throw new GovernorError(
      'GOV_INVALID_CONFIG',
      `GOVERNOR_DEMO_RECOVERY_MS: expected an integer number of ms (0: never), got "${text}"`,
      { key: 'GOVERNOR_DEMO_RECOVERY_MS' },
    );
  }
  const ms = Number(text);
  return ms === 0 ? null : ms;
}

/** After a SHUTDOWN the demo polls governor's venue status this often for the exchange's flat. */
export const DEMO_FLAT_POLL_INTERVAL_MS = 100;
/** ...and stops polling after this long, flat or not (governor goes on cancelling and alerting). */
export const DEMO_FLAT_POLL_MAX_MS = 10_000;

/** The exchange the demo trades at, created before governor so that it registers as a venue. */
export function createDemoExchange(): PaperExchange {
  return new PaperExchange();
}

/** The line the demo prints once governor reports the exchange flat after a SHUTDOWN. */
export function demoFlatLine(exchangeName: string, cancelledCount: number): string {
  return `demo: ${exchangeName}: ${cancelledCount} resting order${cancelledCount === 1 ? '' : 's'} cancelled, flat`;
}

/** Where each fault ends, and what the operator runs then (README and operations.md say the same). */
export const DEMO_FAULT_OUTCOMES: Readonly<Record<DemoFault, 'SHUTDOWN' | 'OBSERVE_ONLY'>> = {
  'market-stall': 'SHUTDOWN',
  'error-storm': 'SHUTDOWN',
  'capital-drift': 'SHUTDOWN',
  'heartbeat-stall': 'OBSERVE_ONLY',
};

export interface Demo {
  readonly exchange: PaperExchange;
  readonly trader: PaperTrader;
  /** Schedules the fault (once the gate is open); `announce` prints what was injected. */
  scheduleFault(fault: DemoFault, announce: (text: string) => void): void;
  /** Told of each mode change: after the fault's SHUTDOWN the world recovers, with advice. */
  onModeChange(to: string): void;
  /**
   * After a SHUTDOWN: prints `demoFlatLine` once governor reports the exchange flat (polled,
   * for at most DEMO_FLAT_POLL_MAX_MS); nothing when the exchange is not one of governor's venues.
   */
  reportFlat(print: (text: string) => void): void;
  /** An operator restart: the simulated world recovers (the feed flows, the exchange answers). */
  clearFault(): void;
  stop(): void;
}

export function isDemoFault(value: string): value is DemoFault {
  return (DEMO_FAULTS as readonly string[]).includes(value);
}

/** How long the heartbeat-stall fault blocks the event loop: past the heartbeat loss. */
function heartbeatStallMs(thresholds: Thresholds): number {
  return thresholds.heartbeatLossMs + 1_000;
}

/** Blocks this thread without spinning: an event-loop stall, as a long GC pause or a sync call. */
function stallEventLoop(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The exact commands for the operator once the fault has landed, for this database. */
export function demoAdvice(
  fault: DemoFault,
  location: CommandLocation,
  errorWindowMs: number,
): string {
  const next = nextCommands(location);
  switch (fault) {
    case 'market-stall':
      return `demo: the feed is back. Run: ${next.restart}`;
    case 'error-storm':
      return `demo: the exchange answers again. Once the last errors are older than the error window (${errorWindowMs / 1_000} s), run: ${next.restart}`;
    case 'capital-drift': {
      const adjust = governorCommand(location, 'capital adjust', [
        '--pool',
        PAPER_POOL_ID,
        '--account',
        CASH_ACCOUNT_ID,
        '--amount',
        '-1',
        '--operator',
        OPERATOR_NAME,
        '--reason',
        PLACEHOLDER.reason,
      ]);
      return `demo: the cash account holds 1 cent more than the pool says. Run: ${adjust}, then: ${next.restart}`;
    }
    case 'heartbeat-stall':
      return `demo: the event loop runs again. Run: ${next.resume}`;
  }
}

/** What the demo announces as it injects `fault`: what it does, and what governor will do. */
export function faultAnnouncement(fault: DemoFault, thresholds: Thresholds): string {
  switch (fault) {
    case 'market-stall':
      return `fault: the market feed goes silent; expect MARKET_DATA_STALL after ${thresholds.marketDataShutdownAfterMs} ms`;
    case 'error-storm': {
      const errors = errorsThatBreakTheRate(thresholds);
      return `fault: the exchange rejects every order; expect HEALTH_CHECK_FAILED at ${errors} error${errors === 1 ? '' : 's'} within ${thresholds.errorWindowMs / 1_000} s (an error rate above ${thresholds.errorRatePerMinuteMax}/min)`;
    }
    case 'capital-drift':
      return `fault: a cash balance changes behind governor's back; expect CAPITAL_INCONSISTENT within ${thresholds.failSafeCheckIntervalMs} ms`;
    case 'heartbeat-stall':
      return `fault: the event loop stalls for ${heartbeatStallMs(thresholds)} ms; expect heartbeat loss (OBSERVE_ONLY)`;
  }
}

export function startDemo(
  governance: GovernanceSystem,
  clock: Clock,
  options: {
    readonly recoveryMs?: number | null;
    readonly location?: CommandLocation;
    /** The exchange to trade at; given when the caller registered it as a venue with governor. */
    readonly exchange?: PaperExchange;
  } = {},
): Demo {
  const location =
    options.location ?? commandLocation({ dbPath: governance.dbPath, configPath: null });
  const recoveryMs = options.recoveryMs === undefined ? DEMO_RECOVERY_DELAY_MS : options.recoveryMs;
  const exchange = options.exchange ?? new PaperExchange();
  const feed = new SimulatedMarketFeed({ clock, seed: 42 });
  const trader = new PaperTrader({ governance, feed, exchange, clock });
  trader.start();
  const timers: NodeJS.Timeout[] = [];
  const inject = (fault: DemoFault, announce: (text: string) => void): void => {
    const t = governance.thresholds;
    announce(faultAnnouncement(fault, t));
    switch (fault) {
      case 'market-stall':
        feed.pause();
        return;
      case 'error-storm':
        exchange.setFailing(true);
        return;
      case 'capital-drift':
        tamperBalance(governance.dbPath, CASH_ACCOUNT_ID, 1n);
        return;
      case 'heartbeat-stall':
        stallEventLoop(heartbeatStallMs(t));
        return;
    }
  };
  let injected: { fault: DemoFault; announce: (text: string) => void } | null = null;
  let advised = false;
  const clearFault = (): void => {
    feed.resume();
    exchange.setFailing(false);
  };
  // The exchange's cancelled count when the last flat was printed: each line counts its SHUTDOWN's.
  let cancelledReported = exchange.cancelledCount();
  let flatPoll: NodeJS.Timeout | undefined;
  const reportFlat = (print: (text: string) => void): void => {
    const registered = () => governance.venueStatus().find((venue) => venue.name === exchange.name);
    if (registered() === undefined) return;
    clearInterval(flatPoll);
    let polls = Math.ceil(DEMO_FLAT_POLL_MAX_MS / DEMO_FLAT_POLL_INTERVAL_MS);
    const poll = setInterval(() => {
      const status = registered();
      polls -= 1;
      if (status?.flat === true && !status.cancelling) {
        clearInterval(poll);
        const cancelled = exchange.cancelledCount() - cancelledReported;
        cancelledReported = exchange.cancelledCount();
        print(demoFlatLine(exchange.name, cancelled));
      } else if (polls <= 0) {
        clearInterval(poll);
      }
    }, DEMO_FLAT_POLL_INTERVAL_MS);
    flatPoll = poll;
  };
  return {
    exchange,
    trader,
    reportFlat,
    scheduleFault(fault, announce) {
      const poll = setInterval(() => {
        if (!governance.canDeployCapital()) return;
        clearInterval(poll);
        timers.push(
          setTimeout(() => {
            injected = { fault, announce };
            inject(fault, announce);
          }, DEMO_FAULT_DELAY_MS),
        );
      }, 100);
      timers.push(poll);
    },
    onModeChange(to) {
      if (injected === null || advised || to !== DEMO_FAULT_OUTCOMES[injected.fault]) return;
      advised = true;
      const { fault, announce } = injected;
      if (to === 'SHUTDOWN' && recoveryMs === null) return;
      const delayMs = to === 'SHUTDOWN' ? (recoveryMs ?? 0) : 0;
      timers.push(
        setTimeout(() => {
          clearFault();
          announce(demoAdvice(fault, location, governance.thresholds.errorWindowMs));
        }, delayMs),
      );
    },
    clearFault,
    stop() {
      for (const timer of timers) clearTimeout(timer);
      clearInterval(flatPoll);
      trader.stop();
    },
  };
}
