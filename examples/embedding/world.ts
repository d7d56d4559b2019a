/**
 * The parts of an execution engine that the README's embedding snippet (engine.ts) assumes:
 * a market feed, a strategy, an exchange and a logger. Stand-ins small enough to read: the
 * feed ticks every 100 ms, the strategy asks for ORDERS orders (default 20) 20 ms apart, the
 * exchange fills each at once (a paper fill of 100.00 USD, in cents).
 */
import { EventEmitter } from 'node:events';
import { createLogger } from 'trading-governor';

export interface Tick {
  readonly symbol: string;
  readonly priceMinor: bigint;
}

export interface Order {
  readonly id: string;
  readonly symbol: string;
  readonly notionalMinor: bigint;
}

const TICK_INTERVAL_MS = 100;
const ORDER_INTERVAL_MS = 20;
const ORDER_NOTIONAL_MINOR = 10_000n;

class Feed extends EventEmitter<{ tick: [Tick] }> {
  readonly #timer = setInterval(
    () => this.emit('tick', { symbol: 'BTC-USD', priceMinor: 4_200_000n }),
    TICK_INTERVAL_MS,
  );
  stop(): void {
    clearInterval(this.#timer);
  }
}

export const feed = new Feed();
export const log = createLogger();

export const strategy = {
  lastTick: null as Tick | null,
  onTick(tick: Tick): void {
    strategy.lastTick = tick;
  },
  async *orders(): AsyncGenerator<Order> {
    const count = Number(process.env.ORDERS ?? 20);
    for (let index = 1; index <= count; index++) {
      await new Promise((resolve) => setTimeout(resolve, ORDER_INTERVAL_MS));
      yield { id: `order-${index}`, symbol: 'BTC-USD', notionalMinor: ORDER_NOTIONAL_MINOR };
    }
  },
};

export const exchange = {
  async ping(): Promise<boolean> {
    return true; // a read-only call that succeeded
  },
  async place(order: Order): Promise<{ notionalMinor: bigint }> {
    return { notionalMinor: order.notionalMinor };
  },
};
