/**
 * Goal: the paper trader embeds governor correctly: it trades while the gate is open, and once
 * a fault shuts governor down it places zero orders, however long it keeps running.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GovernanceSystem } from '../../index.js';
import { SimulatedClock } from '../../testing.js';
import { SimulatedMarketFeed } from './market-feed.js';
import { PaperExchange } from './paper-exchange.js';
import { PaperTrader } from './paper-trader.js';

const SECOND_MS = 1_000;
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function startTrader() {
  const dir = mkdtempSync(join(tmpdir(), 'paper-trader-'));
  const clock = new SimulatedClock();
  const governance = new GovernanceSystem({ dbPath: join(dir, 'governor.db'), clock });
  const exchange = new PaperExchange();
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
