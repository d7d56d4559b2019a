/**
 * A local exchange that speaks enough of Kraken's spot REST API for the unmodified ccxt kraken
 * client (its `urls.api` pointed here): public Time, SystemStatus, Assets, AssetPairs; signed
 * private Balance, BalanceEx, AddOrder, OpenOrders, CancelOrder, CancelAll and CancelAllOrdersAfter
 * (a countdown that really cancels). Tests drive it in-process: place resting orders, count them,
 * make it refuse, hang or answer slowly.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type ApiKeyPair, newApiKeyPair, signatureMatches } from './kraken-signing.js';

/** What the exchange does to a request while a fault is set. */
export type ExchangeFault =
  /** Answer `{"error":[error]}` without acting (default error: EService:Unavailable). */
  | { readonly kind: 'refuse'; readonly error?: string }
  /** Read the request and never answer it, nor act on it. */
  | { readonly kind: 'hang' }
  /** Act and answer only after `delayMs`. */
  | { readonly kind: 'slow'; readonly delayMs: number };

export interface RestingOrderInput {
  /** Kraken pair id (XXBTZUSD, XETHZUSD) or altname (XBTUSD, ETHUSD); default XXBTZUSD. */
  readonly pair?: string;
  readonly side?: 'buy' | 'sell';
  readonly volume?: string;
  readonly price?: string;
  readonly reduceOnly?: boolean;
}

export interface RestingOrder {
  readonly txid: string;
  readonly pair: string;
  readonly side: 'buy' | 'sell';
  readonly orderType: string;
  readonly volume: string;
  readonly price: string;
  readonly reduceOnly: boolean;
  readonly openedAtS: number;
  readonly userref: number | null;
  readonly clientOrderId: string | null;
}

/** One expiry of the CancelAllOrdersAfter countdown. */
export interface CountdownFiring {
  /** Wall-clock milliseconds (performance.timeOrigin + performance.now()), comparable across processes. */
  readonly atMs: number;
  /** When it was due (the clock's wall ms, Date.now() by default), as the last arming set it. */
  readonly triggerAtMs: number;
  readonly cancelled: number;
}

export interface LocalKrakenExchangeOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0 (any free port). */
  readonly port?: number;
  /** The account's first API key; default a fresh random pair. */
  readonly credentials?: ApiKeyPair;
  /** Called each time the countdown runs out and cancels. */
  readonly onCountdownFired?: (firing: CountdownFiring) => void;
  /**
   * The clock the CancelAllOrdersAfter countdown runs on; default the process's own (Date.now()
   * and an unref'd setTimeout). A test passes governor/testing's SimulatedClock to run the
   * countdown out, or renew it, without waiting. `CountdownFiring.atMs` stays real time.
   */
  readonly clock?: CountdownClock;
}

/** What the countdown needs of a clock (governor's Clock and SimulatedClock have it). */
export interface CountdownClock<Handle = unknown> {
  wallNow(): number;
  setTimeout(callback: () => void, delayMs: number): Handle;
  clearTimeout(handle: Handle): void;
}

/** A countdown armed on a clock: its stop function, and the wall time it is due. */
interface ArmedCountdown {
  readonly stop: () => void;
  readonly triggerAtMs: number;
}

/** The process's own clock: Date.now(), and a timer that never keeps the process alive. */
const PROCESS_CLOCK: CountdownClock<NodeJS.Timeout> = {
  wallNow: () => Date.now(),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs).unref(),
  clearTimeout: (handle) => clearTimeout(handle),
};

/** Starts `callback` after `delayMs` on `clock`; returns how to stop it. */
function startTimer<Handle>(
  clock: CountdownClock<Handle>,
  callback: () => void,
  delayMs: number,
): () => void {
  const handle = clock.setTimeout(callback, delayMs);
  return () => clock.clearTimeout(handle);
}

interface Pair {
  readonly id: string;
  readonly altname: string;
  readonly wsname: string;
  readonly base: string;
  readonly quote: string;
}

