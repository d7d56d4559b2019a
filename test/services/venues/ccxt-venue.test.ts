/**
 * Goal: the ccxt adapter, through the unmodified ccxt kraken client talking HTTP to the local
 * Kraken exchange, cancels every resting order and confirms zero; the exchange's countdown
 * cancels everything when not renewed and nothing while renewed; keepReduceOnly leaves the
 * reduce-only orders working; the exchange refuses a bad signature and a reused nonce as Kraken
 * does; a configured symbol's orders are cancelled alone (Kraken's CancelAll would take all).
 */
import ccxt from 'ccxt';
import { afterEach, describe, expect, it } from 'vitest';
import { type CcxtVenueOptions, ccxtVenue, PENDING_CALLS_MAX } from '../../../ccxt.js';
import {
  LocalKrakenExchange,
  type LocalKrakenExchangeOptions,
} from '../../../examples/kraken-exchange/kraken-exchange.js';
import { krakenSignature } from '../../../examples/kraken-exchange/kraken-signing.js';
import { SimulatedClock } from '../../../services/clock.js';

const exchanges: LocalKrakenExchange[] = [];

afterEach(async () => {
  for (const exchange of exchanges.splice(0)) await exchange.close();
});

async function localExchange(
  options: LocalKrakenExchangeOptions = {},
): Promise<LocalKrakenExchange> {
  const exchange = await LocalKrakenExchange.start(options);
  exchanges.push(exchange);
  return exchange;
}

function krakenClient(exchange: LocalKrakenExchange, credentials = exchange.credentials) {
  const client = new ccxt.kraken({
    apiKey: credentials.apiKey,
    secret: credentials.secret,
    enableRateLimit: false,
    timeout: 5_000,
  });
  client.urls.api = { public: exchange.url, private: exchange.url };
  return client;
}

async function venueAt(exchange: LocalKrakenExchange, options: CcxtVenueOptions = {}) {
  return ccxtVenue(krakenClient(exchange), options);
}

