/**
 * The venues an engine registered, as governor acts on them: on entering SHUTDOWN it cancels
 * every order at every venue at once and confirms each flat (events, a CRITICAL alert per venue
 * not flat in time, retries until flat, acknowledged or closed); while the gate may open it
 * renews each venue's dead man's switch, and reports a switch that may have fired. In a fleet,
 * when the authority's lease ends, it cancels the same way at every venue without a switch
 * (those with one cancel by themselves once their countdown runs out unrenewed). All venue
 * I/O is asynchronous and bounded: nothing here blocks the gate or the machine.
 */
import type { ShutdownLatch } from '../../machines/types.js';
import type { Store } from '../../persistence/index.js';
import type { Clock, TimerHandle } from '../clock.js';
import type { Thresholds } from '../config.js';
import { findLoneSurrogate, findUnsafeCharacter } from '../display-text.js';
import { describeError, GovernorError } from '../errors.js';
import type { NamedAdapter } from '../health/startup-checks.js';
import type { Logger } from '../logger.js';
import { type FlattenEvent, flattenVenues } from '../venues/flatten.js';
import type { Venue } from '../venues/venue.js';
import type { Incidents, VenueCancelCause } from './incidents.js';

/** At most this many venues may be registered with one governor. */
export const VENUES_MAX = 64;

/** The longest dead man's switch timeout a venue may give for itself. */
const SWITCH_TIMEOUT_MS_MAX = 24 * 60 * 60 * 1000;

/** A venue's countdown as governor arms and renews it. */
export interface SwitchSettings {
  readonly timeoutMs: number;
  readonly renewEveryMs: number;
}

/**
 * A registered venue with its dead man's switch settings read once: its own, or undefined for
 * governor's thresholds; false when the venue has no switch or asked for none.
 */
export interface CheckedVenue {
  readonly venue: Venue;
  readonly deadMansSwitch: SwitchSettings | false | undefined;
  /** `venue.inProcess`, read once: its orders live in the owner's process. */
  readonly inProcess: boolean;
}

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

/**
 * Checks and copies the engine's venues (GOV_INVALID_CONFIG naming the bad one). The copy is
 * frozen: a list the engine changes later does not change what governor cancels.
 */
export function checkVenues(venues: unknown): readonly CheckedVenue[] {
  if (venues === undefined) return Object.freeze([]);
  if (!Array.isArray(venues) || venues.length > VENUES_MAX) {
    throw new GovernorError(
      'GOV_INVALID_CONFIG',
      `venues: expected a list of at most ${VENUES_MAX} venues`,
      { key: 'venues' },
    );
  }
  const names = new Set<string>();
  const checked = venues.map((venue: unknown, index): CheckedVenue => {
    const key = `venues[${index}]`;
    if (typeof venue !== 'object' || venue === null) {
      throw new GovernorError('GOV_INVALID_CONFIG', `${key}: expected a venue object`, { key });
    }
    const candidate = venue as Partial<Record<keyof Venue, unknown>>;
    const name = candidate.name;
    if (
      typeof name !== 'string' ||
      name.trim() === '' ||
      name.length > 64 ||
      name !== name.trim()
    ) {
      throw new GovernorError(
        'GOV_INVALID_CONFIG',
        `${key}.name: expected a non-empty name of at most 64 characters, without surrounding spaces`,
        { key },
      );
    }
    if (findUnsafeCharacter(name) !== null || findLoneSurrogate(name) !== null) {
      throw new GovernorError(
        'GOV_INVALID_CONFIG',
        `${key}.name: a control, format or line-separator character, or a lone surrogate: a venue's name is shown in alerts, status and events`,
        { key },
      );
    }
    if (names.has(name)) {
      throw new GovernorError('GOV_INVALID_CONFIG', `${key}.name: two venues are named ${name}`, {
        key,
      });
    }
    names.add(name);
    for (const method of ['cancelAllOrders', 'countOpenOrders'] as const) {
      if (typeof candidate[method] !== 'function') {
        throw new GovernorError('GOV_INVALID_CONFIG', `${key}.${method}: expected a function`, {
          key,
        });
      }
    }
    const arm = candidate.armDeadMansSwitch;
    const disarm = candidate.disarmDeadMansSwitch;
    if (
      (arm !== undefined && typeof arm !== 'function') ||
      (disarm !== undefined && typeof disarm !== 'function')
    ) {
      throw new GovernorError(
        'GOV_INVALID_CONFIG',
        `${key}: armDeadMansSwitch and disarmDeadMansSwitch must be functions when given`,
        { key },
      );
    }
    const deadMansSwitch = checkSwitchSettings(
      name,
      key,
      candidate.deadMansSwitch,
      typeof arm === 'function',
    );
    const inProcess = candidate.inProcess;
    if (inProcess !== undefined && typeof inProcess !== 'boolean') {
      throw new GovernorError('GOV_INVALID_CONFIG', `${key}.inProcess: expected true or false`, {
        key: `${key}.inProcess`,
        venue: name,
      });
    }
    return Object.freeze({ venue: venue as Venue, deadMansSwitch, inProcess: inProcess === true });
  });
  return Object.freeze(checked);
}

