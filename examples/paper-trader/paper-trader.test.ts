/**
 * Goal: the paper trader embeds governor correctly: it trades while the gate is open, and once
 * a fault shuts governor down it places zero orders, however long it keeps running. The paper
 * exchange keeps a bounded set of resting take-profit orders and is a governor venue: on
 * SHUTDOWN governor cancels them all and reports the exchange flat.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GovernanceSystem } from '../../index.js';
import { SimulatedClock } from '../../testing.js';
import { SimulatedMarketFeed } from './market-feed.js';
import { PaperExchange, RESTING_ORDERS_MAX } from './paper-exchange.js';
import { PaperTrader } from './paper-trader.js';

const SECOND_MS = 1_000;
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** Lets queued promises (governor's cancels and counts at the venue) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

async function startTrader(options: { readonly exchangeIsVenue?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'paper-trader-'));
  const clock = new SimulatedClock();
  const exchange = new PaperExchange();
  const governance = new GovernanceSystem({
    dbPath: join(dir, 'governor.db'),
    clock,
    ...(options.exchangeIsVenue === true ? { venues: [exchange] } : {}),
  });
  const feed = new SimulatedMarketFeed({ clock, seed: 7 });
  const trader = new PaperTrader({ governance, feed, exchange, clock });
  cleanups.push(() => {
    trader.stop();
    governance.close();
    rmSync(dir, { recursive: true, force: true });
  });
  trader.start();
  expect(await governance.runStartupChecks([{ name: exchange.name, ping: exchange.ping }])).toBe(
    true,
  );
  return { clock, governance, exchange, feed, trader };
}

describe('paper trader', () => {
  it('places orders through an open gate and keeps capital reconciled', async () => {
    const { clock, governance, trader } = await startTrader();
    clock.advance(10 * SECOND_MS);
    expect(trader.stats().placed).toBeGreaterThan(0);
    expect(trader.stats().blocked).toBe(0);
    expect(governance.engine.capital.reconcile().ok).toBe(true);
    expect(governance.engine.snapshots.latest()).not.toBeNull();
  });

  it('places zero orders after a market data stall shuts governor down', async () => {
    const { clock, governance, feed, exchange, trader } = await startTrader();
    clock.advance(10 * SECOND_MS);
    feed.pause();
    clock.advance(governance.thresholds.marketDataShutdownAfterMs + SECOND_MS);
    expect(governance.getState()).toBe('SHUTDOWN');
    const filled = exchange.filledCount();
    clock.advance(10 * 60 * SECOND_MS);
    expect(exchange.filledCount()).toBe(filled);
    expect(trader.stats().blocked).toBeGreaterThan(0);
  });

  it('places zero orders after an exchange error storm shuts governor down', async () => {
    const { clock, governance, exchange, trader } = await startTrader();
    clock.advance(5 * SECOND_MS);
    exchange.setFailing(true);
    clock.advance(30 * SECOND_MS);
    expect(governance.getState()).toBe('SHUTDOWN');
    expect(governance.getCause().trigger).toBe('HEALTH_CHECK_FAILED');
    exchange.setFailing(false);
    const filled = exchange.filledCount();
    clock.advance(10 * 60 * SECOND_MS);
    expect(exchange.filledCount()).toBe(filled);
    expect(trader.stats().failed).toBeGreaterThan(governance.thresholds.errorRatePerMinuteMax);
  });
});

describe('paper exchange resting orders', () => {
  const order = { symbol: 'BTC-USD', quantity: 2n, priceMinor: 10_000n } as const;

  it('leaves one resting take-profit per fill, on the other side, better than the fill', () => {
    const exchange = new PaperExchange();
    const buy = exchange.placeOrder({ ...order, side: 'BUY' });
    const sell = exchange.placeOrder({ ...order, side: 'SELL' });
    expect(buy.notionalMinor).toBe(20_000n);
    const [afterBuy, afterSell] = exchange.restingOrders();
    expect(afterBuy).toMatchObject({ side: 'SELL', quantity: 2n, limitPriceMinor: 10_100n });
    expect(afterSell).toMatchObject({ side: 'BUY', quantity: 2n, limitPriceMinor: 9_900n });
    expect(new Set([buy.orderId, sell.orderId, afterBuy?.orderId, afterSell?.orderId]).size).toBe(
      4,
    );
  });

  it(`keeps at most ${RESTING_ORDERS_MAX} resting orders, the oldest replaced`, async () => {
    const exchange = new PaperExchange();
    const fills = Array.from({ length: RESTING_ORDERS_MAX + 5 }, (_, index) =>
      exchange.placeOrder({ ...order, side: 'BUY', priceMinor: 10_000n + BigInt(index) }),
    );
    const resting = exchange.restingOrders();
    expect(resting).toHaveLength(RESTING_ORDERS_MAX);
    expect(await exchange.countOpenOrders()).toBe(RESTING_ORDERS_MAX);
    // The five oldest take-profits were replaced: the first left rests for the sixth fill.
    expect(resting[0]?.limitPriceMinor).toBe(((fills[5]?.priceMinor ?? 0n) * 101n) / 100n);
  });

  it('is a venue: cancelAllOrders resolves to the count cancelled, then none are open (also while failing)', async () => {
    const exchange = new PaperExchange();
    for (let i = 0; i < 7; i++) exchange.placeOrder({ ...order, side: 'BUY' });
    exchange.setFailing(true);
    expect(() => exchange.placeOrder({ ...order, side: 'BUY' })).toThrow(/503/);
    expect(await exchange.cancelAllOrders()).toBe(7);
    expect(await exchange.countOpenOrders()).toBe(0);
    expect(await exchange.cancelAllOrders()).toBe(0);
    expect(exchange.cancelledCount()).toBe(7);
    expect(exchange.filledCount()).toBe(7);
  });

  it('registered as a venue, governor cancels its resting orders on SHUTDOWN and reports it flat', async () => {
    const { clock, governance, feed, exchange, trader } = await startTrader({
      exchangeIsVenue: true,
    });
    clock.advance(10 * SECOND_MS);
    const resting = await exchange.countOpenOrders();
    expect(resting).toBe(Math.min(trader.stats().placed, RESTING_ORDERS_MAX));
    expect(resting).toBeGreaterThan(0);
    feed.pause();
    clock.advance(governance.thresholds.marketDataShutdownAfterMs + SECOND_MS);
    expect(governance.getState()).toBe('SHUTDOWN');
    await settle();
    for (let step = 0; step < 100 && governance.venueStatus()[0]?.flat !== true; step++) {
      clock.advance(50);
      await settle();
    }
    expect(await exchange.countOpenOrders()).toBe(0);
    expect(exchange.cancelledCount()).toBe(resting);
    expect(governance.venueStatus()).toMatchObject([
      { name: 'paper-exchange', flat: true, openOrders: 0, cancelling: false },
    ]);
  });
});
