import { createLogger, GovernanceSystem } from 'trading-governor';
import { exchange, feed, log, strategy } from './world.js'; // your engine's own parts

const governance = new GovernanceSystem({
  dbPath: './governor.db', // this process becomes its one owner
  logger: createLogger(),
  // An uncaught exception latches SHUTDOWN before the process dies as Node makes it, so a
  // restarted engine waits for an operator; `latchUncaughtExceptions: false` opts out.
});
const { engine } = governance; // events, snapshots, capital, strategies (health stamped on commit)

if (engine.capital.pool('cash-pool') === null) {
  engine.transaction(() => {
    engine.capital.createPool('cash-pool', { currency: 'USD' });
    engine.capital.createAccount('cash', 'cash-pool');
    engine.capital.createAccount('positions', 'cash-pool');
    engine.capital.deposit('cash', 10_000_000n); // integer cents
  });
}

feed.on('tick', (tick) => {
  governance.healthMonitor.updateMarketDataTimestamp();
  strategy.onTick(tick);
});

// Startup checks: data integrity, capital reconciliation, and a read-only ping per adapter.
await governance.runStartupChecks([{ name: 'exchange', ping: () => exchange.ping() }]);

for await (const order of strategy.orders()) {
  if (!governance.canDeployCapital()) {
    log.info({ reason: governance.authorize().reason }, 'order held back');
    continue;
  }
  try {
    const fill = await exchange.place(order);
    engine.transaction(() => {
      engine.capital.transfer('cash', 'positions', fill.notionalMinor);
      engine.events.append({ eventType: 'ORDER_FILLED', reason: order.id });
    });
  } catch (error) {
    log.warn({ err: error, order: order.id }, 'order failed');
    governance.healthMonitor.recordError(); // too many per minute: fail-safe shutdown
  }
}

feed.stop();
governance.close(); // releases the database for the next owner
