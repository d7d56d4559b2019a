/**
 * Goal: kill to flat with real processes and a real (local) exchange. An engine that embeds
 * governor registers a ccxt venue (the unmodified ccxt kraken client pointed at a local Kraken
 * exchange running in this process, with resting orders):
 * - `governor shutdown` from another process leaves the exchange with no open order;
 * - kill -9 of the engine: the exchange's own countdown (armed and renewed by governor) cancels
 *   everything, its trigger no later than the timeout (+1 s) after the kill;
 * - the engine frozen (SIGSTOP): `governor venues flat` with its own credentials flattens, and so
 *   does `governor shutdown` with them (the owner does not confirm: its fallback cancels);
 * - a venue that refuses, or hangs, on cancel: the VENUE_NOT_FLAT alert, then flat once it
 *   answers again;
 * - `governor run --config FILE` with a venues section registers them: it arms their switches,
 *   and `governor shutdown` from another process (without the keys, so no fallback) leaves the
 *   exchange with no open order.
 * Latencies are written to test-artifacts/e2e/venues.json, never asserted.
 */
import { describe, expect, it } from 'vitest';
import { LocalKrakenExchange } from '../../examples/kraken-exchange/kraken-exchange.js';
import { type CliSandbox, E2E_CONFIG_YAML, perTestResources } from './cli-harness.js';
import { recordFigures, startTradingEngine } from './engine-harness.js';
import type { KrakenVenueFixture } from './fixtures/embedded-engine.js';

/** A liveness bound for waits on the exchange, not a measurement. */
const WAIT_MS_MAX = 60_000;
const { sandbox } = perTestResources();
const figures: Record<string, number> = {};

async function exchangeFor(box: CliSandbox): Promise<LocalKrakenExchange> {
  const exchange = await LocalKrakenExchange.start();
  box.onCleanup(() => exchange.close());
  return exchange;
}

function venueOf(
  exchange: LocalKrakenExchange,
  deadMansSwitch?: KrakenVenueFixture['deadMansSwitch'],
): KrakenVenueFixture {
  return {
    name: 'kraken',
    url: exchange.url,
    apiKey: exchange.credentials.apiKey,
    secret: exchange.credentials.secret,
    ...(deadMansSwitch === undefined ? {} : { deadMansSwitch }),
  };
}

