/**
 * A governor's link to the fleet authority (the `authority` option): the lease whose end is part
 * of the gate's deadline, the startup check that establishes it (a start without the authority,
 * or inside a killed scope, stays closed), and what the lease's news becomes in the machine: a
 * kill is an OPERATOR_KILL shutdown through the normal path (the latch is local too) and then a
 * confirmation; a loss past `authorityLossMs` is OBSERVE_ONLY (AUTHORITY_LOST) with its alert.
 * It also tells the governor the instant the lease ends (a timer at its end, or at once when
 * fenced) and when it is held again, for the venues without a dead man's switch.
 */
import { hostname } from 'node:os';
import type { LifecycleState } from '../../machines/types.js';
import type { Clock, TimerHandle } from '../clock.js';
import { GovernorError } from '../errors.js';
import {
  type AuthorityTransport,
  type FleetKill,
  FleetLease,
  type LeaseView,
} from '../fleet/lease.js';
import type { PostgresTransportOptions } from '../fleet/pg-transport.js';
import {
  AUTHORITY_LOSS_MS_DEFAULT,
  checkHostName,
  checkScope,
  LEASE_MS_DEFAULT,
  LEASE_MS_RANGE,
  SCOPES_PER_HOST_MAX,
} from '../fleet/scopes.js';
import type { Logger } from '../logger.js';

export interface AuthorityOptions {
  /** postgresql://... (a direct connection; session pooling at most). Unset: the PG* variables. */
  readonly url?: string;
  /** This host's name in the fleet (its row); default the machine's hostname. */
  readonly host?: string;
  /** The scopes this host belongs to, e.g. ['firm/desk-a/strategy-x']. */
  readonly scopes: readonly string[];
  /** The lease (ms, 150–600000, default 3000): renewed at least every leaseMs / 3. */
  readonly leaseMs?: number;
  /** Lost this long (ms, default 120000, at least leaseMs): OBSERVE_ONLY (AUTHORITY_LOST). */
  readonly authorityLossMs?: number;
  /** Tests only: another transport than PostgreSQL. */
  readonly transport?: AuthorityTransport;
}

export { AUTHORITY_LOSS_MS_DEFAULT, LEASE_MS_DEFAULT, LEASE_MS_RANGE };

/** Where the host keeps the epochs its checks established (its database). */
export interface FleetEpochMemory {
  /** The epochs remembered from earlier processes, or null when there are none. */
  read(): Record<string, number> | null;
  /** Keeps epochs this host established or obeyed (they only rise); `reason` says which. */
  remember(epochs: Readonly<Record<string, number>>, reason: string): void;
}

/** What the link needs of the governor. */
export interface FleetLinkHost {
  state(): LifecycleState;
  gateOpen(): boolean;
  /** A pre-flight of a restart now: null when it would pass, else why not. */
  restartRefusal(): string | null;
  refreshDeadline(): void;
  kill(kill: FleetKill): void;
  lost(reason: string, sinceMs: number): void;
  queueUsageHigh(usage: number): void;
  leaseChanged(view: LeaseView): void;
  /** The lease that was held has ended (expired unrenewed, or fenced): the gate is closed. */
  leaseEnded(reason: string): void;
  /** The lease is held (granted after a time without one). */
  leaseHeld(): void;
}

export function checkAuthorityOptions(options: AuthorityOptions): {
  host: string;
  scopes: string[];
  leaseMs: number;
  authorityLossMs: number;
} {
  const invalid = (key: string, expected: string): GovernorError =>
    new GovernorError('GOV_INVALID_CONFIG', `authority.${key}: expected ${expected}`, {
      key: `authority.${key}`,
    });
  if (!Array.isArray(options.scopes) || options.scopes.length === 0) {
    throw invalid('scopes', `1 to ${SCOPES_PER_HOST_MAX} scopes`);
  }
  if (options.scopes.length > SCOPES_PER_HOST_MAX) {
    throw invalid('scopes', `1 to ${SCOPES_PER_HOST_MAX} scopes`);
  }
  const scopes = options.scopes.map((scope) => checkScope(scope, 'authority.scopes'));
  const leaseMs = options.leaseMs ?? LEASE_MS_DEFAULT;
  const [min, max] = LEASE_MS_RANGE;
  if (!Number.isSafeInteger(leaseMs) || leaseMs < min || leaseMs > max) {
    throw invalid('leaseMs', `an integer from ${min} to ${max}`);
  }
  const authorityLossMs = options.authorityLossMs ?? Math.max(AUTHORITY_LOSS_MS_DEFAULT, leaseMs);
  if (!Number.isSafeInteger(authorityLossMs) || authorityLossMs < leaseMs) {
    throw invalid('authorityLossMs', `an integer of at least leaseMs (${leaseMs})`);
  }
  const host = checkHostName(options.host ?? defaultHostName());
  return { host, scopes, leaseMs, authorityLossMs };
}

function defaultHostName(): string {
  return (
    hostname()
      .replace(/[^A-Za-z0-9._:-]/g, '-')
      .replace(/^[^A-Za-z0-9]+/, '') || 'host'
  );
}