describe('ccxtVenue against the local Kraken exchange', () => {
  it('cancels every resting order and then counts zero', async () => {
    const exchange = await localExchange();
    exchange.placeRestingOrders(25);
    const venue = await venueAt(exchange);
    expect(await venue.countOpenOrders()).toBe(25);
    await venue.cancelAllOrders();
    expect(exchange.countOpenOrders()).toBe(0);
    expect(await venue.countOpenOrders()).toBe(0);
  });

  it('counts orders the engine placed through ccxt itself, reduce_only flag kept', async () => {
    const exchange = await localExchange();
    const client = krakenClient(exchange);
    await client.createOrder('BTC/USD', 'limit', 'sell', 0.5, 90_000, { reduceOnly: true });
    await client.createOrder('ETH/USD', 'limit', 'buy', 1, 1_000);
    const orders = await client.fetchOpenOrders();
    expect(orders.map((o) => [o.symbol, o.reduceOnly]).sort()).toEqual([
      ['BTC/USD', true],
      ['ETH/USD', false],
    ]);
    expect(await ccxtVenue(client).countOpenOrders()).toBe(2);
  });

  // The countdown runs on a simulated clock: the venue's calls are real HTTP through ccxt, and
  // the test moves the exchange's time instead of waiting for it.
  it("the exchange's countdown cancels everything when it is not renewed", async () => {
    const clock = new SimulatedClock({ wallStartMs: Date.now() });
    const exchange = await localExchange({ clock });
    exchange.placeRestingOrders(10);
    const venue = await venueAt(exchange, {
      deadMansSwitch: { timeoutMs: 2_000, renewEveryMs: 1_000 },
    });
    await venue.armDeadMansSwitch?.(2_000);
    expect(exchange.countdownTriggerAtMs()).toBe(clock.wallNow() + 2_000);
    clock.advance(1_999);
    expect(exchange.countOpenOrders()).toBe(10);
    clock.advance(1);
    expect(exchange.countOpenOrders()).toBe(0);
    expect(exchange.countdownFirings).toHaveLength(1);
    expect(exchange.countdownFirings[0]?.cancelled).toBe(10);
    // Once fired it stays off until armed again, as Kraken's does.
    expect(exchange.countdownTriggerAtMs()).toBeUndefined();
  });

  it('cancels nothing while renewed, and disarming stops the countdown', async () => {
    const clock = new SimulatedClock({ wallStartMs: Date.now() });
    const exchange = await localExchange({ clock });
    exchange.placeRestingOrders(10);
    const venue = await venueAt(exchange, {
      deadMansSwitch: { timeoutMs: 2_000, renewEveryMs: 1_000 },
    });
    // Renewed for twice the timeout: a countdown that ignored renewals would have fired.
    for (let renewal = 0; renewal < 8; renewal += 1) {
      await venue.armDeadMansSwitch?.(2_000);
      clock.advance(500);
    }
    expect(exchange.countdownFirings).toHaveLength(0);
    expect(exchange.countOpenOrders()).toBe(10);
    await venue.disarmDeadMansSwitch?.();
    expect(exchange.countdownTriggerAtMs()).toBeUndefined();
    // Disarmed: long past the last arming's deadline, nothing fires.
    clock.advance(10_000);
    expect(exchange.countdownFirings).toHaveLength(0);
    expect(exchange.countOpenOrders()).toBe(10);
  });

  it('keepReduceOnly cancels the others and leaves reduce-only orders working', async () => {
    const exchange = await localExchange();
    exchange.placeRestingOrders(6);
    const protective = exchange.placeRestingOrders(3, { side: 'sell', reduceOnly: true });
    const venue = await venueAt(exchange, { keepReduceOnly: true });
    expect(await venue.countOpenOrders()).toBe(6);
    await venue.cancelAllOrders();
    expect(
      exchange
        .openOrders()
        .map((o) => o.txid)
        .sort(),
    ).toEqual([...protective].sort());
    // Flat, as governor confirms it: no order left that is not reduce-only.
    expect(await venue.countOpenOrders()).toBe(0);
  });

  it('without keepReduceOnly, reduce-only orders are cancelled too', async () => {
    const exchange = await localExchange();
    exchange.placeRestingOrders(2);
    exchange.placeRestingOrders(2, { reduceOnly: true });
    const venue = await venueAt(exchange);
    await venue.cancelAllOrders();
    expect(exchange.countOpenOrders()).toBe(0);
  });

  it("with symbols, cancels only those markets' orders (Kraken's CancelAll ignores a symbol)", async () => {
    const exchange = await localExchange();
    exchange.placeRestingOrders(3, { pair: 'XXBTZUSD' });
    const ether = exchange.placeRestingOrders(2, { pair: 'XETHZUSD' });
    const venue = await venueAt(exchange, { symbols: ['BTC/USD'] });
    expect(await venue.countOpenOrders()).toBe(3);
    await venue.cancelAllOrders();
    expect(await venue.countOpenOrders()).toBe(0);
    expect(
      exchange
        .openOrders()
        .map((o) => o.txid)
        .sort(),
    ).toEqual([...ether].sort());
  });

  it('a refusing exchange fails the call; it succeeds once the exchange answers', async () => {
    const exchange = await localExchange();
    exchange.placeRestingOrders(4);
    const venue = await venueAt(exchange);
    expect(await venue.countOpenOrders()).toBe(4);
    exchange.setFault({ kind: 'refuse' });
    await expect(venue.cancelAllOrders()).rejects.toThrow(/EService:Unavailable/);
    expect(exchange.countOpenOrders()).toBe(4);
    exchange.setFault(undefined);
    await venue.cancelAllOrders();
    expect(exchange.countOpenOrders()).toBe(0);
  });
});

