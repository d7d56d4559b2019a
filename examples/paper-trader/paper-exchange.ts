/**
 * A paper exchange adapter: fills market orders at the last price, keeps no real money, and
 * offers the read-only `ping` that governor's startup checks call. `setFailing(true)` makes
 * every order throw, as an exchange in an outage does.
 */

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

export class PaperExchange {
  readonly name = 'paper-exchange';
  private nextOrderId = 1;
  private failing = false;
  private reachable = true;
  private ordersFilled = 0;

  /** Read-only reachability check for governor's startup checks: never places anything. */
  readonly ping = (): boolean => this.reachable;

  placeOrder(order: OrderRequest): Fill {
    if (this.failing) throw new Error('paper exchange: 503 Service Unavailable');
    if (order.quantity <= 0n || order.priceMinor <= 0n) {
      throw new TypeError('Expected a positive quantity and price');
    }
    this.ordersFilled++;
    return {
      orderId: `paper-${this.nextOrderId++}`,
      symbol: order.symbol,
      side: order.side,
      quantity: order.quantity,
      priceMinor: order.priceMinor,
      notionalMinor: order.quantity * order.priceMinor,
    };
  }

  /** Every order throws while failing (an outage, for fault injection). */
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
