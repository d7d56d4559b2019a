/**
 * A simulated market feed: a seeded random walk of one symbol's price in integer minor units
 * (cents), ticking on an injectable clock. `pause()` makes it go silent, as a real feed does
 * when its connection hangs without an error.
 */
import type { Clock, TimerHandle } from '../../index.js';

export interface MarketTick {
  readonly symbol: string;
  /** Price in minor units (cents). */
  readonly priceMinor: bigint;
  readonly sequence: number;
}

export type TickListener = (tick: MarketTick) => void;

/** mulberry32: a small seeded PRNG, so a demo run replays the same prices for the same seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface MarketFeedOptions {
  readonly clock: Clock;
  readonly symbol?: string;
  readonly startPriceMinor?: bigint;
  readonly tickIntervalMs?: number;
  readonly seed?: number;
}

export class SimulatedMarketFeed {
  readonly symbol: string;
  private readonly clock: Clock;
  private readonly tickIntervalMs: number;
  private readonly random: () => number;
  private priceMinor: bigint;
  private sequence = 0;
  private timer: TimerHandle | undefined;
  private listener: TickListener | null = null;
  private paused = false;

  constructor(options: MarketFeedOptions) {
    this.clock = options.clock;
    this.symbol = options.symbol ?? 'BTC-USD';
    this.priceMinor = options.startPriceMinor ?? 6_500_000n;
    this.tickIntervalMs = options.tickIntervalMs ?? 250;
    this.random = seededRandom(options.seed ?? 1);
    if (!Number.isInteger(this.tickIntervalMs) || this.tickIntervalMs < 1) {
      throw new TypeError('Expected tickIntervalMs to be a positive integer');
    }
  }

  start(listener: TickListener): void {
    this.listener = listener;
    this.schedule();
  }

  stop(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.listener = null;
  }

  /** The feed goes silent (a hung connection); `resume()` brings it back. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  lastPriceMinor(): bigint {
    return this.priceMinor;
  }

  private schedule(): void {
    this.timer = this.clock.setTimeout(() => this.tick(), this.tickIntervalMs);
  }

  private tick(): void {
    if (this.listener === null) return;
    if (!this.paused) {
      // ±0.1% per tick, never below one cent.
      const stepBasisPoints = BigInt(Math.round((this.random() - 0.5) * 20));
      const next = this.priceMinor + (this.priceMinor * stepBasisPoints) / 10_000n;
      this.priceMinor = next < 1n ? 1n : next;
      this.sequence++;
      this.listener({ symbol: this.symbol, priceMinor: this.priceMinor, sequence: this.sequence });
    }
    this.schedule();
  }
}