/** A venue's own switch settings, checked and copied (read once: a getter is not read again). */
function checkSwitchSettings(
  name: string,
  key: string,
  settings: unknown,
  canArm: boolean,
): SwitchSettings | false | undefined {
  if (settings === undefined) return canArm ? undefined : false;
  if (settings === false) return false;
  const refuse = (why: string): never => {
    throw new GovernorError('GOV_INVALID_CONFIG', `${key}.deadMansSwitch (venue ${name}): ${why}`, {
      key: `${key}.deadMansSwitch`,
      venue: name,
    });
  };
  if (typeof settings !== 'object' || settings === null) {
    return refuse('expected { timeoutMs, renewEveryMs } or false');
  }
  const { timeoutMs, renewEveryMs } = settings as Record<string, unknown>;
  for (const [field, value] of [
    ['timeoutMs', timeoutMs],
    ['renewEveryMs', renewEveryMs],
  ] as const) {
    if (
      typeof value !== 'number' ||
      !Number.isSafeInteger(value) ||
      value <= 0 ||
      value > SWITCH_TIMEOUT_MS_MAX
    ) {
      refuse(`${field}: expected a positive whole number of ms, at most ${SWITCH_TIMEOUT_MS_MAX}`);
    }
  }
  const checked = { timeoutMs: timeoutMs as number, renewEveryMs: renewEveryMs as number };
  if (checked.renewEveryMs >= checked.timeoutMs) {
    refuse(
      `renewEveryMs (${checked.renewEveryMs}) must be shorter than timeoutMs (${checked.timeoutMs}), or the switch fires between renewals`,
    );
  }
  if (!canArm) refuse('settings given, but the venue has no armDeadMansSwitch');
  return Object.freeze(checked);
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
}

interface VenueState {
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

export class VenueGuard {
  private readonly states: readonly VenueState[];
  private renewing = false;
  private closed = false;
  private latch: ShutdownLatch | null = null;
  /** How many SHUTDOWNs this guard saw: an arm begun before the last one is not recorded. */
  private shutdowns = 0;