const PAIRS: readonly Pair[] = [
  { id: 'XXBTZUSD', altname: 'XBTUSD', wsname: 'XBT/USD', base: 'XXBT', quote: 'ZUSD' },
  { id: 'XETHZUSD', altname: 'ETHUSD', wsname: 'ETH/USD', base: 'XETH', quote: 'ZUSD' },
];
const ASSETS: Readonly<Record<string, { altname: string; decimals: number }>> = {
  XXBT: { altname: 'XBT', decimals: 10 },
  XETH: { altname: 'ETH', decimals: 10 },
  ZUSD: { altname: 'USD', decimals: 4 },
};
const BALANCES: Readonly<Record<string, string>> = {
  ZUSD: '1000000.0000',
  XXBT: '10.0000000000',
  XETH: '100.0000000000',
};
/** Kraken's maximum CancelAllOrdersAfter timeout, in seconds. */
export const COUNTDOWN_TIMEOUT_S_MAX = 86_400;
const BODY_BYTES_MAX = 64 * 1024;
const HUNG_REQUESTS_MAX = 1_000;
const SLOW_DELAY_MS_MAX = 600_000;
const FIRINGS_KEPT_MAX = 1_000;
const WAITERS_MAX = 1_000;

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes. */
export function preciseNowMs(): number {
  return performance.timeOrigin + performance.now();
}

class KrakenError extends Error {}

export class LocalKrakenExchange {
  /** The base URL to give ccxt: `exchange.urls.api = { public: url, private: url }`. */
  readonly url: string;
  /** The account's first API key pair. */
  readonly credentials: ApiKeyPair;
  readonly countdownFirings: CountdownFiring[] = [];
  private readonly keys = new Map<string, { secret: string; lastNonce: bigint }>();
  private readonly orders = new Map<string, RestingOrder>();
  private readonly sockets = new Set<Socket>();
  private readonly hung = new Set<ServerResponse>();
  private readonly waiters = new Set<() => void>();
  private fault: ExchangeFault | undefined;
  private faultEndpoints: ReadonlySet<string> | undefined;
  private countdown: ArmedCountdown | undefined;
  private requestsServed = 0;

  private constructor(
    private readonly server: Server,
    url: string,
    credentials: ApiKeyPair,
    private readonly onCountdownFired: ((firing: CountdownFiring) => void) | undefined,
    private readonly clock: CountdownClock,
  ) {
    this.url = url;
    this.credentials = credentials;
    this.keys.set(credentials.apiKey, { secret: credentials.secret, lastNonce: -1n });
  }

  static async start(options: LocalKrakenExchangeOptions = {}): Promise<LocalKrakenExchange> {
    const server = createServer();
    const host = options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const exchange = new LocalKrakenExchange(
      server,
      `http://${host}:${port}`,
      options.credentials ?? newApiKeyPair(),
      options.onCountdownFired,
      options.clock ?? PROCESS_CLOCK,
    );
    server.on('connection', (socket) => {
      exchange.sockets.add(socket);
      socket.on('close', () => exchange.sockets.delete(socket));
    });
    server.on('request', (request, response) => {
      exchange.receive(request, response);
    });
    return exchange;
  }

  /** Another API key for the same account (Kraken keeps a nonce per key): one per process. */
  addApiKey(pair: ApiKeyPair = newApiKeyPair()): ApiKeyPair {
    this.keys.set(pair.apiKey, { secret: pair.secret, lastNonce: -1n });
    return pair;
  }

  /** Places a resting limit order directly, as if an engine had placed it; returns its txid. */
  placeRestingOrder(input: RestingOrderInput = {}): string {
    const pair = findPair(input.pair ?? 'XXBTZUSD');
    if (pair === undefined) throw new Error(`unknown pair ${input.pair}`);
    return this.rest({
      pair: pair.id,
      side: input.side ?? 'buy',
      orderType: 'limit',
      volume: input.volume ?? '0.01000000',
      price: input.price ?? '10000.0',
      reduceOnly: input.reduceOnly ?? false,
      userref: null,
      clientOrderId: null,
    });
  }

  /** Places `count` resting orders, alternating the pairs. */
  placeRestingOrders(count: number, input: RestingOrderInput = {}): string[] {
    const txids: string[] = [];
    for (let index = 0; index < count; index += 1) {
      const pair = input.pair ?? PAIRS[index % PAIRS.length]?.id;
      txids.push(this.placeRestingOrder({ ...input, ...(pair === undefined ? {} : { pair }) }));
    }
    return txids;
  }

  countOpenOrders(): number {
    return this.orders.size;
  }

  openOrders(): RestingOrder[] {
    return [...this.orders.values()];
  }

  /** When the countdown will cancel everything (the clock's wall ms), or undefined when disarmed. */
  countdownTriggerAtMs(): number | undefined {
    return this.countdown?.triggerAtMs;
  }

