/**
 * A paper exchange adapter: fills market orders at the last price, keeps no real money, and
 * offers the read-only `ping` that governor's startup checks call. Each fill leaves one resting
 * take-profit order at the exchange (at most RESTING_ORDERS_MAX), and the exchange is a governor
 * `Venue`: on SHUTDOWN governor cancels them all and counts none open. Its orders live in this
 * process (`inProcess`): once the process is gone, nothing rests there. `setFailing(true)` makes
 * every new order throw, as an exchange in an outage does.
 */

import type { Venue } from '../../index.js';

export type OrderSide = 'BUY' | 'SELL';

export interface OrderRequest {
  readonly symbol: string;
  readonly side: OrderSide;
  /** Whole units of the instrument. */
  readonly quantity: bigint;
  /** The price the engine expects, in minor units. */
  readonly priceMinor: bigint;
}

export interface Fill {
  readonly orderId: string;
  readonly symbol: string;
  readonly side: OrderSide;
  readonly quantity: bigint;
  readonly priceMinor: bigint;
  /** quantity × price, in minor units. */
  readonly notionalMinor: bigint;
}

/** A limit order waiting at the exchange; the paper exchange never fills it. */
export interface RestingOrder {
  readonly orderId: string;
  readonly symbol: string;
  readonly side: OrderSide;
  readonly quantity: bigint;
  readonly limitPriceMinor: bigint;
}

/** Resting orders kept at most; a fill past it replaces the oldest one. */
export const RESTING_ORDERS_MAX = 20;
/** A take-profit rests this many hundredths of a percent away from its fill (at least 1 minor unit). */
export const TAKE_PROFIT_BASIS_POINTS = 100n;

export class PaperExchange implements Venue {
  readonly name = 'paper-exchange';
  /** Its resting orders live in this process and end with it. */
  readonly inProcess = true;
  private nextOrderId = 1;
  private failing = false;
  private reachable = true;
  private ordersFilled = 0;
  private readonly resting: RestingOrder[] = [];
  private ordersCancelled = 0;

  /** Read-only reachability check for governor's startup checks: never places anything. */
  readonly ping = (): boolean => this.reachable;

  placeOrder(order: OrderRequest): Fill {
    if (this.failing) throw new Error('paper exchange: 503 Service Unavailable');
    if (order.quantity <= 0n || order.priceMinor <= 0n) {
      throw new TypeError('Expected a positive quantity and price');
    }
    this.ordersFilled++;
    const fill: Fill = {
      orderId: `paper-${this.nextOrderId++}`,
      symbol: order.symbol,
      side: order.side,
      quantity: order.quantity,
      priceMinor: order.priceMinor,
      notionalMinor: order.quantity * order.priceMinor,
    };
    this.restTakeProfit(fill);
    return fill;
  }

  /** Cancels every resting order (also while failing: an outage here only rejects new orders). */
  async cancelAllOrders(): Promise<number> {
    const cancelled = this.resting.splice(0).length;
    this.ordersCancelled += cancelled;
    return cancelled;
  }

  async countOpenOrders(): Promise<number> {
    return this.resting.length;
  }

  /** The resting orders, oldest first. */
  restingOrders(): readonly RestingOrder[] {
    return [...this.resting];
  }

  /** Resting orders cancelled by `cancelAllOrders` since this exchange was created. */
  cancelledCount(): number {
    return this.ordersCancelled;
  }

  /** The fill's take-profit: the opposite side, TAKE_PROFIT_BASIS_POINTS better than the fill. */
  private restTakeProfit(fill: Fill): void {
    const offsetMinor = (fill.priceMinor * TAKE_PROFIT_BASIS_POINTS) / 10_000n || 1n;
    const buy = fill.side === 'BUY';
    const limitPriceMinor = buy ? fill.priceMinor + offsetMinor : fill.priceMinor - offsetMinor;
    if (this.resting.length >= RESTING_ORDERS_MAX) this.resting.shift();
    this.resting.push({
      orderId: `paper-${this.nextOrderId++}`,
      symbol: fill.symbol,
      side: buy ? 'SELL' : 'BUY',
      quantity: fill.quantity,
      // A sell's take-profit below 1 minor unit cannot rest: it rests at 1.
      limitPriceMinor: limitPriceMinor > 0n ? limitPriceMinor : 1n,
    });
  }

  /** Every new order throws while failing (an outage, for fault injection). */
  setFailing(failing: boolean): void {
    this.failing = failing;
  }

  setReachable(reachable: boolean): void {
    this.reachable = reachable;
  }

  filledCount(): number {
    return this.ordersFilled;
  }
}