async function waitUntil(what: string, condition: () => boolean): Promise<void> {
  const deadline = performance.now() + WAIT_MS_MAX;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`not within ${WAIT_MS_MAX} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The engine's dead man's switch in the countdown tests: short, so a test waits seconds. */
const COUNTDOWN = { timeoutMs: 3_000, renewEveryMs: 1_000 };

/** A child engine trading at `exchange` with the COUNTDOWN switch, once the switch is armed. */
async function startEngineWithCountdown(box: CliSandbox, exchange: LocalKrakenExchange) {
  const engine = await startTradingEngine(box, {
    krakenVenues: [venueOf(exchange, COUNTDOWN)],
    thresholds: {
      deadMansSwitchTimeoutMs: COUNTDOWN.timeoutMs,
      deadMansSwitchRenewEveryMs: COUNTDOWN.renewEveryMs,
    },
  });
  await waitUntil('the countdown armed', () => exchange.countdownTriggerAtMs() !== undefined);
  return engine;
}

describe('kill to flat at a local Kraken exchange', () => {
  it('governor shutdown from another process: the engine cancels, the exchange has no open order', async () => {
    const box = sandbox();
    const exchange = await exchangeFor(box);
    exchange.placeRestingOrders(30);
    const engine = await startTradingEngine(box, { krakenVenues: [venueOf(exchange)] });
    expect(exchange.countOpenOrders()).toBe(30);
    const startedMs = performance.timeOrigin + performance.now();
    const result = await box.run(['shutdown', '--operator', 'dana', '--reason', 'kill to flat']);
    expect(result.code, result.stderr).toBe(0);
    // The command reports flatness, from the engine's events after its request.
    expect(result.stdout).toMatch(
      /: (30 orders|orders) cancelled, flat \d+ ms after the request$/m,
    );
    const flatMs = await exchange.waitForOpenOrdersAtMost(0, WAIT_MS_MAX);
    expect(exchange.countOpenOrders()).toBe(0);
    expect(engine.running).toBe(true);
    figures.shutdownCommandToFlatMs = flatMs - startedMs;
  });

  it("kill -9 of the engine: the exchange's countdown cancels everything within the timeout", async () => {
    const box = sandbox();
    const exchange = await exchangeFor(box);
    const engine = await startEngineWithCountdown(box, exchange);
    exchange.placeRestingOrders(20);
    // Renewed while the engine lives: two timeouts pass without a firing.
    await new Promise((resolve) => setTimeout(resolve, 2 * COUNTDOWN.timeoutMs));
    expect(exchange.countdownFirings).toHaveLength(0);
    expect(exchange.countOpenOrders()).toBe(20);
    const killedAtWallMs = Date.now();
    const killedMs = performance.timeOrigin + performance.now();
    await engine.kill('SIGKILL');
    const flatMs = await exchange.waitForOpenOrdersAtMost(0, WAIT_MS_MAX);
    expect(exchange.countdownFirings).toHaveLength(1);
    expect(exchange.countdownFirings[0]?.cancelled).toBe(20);
    // The last renewal the exchange received set its trigger at most the timeout (+1 s for a
    // renewal in flight at the kill) after the kill: the exchange's record of when it was due,
    // not how late this busy process's timer ran.
    const triggerAtMs = exchange.countdownFirings[0]?.triggerAtMs ?? Number.NaN;
    expect(triggerAtMs - killedAtWallMs).toBeLessThanOrEqual(COUNTDOWN.timeoutMs + 1_000);
    figures.killToCountdownFlatMs = flatMs - killedMs;
    // No owner left: the kill switch says what the venue's own countdown did, from the expiry
    // the engine recorded at its last renewal.
    const result = await box.run(['shutdown', '--operator', 'dana', '--reason', 'after kill -9']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/no owner running/);
    expect(result.stdout).toMatch(
      /: no owner running to cancel; the venue's dead man's switch expired at \S+ \(\d+s ago\): its orders were cancelled by the venue$/m,
    );
  });

  it("the engine frozen (SIGSTOP): the exchange's countdown cancels everything within the timeout, and the thawed engine shuts down on the fired switch", async () => {
    const box = sandbox();
    const exchange = await exchangeFor(box);
    const engine = await startEngineWithCountdown(box, exchange);
    exchange.placeRestingOrders(15);
    const mark = engine.mark();
    const frozenAtWallMs = Date.now();
    engine.child.kill('SIGSTOP');
    box.onCleanup(async () => {
      engine.child.kill('SIGCONT');
    });
    await exchange.waitForOpenOrdersAtMost(0, WAIT_MS_MAX);
    expect(exchange.countdownFirings).toHaveLength(1);
    expect(exchange.countdownFirings[0]?.cancelled).toBe(15);
    const triggerAtMs = exchange.countdownFirings[0]?.triggerAtMs ?? Number.NaN;
    expect(triggerAtMs - frozenAtWallMs).toBeLessThanOrEqual(COUNTDOWN.timeoutMs + 1_000);
    // Thawed, the engine finds it renewed too late: its orders and stops are gone, so SHUTDOWN.
    engine.child.kill('SIGCONT');
    const shutdown = await engine.waitFor(
      'SHUTDOWN after the fired switch',
      (e) => e.event === 'mode' && e.to === 'SHUTDOWN',
      mark,
    );
    expect(shutdown.trigger).toBe('VENUE_DEAD_MANS_SWITCH_FIRED');
    expect(exchange.countOpenOrders()).toBe(0);
  });

  it('the engine frozen (SIGSTOP): governor venues flat with its own credentials flattens', async () => {
    const box = sandbox();
    const exchange = await exchangeFor(box);
    exchange.placeRestingOrders(25);
    const engine = await startTradingEngine(box, { krakenVenues: [venueOf(exchange)] });
    const key = exchange.addApiKey();
    box.writeConfig(
      `${E2E_CONFIG_YAML}venues:\n  - name: kraken\n    exchange: kraken\n    apiUrl: ${exchange.url}\n    apiKeyEnv: KRAKEN_FLAT_KEY\n    secretEnv: KRAKEN_FLAT_SECRET\n`,
    );
    engine.child.kill('SIGSTOP');
    box.onCleanup(async () => {
      engine.child.kill('SIGCONT');
    });
    const startedMs = performance.timeOrigin + performance.now();
    const result = await box.run(['venues', 'flat'], {
      env: { KRAKEN_FLAT_KEY: key.apiKey, KRAKEN_FLAT_SECRET: key.secret },
    });
    expect(result.code, `${result.stdout}${result.stderr}`).toBe(0);
    expect(result.stdout).toMatch(/FLAT +kraken: 0 open orders/);
    expect(exchange.countOpenOrders()).toBe(0);
    figures.frozenEngineVenuesFlatMs = performance.timeOrigin + performance.now() - startedMs;
  });

  it('the engine frozen (SIGSTOP): governor shutdown with credentials falls back and flattens', async () => {
    const box = sandbox();
    const exchange = await exchangeFor(box);
    exchange.placeRestingOrders(15);
    const engine = await startTradingEngine(box, { krakenVenues: [venueOf(exchange)] });
    const key = exchange.addApiKey();
    box.writeConfig(
      `${E2E_CONFIG_YAML}venues:\n  - name: kraken\n    exchange: kraken\n    apiUrl: ${exchange.url}\n    apiKeyEnv: KRAKEN_FLAT_KEY\n    secretEnv: KRAKEN_FLAT_SECRET\n`,
    );
    engine.child.kill('SIGSTOP');
    box.onCleanup(async () => {
      engine.child.kill('SIGCONT');
    });
    const startedMs = performance.timeOrigin + performance.now();
    const result = await box.run(['shutdown', '--operator', 'dana', '--reason', 'frozen engine'], {
      env: { KRAKEN_FLAT_KEY: key.apiKey, KRAKEN_FLAT_SECRET: key.secret },
    });
    // 7: the frozen owner did not confirm the latch; the venue is flat all the same.
    expect(result.code, `${result.stdout}${result.stderr}`).toBe(7);
    expect(`${result.stdout}${result.stderr}`).toMatch(/FLAT +kraken: 0 open orders/);
    expect(exchange.countOpenOrders()).toBe(0);
    figures.frozenEngineShutdownFallbackMs = performance.timeOrigin + performance.now() - startedMs;
  });

  it('governor run with a venues section: the daemon arms the switch, and governor shutdown flattens the venue', async () => {
    const box = sandbox();
    const exchange = await exchangeFor(box);
    exchange.placeRestingOrders(12);
    box.writeConfig(
      `${E2E_CONFIG_YAML}venues:\n  - name: kraken\n    exchange: kraken\n    apiUrl: ${exchange.url}\n    apiKeyEnv: KRAKEN_DAEMON_KEY\n    secretEnv: KRAKEN_DAEMON_SECRET\n`,
    );
    const daemon = box.startDaemon([], {
      env: {
        KRAKEN_DAEMON_KEY: exchange.credentials.apiKey,
        KRAKEN_DAEMON_SECRET: exchange.credentials.secret,
      },
    });
    await box.waitForOutput(daemon, /startup checks (passed|did not pass)/);
    await waitUntil('the countdown armed', () => exchange.countdownTriggerAtMs() !== undefined);
    expect(exchange.countOpenOrders()).toBe(12);
    const startedMs = performance.timeOrigin + performance.now();
    // No keys for this command: only the daemon can have cancelled.
    const result = await box.run(['shutdown', '--operator', 'dana', '--reason', 'daemon venues']);
    expect(result.code, `${result.stdout}${result.stderr}\n${daemon.output()}`).toBe(0);
    expect(result.stdout).toMatch(
      /: (12 orders|orders) cancelled, flat \d+ ms after the request$/m,
    );
    const flatMs = await exchange.waitForOpenOrdersAtMost(0, WAIT_MS_MAX);
    expect(exchange.countOpenOrders()).toBe(0);
    expect(exchange.countdownFirings).toHaveLength(0);
    figures.daemonShutdownCommandToFlatMs = flatMs - startedMs;
    expect(await box.stopDaemon(daemon)).toBe(0);
  });

  it("governor run with a venues section: a planned stop (SIGTERM) disarms the venue's countdown", async () => {
    const box = sandbox();
    const exchange = await exchangeFor(box);
    exchange.placeRestingOrders(4);
    box.writeConfig(
      `${E2E_CONFIG_YAML}venues:\n  - name: kraken\n    exchange: kraken\n    apiUrl: ${exchange.url}\n    apiKeyEnv: KRAKEN_DAEMON_KEY\n    secretEnv: KRAKEN_DAEMON_SECRET\n`,
    );
    const daemon = box.startDaemon([], {
      env: {
        KRAKEN_DAEMON_KEY: exchange.credentials.apiKey,
        KRAKEN_DAEMON_SECRET: exchange.credentials.secret,
      },
    });
    await waitUntil('the countdown armed', () => exchange.countdownTriggerAtMs() !== undefined);
    expect(await box.stopDaemon(daemon)).toBe(0);
    expect(exchange.countdownTriggerAtMs(), daemon.output()).toBeUndefined();
    expect(exchange.countOpenOrders()).toBe(4);
  });

  it.each([
    ['refuses', { kind: 'refuse' } as const],
    ['hangs', { kind: 'hang' } as const],
  ])(
    'a venue that %s on cancel: the VENUE_NOT_FLAT alert, then flat once it answers',
    async (_what, fault) => {
      const box = sandbox();
      const exchange = await exchangeFor(box);
      exchange.placeRestingOrders(10);
      const engine = await startTradingEngine(box, {
        krakenVenues: [venueOf(exchange)],
        thresholds: { venueFlatWithinMs: 1_000 },
      });
      exchange.setFault(fault, { endpoints: ['CancelAll'] });
      const from = engine.mark();
      const result = await box.run(['shutdown', '--operator', 'dana', '--reason', 'venue fault']);
      // Carried out, but a venue is not flat within venueFlatWithinMs: exit 9, the orders named.
      expect(result.code, result.stderr).toBe(9);
      expect(result.stderr).toMatch(/: NOT FLAT after \d+s: 10 orders open/);
      expect(result.stderr).toMatch(/governor is now SHUTDOWN/);
      await engine.waitFor(
        'the VENUE_NOT_FLAT alert',
        (e) => e.event === 'alert' && e.kind === 'VENUE_NOT_FLAT',
        from,
      );
      expect(exchange.countOpenOrders()).toBe(10);
      exchange.setFault(undefined);
      await exchange.waitForOpenOrdersAtMost(0, WAIT_MS_MAX);
      expect(exchange.countOpenOrders()).toBe(0);
      recordFigures('venues', figures);
    },
  );
});