  /** How many HTTP requests the exchange answered (or refused) so far. */
  requestCount(): number {
    return this.requestsServed;
  }

  /**
   * Sets (or clears, with undefined) a fault for every endpoint, or only for the named ones
   * (e.g. ['CancelAll', 'OpenOrders']). Requests hung by an earlier fault stay hung.
   */
  setFault(
    fault: ExchangeFault | undefined,
    options: { readonly endpoints?: readonly string[] } = {},
  ): void {
    if (fault?.kind === 'slow' && !(fault.delayMs >= 0 && fault.delayMs <= SLOW_DELAY_MS_MAX)) {
      throw new RangeError(`delayMs must be within 0..${SLOW_DELAY_MS_MAX}`);
    }
    this.fault = fault;
    this.faultEndpoints = options.endpoints === undefined ? undefined : new Set(options.endpoints);
  }

  /**
   * Resolves with the wall-clock time (ms) at which the open orders first numbered `count` or
   * fewer (now, if they already do); rejects after `withinMs`.
   */
  waitForOpenOrdersAtMost(count: number, withinMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      if (this.orders.size <= count) {
        resolve(preciseNowMs());
        return;
      }
      if (this.waiters.size >= WAITERS_MAX) {
        reject(new Error('too many waiters'));
        return;
      }
      const check = (): void => {
        if (this.orders.size <= count) {
          const atMs = preciseNowMs();
          finish();
          resolve(atMs);
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`still ${this.orders.size} open orders after ${withinMs} ms`));
      }, withinMs);
      const finish = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
    });
  }

  async close(): Promise<void> {
    this.disarm();
    for (const response of this.hung) response.destroy();
    this.hung.clear();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private receive(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > BODY_BYTES_MAX) {
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = (request.url ?? '/').split('?')[0] ?? '/';
      const endpoint = path.split('/').pop() ?? '';
      const fault =
        this.faultEndpoints === undefined || this.faultEndpoints.has(endpoint)
          ? this.fault
          : undefined;
      if (fault?.kind === 'hang') {
        if (this.hung.size >= HUNG_REQUESTS_MAX) response.destroy();
        else this.hung.add(response);
        response.on('close', () => this.hung.delete(response));
        return;
      }
      if (fault?.kind === 'refuse') {
        this.answer(response, { error: [fault.error ?? 'EService:Unavailable'] });
        return;
      }
      const act = (): void => {
        this.answer(response, this.handle(request, path, body));
      };
      if (fault?.kind === 'slow') setTimeout(act, fault.delayMs);
      else act();
    });
  }

  private answer(response: ServerResponse, payload: unknown): void {
    this.requestsServed += 1;
    if (response.destroyed) return;
    response.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
    response.end(JSON.stringify(payload));
  }

  private handle(request: IncomingMessage, path: string, body: string): unknown {
    try {
      if (path.startsWith('/0/public/') && request.method === 'GET') {
        return { error: [], result: this.publicCall(path.slice('/0/public/'.length)) };
      }
      if (path.startsWith('/0/private/') && request.method === 'POST') {
        const params = this.authenticate(request, path, body);
        return { error: [], result: this.privateCall(path.slice('/0/private/'.length), params) };
      }
      return { error: ['EGeneral:Unknown method'] };
    } catch (error) {
      if (error instanceof KrakenError) return { error: [error.message] };
      return { error: ['EGeneral:Internal error'] };
    }
  }

  private publicCall(endpoint: string): unknown {
    switch (endpoint) {
      case 'Time': {
        const now = Date.now();
        return { unixtime: Math.floor(now / 1000), rfc1123: new Date(now).toUTCString() };
      }
      case 'SystemStatus':
        return { status: 'online', timestamp: isoSeconds(Date.now()) };
      case 'Assets':
        return Object.fromEntries(
          Object.entries(ASSETS).map(([id, asset]) => [
            id,
            {
              aclass: 'currency',
              altname: asset.altname,
              decimals: asset.decimals,
              display_decimals: 5,
              status: 'enabled',
            },
          ]),
        );
      case 'AssetPairs':
        return Object.fromEntries(PAIRS.map((pair) => [pair.id, assetPair(pair)]));
      default:
        throw new KrakenError('EGeneral:Unknown method');
    }
  }

  /** Checks API-Key, API-Sign and the nonce as Kraken does; returns the request's parameters. */
  private authenticate(
    request: IncomingMessage,
    path: string,
    body: string,
  ): Record<string, unknown> {
    const apiKey = request.headers['api-key'];
    const key = typeof apiKey === 'string' ? this.keys.get(apiKey) : undefined;
    if (key === undefined) throw new KrakenError('EAPI:Invalid key');
    const params = parseBody(request.headers['content-type'], body);
    const nonce = params.nonce;
    const sign = request.headers['api-sign'];
    if (typeof nonce !== 'string' && typeof nonce !== 'number') {
      throw new KrakenError('EAPI:Invalid nonce');
    }
    if (
      typeof sign !== 'string' ||
      !signatureMatches(key.secret, path, String(nonce), body, sign)
    ) {
      throw new KrakenError('EAPI:Invalid signature');
    }
    let value: bigint;
    try {
      value = BigInt(nonce);
    } catch {
      throw new KrakenError('EAPI:Invalid nonce');
    }
    if (value <= key.lastNonce) throw new KrakenError('EAPI:Invalid nonce');
    key.lastNonce = value;
    return params;
  }

  private privateCall(endpoint: string, params: Record<string, unknown>): unknown {
    switch (endpoint) {
      case 'Balance':
        return { ...BALANCES };
      case 'BalanceEx':
        return Object.fromEntries(
          Object.entries(BALANCES).map(([asset, balance]) => [
            asset,
            { balance, hold_trade: '0.0000' },
          ]),
        );
      case 'AddOrder':
        return this.addOrder(params);
      case 'OpenOrders':
        return { open: Object.fromEntries(this.openOrders().map((o) => [o.txid, describe(o)])) };
      case 'CancelOrder': {
        const txid = String(params.txid ?? params.cl_ord_id ?? '');
        const order =
          this.orders.get(txid) ??
          [...this.orders.values()].find(
            (o) => o.clientOrderId === txid || `${o.userref}` === txid,
          );
        if (order === undefined) throw new KrakenError('EOrder:Unknown order');
        this.remove([order.txid]);
        return { count: 1 };
      }
      case 'CancelAll':
        return { count: this.remove([...this.orders.keys()]) };
      case 'CancelAllOrdersAfter':
        return this.cancelAllOrdersAfter(params.timeout);
      default:
        throw new KrakenError('EGeneral:Unknown method');
    }
  }

  private addOrder(params: Record<string, unknown>): unknown {
    const pair = findPair(String(params.pair ?? ''));
    if (pair === undefined) throw new KrakenError('EQuery:Unknown asset pair');
    const side = params.type;
    if (side !== 'buy' && side !== 'sell') throw new KrakenError('EGeneral:Invalid arguments:type');
    const orderType = String(params.ordertype ?? '');
    const volume = String(params.volume ?? '');
    if (!(Number(volume) > 0)) throw new KrakenError('EGeneral:Invalid arguments:volume');
    const price = String(params.price ?? '0');
    if (orderType === 'limit' && !(Number(price) > 0)) {
      throw new KrakenError('EGeneral:Invalid arguments:price');
    }
    if (orderType !== 'limit' && orderType !== 'market') {
      throw new KrakenError('EGeneral:Invalid arguments:ordertype');
    }
    const reduceOnly = params.reduce_only === true || params.reduce_only === 'true';
    const description = `${side} ${volume} ${pair.altname} @ ${orderType}${orderType === 'limit' ? ` ${price}` : ''}`;
    if (params.validate === true || params.validate === 'true')
      return { descr: { order: description } };
    const userref = params.userref === undefined ? null : Number(params.userref);
    const clientOrderId = params.cl_ord_id === undefined ? null : String(params.cl_ord_id);
    // A market order fills at once here: only limit orders rest.
    const txid =
      orderType === 'market'
        ? orderId()
        : this.rest({
            pair: pair.id,
            side,
            orderType,
            volume,
            price,
            reduceOnly,
            userref,
            clientOrderId,
          });
    return { descr: { order: description }, txid: [txid] };
  }

  private cancelAllOrdersAfter(timeout: unknown): unknown {
    const seconds = Number(timeout);
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > COUNTDOWN_TIMEOUT_S_MAX) {
      throw new KrakenError('EGeneral:Invalid arguments:timeout');
    }
    const now = this.clock.wallNow();
    this.disarm();
    if (seconds === 0) return { currentTime: isoSeconds(now), triggerTime: '0' };
    const triggerAtMs = now + seconds * 1000;
    const stop = startTimer(this.clock, () => this.fireCountdown(triggerAtMs), seconds * 1000);
    this.countdown = { stop, triggerAtMs };
    return { currentTime: isoSeconds(now), triggerTime: isoSeconds(triggerAtMs) };
  }

  /** The countdown ran out: every order is cancelled and the timer stays off until re-armed. */
  private fireCountdown(triggerAtMs: number): void {
    this.countdown = undefined;
    const cancelled = this.remove([...this.orders.keys()]);
    if (this.countdownFirings.length >= FIRINGS_KEPT_MAX) this.countdownFirings.shift();
    const firing = { atMs: preciseNowMs(), triggerAtMs, cancelled };
    this.countdownFirings.push(firing);
    this.onCountdownFired?.(firing);
  }

  private disarm(): void {
    this.countdown?.stop();
    this.countdown = undefined;
  }

  private rest(order: Omit<RestingOrder, 'txid' | 'openedAtS'>): string {
    const txid = orderId();
    this.orders.set(txid, { ...order, txid, openedAtS: Date.now() / 1000 });
    return txid;
  }

  private remove(txids: readonly string[]): number {
    let removed = 0;
    for (const txid of txids) if (this.orders.delete(txid)) removed += 1;
    for (const wake of [...this.waiters]) wake();
    return removed;
  }
}

