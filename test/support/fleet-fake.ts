/**
 * Test support: an in-memory fleet authority for the lease's unit tests on a SimulatedClock: the
 * scopes' rows, a switch that makes the authority stop answering (a partition or a frozen
 * server: the round trip never returns), an answer delay on the simulated clock, notifications
 * with the payloads the PostgreSQL authority sends (and forged ones), and the confirmations the
 * host wrote.
 */
import type { SimulatedClock } from '../../services/clock.js';
import type {
  AuthorityConnection,
  AuthorityTransport,
  LeaseReport,
  ScopeRow,
} from '../../services/fleet/lease.js';

export class FakeAuthority implements AuthorityTransport {
  readonly scopes = new Map<string, ScopeRow>();
  readonly confirmations: Array<{ scope: string; epoch: number; state: string }> = [];
  readonly reports: LeaseReport[] = [];
  /** True: every round trip (and connect) hangs, as behind a stalled partition. */
  unreachable = false;
  /** What each renewal reads as pg_notification_queue_usage(). */
  queueUsage = 0;
  /** Simulated ms each answer takes. */
  answerDelayMs = 0;
  connects = 0;
  private notify: ((payload?: string) => void) | null = null;

  constructor(private readonly clock: SimulatedClock) {}

  kill(scope: string, by = 'alice', reason = 'incident'): number {
    const epoch = (this.scopes.get(scope)?.epoch ?? 0) + 1;
    this.scopes.set(scope, { scope, state: 'killed', epoch, changedBy: by, reason });
    this.notify?.(JSON.stringify({ scope, state: 'killed', epoch }));
    return epoch;
  }

  release(scope: string, by = 'alice', reason = 'over'): number {
    const epoch = (this.scopes.get(scope)?.epoch ?? 0) + 1;
    this.scopes.set(scope, { scope, state: 'open', epoch, changedBy: by, reason });
    this.notify?.(JSON.stringify({ scope, state: 'open', epoch }));
    return epoch;
  }

  /** A notification with this payload and no change of the record (a forged or stale notice). */
  notifyOnly(payload: string): void {
    this.notify?.(payload);
  }

  private answer<T>(value: () => T): Promise<T> {
    if (this.unreachable) return new Promise<T>(() => {});
    return new Promise<T>((resolve) => {
      this.clock.setTimeout(() => {
        if (this.unreachable) return;
        resolve(value());
      }, this.answerDelayMs);
    });
  }

  connect(handlers: {
    onNotify(payload?: string): void;
    onClosed(error: unknown): void;
  }): Promise<AuthorityConnection> {
    this.connects += 1;
    return this.answer(() => {
      this.notify = handlers.onNotify;
      return {
        renew: (report: LeaseReport) =>
          this.answer(() => {
            this.reports.push(report);
            return {
              scopes: [...this.scopes.values()],
              hostRowWritten: true,
              notificationQueueUsage: this.queueUsage,
            };
          }),
        confirm: (scope: string, epoch: number, state: string) =>
          this.answer(() => {
            this.confirmations.push({ scope, epoch, state });
          }),
        close: () => {},
      };
    });
  }
}

/** Lets promise callbacks run between simulated clock steps. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** Advances the simulated clock in steps, letting promises settle between them. */
export async function advanceBy(clock: SimulatedClock, ms: number, stepMs = 10): Promise<void> {
  for (let done = 0; done < ms; done += stepMs) {
    clock.advance(Math.min(stepMs, ms - done));
    await flush();
  }
}

/** Advances the simulated clock until the promise settles (at most `maxMs`); returns its outcome. */
export async function settleOn<T>(
  clock: SimulatedClock,
  promise: Promise<T>,
  maxMs = 10_000,
  stepMs = 5,
): Promise<T> {
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  for (let done = 0; !settled && done < maxMs; done += stepMs) {
    clock.advance(stepMs);
    await flush();
  }
  return promise;
}
