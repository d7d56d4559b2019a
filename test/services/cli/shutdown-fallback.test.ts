/**
 * Goal: `governor shutdown` cancels at the config's venues itself (as `governor venues flat`)
 * when the owner does not confirm each of them flat and the config has credentials: with no
 * owner running, and with an owner that did not register the venue. Without credentials in the
 * environment it does not try. A local Kraken exchange stands in for the venue.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalKrakenExchange } from '../../../examples/kraken-exchange/kraken-exchange.js';
import { GovernanceSystem } from '../../../services/governor/governance-system.js';
import { runCliInProcess } from '../../support/cli-in-process.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const WHO = ['--operator', 'olga', '--reason', 'kill drill'];

async function setUp(thresholds: Record<string, number> = {}): Promise<{
  exchange: LocalKrakenExchange;
  db: string;
  config: string;
  env: Record<string, string>;
}> {
  const exchange = await LocalKrakenExchange.start();
  cleanups.push(() => exchange.close());
  const dir = mkdtempSync(join(tmpdir(), 'governor-shutdown-fallback-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'governor.json');
  writeFileSync(
    config,
    JSON.stringify({
      api: { enabled: false },
      thresholds,
      venues: [
        {
          name: 'kraken',
          exchange: 'kraken',
          apiUrl: exchange.url,
          apiKeyEnv: 'FLAT_KEY',
          secretEnv: 'FLAT_SECRET',
        },
      ],
    }),
  );
  const key = exchange.addApiKey();
  return {
    exchange,
    db: join(dir, 'governor.db'),
    config,
    env: { NO_COLOR: '1', FLAT_KEY: key.apiKey, FLAT_SECRET: key.secret },
  };
}

describe('governor shutdown falls back to cancelling at the venues itself', () => {
  it('with no owner running: the venue is flattened by the command', async () => {
    const { exchange, db, config, env } = await setUp();
    new GovernanceSystem({ dbPath: db }).close();
    exchange.placeRestingOrders(12);
    const run = await runCliInProcess(['shutdown', '--db', db, '--config', config, ...WHO], env);
    expect(run.stdout).toContain('cancelling there from this command');
    expect(run.stdout).toMatch(/FLAT +kraken: 0 open orders/);
    expect(run.code).toBe(0);
    expect(exchange.countOpenOrders()).toBe(0);
  });

  it('with an owner that did not register the venue: flattened by the command', async () => {
    const { exchange, db, config, env } = await setUp();
    const owner = new GovernanceSystem({ dbPath: db });
    cleanups.push(() => owner.close());
    expect(await owner.runStartupChecks()).toBe(true);
    exchange.placeRestingOrders(5);
    const run = await runCliInProcess(['shutdown', '--db', db, '--config', config, ...WHO], env);
    expect(run.stdout).toMatch(/governor is now SHUTDOWN/);
    expect(run.stdout).toMatch(/FLAT +kraken: 0 open orders/);
    expect(run.code).toBe(0);
    expect(exchange.countOpenOrders()).toBe(0);
  });

  it('a venue that stays unreachable: NOT FLAT, exit 9', async () => {
    // The fallback gives up after venueFlatWithinMs, the owner's own bound.
    const { exchange, db, config, env } = await setUp({ venueFlatWithinMs: 1_000 });
    new GovernanceSystem({ dbPath: db }).close();
    exchange.placeRestingOrders(3);
    exchange.setFault({ kind: 'refuse' }, { endpoints: ['CancelAll'] });
    const run = await runCliInProcess(['shutdown', '--db', db, '--config', config, ...WHO], env);
    expect(run.code).toBe(9);
    expect(run.stderr).toMatch(/NOT FLAT +kraken: 3 open orders/);
  });

  it('without credentials in the environment it does not try', async () => {
    const { exchange, db, config } = await setUp();
    new GovernanceSystem({ dbPath: db }).close();
    exchange.placeRestingOrders(2);
    const run = await runCliInProcess(['shutdown', '--db', db, '--config', config, ...WHO]);
    expect(run.stdout + run.stderr).not.toContain('cancelling there from this command');
    expect(exchange.countOpenOrders()).toBe(2);
  });
});