function findPair(idOrAltname: string): Pair | undefined {
  return PAIRS.find((pair) => pair.id === idOrAltname || pair.altname === idOrAltname);
}

function assetPair(pair: Pair): unknown {
  return {
    altname: pair.altname,
    wsname: pair.wsname,
    aclass_base: 'currency',
    base: pair.base,
    aclass_quote: 'currency',
    quote: pair.quote,
    lot: 'unit',
    cost_decimals: 5,
    pair_decimals: 1,
    lot_decimals: 8,
    lot_multiplier: 1,
    leverage_buy: [2, 3],
    leverage_sell: [2, 3],
    fees: [[0, 0.26]],
    fees_maker: [[0, 0.16]],
    fee_volume_currency: 'ZUSD',
    margin_call: 80,
    margin_stop: 40,
    ordermin: '0.0001',
    costmin: '0.5',
    tick_size: '0.1',
    status: 'online',
  };
}

/** An order as OpenOrders lists it (with reduce_only, which ccxt reads into `reduceOnly`). */
function describe(order: RestingOrder): unknown {
  const pair = findPair(order.pair);
  const price = order.orderType === 'limit' ? ` ${order.price}` : '';
  return {
    refid: null,
    userref: order.userref,
    cl_ord_id: order.clientOrderId,
    status: 'open',
    opentm: order.openedAtS,
    starttm: 0,
    expiretm: 0,
    descr: {
      pair: pair?.altname ?? order.pair,
      type: order.side,
      ordertype: order.orderType,
      price: order.price,
      price2: '0',
      leverage: 'none',
      order: `${order.side} ${order.volume} ${pair?.altname ?? order.pair} @ ${order.orderType}${price}`,
      close: '',
    },
    vol: order.volume,
    vol_exec: '0.00000000',
    cost: '0.00000',
    fee: '0.00000',
    price: '0.00000',
    stopprice: '0.00000',
    limitprice: '0.00000',
    misc: '',
    oflags: 'fciq',
    reduce_only: order.reduceOnly,
  };
}

function parseBody(contentType: string | undefined, body: string): Record<string, unknown> {
  if (contentType?.startsWith('application/json') === true) {
    try {
      const parsed: unknown = JSON.parse(body);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        return parsed as Record<string, unknown>;
      }
    } catch {
      // answered below
    }
    throw new KrakenError('EGeneral:Invalid arguments');
  }
  return Object.fromEntries(new URLSearchParams(body));
}

/** A Kraken-looking transaction id: OXXXXX-XXXXX-XXXXXX. */
function orderId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bytes = randomBytes(16);
  const chars = [...bytes].map((byte) => alphabet[byte % alphabet.length]).join('');
  return `O${chars.slice(0, 5)}-${chars.slice(5, 10)}-${chars.slice(10, 16)}`;
}

/** ISO-8601 without milliseconds, as Kraken writes its times. */
function isoSeconds(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}
