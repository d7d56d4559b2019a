/**
 * The flatten a SHUTDOWN starts at each venue: cancel all and count until flat (flattenVenues,
 * bounded per call and backing off), each venue on its own so that an acknowledgement of its
 * CRITICAL not-flat alert ends its retries alone; its VENUE_CANCEL_ALL, VENUE_FLAT and
 * VENUE_NOT_FLAT events, the venue records, and the not-flat incident raised and resolved. An
 * operator restart or close ends every flatten. The venue guard (venue-guard.ts) starts it; the
 * same flatten runs at a venue without a dead man's switch when the fleet lease ends (its cause
 * then FLEET_LEASE_ENDED), ended also by the lease held again.
 */
import type { ShutdownLatch } from '../../machines/types.js';
import { type FlattenEvent, flattenVenues } from '../venues/flatten.js';
import type { VenueCancelCause } from './incidents.js';
import {
  appendVenueEvent,
  persistVenueRecord,
  type VenueGuardDependencies,
  type VenueState,
} from './venue-state.js';

export class ShutdownFlatten {
  private latch: ShutdownLatch | null = null;

  /** `isClosed`: the guard's closed flag (a closed guard records nothing more). */
  constructor(
    private readonly states: readonly VenueState[],
    private readonly deps: VenueGuardDependencies,
    private readonly isClosed: () => boolean,
  ) {}

  /** True from a SHUTDOWN's flatten until an operator restart. */
  get inShutdown(): boolean {
    return this.latch !== null;
  }

  /**
   * Starts flattening one venue for the SHUTDOWN of `latch` (the gate is closed), or for the
   * fleet lease's end, ending any earlier flatten there first.
   */
  start(state: VenueState, cause: VenueCancelCause): void {
    if (cause.kind === 'shutdown') this.latch = cause.latch;
    state.flattening?.abort();
    state.notFlatAlertId = null;
    state.flat = false;
    state.cancelCause = cause;
    const controller = new AbortController();
    state.flattening = controller;
    void flattenVenues([state.venue], {
      clock: this.deps.clock,
      callTimeoutMs: this.deps.thresholds.adapterPingTimeoutMs,
      notFlatAfterMs: this.deps.thresholds.venueFlatWithinMs,
      signal: controller.signal,
      onEvent: (event) => {
        if (state.flattening === controller) this.onFlattenEvent(state, cause, event);
      },
    }).then(
      (report) => {
        if (state.flattening !== controller) return;
        state.flattening = null;
        const result = report.venues[0];
        if (result !== undefined && !result.flat) {
          this.retriesEnded(state, result.attempts, cause, controller.signal.reason);
        }
      },
      (error: unknown) => {
        if (state.flattening === controller) state.flattening = null;
        this.deps.logger.error({ err: error, venue: state.venue.name }, 'flatten failed');
      },
    );
  }

  /** An operator acknowledged an alert: if it is a venue's not-flat alert, its retries end. */
  acknowledged(alertId: string, operator: string): void {
    const state = this.states.find((candidate) => candidate.notFlatAlertId === alertId);
    if (state === undefined || state.flattening === null) return;
    this.deps.logger.warn(
      { venue: state.venue.name, operator },
      'not-flat alert acknowledged: governor stops cancelling at this venue',
    );
    state.flattening.abort(`acknowledged by ${operator}`);
  }

  /** An operator restart: a new lifecycle trades again, so no earlier cancel may go on. */
  onRestart(): void {
    for (const state of this.states) {
      state.flattening?.abort('operator restart');
      state.flattening = null;
      state.notFlatAlertId = null;
    }
    this.latch = null;
  }

  /** Ends the venue's flatten, if one runs (at close). */
  stop(state: VenueState, why: string): void {
    state.flattening?.abort(why);
    state.flattening = null;
  }

