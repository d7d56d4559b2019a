/**
 * What a fleet lease exchanges: with the authority (the transport that connects, the connection
 * that renews and confirms, the report a renewal writes and the answer it reads) and with the
 * governor that holds it (the holder's callbacks, the kill it must obey, the view it reads), and
 * the time bound every step of a round trip gets. Types, plus that one bound; no lease state.
 */
import type { Clock, TimerHandle } from '../clock.js';
import { GovernorError } from '../errors.js';
import type { Logger } from '../logger.js';

export type ScopeState = 'open' | 'killed';

export interface ScopeRow {
  readonly scope: string;
  readonly state: ScopeState;
  readonly epoch: number;
  readonly changedBy: string;
  readonly reason: string;
}

export interface LeaseReport {
  readonly state: string;
  readonly gateOpen: boolean;
  readonly epochs: Readonly<Record<string, number>>;
  readonly restartCheck: string | null;
}

export interface LeaseAnswer {
  readonly scopes: readonly ScopeRow[];
  readonly hostRowWritten: boolean;
  readonly notificationQueueUsage: number;
}

/** One connection to the authority: a renewal, a confirmation, and an immediate close. */
export interface AuthorityConnection {
  renew(report: LeaseReport): Promise<LeaseAnswer>;
  confirm(scope: string, epoch: number, state: string): Promise<void>;
  close(): void;
}

/**
 * How a lease reaches the authority. `connect` connects, registers the host's row and LISTENs;
 * `onNotify` (with the notification's payload) wakes a renewal and may close the gate until its
 * answer (a hint, never the record); `onClosed` reports a broken connection.
 */
export interface AuthorityTransport {
  connect(handlers: {
    onNotify(payload?: string): void;
    onClosed(error: unknown): void;
  }): Promise<AuthorityConnection>;
}

/** A kill this host must obey: a killed scope, or an epoch that rose while it was away. */
export interface FleetKill {
  readonly scope: string;
  readonly epoch: number;
  readonly changedBy: string;
  readonly reason: string;
}

/** What the lease asks of, and tells, the governor that holds it. */
export interface LeaseHolder {
  report(): { state: string; gateOpen: boolean; restartCheck: string | null };
  leaseChanged(): void;
  killed(kill: FleetKill): void;
  lost(sinceMs: number): void;
  regained(): void;
  queueUsageHigh(usage: number): void;
  /** The epochs the checks just established: kept, so a restarted process remembers them. */
  epochsEstablished(epochs: Readonly<Record<string, number>>): void;
  /**
   * Epochs read while obeying a kill (a release after it): kept too, so a later process does not
   * take them for a kill it missed.
   */
  epochsSeen(epochs: Readonly<Record<string, number>>): void;
}

export type LeaseStatus = 'none' | 'held' | 'expired' | 'lost' | 'fenced';

export interface LeaseView {
  readonly status: LeaseStatus;
  /** Monotonic ms at which the lease ends (-Infinity before the first grant). */
  readonly leaseEndsAtMs: number;
  readonly leaseRemainingMs: number;
  /** How long since the last granted renewal was sent (or since start), when lost; else null. */
  readonly lostForMs: number | null;
  readonly epochs: Readonly<Record<string, number>>;
  readonly fencedBy: FleetKill | null;
  readonly notificationQueueUsage: number;
  readonly renewalsGranted: number;
  readonly renewalsFailed: number;
}

export interface FleetLeaseOptions {
  readonly transport: AuthorityTransport;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly scopes: readonly string[];
  readonly leaseMs: number;
  readonly authorityLossMs: number;
  readonly holder: LeaseHolder;
  /** The epochs an earlier process of this host established (its database), or null. */
  readonly rememberedEpochs?: Readonly<Record<string, number>> | null;
}

/**
 * `promise`, or GOV_AUTHORITY_UNREACHABLE naming `what` once `deadlineMs` (monotonic) passes;
 * the timer is cleared either way, and a late rejection of `promise` is absorbed.
 */
export function boundedByDeadline<T>(
  clock: Clock,
  promise: Promise<T>,
  deadlineMs: number,
  what: string,
): Promise<T> {
  let timer: TimerHandle | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = clock.setTimeout(
      () =>
        reject(
          new GovernorError(
            'GOV_AUTHORITY_UNREACHABLE',
            `fleet authority: ${what} did not answer in time`,
          ),
        ),
      Math.max(0, deadlineMs - clock.monotonicNow()),
    );
  });
  promise.catch(() => {});
  return Promise.race([promise, timeout]).finally(() => clock.clearTimeout(timer));
}
