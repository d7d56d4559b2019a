/**
 * The paper trader: a small execution engine that embeds governor the way a real one should.
 * It reports every market tick and every error to the health monitor, asks `canDeployCapital()`
 * before every order, and writes its events, snapshots and capital through the engine port
 * (`governance.engine`, which reports those writes itself), in integer minor units (cents, as
 * bigint).
 */
import type { Clock, GovernanceSystem, TimerHandle } from '../../index.js';
import type { MarketTick, SimulatedMarketFeed } from './market-feed.js';
import type { PaperExchange } from './paper-exchange.js';

export const PAPER_POOL_ID = 'paper-usd';
export const CASH_ACCOUNT_ID = 'paper-cash';
export const POSITIONS_ACCOUNT_ID = 'paper-positions';
/** Starting cash of a fresh database: 100,000.00 USD in cents. */
export const STARTING_CASH_MINOR = 10_000_000n;

export interface PaperTraderOptions {
  readonly governance: GovernanceSystem;
  readonly feed: SimulatedMarketFeed;
  readonly exchange: PaperExchange;
  readonly clock: Clock;
  /** How often the strategy wants to trade. */
  readonly orderIntervalMs?: number;
}

export interface TraderStats {
  /** Orders the exchange filled. */
  readonly placed: number;
  /** Orders the gate refused (counted, never sent). */
  readonly blocked: number;
  /** Orders the exchange rejected with an error (each one reported to governor). */
  readonly failed: number;
  /** Every error this engine reported to governor (`recordError`): rejections and failed snapshots. */
  readonly errorsReported: number;
  readonly cashMinor: bigint;
  readonly positionsMinor: bigint;
}

export type FillListener = (side: 'BUY' | 'SELL', priceMinor: bigint) => void;

export class PaperTrader {
  private readonly governance: GovernanceSystem;
  private readonly feed: SimulatedMarketFeed;
  private readonly exchange: PaperExchange;
  private readonly clock: Clock;
  private readonly orderIntervalMs: number;
  private timer: TimerHandle | undefined;
  private running = false;
  private lastPriceMinor: bigint | null = null;
  private lastSnapshotDate: string | null = null;
  private placed = 0;
  private blocked = 0;
  private failed = 0;
  private errorsReported = 0;
  private onFill: FillListener | null = null;

  constructor(options: PaperTraderOptions) {
    this.governance = options.governance;
    this.feed = options.feed;
    this.exchange = options.exchange;
    this.clock = options.clock;
    this.orderIntervalMs = options.orderIntervalMs ?? 500;
    if (!Number.isInteger(this.orderIntervalMs) || this.orderIntervalMs < 1) {
      throw new TypeError('Expected orderIntervalMs to be a positive integer');
    }
  }

  /** Opens the paper account if needed, subscribes to the feed and starts the order loop. */
  start(onFill?: FillListener): void {
    if (this.running) return;
    this.running = true;
    this.onFill = onFill ?? null;
    this.ensureAccounts();
    this.feed.start((tick) => this.onTick(tick));
    this.schedule();
  }

  stop(): void {
    this.running = false;
    this.feed.stop();
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  stats(): TraderStats {
    const capital = this.governance.engine.capital;
    return {
      placed: this.placed,
      blocked: this.blocked,
      failed: this.failed,
      errorsReported: this.errorsReported,
      cashMinor: capital.balance(CASH_ACCOUNT_ID),
      positionsMinor: capital.balance(POSITIONS_ACCOUNT_ID),
    };
  }

  private ensureAccounts(): void {
    const engine = this.governance.engine;
    const capital = engine.capital;
    if (capital.pool(PAPER_POOL_ID) !== null) return;
    engine.transaction(() => {
      capital.createPool(PAPER_POOL_ID, { currency: 'USD' });
      capital.createAccount(CASH_ACCOUNT_ID, PAPER_POOL_ID);
      capital.createAccount(POSITIONS_ACCOUNT_ID, PAPER_POOL_ID);
      capital.deposit(CASH_ACCOUNT_ID, STARTING_CASH_MINOR);
    });
  }

  private onTick(tick: MarketTick): void {
    this.lastPriceMinor = tick.priceMinor;
    this.governance.healthMonitor.updateMarketDataTimestamp();
    this.writeDailySnapshot();
  }

  /** One snapshot per calendar day (UTC), through the engine port (which reports the write). */
  private writeDailySnapshot(): void {
    const date = new Date(this.clock.wallNow()).toISOString().slice(0, 10);
    if (date === this.lastSnapshotDate) return;
    const snapshots = this.governance.engine.snapshots;
    try {
      // A day already covered (or a wall clock set back behind the latest snapshot): nothing to write.
      const latestDate = snapshots.latest()?.date ?? null;
      if (latestDate === null || latestDate < date) {
        const stats = this.stats();
        snapshots.write({
          date,
          data: {
            cashMinor: stats.cashMinor.toString(),
            positionsMinor: stats.positionsMinor.toString(),
            lastPriceMinor: this.lastPriceMinor?.toString() ?? null,
          },
        });
      }
      this.lastSnapshotDate = date;
    } catch {
      this.reportError();
    }
  }

  /** Reports an error to governor (its error-rate rule counts it), and counts it here. */
  private reportError(): void {
    this.errorsReported++;
    this.governance.healthMonitor.recordError();
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = this.clock.setTimeout(() => {
      this.tryOrder();
      this.schedule();
    }, this.orderIntervalMs);
  }

  /** The order loop's one rule: ask the gate first, every time. */
  private tryOrder(): void {
    const price = this.lastPriceMinor;
    if (price === null) return;
    if (!this.governance.canDeployCapital()) {
      this.blocked++;
      return;
    }
    const holding = this.governance.engine.capital.balance(POSITIONS_ACCOUNT_ID) > 0n;
    try {
      const fill = this.exchange.placeOrder({
        symbol: this.feed.symbol,
        side: holding ? 'SELL' : 'BUY',
        quantity: 1n,
        priceMinor: price,
      });
      this.book(fill.side, fill.notionalMinor, fill.orderId);
      this.placed++;
      this.onFill?.(fill.side, fill.priceMinor);
    } catch {
      this.failed++;
      this.reportError();
    }
  }

  /** Books a fill: capital moves and the event are written in one transaction. */
  private book(side: 'BUY' | 'SELL', notionalMinor: bigint, orderId: string): void {
    const engine = this.governance.engine;
    const capital = engine.capital;
    engine.transaction(() => {
      if (side === 'BUY') {
        capital.transfer(CASH_ACCOUNT_ID, POSITIONS_ACCOUNT_ID, notionalMinor);
      } else {
        const basis = capital.balance(POSITIONS_ACCOUNT_ID);
        capital.transfer(POSITIONS_ACCOUNT_ID, CASH_ACCOUNT_ID, basis);
        const pnl = notionalMinor - basis;
        if (pnl > 0n) capital.deposit(CASH_ACCOUNT_ID, pnl);
        if (pnl < 0n) capital.withdraw(CASH_ACCOUNT_ID, -pnl);
      }
      engine.events.append({
        eventType: 'PAPER_ORDER_FILLED',
        reason: `${side} 1 ${this.feed.symbol}`,
        metadata: { orderId, side, notionalMinor: notionalMinor.toString() },
      });
    });
  }
}
