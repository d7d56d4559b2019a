/**
 * What the venue guard keeps per registered venue (its switch settings and arming, flatness,
 * counts, the flatten in progress), what `status()` shows of it, the guard's host and
 * dependencies, and its two writes: a VENUE_* event and a venue record, each logged when it
 * fails, never thrown into the gate's or the machine's path. The guard (venue-guard.ts), its
 * switches (venue-switches.ts) and its SHUTDOWN flatten (venue-shutdown-flatten.ts) share it.
 */
import type { Store } from '../../persistence/index.js';
import type { Clock, TimerHandle } from '../clock.js';
import type { Thresholds } from '../config.js';
import type { Logger } from '../logger.js';
import type { Venue } from '../venues/venue.js';
import type { Incidents, VenueCancelCause } from './incidents.js';
import type { CheckedVenue, SwitchSettings } from './venue-checks.js';

/** One venue as `status()` shows it. */
export interface VenueStatus {
  readonly name: string;
  /** True when confirmed flat since the last SHUTDOWN; false while not (yet); null before any. */
  readonly flat: boolean | null;
  /** The last count of open orders governor received, or null. */
  readonly openOrders: number | null;
  /** The latency of the last cancel-all that answered, in ms, or null. */
  readonly lastCancelLatencyMs: number | null;
  /** True while governor is still cancelling and counting there after a SHUTDOWN. */
  readonly cancelling: boolean;
  /** Whether the venue has a dead man's switch governor can arm. */
  readonly deadMansSwitch: boolean;
  /** ISO wall time by which the venue cancels every order unless renewed; null when not armed. */
  readonly deadMansSwitchExpiresAt: string | null;
  /**
   * The venue's orders live in its owner's process (`Venue.inProcess`). With no owner running
   * such a venue is shown flat with 0 open: nothing can rest there. Absent from older owners.
   */
  readonly inProcess?: boolean;
}

export interface VenueGuardHost {
  /** True while the switch may be renewed: CHECKING, AGGRESSIVE or OBSERVE_ONLY, heartbeat healthy. */
  mayRenew(): boolean;
  /** A switch may have fired at the venue: SHUTDOWN (VENUE_DEAD_MANS_SWITCH_FIRED). */
  switchFired(venue: string, reason: string): void;
  /** The earliest instant a switch may fire moved (a part of the gate's deadline). */
  switchDeadlineChanged(): void;
}

export interface VenueGuardDependencies {
  readonly store: Store;
  readonly incidents: Incidents;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly thresholds: Thresholds;
  readonly host: VenueGuardHost;
  /** A command acting as the owner for a moment (`actingOwner`), not an engine's owner. */
  readonly actingOwner: boolean;
}

export interface VenueState {
  readonly venue: Venue;
  readonly inProcess: boolean;
  /** The countdown armed and renewed at this venue; null: none. */
  readonly switch: SwitchSettings | null;
  renewTimer: TimerHandle | undefined;
  flat: boolean | null;
  openOrders: number | null;
  lastCancelLatencyMs: number | null;
  /** Aborts this venue's flatten (an acknowledgement, a restart, close, the lease granted again). */
  flattening: AbortController | null;
  /** Why the flatten under way (or the last one) began. */
  cancelCause: VenueCancelCause | null;
  notFlatAlertId: string | null;
  /** Monotonic start of the last successful arm; undefined when not armed in this lifecycle. */
  armedAtMs: number | undefined;
  expiresAtWallMs: number | null;
  armInFlight: boolean;
}

/**
 * A registered venue's state at construction: its own switch settings, or `global` (governor's
 * thresholds) when it gave none; no switch when it has no armDeadMansSwitch or asked for none.
 */
export function newVenueState(
  { venue, deadMansSwitch, inProcess }: CheckedVenue,
  global: SwitchSettings,
): VenueState {
  return {
    venue,
    inProcess,
    switch:
      venue.armDeadMansSwitch === undefined || deadMansSwitch === false
        ? null
        : (deadMansSwitch ?? global),
    renewTimer: undefined,
    flat: null,
    openOrders: null,
    lastCancelLatencyMs: null,
    flattening: null,
    cancelCause: null,
    notFlatAlertId: null,
    armedAtMs: undefined,
    expiresAtWallMs: null,
    armInFlight: false,
  };
}

/** One venue as `status()` shows it. */
export function venueStatus(state: VenueState): VenueStatus {
  return {
    name: state.venue.name,
    flat: state.flat,
    openOrders: state.openOrders,
    lastCancelLatencyMs: state.lastCancelLatencyMs,
    cancelling: state.flattening !== null,
    deadMansSwitch: state.switch !== null,
    deadMansSwitchExpiresAt:
      state.expiresAtWallMs === null ? null : new Date(state.expiresAtWallMs).toISOString(),
    inProcess: state.inProcess,
  };
}

/** Appends a VENUE_* event; a failure is logged, not thrown. */
export function appendVenueEvent(
  deps: Pick<VenueGuardDependencies, 'store' | 'logger'>,
  eventType: string,
  reason: string,
  metadata: Record<string, unknown>,
): void {
  try {
    deps.store.events.append({ eventType, reason, metadata });
  } catch (error) {
    deps.logger.error({ err: error, eventType }, 'venue event could not be written');
  }
}

/** Writes a venue record unless the store is closed; a failure is logged, not thrown. */
export function persistVenueRecord(
  deps: Pick<VenueGuardDependencies, 'store' | 'logger'>,
  what: string,
  write: () => void,
): void {
  if (deps.store.isClosed) return;
  try {
    write();
  } catch (error) {
    deps.logger.error({ err: error, what }, 'venue record could not be written');
  }
}
