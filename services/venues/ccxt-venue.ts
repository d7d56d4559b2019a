/**
 * The ccxt adapter: one account at one exchange, reached through a ccxt client the engine built,
 * seen by governor as a Venue (cancel all, count open orders, the venue's own dead man's switch).
 * It knows each exchange's limits (venue-limits.ts) and refuses what the venue cannot honour. It
 * imports nothing from ccxt at run time: the client is typed by the few members it uses.
 */
import { GovernorError } from '../errors.js';
import type { Venue } from './venue.js';
import {
  checkTimeout,
  type DeadMansSwitchSettings,
  resolveDeadMansSwitch,
  venueRules,
} from './venue-limits.js';

/** The members of a ccxt order the adapter reads. */
export interface CcxtOrder {
  readonly id: string | undefined;
  readonly symbol: string | undefined;
  readonly reduceOnly?: boolean | undefined;
}

/** The members of a ccxt exchange client the adapter uses (ccxt's `Exchange` has them all). */
export interface CcxtExchange {
  readonly id: string;
  readonly has: Readonly<Record<string, boolean | 'emulated' | undefined>>;
  cancelAllOrders(symbol?: string, params?: Record<string, unknown>): Promise<unknown>;
  cancelOrder(id: string, symbol?: string, params?: Record<string, unknown>): Promise<unknown>;
  fetchOpenOrders(
    symbol?: string,
    since?: number,
    limit?: number,
    params?: Record<string, unknown>,
  ): Promise<readonly CcxtOrder[]>;
  cancelAllOrdersAfter(timeout: number, params?: Record<string, unknown>): Promise<unknown>;
}

export interface CcxtVenueOptions {
  /** Unique among a governor's venues; default the exchange id. */
  readonly name?: string;
  /** Only these markets (ccxt symbols such as 'BTC/USD'); default the whole account. */
  readonly symbols?: readonly string[];
  /**
   * The venue's countdown governor renews while the gate may open; default the venue's
   * recommended settings where the adapter knows a renewable countdown, none elsewhere.
   */
  readonly deadMansSwitch?: DeadMansSwitchSettings | false;
  /**
   * Leave orders the venue reports as reduce-only working when cancelling (a stop that protects
   * an open position); they are then not counted as open either. Default false: cancel all.
   */
  readonly keepReduceOnly?: boolean;
}

/** A Venue backed by ccxt, with the settings it was built with. */
export interface CcxtVenue extends Venue {
  readonly exchangeId: string;
  /** The countdown governor renews, or false when there is none. */
  readonly deadMansSwitch: DeadMansSwitchSettings | false;
  readonly keepReduceOnly: boolean;
  readonly symbols: readonly string[] | undefined;
  /** Resolves once every call sent or queued so far has answered (or failed). */
  whenIdle(): Promise<void>;
}

/** Calls waiting for the exchange beyond the one in flight; more are refused at once. */
export const PENDING_CALLS_MAX = 32;
/** Orders cancelled one by one in one pass; the next pass (after a count) takes the rest. */
export const ORDERS_PER_PASS_MAX = 1_000;
const SAME_MILLISECOND_WAITS_MAX = 10;

/**
 * Makes a Venue of a ccxt client. Throws GOV_INVALID_CONFIG for a configuration the exchange
 * cannot honour (see docs/venues.md for each exchange's limits).
 */
