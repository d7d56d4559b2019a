/**
 * An in-memory venue for tests: a number of open orders, and knobs for how it answers (latency on
 * a given clock, refusal, a hang, orders that come back after a cancel) and for its dead man's
 * switch. Every call is recorded, so a test can say what governor asked and when.
 */
import type { Clock } from '../../services/clock.js';
import type { Venue } from '../../services/venues/venue.js';

export type FakeVenueBehaviour = 'answer' | 'refuse' | 'hang';

export interface FakeVenueCall {
  readonly method:
    | 'cancelAllOrders'
    | 'countOpenOrders'
    | 'armDeadMansSwitch'
    | 'disarmDeadMansSwitch';
  readonly atMs: number;
  readonly timeoutMs?: number;
}

export interface FakeVenueOptions {
  readonly name: string;
  readonly clock: Clock;
  readonly openOrders?: number;
  /** Latency of every answer on `clock`, in ms (default 0: answers on the next microtask). */
  readonly latencyMs?: number;
  /** Leave out armDeadMansSwitch/disarmDeadMansSwitch: a venue without the feature. */
  readonly withoutDeadMansSwitch?: boolean;
  /** Whether cancelAllOrders resolves with the number of orders cancelled (default true). */
  readonly reportsCancelledCount?: boolean;
  /** The venue's own switch settings (Venue.deadMansSwitch); left out: governor's thresholds. */
  readonly deadMansSwitch?: NonNullable<Venue['deadMansSwitch']>;
  /** Venue.inProcess: its orders live in the owner's process. */
  readonly inProcess?: boolean;
}

export class FakeVenue implements Venue {
  readonly name: string;
  readonly deadMansSwitch?: NonNullable<Venue['deadMansSwitch']>;
  readonly inProcess?: boolean;
  openOrders: number;
  latencyMs: number;
  cancelBehaviour: FakeVenueBehaviour = 'answer';
  countBehaviour: FakeVenueBehaviour = 'answer';
  armBehaviour: FakeVenueBehaviour = 'answer';
  /** Orders the engine places again right after each cancel (a cancel that does not stick). */
  ordersReappearingAfterCancel = 0;
  /** Cancels that leave orders open before the venue starts honouring them. */
  cancelsIgnored = 0;
  /** The switch's expiry on `clock`'s monotonic time, undefined while disarmed. */
  switchExpiresAtMs: number | undefined;
  /** How many times the switch fired (cancelled the orders because it was not renewed). */
  switchFiredCount = 0;
  readonly calls: FakeVenueCall[] = [];
  /** Called synchronously on every call, before it answers (to see what else happened first). */
  onCall: ((method: FakeVenueCall['method']) => void) | undefined;
  armDeadMansSwitch?: (timeoutMs: number) => Promise<void>;
  disarmDeadMansSwitch?: () => Promise<void>;
  private readonly clock: Clock;
  private readonly reportsCancelledCount: boolean;

  constructor(options: FakeVenueOptions) {
    this.name = options.name;
    if (options.deadMansSwitch !== undefined) this.deadMansSwitch = options.deadMansSwitch;
    if (options.inProcess !== undefined) this.inProcess = options.inProcess;
    this.clock = options.clock;
    this.openOrders = options.openOrders ?? 0;
    this.latencyMs = options.latencyMs ?? 0;
    this.reportsCancelledCount = options.reportsCancelledCount ?? true;
    if (options.withoutDeadMansSwitch !== true) {
      this.armDeadMansSwitch = (timeoutMs) => this.arm(timeoutMs);
      this.disarmDeadMansSwitch = () => this.disarm();
    }
  }

  cancelAllOrders(): Promise<number | undefined> {
    this.record('cancelAllOrders');
    return this.answer(this.cancelBehaviour, () => {
      this.fireSwitchIfDue();
      if (this.cancelsIgnored > 0) {
        this.cancelsIgnored -= 1;
        return undefined;
      }
      const cancelled = this.openOrders;
      this.openOrders = this.ordersReappearingAfterCancel;
      return this.reportsCancelledCount ? cancelled : undefined;
    });
  }

  countOpenOrders(): Promise<number> {
    this.record('countOpenOrders');
    return this.answer(this.countBehaviour, () => {
      this.fireSwitchIfDue();
      return this.openOrders;
    });
  }

  /** Orders placed by the engine (they stay open until cancelled). */
  place(orders: number): void {
    this.fireSwitchIfDue();
    this.openOrders += orders;
  }

  /** Runs the venue's own countdown: cancels everything if the switch expired. */
  fireSwitchIfDue(): void {
    if (
      this.switchExpiresAtMs !== undefined &&
      this.clock.monotonicNow() >= this.switchExpiresAtMs
    ) {
      this.switchExpiresAtMs = undefined;
      this.switchFiredCount += 1;
      this.openOrders = 0;
    }
  }

  callsOf(method: FakeVenueCall['method']): FakeVenueCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  private arm(timeoutMs: number): Promise<void> {
    this.calls.push({ method: 'armDeadMansSwitch', atMs: this.clock.monotonicNow(), timeoutMs });
    this.onCall?.('armDeadMansSwitch');
    return this.answer(this.armBehaviour, () => {
      this.fireSwitchIfDue();
      this.switchExpiresAtMs = this.clock.monotonicNow() + timeoutMs;
      return undefined;
    });
  }

  private disarm(): Promise<void> {
    this.record('disarmDeadMansSwitch');
    return this.answer(this.armBehaviour, () => {
      this.fireSwitchIfDue();
      this.switchExpiresAtMs = undefined;
      return undefined;
    });
  }

  private record(method: FakeVenueCall['method']): void {
    this.calls.push({ method, atMs: this.clock.monotonicNow() });
    this.onCall?.(method);
  }

  private answer<T>(behaviour: FakeVenueBehaviour, act: () => T): Promise<T> {
    if (behaviour === 'hang') return new Promise<T>(() => {});
    return new Promise<T>((resolve, reject) => {
      const settle = (): void => {
        if (behaviour === 'refuse') reject(new Error(`${this.name} refused`));
        else resolve(act());
      };
      if (this.latencyMs > 0) this.clock.setTimeout(settle, this.latencyMs);
      else queueMicrotask(settle);
    });
  }
}
