/**
 * Goal: the demo's paper exchange is one of governor's venues, so a demo SHUTDOWN shows its
 * resting orders cancelled and the exchange flat: `reportFlat` prints the line once governor
 * reports it flat, counting that SHUTDOWN's cancels.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_THRESHOLDS } from '../../../services/cli/config-layers.js';
import { createDemoExchange, demoFlatLine, startDemo } from '../../../services/cli/demo.js';
import { SimulatedClock } from '../../../services/clock.js';
import { GovernanceSystem } from '../../../services/governor/governance-system.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

async function startVenueDemo() {
  const dir = mkdtempSync(join(tmpdir(), 'demo-venue-'));
  const clock = new SimulatedClock();
  const exchange = createDemoExchange();
  const governance = new GovernanceSystem({
    dbPath: join(dir, 'governor.db'),
    clock,
    thresholds: DEMO_THRESHOLDS,
    venues: [exchange],
  });
  const demo = startDemo(governance, clock, { recoveryMs: null, exchange });
  cleanups.push(() => {
    demo.stop();
    governance.close();
    rmSync(dir, { recursive: true, force: true });
  });
  expect(demo.exchange).toBe(exchange);
  await governance.runStartupChecks([{ name: exchange.name, ping: exchange.ping }]);
  return { clock, governance, exchange, demo };
}

async function shutDownUntilFlat(clock: SimulatedClock, governance: GovernanceSystem) {
  governance.operatorShutdown({ operator: 'ann', reason: 'demo' });
  await settle();
  for (let step = 0; step < 100 && governance.venueStatus()[0]?.flat !== true; step++) {
    clock.advance(50);
    await settle();
  }
}

describe('the demo exchange as a venue', () => {
  it('after a SHUTDOWN prints the resting orders cancelled and flat, each SHUTDOWN its own count', async () => {
    const { clock, governance, exchange, demo } = await startVenueDemo();
    clock.advance(5_000);
    const resting = await exchange.countOpenOrders();
    expect(resting).toBeGreaterThan(0);
    await shutDownUntilFlat(clock, governance);
    const line = await new Promise<string>((resolve) => demo.reportFlat(resolve));
    expect(line).toBe(demoFlatLine('paper-exchange', resting));
    expect(line).toMatch(/^demo: paper-exchange: \d+ resting orders? cancelled, flat$/);
    expect(await exchange.countOpenOrders()).toBe(0);

    // A second SHUTDOWN with nothing resting counts 0, not the first one's cancels again.
    governance.operatorRestart({ operator: 'ann', reason: 'demo' });
    await settle();
    await shutDownUntilFlat(clock, governance);
    const again = await new Promise<string>((resolve) => demo.reportFlat(resolve));
    expect(again).toBe(demoFlatLine('paper-exchange', exchange.cancelledCount() - resting));
  });

  it('is an in-process venue: recorded so, its orders end with the daemon', async () => {
    const { governance, exchange } = await startVenueDemo();
    expect(exchange.inProcess).toBe(true);
    expect(governance.venueStatus()).toEqual([
      expect.objectContaining({ name: 'paper-exchange', inProcess: true }),
    ]);
  });

  it('names one order in the singular', () => {
    expect(demoFlatLine('paper-exchange', 1)).toBe(
      'demo: paper-exchange: 1 resting order cancelled, flat',
    );
  });
});
