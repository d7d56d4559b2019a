/**
 * The dead man's switch: a `Watchdog` alert (Alertmanager's convention: always firing, severity
 * none) re-sent every interval with `endsAt` a few intervals ahead. When governor goes silent
 * (process dead, event loop stalled, network cut) the alert ends, and a receiver notices.
 */
import { hostname } from 'node:os';
import { type Clock, SystemClock, type TimerHandle } from '../../clock.js';
import { describeError, GovernorError } from '../../errors.js';
import { type Logger, silentLogger } from '../../logger.js';
import type { WatchdogStats } from '../types.js';
import { checkUrl, type HttpTarget, httpTarget, postJson } from './http.js';

/** `…/api/v2/alerts` under the base URL, unless the URL already names it. */
export function alertmanagerEndpoint(base: URL): URL {
  if (base.pathname.endsWith('/api/v2/alerts')) return base;
  const withSlash = base.pathname.endsWith('/') ? base : new URL(`${base.pathname}/`, base);
  return new URL('api/v2/alerts', withSlash);
}

export const WATCHDOG_INTERVAL_MS_DEFAULT = 60_000;
export const WATCHDOG_INTERVAL_MS_MIN = 100;
export const WATCHDOG_INTERVAL_MS_MAX = 3_600_000;

export interface WatchdogSettings {
  /** Alertmanager's base URL or its `/api/v2/alerts` endpoint. */
  readonly url: string;
  /** How often the Watchdog alert is re-sent; default 60 s. */
  readonly intervalMs: number;
  /** `endsAt` = now + this many intervals (default 3): a few missed beats end the alert. */
  readonly endsAfterIntervals: number;
  readonly instance: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
}

export interface WatchdogOptions extends Partial<WatchdogSettings> {
  readonly url: string;
  /** Default a SystemClock (unref'd timers: the watchdog never keeps the process alive). */
  readonly clock?: Clock;
  readonly logger?: Logger;
}

export class Watchdog {
  private readonly target: HttpTarget;
  private readonly startedAt: Date;
  private timer: TimerHandle | undefined;
  private inFlight = false;
  private running = false;
  private healthy = true;
  private beats = 0;
  private failures = 0;
  private lastSuccessWallMs: number | null = null;

  /** Checks and completes watchdog settings; GOV_INVALID_CONFIG for a bad one. */
  static settings(options: Partial<WatchdogSettings> & { url: string }): WatchdogSettings {
    const intervalMs = options.intervalMs ?? WATCHDOG_INTERVAL_MS_DEFAULT;
    if (
      !Number.isSafeInteger(intervalMs) ||
      intervalMs < WATCHDOG_INTERVAL_MS_MIN ||
      intervalMs > WATCHDOG_INTERVAL_MS_MAX
    ) {
      throw new GovernorError(
        'GOV_INVALID_CONFIG',
        `watchdog: intervalMs must be an integer from ${WATCHDOG_INTERVAL_MS_MIN} to ${WATCHDOG_INTERVAL_MS_MAX}`,
        { field: 'intervalMs' },
      );
    }
    const endsAfterIntervals = options.endsAfterIntervals ?? 3;
    if (
      !Number.isSafeInteger(endsAfterIntervals) ||
      endsAfterIntervals < 2 ||
      endsAfterIntervals > 100
    ) {
      throw new GovernorError(
        'GOV_INVALID_CONFIG',
        'watchdog: endsAfterIntervals must be an integer from 2 to 100',
        {
          field: 'endsAfterIntervals',
        },
      );
    }
    checkUrl('watchdog', 'url', options.url);
    return {
      url: options.url,
      intervalMs,
      endsAfterIntervals,
      instance: options.instance ?? hostname(),
      ...(options.headers === undefined ? {} : { headers: options.headers }),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    };
  }

  constructor(
    private readonly config: WatchdogSettings,
    private readonly context: { readonly clock: Clock; readonly logger: Logger },
  ) {
    this.target = httpTarget(
      'watchdog',
      alertmanagerEndpoint(checkUrl('watchdog', 'url', config.url)),
      {
        headers: config.headers,
        timeoutMs: config.timeoutMs ?? Math.min(config.intervalMs, 5_000),
      },
    );
    this.startedAt = new Date(context.clock.wallNow());
  }

  /** Sends the first beat on the clock's next turn, then one every interval. Idempotent. */
  start(): this {
    if (this.running) return this;
    this.running = true;
    this.schedule(0);
    return this;
  }

  stop(): void {
    this.running = false;
    this.context.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Beats sent successfully so far. */
  get beatCount(): number {
    return this.beats;
  }

  /** Beats accepted and failed so far, and when the last one was accepted (for metrics). */
  stats(): WatchdogStats {
    return {
      intervalMs: this.config.intervalMs,
      beatsSucceeded: this.beats,
      beatsFailed: this.failures,
      lastSuccessWallMs: this.lastSuccessWallMs,
    };
  }

  /** The Watchdog alert as Alertmanager receives it, for `now` (wall ms). */
  payload(nowMs: number) {
    return [
      {
        labels: {
          alertname: 'Watchdog',
          severity: 'none',
          instance: this.config.instance,
          service: 'governor',
        },
        annotations: {
          summary: 'governor is alive (dead man\u2019s switch)',
          description:
            'Always firing while governor runs. If it ends, governor has gone silent: the process died, its event loop stalled, or the network to Alertmanager is cut.',
        },
        startsAt: this.startedAt.toISOString(),
        endsAt: new Date(
          nowMs + this.config.endsAfterIntervals * this.config.intervalMs,
        ).toISOString(),
      },
    ];
  }

  /** Sends one beat now; resolves true when Alertmanager accepted it. Never throws. */
  async beat(): Promise<boolean> {
    try {
      const nowMs = this.context.clock.wallNow();
      await postJson('watchdog', this.target, this.payload(nowMs));
      this.beats++;
      this.lastSuccessWallMs = nowMs;
      if (!this.healthy)
        this.context.logger.info(
          { origin: this.target.origin },
          'watchdog: Alertmanager reached again',
        );
      this.healthy = true;
      return true;
    } catch (error) {
      if (this.healthy) {
        this.context.logger.warn(
          {
            origin: this.target.origin,
            error: describeError(error),
          },
          'watchdog: Alertmanager unreachable; retrying every interval',
        );
      }
      this.healthy = false;
      this.failures++;
      return false;
    }
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = this.context.clock.setTimeout(() => {
      this.timer = undefined;
      this.schedule(this.config.intervalMs);
      if (this.inFlight) return; // the previous beat is still waiting: skip this one
      this.inFlight = true;
      void this.beat().finally(() => {
        this.inFlight = false;
      });
    }, delayMs);
  }
}

/**
 * Starts a standalone dead man's switch (without an Alertmanager sink): `startWatchdog({ url,
 * intervalMs })`. Returns the Watchdog; call `stop()` when governor stops.
 */
export function startWatchdog(options: WatchdogOptions): Watchdog {
  const { clock, logger, ...rest } = options;
  const settings = Watchdog.settings(rest);
  return new Watchdog(settings, {
    clock: clock ?? new SystemClock(),
    logger: logger ?? silentLogger(),
  }).start();
}
