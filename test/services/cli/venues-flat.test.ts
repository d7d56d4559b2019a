/**
 * Goal: `governor venues flat` cancels at every configured venue itself (credentials from the
 * environment variables the config names) and confirms by listing open orders: exit 0 with one
 * FLAT line per venue; exit 9 naming what is wrong when a venue has no credentials or does not
 * answer; and the config's venues section refuses a credential written into the file and a plain
 * http URL to another host. Local Kraken exchanges stand in for the venues.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalKrakenExchange } from '../../../examples/kraken-exchange/kraken-exchange.js';
import { runCliInProcess } from '../../support/cli-in-process.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function localExchange(): Promise<LocalKrakenExchange> {
  const exchange = await LocalKrakenExchange.start();
  cleanups.push(() => exchange.close());
  return exchange;
}

function configFile(venues: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'governor-venues-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'governor.json');
  writeFileSync(path, JSON.stringify({ venues }));
  return path;
}

function krakenVenue(name: string, exchange: LocalKrakenExchange, prefix: string) {
  return {
    name,
    exchange: 'kraken',
    apiUrl: exchange.url,
    apiKeyEnv: `${prefix}_KEY`,
    secretEnv: `${prefix}_SECRET`,
  };
}

describe('governor venues flat', () => {
  it('cancels every resting order at every venue and confirms 0 (exit 0)', async () => {
    const first = await localExchange();
    const second = await localExchange();
    first.placeRestingOrders(20);
    second.placeRestingOrders(5, { reduceOnly: true });
    const config = configFile([
      krakenVenue('kraken-a', first, 'A'),
      krakenVenue('kraken-b', second, 'B'),
    ]);
    const run = await runCliInProcess(['venues', 'flat', '--config', config], {
      NO_COLOR: '1',
      A_KEY: first.credentials.apiKey,
      A_SECRET: first.credentials.secret,
      B_KEY: second.credentials.apiKey,
      B_SECRET: second.credentials.secret,
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/FLAT +kraken-a: 0 open orders/);
    expect(run.stdout).toMatch(/FLAT +kraken-b: 0 open orders/);
    expect(first.countOpenOrders()).toBe(0);
    expect(second.countOpenOrders()).toBe(0);
  });

  it('a venue without credentials in the environment is NOT FLAT, named, exit 9; the others are flattened', async () => {
    const first = await localExchange();
    const second = await localExchange();
    first.placeRestingOrders(3);
    second.placeRestingOrders(3);
    const config = configFile([
      krakenVenue('kraken-a', first, 'A'),
      krakenVenue('kraken-b', second, 'B'),
    ]);
    const run = await runCliInProcess(['venues', 'flat', '--config', config, '--json'], {
      NO_COLOR: '1',
      A_KEY: first.credentials.apiKey,
      A_SECRET: first.credentials.secret,
    });
    expect(run.code).toBe(9);
    const result = JSON.parse(run.stdout) as {
      allFlat: boolean;
      venues: { name: string; flat: boolean; error: string | null }[];
    };
    expect(result.allFlat).toBe(false);
    expect(result.venues.find((v) => v.name === 'kraken-a')?.flat).toBe(true);
    expect(result.venues.find((v) => v.name === 'kraken-b')?.error).toContain(
      'B_KEY, B_SECRET not set',
    );
    expect(first.countOpenOrders()).toBe(0);
    expect(second.countOpenOrders()).toBe(3);
  });

  it('a venue that refuses is NOT FLAT with its error once --within runs out (exit 9)', async () => {
    const exchange = await localExchange();
    exchange.placeRestingOrders(4);
    exchange.setFault({ kind: 'refuse' }, { endpoints: ['CancelAll'] });
    const config = configFile([krakenVenue('kraken-a', exchange, 'A')]);
    const run = await runCliInProcess(['venues', 'flat', '--config', config, '--within', '1500'], {
      NO_COLOR: '1',
      A_KEY: exchange.credentials.apiKey,
      A_SECRET: exchange.credentials.secret,
    });
    expect(run.code).toBe(9);
    expect(run.stdout).toMatch(/NOT FLAT +kraken-a: 4 open orders; .*EService:Unavailable/);
    expect(exchange.countOpenOrders()).toBe(4);
  });

  it('refuses (exit 2) a config without venues', async () => {
    const run = await runCliInProcess(['venues', 'flat', '--config', configFile([])]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('no venues configured');
  });

  it('refuses (exit 2) a credential written into the config file, naming the variable key to use', async () => {
    const config = configFile([
      { exchange: 'kraken', apiKeyEnv: 'K', secretEnv: 'S', secret: 'abc' },
    ]);
    const run = await runCliInProcess(['venues', 'flat', '--config', config]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('venues[0].secret: credentials never go in the config file');
    expect(run.stderr).not.toContain('abc');
  });

  it('refuses (exit 2) a plain http API URL to a host that is not loopback', async () => {
    const config = configFile([
      { exchange: 'kraken', apiKeyEnv: 'K', secretEnv: 'S', apiUrl: 'http://example.com' },
    ]);
    const run = await runCliInProcess(['venues', 'flat', '--config', config]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('plain http to a loopback address');
  });

  it('config check shows the venues with the names of their variables, never a value', async () => {
    const exchange = await localExchange();
    const config = configFile([krakenVenue('kraken-a', exchange, 'A')]);
    const run = await runCliInProcess(['config', 'check', '--config', config, '--json'], {
      NO_COLOR: '1',
      A_KEY: exchange.credentials.apiKey,
      A_SECRET: exchange.credentials.secret,
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('"apiKeyEnv":"A_KEY"');
    expect(run.stdout).not.toContain(exchange.credentials.secret);
  });
});

describe('governor run with a venues section', () => {
  it('refuses to start (exit 2) when a venue has no credentials, naming the venue and the variable, before opening the database', async () => {
    const exchange = await localExchange();
    const config = configFile([krakenVenue('kraken-main', exchange, 'MAIN')]);
    const dir = mkdtempSync(join(tmpdir(), 'governor-run-venues-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const dbPath = join(dir, 'governor.db');
    const run = await runCliInProcess(['run', '--no-api', '--config', config, '--db', dbPath], {
      NO_COLOR: '1',
      MAIN_KEY: exchange.credentials.apiKey,
    });
    expect(run.code, run.stdout + run.stderr).toBe(2);
    expect(run.stderr).toMatch(/venue kraken-main: no credentials: MAIN_SECRET not set/);
    expect(existsSync(dbPath)).toBe(false);
  });
});