export function ccxtVenue(exchange: CcxtExchange, options: CcxtVenueOptions = {}): CcxtVenue {
  const name = options.name ?? exchange.id;
  const refuse = (key: string, why: string): never => {
    throw new GovernorError('GOV_INVALID_CONFIG', `venue ${name}: ${key}: ${why}`, {
      key,
      venue: name,
      exchange: exchange.id,
    });
  };
  if (typeof name !== 'string' || name.trim() === '') refuse('name', 'must be a non-empty string');
  if (exchange.has.fetchOpenOrders !== true) {
    refuse(
      'exchange',
      `${exchange.id} cannot list open orders in ccxt, so flat cannot be confirmed`,
    );
  }
  const symbols = options.symbols === undefined ? undefined : [...options.symbols];
  if (symbols !== undefined && (symbols.length === 0 || symbols.some((s) => s.trim() === ''))) {
    refuse(
      'symbols',
      'must be a non-empty list of ccxt symbols, or left out for the whole account',
    );
  }
  const keepReduceOnly = options.keepReduceOnly ?? false;
  const deadMansSwitch = resolveDeadMansSwitch(name, exchange, options.deadMansSwitch);
  const rules = venueRules(exchange.id);
  const calls = new SerialCalls(name);
  const scopes: readonly (string | undefined)[] = symbols ?? [undefined];

  const openOrders = async (): Promise<CcxtOrder[]> => {
    const orders: CcxtOrder[] = [];
    for (const symbol of scopes) {
      orders.push(...(await calls.run(() => exchange.fetchOpenOrders(symbol))));
    }
    return keepReduceOnly ? orders.filter((order) => order.reduceOnly !== true) : orders;
  };

  const cancelOneByOne = async (): Promise<void> => {
    const orders = (await openOrders()).slice(0, ORDERS_PER_PASS_MAX);
    for (const order of orders) {
      if (order.id === undefined) continue;
      const id = order.id;
      await calls.run(async () => {
        try {
          await exchange.cancelOrder(id, order.symbol);
        } catch (error) {
          // Gone already (filled or cancelled meanwhile): that is what was wanted.
          if (!(error instanceof Error && error.name === 'OrderNotFound')) throw error;
        }
      });
    }
  };

  const venue: CcxtVenue = {
    name,
    exchangeId: exchange.id,
    deadMansSwitch,
    keepReduceOnly,
    symbols,
    whenIdle: () => calls.whenIdle(),
    async cancelAllOrders(): Promise<void> {
      const bulk =
        !keepReduceOnly &&
        exchange.has.cancelAllOrders === true &&
        (symbols === undefined || rules?.cancelAllIgnoresSymbol !== true);
      if (!bulk) {
        await cancelOneByOne();
        return;
      }
      for (const symbol of scopes) await calls.run(() => exchange.cancelAllOrders(symbol));
    },
    async countOpenOrders(): Promise<number> {
      return (await openOrders()).length;
    },
  };
  if (deadMansSwitch === false) return venue;
  const limits = rules?.deadMansSwitch;
  return {
    ...venue,
    async armDeadMansSwitch(timeoutMs: number): Promise<void> {
      if (limits !== undefined && !('unsupported' in limits)) {
        checkTimeout(timeoutMs, limits, (why) => refuse('armDeadMansSwitch', why));
      }
      await calls.run(() => exchange.cancelAllOrdersAfter(timeoutMs));
    },
    ...(limits !== undefined && 'zeroDisarms' in limits && limits.zeroDisarms
      ? {
          async disarmDeadMansSwitch(): Promise<void> {
            await calls.run(() => exchange.cancelAllOrdersAfter(0));
          },
        }
      : {}),
  };
}

/**
 * One request at a time to one exchange account, each started in a later wall-clock millisecond
 * than the one before: ccxt signs Kraken's calls with a millisecond nonce that must grow, so two
 * calls in one millisecond, or arriving out of order, would be refused (EAPI:Invalid nonce).
 */
class SerialCalls {
  private tail: Promise<void> = Promise.resolve();
  private pending = 0;
  private lastStartMs = 0;

  constructor(private readonly venueName: string) {}

  run<T>(call: () => Promise<T>): Promise<T> {
    if (this.pending > PENDING_CALLS_MAX) {
      return Promise.reject(
        new GovernorError(
          'GOV_VENUE_BUSY',
          `venue ${this.venueName}: ${this.pending} calls already wait for the exchange`,
          { venue: this.venueName },
        ),
      );
    }
    this.pending += 1;
    const result = this.tail.then(async () => {
      // Bounded: a wall clock stepped back must not stall the venue (the call may then be refused).
      for (
        let wait = 0;
        wait < SAME_MILLISECOND_WAITS_MAX && Date.now() <= this.lastStartMs;
        wait += 1
      ) {
        await sleep(1);
      }
      this.lastStartMs = Date.now();
      return call();
    });
    this.tail = result.then(
      () => this.settle(),
      () => this.settle(),
    );
    return result;
  }

  /** Resolves once every call run so far has settled. */
  whenIdle(): Promise<void> {
    return this.tail;
  }

  private settle(): void {
    this.pending -= 1;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