describe('one request at a time per venue (Kraken nonces)', () => {
  it('never overlaps two calls, and starts each in a later millisecond (distinct growing nonces)', async () => {
    let inFlight = 0;
    let overlapped = false;
    const startsMs: number[] = [];
    const call = async (): Promise<never[]> => {
      startsMs.push(Date.now());
      inFlight += 1;
      if (inFlight > 1) overlapped = true;
      await new Promise((resolve) => setTimeout(resolve, 2));
      inFlight -= 1;
      return [];
    };
    const fake = {
      id: 'fake',
      has: { fetchOpenOrders: true, cancelAllOrders: true },
      cancelAllOrders: call,
      cancelOrder: call,
      fetchOpenOrders: call,
      cancelAllOrdersAfter: call,
    };
    const venue = ccxtVenue(fake);
    await Promise.all([
      ...Array.from({ length: 10 }, () => venue.countOpenOrders()),
      ...Array.from({ length: 10 }, () => venue.cancelAllOrders()),
    ]);
    expect(overlapped).toBe(false);
    expect(startsMs).toHaveLength(20);
    for (let index = 1; index < startsMs.length; index += 1) {
      expect(startsMs[index]).toBeGreaterThan(startsMs[index - 1] ?? Number.POSITIVE_INFINITY);
    }
  });

  it('ten concurrent counts through one venue at the local exchange: none refused for its nonce', async () => {
    const exchange = await localExchange();
    exchange.placeRestingOrders(3);
    const venue = ccxtVenue(krakenClient(exchange));
    const counts = await Promise.all(Array.from({ length: 10 }, () => venue.countOpenOrders()));
    expect(counts).toEqual(Array(10).fill(3));
  });

  it('refuses at once (GOV_VENUE_BUSY) a call beyond the bound of waiting ones, never queues without end', async () => {
    const hung = new Promise<never>(() => {});
    const fake = {
      id: 'fake',
      has: { fetchOpenOrders: true, cancelAllOrders: true },
      cancelAllOrders: () => hung,
      cancelOrder: () => hung,
      fetchOpenOrders: () => hung,
      cancelAllOrdersAfter: () => hung,
    };
    const venue = ccxtVenue(fake);
    for (let call = 0; call <= PENDING_CALLS_MAX; call += 1) void venue.countOpenOrders();
    await expect(venue.cancelAllOrders()).rejects.toThrow(/GOV_VENUE_BUSY/);
  });
});

describe('the local exchange checks signed calls as Kraken does', () => {
  async function post(
    exchange: LocalKrakenExchange,
    nonce: string,
    signWith: string = exchange.credentials.secret,
  ): Promise<unknown> {
    const path = '/0/private/OpenOrders';
    const body = `nonce=${nonce}`;
    const response = await fetch(`${exchange.url}${path}`, {
      method: 'POST',
      headers: {
        'API-Key': exchange.credentials.apiKey,
        'API-Sign': krakenSignature(signWith, path, nonce, body),
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body,
    });
    return response.json();
  }

  it('refuses a signature made with another secret (EAPI:Invalid signature)', async () => {
    const exchange = await localExchange();
    const wrong = Buffer.alloc(64, 7).toString('base64');
    expect(await post(exchange, '1000', wrong)).toEqual({ error: ['EAPI:Invalid signature'] });
    expect(await post(exchange, '1001')).toMatchObject({ error: [], result: { open: {} } });
  });

  it('refuses a nonce not greater than the last one accepted (EAPI:Invalid nonce)', async () => {
    const exchange = await localExchange();
    expect(await post(exchange, '2000')).toMatchObject({ error: [] });
    expect(await post(exchange, '2000')).toEqual({ error: ['EAPI:Invalid nonce'] });
    expect(await post(exchange, '1999')).toEqual({ error: ['EAPI:Invalid nonce'] });
  });

  it('a ccxt client with a wrong secret is refused and cancels nothing', async () => {
    const exchange = await localExchange();
    exchange.placeRestingOrders(1);
    const client = krakenClient(exchange, {
      apiKey: exchange.credentials.apiKey,
      secret: Buffer.alloc(64, 9).toString('base64'),
    });
    await expect(ccxtVenue(client).cancelAllOrders()).rejects.toThrow(/EAPI:Invalid signature/);
    expect(exchange.countOpenOrders()).toBe(1);
  });

  it('refuses an unknown API key (EAPI:Invalid key)', async () => {
    const exchange = await localExchange();
    const client = krakenClient(exchange, {
      apiKey: 'not-a-key',
      secret: exchange.credentials.secret,
    });
    await expect(ccxtVenue(client).countOpenOrders()).rejects.toThrow(/EAPI:Invalid key/);
  });
});
