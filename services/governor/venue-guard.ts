/**
 * The venues an engine registered, as governor acts on them: on entering SHUTDOWN it cancels
 * every order at every venue at once and confirms each flat (events, a CRITICAL alert per venue
 * not flat in time, retries until flat, acknowledged or closed); while the gate may open it
 * renews each venue's dead man's switch, and reports a switch that may have fired. In a fleet,
 * when the authority's lease ends, it cancels the same way at every venue without a switch
 * (those with one cancel by themselves once their countdown runs out unrenewed). All venue
 * I/O is asynchronous and bounded: nothing here blocks the gate or the machine.
 *
 * This file is the facade; its parts: venue-checks.ts (the registered venues checked and
 * copied), venue-state.ts (the per-venue state, its status view and the guard's writes),
 * venue-switches.ts (the dead man's switches: renewal, deadline, lapse, disarm) and
 * venue-shutdown-flatten.ts (the flatten a SHUTDOWN starts at each venue, its events and alerts).
 */
import type { ShutdownLatch } from '../../machines/types.js';
import type { NamedAdapter } from '../health/startup-checks.js';
import type { VenueCancelCause } from './incidents.js';
import type { CheckedVenue, SwitchSettings } from './venue-checks.js';
import { ShutdownFlatten } from './venue-shutdown-flatten.js';
import {
  newVenueState,
  persistVenueRecord,
  type VenueGuardDependencies,
  type VenueState,
  type VenueStatus,
  venueStatus,
} from './venue-state.js';
import { DeadMansSwitches } from './venue-switches.js';

export {
  type CheckedVenue,
  checkVenues,
  type SwitchSettings,
  VENUES_MAX,
} from './venue-checks.js';
export type { VenueGuardDependencies, VenueGuardHost, VenueStatus } from './venue-state.js';

export class VenueGuard {
  private readonly states: readonly VenueState[];
  private readonly switches: DeadMansSwitches;
  private readonly shutdownFlatten: ShutdownFlatten;
  private closed = false;

  constructor(
    venues: readonly CheckedVenue[],
    private readonly deps: VenueGuardDependencies,
  ) {
    const global: SwitchSettings = {
      timeoutMs: deps.thresholds.deadMansSwitchTimeoutMs,
      renewEveryMs: deps.thresholds.deadMansSwitchRenewEveryMs,
    };
    this.states = venues.map((checked) => newVenueState(checked, global));
    this.switches = new DeadMansSwitches(this.states, deps, () => this.closed);
    this.shutdownFlatten = new ShutdownFlatten(this.states, deps, () => this.closed);
    // An engine's owner registers even none: an earlier owner's in-process venues leave the
    // record. A command acting as the owner for a moment keeps them, to report them gone.
    if (venues.length > 0 || !deps.actingOwner) {
      persistVenueRecord(deps, 'register', () =>
        deps.store.venues.register(
          venues.map((checked) => ({ name: checked.venue.name, inProcess: checked.inProcess })),
          { retireGoneInProcess: !deps.actingOwner },
        ),
      );
    }
  }

  get count(): number {
    return this.states.length;
  }

  /**
   * The earliest monotonic instant at which an armed switch may fire (+Infinity when none is
   * armed): the gate closes then, even if no renewal ran to notice.
   */
  switchDeadlineMs(): number {
    return this.switches.switchDeadlineMs();
  }

  /** A venue whose switch has lapsed, with its timeout, for the gate's reason. */
  lapsedSwitch(): { readonly venue: string; readonly timeoutMs: number } | null {
    return this.switches.lapsedSwitch();
  }

  status(): VenueStatus[] {
    return this.states.map(venueStatus);
  }

  // ---------------------------------------------------------------------------------------
  // Kill → flat

