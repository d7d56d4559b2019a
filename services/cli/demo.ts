/**
 * `governor run --demo`: the paper trader from examples/ embedded in the daemon, trading on a
 * simulated feed through the gate, and `--demo-fault`, which injects one fault a few seconds
 * after the gate opens so that a newcomer watches a fail-safe happen live.
 */
import Database from 'better-sqlite3';
import { SimulatedMarketFeed } from '../../examples/paper-trader/market-feed.js';
import { PaperExchange } from '../../examples/paper-trader/paper-exchange.js';
import { CASH_ACCOUNT_ID, PaperTrader } from '../../examples/paper-trader/paper-trader.js';
import type { Clock } from '../clock.js';
import type { GovernanceSystem } from '../governor/governance-system.js';

export const DEMO_FAULTS = [
  'market-stall',
  'error-storm',
  'capital-drift',
  'heartbeat-stall',
] as const;
export type DemoFault = (typeof DEMO_FAULTS)[number];

/** The fault is injected this long after the gate first opens. */
export const DEMO_FAULT_DELAY_MS = 5_000;

export interface Demo {
  readonly exchange: PaperExchange;
  readonly trader: PaperTrader;
  /** Schedules the fault (once the gate is open); `announce` prints what was injected. */
  scheduleFault(fault: DemoFault, announce: (text: string) => void): void;
  /** An operator restart: the simulated world recovers (the feed flows, the exchange answers). */
  clearFault(): void;
  stop(): void;
}

export function isDemoFault(value: string): value is DemoFault {
  return (DEMO_FAULTS as readonly string[]).includes(value);
}

/** Blocks this thread without spinning: an event-loop stall, as a long GC pause or a sync call. */
function stallEventLoop(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Changes a balance behind governor's back, through a second connection: capital drift. */
function driftCapital(dbPath: string): void {
  const db = new Database(dbPath, { timeout: 1_000 });
  try {
    db.prepare(
      'UPDATE capital_accounts SET balance_minor = balance_minor + 1 WHERE account_id = ?',
    ).run(CASH_ACCOUNT_ID);
  } finally {
    db.close();
  }
}

export function startDemo(governance: GovernanceSystem, clock: Clock): Demo {
  const exchange = new PaperExchange();
  const feed = new SimulatedMarketFeed({ clock, seed: 42 });
  const trader = new PaperTrader({ governance, feed, exchange, clock });
  trader.start();
  const timers: NodeJS.Timeout[] = [];
  const inject = (fault: DemoFault, announce: (text: string) => void): void => {
    const t = governance.thresholds;
    switch (fault) {
      case 'market-stall':
        announce(
          `fault: the market feed goes silent; expect MARKET_DATA_STALL after ${t.marketDataStallMs} ms`,
        );
        feed.pause();
        return;
      case 'error-storm':
        announce(
          `fault: the exchange rejects every order; expect HEALTH_CHECK_FAILED after ${t.errorRatePerMinuteMax + 1} errors`,
        );
        exchange.setFailing(true);
        return;
      case 'capital-drift':
        announce(
          `fault: a cash balance changes behind governor's back; expect CAPITAL_INCONSISTENT within ${t.failSafeCheckIntervalMs} ms`,
        );
        driftCapital(governance.dbPath);
        return;
      case 'heartbeat-stall': {
        const stallMs = t.heartbeatLossMs + 1_000;
        announce(
          `fault: the event loop stalls for ${stallMs} ms; expect heartbeat loss (OBSERVE_ONLY)`,
        );
        stallEventLoop(stallMs);
        return;
      }
    }
  };
  return {
    exchange,
    trader,
    scheduleFault(fault, announce) {
      const poll = setInterval(() => {
        if (!governance.canDeployCapital()) return;
        clearInterval(poll);
        timers.push(setTimeout(() => inject(fault, announce), DEMO_FAULT_DELAY_MS));
      }, 100);
      timers.push(poll);
    },
    clearFault() {
      feed.resume();
      exchange.setFailing(false);
    },
    stop() {
      for (const timer of timers) clearTimeout(timer);
      trader.stop();
    },
  };
}
