/**
 * A governor's link to the fleet authority (the `authority` option): the lease whose end is part
 * of the gate's deadline, the startup check that establishes it (a start without the authority,
 * or inside a killed scope, stays closed), and what the lease's news becomes in the machine: a
 * kill is an OPERATOR_KILL shutdown through the normal path (the latch is local too) and then a
 * confirmation; a loss past `authorityLossMs` is OBSERVE_ONLY (AUTHORITY_LOST) with its alert.
 */
import { hostname } from 'node:os';
import type { LifecycleState } from '../../machines/types.js';
import {
  fleetEpochsPathFor,
  readFleetEpochs,
  writeFleetEpochs,
} from '../../persistence/fleet/epochs-file.js';
import type { Clock } from '../clock.js';
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

  constructor(
    options: AuthorityOptions,
    dbPath: string,
    clock: Clock,
    logger: Logger,
    host: FleetLinkHost,
  ) {
    const checked = checkAuthorityOptions(options);
    const epochsPath = fleetEpochsPathFor(dbPath);
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
      rememberedEpochs: readFleetEpochs(epochsPath),
      holder: {
        epochsEstablished: (epochs) => {
          try {
            writeFleetEpochs(epochsPath, epochs, new Date(clock.wallNow()).toISOString());
          } catch (error) {
            logger.error({ err: error }, 'the fleet epochs could not be kept beside the database');
          }
        },
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
          host.leaseChanged(this.lease.view());
        },
        killed: (kill) => {
          host.kill(kill);
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

  /** The startup check's ping: establishes the lease (epochs as the baseline). */
  ping(): Promise<boolean> {
    return this.lease.establish();
  }
}