/** PostgreSQL's client is loaded on the first connection: a governor without the option never loads it. */
function lazyPostgresTransport(options: PostgresTransportOptions): AuthorityTransport {
  return {
    connect: async (handlers) => {
      const { postgresTransport } = await import('../fleet/pg-transport.js');
      return postgresTransport(options).connect(handlers);
    },
  };
}

export class FleetLink {
  readonly lease: FleetLease;
  private readonly clock: Clock;
  private readonly host: FleetLinkHost;
  private readonly memory: FleetEpochMemory;
  private readonly logger: Logger;
  private readonly leaseMs: number;
  /** True while the lease was held when last looked at (a grant not yet past its end). */
  private held = false;
  private endTimer: TimerHandle | undefined;
  private stopped = false;

  constructor(
    options: AuthorityOptions,
    memory: FleetEpochMemory,
    clock: Clock,
    logger: Logger,
    host: FleetLinkHost,
  ) {
    this.clock = clock;
    this.host = host;
    this.memory = memory;
    this.logger = logger;
    const checked = checkAuthorityOptions(options);
    this.leaseMs = checked.leaseMs;
    const transport =
      options.transport ??
      lazyPostgresTransport({
        ...(options.url === undefined ? {} : { url: options.url }),
        host: checked.host,
        scopes: checked.scopes,
        leaseMs: checked.leaseMs,
        connectTimeoutMs: checked.leaseMs,
      });
    this.lease = new FleetLease({
      transport,
      clock,
      logger,
      scopes: checked.scopes,
      leaseMs: checked.leaseMs,
      authorityLossMs: checked.authorityLossMs,
      rememberedEpochs: memory.read(),
      holder: {
        epochsEstablished: (epochs) =>
          this.remember(epochs, 'fleet epochs established by the startup checks'),
        epochsSeen: (epochs) =>
          this.remember(epochs, 'fleet epochs read while obeying a kill (a release after it)'),
        report: () => {
          const state = host.state();
          const refusal = state === 'SHUTDOWN' ? host.restartRefusal() : null;
          return {
            state,
            gateOpen: host.gateOpen(),
            restartCheck:
              state !== 'SHUTDOWN'
                ? `not in SHUTDOWN (${state})`
                : refusal === null
                  ? 'ready'
                  : `refused: ${refusal}`,
          };
        },
        leaseChanged: () => {
          host.refreshDeadline();
          this.watchLeaseEnd();
          host.leaseChanged(this.lease.view());
        },
        killed: (kill) => {
          host.kill(kill);
          // Obeyed (the latch is written): a later process must not take it for a kill it missed.
          this.remember({ [kill.scope]: kill.epoch }, `fleet kill of ${kill.scope} obeyed`);
          this.lease.confirm(kill, host.state());
          host.leaseChanged(this.lease.view());
        },
        lost: (sinceMs) => {
          host.lost(
            `no lease renewal granted by the fleet authority for ${Math.round(sinceMs)} ms (authorityLossMs ${checked.authorityLossMs})`,
            sinceMs,
          );
          host.leaseChanged(this.lease.view());
        },
        regained: () => host.leaseChanged(this.lease.view()),
        queueUsageHigh: (usage) => host.queueUsageHigh(usage),
      },
    });
  }

  private remember(epochs: Readonly<Record<string, number>>, reason: string): void {
    try {
      this.memory.remember(epochs, reason);
    } catch (error) {
      this.logger.error({ err: error }, 'the fleet epochs could not be kept in the database');
    }
  }

  /** The startup check's ping: establishes the lease (epochs as the baseline). */
  ping(): Promise<boolean> {
    return this.lease.establish();
  }

  /** Starts the lease (again after a stop): the fleet lease timer's actor starts here. */
  start(): void {
    this.stopped = false;
    this.lease.start();
  }

  /** Stops the lease and the watch of its end (its actor's stop: close, crash). */
  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.endTimer);
    this.endTimer = undefined;
    this.lease.stop();
  }

  /**
   * After each change of the lease (a grant, a fence) and at the instant it ends: tells the host
   * when a lease that was held has ended, or is held again, and watches the end of the one held.
   * The timer is due at the lease's end on the monotonic clock, when the gate's own comparison
   * closes it; a renewal granted before then moves it.
   */
  private watchLeaseEnd(): void {
    this.clock.clearTimeout(this.endTimer);
    this.endTimer = undefined;
    if (this.stopped) return;
    if (this.lease.held()) {
      if (!this.held) {
        this.held = true;
        this.host.leaseHeld();
      }
      // The lease's own end (a kill notice closes the gate, but does not end the lease).
      const remainingMs = this.lease.view().leaseEndsAtMs - this.clock.monotonicNow();
      this.endTimer = this.clock.setTimeout(
        () => this.watchLeaseEnd(),
        Math.max(1, Math.ceil(remainingMs)),
      );
      return;
    }
    if (!this.held) return;
    this.held = false;
    const view = this.lease.view();
    const fence = view.fencedBy;
    this.host.leaseEnded(
      fence !== null
        ? `fleet lease fenced by scope ${fence.scope} (epoch ${fence.epoch})`
        : `fleet authority lease ended: no renewal granted within leaseMs (${this.leaseMs} ms)`,
    );
  }
}
