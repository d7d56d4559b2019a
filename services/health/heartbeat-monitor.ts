/**
 * The heartbeat (spec: Heartbeat & Liveness). Every interval it appends the spec's heartbeat
 * event to the event log; a successful one renews the lease that keeps the gate open. When no
 * heartbeat succeeds for the loss threshold, or a late tick finds the lease already expired
 * (the event loop stalled), it reports the loss once per incident.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { Thresholds } from '../config.js';
import { freshThroughMs, isStale } from './staleness.js';

export interface HeartbeatHost {
  /** Appends the heartbeat event; throws when the event log cannot be written. */
  writeHeartbeat(): void;
  /** A heartbeat succeeded: the lease was renewed (optional). */
  heartbeatSucceeded?(): void;
  /** The heartbeat was lost (`sinceMs`: how long without a successful one). Once per incident. */
  heartbeatLost(sinceMs: number): void;
  /** A heartbeat succeeded after a loss: the incident is over. */
  heartbeatRecovered(): void;
  /** A heartbeat write failed. */
  heartbeatFailed(error: unknown): void;
}

export class HeartbeatMonitor {
  private tickTimer: TimerHandle | undefined;
  private lossTimer: TimerHandle | undefined;
  private lastSuccessMs = Number.NEGATIVE_INFINITY;
  /** The last instant the lease holds (the gate's deadline reads it): `freshThroughMs`. */
  leaseExpiresAtMs = Number.NEGATIVE_INFINITY;
  /** The last success, or the start before the first: a loss is counted from here. */
  private lossReferenceMs = Number.NEGATIVE_INFINITY;
  private lost = false;
  private running = false;

  constructor(
    private readonly host: HeartbeatHost,
    private readonly clock: Clock,
    private readonly thresholds: Thresholds,
  ) {}

  /** Beats once now, then every interval. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.lossReferenceMs = this.clock.monotonicNow();
    this.armLossTimer();
    this.tick();
  }

  stop(): void {
    this.running = false;
    this.clock.clearTimeout(this.tickTimer);
    this.clock.clearTimeout(this.lossTimer);
    this.tickTimer = undefined;
    this.lossTimer = undefined;
  }

  isLost(): boolean {
    return this.lost;
  }

  /** The monotonic instant of the last successful heartbeat (-Infinity before the first). */
  lastSuccessMonotonicMs(): number {
    return this.lastSuccessMs;
  }

  /** ms since the last successful heartbeat (Infinity before the first). */
  ageMs(): number {
    return this.clock.monotonicNow() - this.lastSuccessMs;
  }

  private tick(): void {
    this.tickTimer = undefined;
    if (!this.running) return;
    // A tick that finds the lease already expired saw a stall: that is a loss, even if this
    // heartbeat now succeeds.
    this.checkLease();
    try {
      this.host.writeHeartbeat();
      this.onSuccess();
    } catch (error) {
      this.host.heartbeatFailed(error);
    }
    if (this.running) {
      this.tickTimer = this.clock.setTimeout(
        () => this.tick(),
        this.thresholds.heartbeatIntervalMs,
      );
    }
  }

  private onSuccess(): void {
    const now = this.clock.monotonicNow();
    this.lastSuccessMs = now;
    this.lossReferenceMs = now;
    this.leaseExpiresAtMs = freshThroughMs(now, this.thresholds.heartbeatLossMs);
    this.host.heartbeatSucceeded?.();
    if (this.lost) {
      this.lost = false;
      this.host.heartbeatRecovered();
    }
    this.armLossTimer();
  }

  private armLossTimer(): void {
    this.clock.clearTimeout(this.lossTimer);
    // +1 ms: lost means older than the threshold (isStale), the first instant past it.
    this.lossTimer = this.clock.setTimeout(() => {
      this.lossTimer = undefined;
      this.checkLease();
    }, this.thresholds.heartbeatLossMs + 1);
  }

  private checkLease(): void {
    if (!this.running || this.lost) return;
    const now = this.clock.monotonicNow();
    if (isStale(now, this.lossReferenceMs, this.thresholds.heartbeatLossMs)) {
      this.lost = true;
      this.host.heartbeatLost(now - this.lossReferenceMs);
    }
  }
}