  /**
   * SHUTDOWN was entered (the gate is closed): cancel at every venue now, before the latch is
   * persisted. Each venue is flattened on its own, so an acknowledgement ends one venue's retries.
   * The switches are no longer renewed: what is left there, the venue's countdown cancels.
   */
  onShutdown(latch: ShutdownLatch): void {
    if (this.closed || this.states.length === 0) return;
    this.switches.shutdownEntered();
    for (const state of this.states) {
      state.armedAtMs = undefined;
      this.shutdownFlatten.start(state, { kind: 'shutdown', latch });
    }
    this.deps.host.switchDeadlineChanged();
  }

  /**
   * The fleet authority's lease ended (expired unrenewed, or fenced by a kill): the gate is
   * closed, and the switches are no longer renewed, so each venue with a switch cancels by itself
   * when its countdown runs out. A venue without one would keep its orders: cancel there now, as
   * a SHUTDOWN does (events, an alert when not flat in time, retries). Not in SHUTDOWN (every
   * venue is being cancelled already); a venue already cancelling for this reason is left to it.
   */
  onLeaseEnded(reason: string): void {
    if (this.closed || this.shutdownFlatten.inShutdown) return;
    const cause: VenueCancelCause = {
      kind: 'lease-ended',
      at: new Date(this.deps.clock.wallNow()).toISOString(),
      reason,
    };
    for (const state of this.states) {
      if (state.switch !== null) continue;
      if (state.flattening !== null && state.cancelCause?.kind === 'lease-ended') continue;
      this.shutdownFlatten.start(state, cause);
    }
  }

  /**
   * The lease is held again (a renewal granted after its end, or the checks of a resume or a
   * restart): the gate may reopen and the engine trade, so no cancel for the lease's end may go on.
   */
  onLeaseHeld(): void {
    for (const state of this.states) {
      if (state.flattening === null || state.cancelCause?.kind !== 'lease-ended') continue;
      state.flattening.abort('the fleet lease was granted again');
    }
  }

  /** An operator acknowledged an alert: if it is a venue's not-flat alert, its retries end. */
  acknowledged(alertId: string, operator: string): void {
    this.shutdownFlatten.acknowledged(alertId, operator);
  }

  /** An operator restart: a new lifecycle trades again, so no earlier cancel may go on. */
  onRestart(): void {
    this.shutdownFlatten.onRestart();
  }

  // ---------------------------------------------------------------------------------------
  // Dead man's switch

  /** Starts each venue's renewal timer (every its renewEveryMs). Idempotent. */
  startRenewing(): void {
    this.switches.startRenewing();
  }

  /** Stops every venue's renewal timer (the actor that runs them stopped). */
  stopRenewing(): void {
    this.switches.stopRenewing();
  }

  /**
   * The startup check's view of the venues: each is asked how many orders it has open (a
   * read-only question) and its switch is armed, within the check's timeout. A venue that does
   * not answer keeps the gate shut; a switch that fired is armed again before the gate may open.
   */
  asAdapters(): NamedAdapter[] {
    return this.states.map((state) => ({
      name: `venue ${state.venue.name}`,
      ping: async (): Promise<boolean> => {
        const openOrders = await state.venue.countOpenOrders();
        if (typeof openOrders === 'number' && Number.isSafeInteger(openOrders) && openOrders >= 0) {
          state.openOrders = openOrders;
        }
        if (!hasSwitch(state)) return true;
        // A fresh arm for this lifecycle: what lapsed before it (a SHUTDOWN's) is no failure now.
        state.armedAtMs = undefined;
        if (!(await this.switches.arm(state))) {
          throw new Error("its dead man's switch could not be armed");
        }
        return true;
      },
    }));
  }

  /**
   * Stops every timer and retry. A planned stop outside SHUTDOWN disarms each switch (the engine
   * leaves its orders resting on purpose); in SHUTDOWN the switches are left to run out.
   */
  close(planned: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.switches.stopRenewing();
    for (const state of this.states) {
      this.shutdownFlatten.stop(state, 'governor closed');
      if (planned) this.switches.disarm(state);
    }
  }
}

function hasSwitch(state: VenueState): boolean {
  return state.switch !== null;
}