  private onFlattenEvent(state: VenueState, cause: VenueCancelCause, event: FlattenEvent): void {
    if (this.isClosed()) return;
    const name = state.venue.name;
    const causeFields = causeMetadata(cause);
    const after = cause.kind === 'shutdown' ? 'the SHUTDOWN' : 'the fleet lease ended';
    switch (event.type) {
      case 'cancel': {
        if (event.outcome === 'ok') state.lastCancelLatencyMs = event.latencyMs;
        this.appendEvent(
          'VENUE_CANCEL_ALL',
          `${name}: cancel all ${event.outcome === 'ok' ? 'accepted' : `failed (${event.outcome}): ${event.error ?? ''}`}`,
          {
            venue: name,
            attempt: event.attempt,
            outcome: event.outcome,
            latencyMs: Math.round(event.latencyMs),
            cancelledCount: event.cancelledCount ?? null,
            error: event.error ?? null,
            ...causeFields,
          },
        );
        if (event.attempt === 1)
          this.persist('recordNotFlat', () => this.deps.store.venues.recordNotFlat(name));
        if (event.outcome === 'ok') {
          const sentAtMs = this.deps.clock.wallNow() - event.latencyMs;
          this.persist('recordCancel', () =>
            this.deps.store.venues.recordCancel(name, event.latencyMs, sentAtMs),
          );
        }
        return;
      }
      case 'count': {
        if (event.openOrders === undefined) return;
        const openOrders = event.openOrders;
        state.openOrders = openOrders;
        this.persist('recordCount', () =>
          this.deps.store.venues.recordCount(name, openOrders, openOrders === 0),
        );
        return;
      }
      case 'flat': {
        state.flat = true;
        state.openOrders = 0;
        this.appendEvent(
          'VENUE_FLAT',
          `${name}: flat ${Math.round(event.afterMs)} ms after ${after}`,
          {
            venue: name,
            attempts: event.attempts,
            afterMs: Math.round(event.afterMs),
            cancelledCount: event.cancelledCount ?? null,
            ...causeFields,
          },
        );
        if (state.notFlatAlertId !== null) this.deps.incidents.resolveVenueNotFlat(cause, name);
        return;
      }
      case 'not-flat': {
        const afterMs = Math.round(event.afterMs);
        this.appendEvent(
          'VENUE_NOT_FLAT',
          `${name}: not flat ${afterMs} ms after ${after}: ${event.openOrders === undefined ? 'open orders unknown' : `${event.openOrders} orders open`}`,
          {
            venue: name,
            attempts: event.attempts,
            afterMs,
            openOrders: event.openOrders ?? null,
            error: event.error ?? null,
            final: false,
            ...causeFields,
          },
        );
        state.notFlatAlertId = this.deps.incidents.venueNotFlat(cause, {
          venue: name,
          openOrders: event.openOrders,
          afterMs,
          attempts: event.attempts,
          error: event.error,
        });
        return;
      }
    }
  }

  /**
   * A venue's retries ended without flat because its alert was acknowledged, or (after the lease's
   * end) because the lease was granted again: on record.
   */
  private retriesEnded(
    state: VenueState,
    attempts: number,
    cause: VenueCancelCause,
    why: unknown,
  ): void {
    if (this.isClosed()) return;
    const because = cause.kind === 'lease-ended' && typeof why === 'string' ? ` (${why})` : '';
    this.appendEvent(
      'VENUE_NOT_FLAT',
      `${state.venue.name}: governor stopped cancelling there${because}, not flat: ${state.openOrders ?? 'unknown'} orders open at the last count`,
      {
        venue: state.venue.name,
        attempts,
        openOrders: state.openOrders,
        final: true,
        ...causeMetadata(cause),
      },
    );
  }

  private appendEvent(eventType: string, reason: string, metadata: Record<string, unknown>): void {
    appendVenueEvent(this.deps, eventType, reason, metadata);
  }

  private persist(what: string, write: () => void): void {
    persistVenueRecord(this.deps, what, write);
  }
}

/**
 * What the VENUE_* events say of their cause: a SHUTDOWN's trigger; or no trigger, the cause
 * FLEET_LEASE_ENDED and when (the command line's wait for a SHUTDOWN's verdict skips these).
 */
function causeMetadata(cause: VenueCancelCause): Record<string, unknown> {
  return cause.kind === 'shutdown'
    ? { trigger: cause.latch.trigger }
    : { trigger: null, cause: 'FLEET_LEASE_ENDED', leaseEndedAt: cause.at };
}