  constructor(
    venues: readonly CheckedVenue[],
    private readonly deps: VenueGuardDependencies,
  ) {
    const global: SwitchSettings = {
      timeoutMs: deps.thresholds.deadMansSwitchTimeoutMs,
      renewEveryMs: deps.thresholds.deadMansSwitchRenewEveryMs,
    };
    this.states = venues.map(({ venue, deadMansSwitch, inProcess }) => ({
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
    }));
    if (venues.length > 0) {
      this.persist('register', () =>
        deps.store.venues.register(
          venues.map((checked) => ({ name: checked.venue.name, inProcess: checked.inProcess })),
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
    let earliest = Number.POSITIVE_INFINITY;
    for (const state of this.states) {
      if (state.armedAtMs === undefined || state.switch === null) continue;
      earliest = Math.min(earliest, state.armedAtMs + state.switch.timeoutMs);
    }
    return earliest;
  }

  /** A venue whose switch has lapsed, with its timeout, for the gate's reason. */
  lapsedSwitch(): { readonly venue: string; readonly timeoutMs: number } | null {
    const now = this.deps.clock.monotonicNow();
    for (const state of this.states) {
      if (state.armedAtMs === undefined || state.switch === null) continue;
      if (now >= state.armedAtMs + state.switch.timeoutMs) {
        return { venue: state.venue.name, timeoutMs: state.switch.timeoutMs };
      }
    }
    return null;
  }

  status(): VenueStatus[] {
    return this.states.map((state) => ({
      name: state.venue.name,
      flat: state.flat,
      openOrders: state.openOrders,
      lastCancelLatencyMs: state.lastCancelLatencyMs,
      cancelling: state.flattening !== null,
      deadMansSwitch: state.switch !== null,
      deadMansSwitchExpiresAt:
        state.expiresAtWallMs === null ? null : new Date(state.expiresAtWallMs).toISOString(),
      inProcess: state.inProcess,
    }));
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
    this.latch = latch;
    this.shutdowns += 1;
    for (const state of this.states) {
      state.armedAtMs = undefined;
      this.flatten(state, { kind: 'shutdown', latch });
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
    if (this.closed || this.latch !== null) return;
    const cause: VenueCancelCause = {
      kind: 'lease-ended',
      at: new Date(this.deps.clock.wallNow()).toISOString(),
      reason,
    };
    for (const state of this.states) {
      if (state.switch !== null) continue;
      if (state.flattening !== null && state.cancelCause?.kind === 'lease-ended') continue;
      this.flatten(state, cause);
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

  /** Cancels at one venue and confirms it flat (its own flatten: an abort ends only its retries). */
  private flatten(state: VenueState, cause: VenueCancelCause): void {
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

  private onFlattenEvent(state: VenueState, cause: VenueCancelCause, event: FlattenEvent): void {
    if (this.closed) return;
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
    if (this.closed) return;
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

  // ---------------------------------------------------------------------------------------
  // Dead man's switch

  /** Starts each venue's renewal timer (every its renewEveryMs). Idempotent. */
  startRenewing(): void {
    if (this.closed || this.renewing) return;
    this.renewing = true;
    for (const state of this.states) {
      if (state.switch !== null) this.scheduleRenewal(state, state.switch);
    }
  }

  private scheduleRenewal(state: VenueState, settings: SwitchSettings): void {
    state.renewTimer = this.deps.clock.setTimeout(() => {
      state.renewTimer = undefined;
      if (this.closed) return;
      this.renew(state);
      this.scheduleRenewal(state, settings);
    }, settings.renewEveryMs);
  }

  /** One renewal of one venue: a switch found lapsed is a shutdown; else it is renewed. */
  private renew(state: VenueState): void {
    if (this.closed || state.switch === null) return;
    // A lapse is looked for whatever the state: a heartbeat that failed stops the renewals, and
    // the switch that then fires is found here.
    if (this.lapsed(state, this.deps.clock.monotonicNow())) return;
    if (!this.deps.host.mayRenew()) return;
    if (!state.armInFlight) void this.arm(state);
  }

  /** True (and the shutdown requested) when the switch was not renewed within its timeout. */
  private lapsed(state: VenueState, nowMs: number): boolean {
    if (state.switch === null) return false;
    const timeoutMs = state.switch.timeoutMs;
    if (state.armedAtMs === undefined || nowMs <= state.armedAtMs + timeoutMs) return false;
    const sinceMs = Math.round(nowMs - state.armedAtMs);
    state.armedAtMs = undefined;
    this.deps.host.switchFired(
      state.venue.name,
      `${state.venue.name}: dead man's switch not renewed for ${sinceMs} ms (timeout ${timeoutMs} ms): the venue may have cancelled every order`,
    );
    return true;
  }

  /**
   * Arms (or renews) one venue's switch, bounded by adapterPingTimeoutMs. Resolves true when the
   * venue accepted it in time; a renewal answered later than the timeout counts as lapsed.
   */
  private async arm(state: VenueState): Promise<boolean> {
    const arm = state.venue.armDeadMansSwitch;
    if (arm === undefined || state.switch === null) return true;
    const { timeoutMs } = state.switch;
    const { clock, thresholds } = this.deps;
    const startMs = clock.monotonicNow();
    const generation = this.shutdowns;
    state.armInFlight = true;
    let outcome: 'ok' | string;
    try {
      outcome = await withTimeout(
        () => arm.call(state.venue, timeoutMs),
        clock,
        thresholds.adapterPingTimeoutMs,
      );
    } finally {
      state.armInFlight = false;
    }
    if (this.closed) return false;
    if (outcome !== 'ok') {
      this.deps.logger.warn(
        { venue: state.venue.name, error: outcome },
        "dead man's switch not renewed",
      );
      return false;
    }
    // A SHUTDOWN since the request: the switch is left to run out, not recorded as armed.
    if (this.shutdowns !== generation) return false;
    if (this.lapsed(state, clock.monotonicNow())) return false;
    state.armedAtMs = startMs;
    const armedAtWallMs = clock.wallNow();
    state.expiresAtWallMs = armedAtWallMs + timeoutMs;
    const expiresAtWallMs = state.expiresAtWallMs;
    this.persist('recordSwitchArmed', () =>
      this.deps.store.venues.recordSwitchArmed(
        state.venue.name,
        timeoutMs,
        armedAtWallMs,
        expiresAtWallMs,
      ),
    );
    this.deps.host.switchDeadlineChanged();
    return true;
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
        if (!(await this.arm(state))) throw new Error("its dead man's switch could not be armed");
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
    for (const state of this.states) {
      this.deps.clock.clearTimeout(state.renewTimer);
      state.renewTimer = undefined;
    }
    for (const state of this.states) {
      state.flattening?.abort('governor closed');
      state.flattening = null;
      if (!planned || state.armedAtMs === undefined) continue;
      const disarm = state.venue.disarmDeadMansSwitch;
      if (disarm === undefined) continue;
      state.armedAtMs = undefined;
      state.expiresAtWallMs = null;
      this.persist('recordSwitchDisarmed', () =>
        this.deps.store.venues.recordSwitchDisarmed(state.venue.name),
      );
      void withTimeout(
        () => disarm.call(state.venue),
        this.deps.clock,
        this.deps.thresholds.adapterPingTimeoutMs,
      ).then((outcome) => {
        if (outcome !== 'ok') {
          this.deps.logger.warn(
            { venue: state.venue.name, error: outcome },
            "dead man's switch not disarmed",
          );
        }
      });
    }
  }

  // ---------------------------------------------------------------------------------------

  private appendEvent(eventType: string, reason: string, metadata: Record<string, unknown>): void {
    try {
      this.deps.store.events.append({ eventType, reason, metadata });
    } catch (error) {
      this.deps.logger.error({ err: error, eventType }, 'venue event could not be written');
    }
  }

  private persist(what: string, write: () => void): void {
    if (this.deps.store.isClosed) return;
    try {
      write();
    } catch (error) {
      this.deps.logger.error({ err: error, what }, 'venue record could not be written');
    }
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

function hasSwitch(state: VenueState): boolean {
  return state.switch !== null;
}

/** Runs `call` raced against `timeoutMs` on `clock`: 'ok', or what went wrong. */
function withTimeout(
  call: () => Promise<unknown>,
  clock: Clock,
  timeoutMs: number,
): Promise<string> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: string): void => {
      if (settled) return;
      settled = true;
      clock.clearTimeout(timer);
      resolve(outcome);
    };
    const timer = clock.setTimeout(() => finish(`no answer within ${timeoutMs} ms`), timeoutMs);
    let pending: Promise<unknown>;
    try {
      pending = call();
    } catch (error) {
      pending = Promise.reject(error);
    }
    Promise.resolve(pending).then(
      () => finish('ok'),
      (error: unknown) => finish(describeError(error)),
    );
  });
}
