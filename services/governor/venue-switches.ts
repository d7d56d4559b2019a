/**
 * The venues' dead man's switches: while the gate may open each venue's switch is renewed every
 * its renewEveryMs (each arm bounded by adapterPingTimeoutMs), the earliest instant one may fire
 * is a part of the gate's deadline, and a switch not renewed within its timeout is reported to
 * the host as fired (a SHUTDOWN). A planned stop disarms them; a SHUTDOWN leaves them to run out.
 * The venue guard (venue-guard.ts) owns one and drives it.
 */
import type { Clock } from '../clock.js';
import { describeError } from '../errors.js';
import type { SwitchSettings } from './venue-checks.js';
import { persistVenueRecord, type VenueGuardDependencies, type VenueState } from './venue-state.js';

export class DeadMansSwitches {
  private renewing = false;
  /** How many SHUTDOWNs the guard saw: an arm begun before the last one is not recorded. */
  private shutdowns = 0;

  /** `isClosed`: the guard's closed flag, read at each step (a closed guard arms nothing). */
  constructor(
    private readonly states: readonly VenueState[],
    private readonly deps: VenueGuardDependencies,
    private readonly isClosed: () => boolean,
  ) {}

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

  /** SHUTDOWN was entered: an arm still in flight is not recorded as armed. */
  shutdownEntered(): void {
    this.shutdowns += 1;
  }

  /** Starts each venue's renewal timer (every its renewEveryMs). Idempotent. */
  startRenewing(): void {
    if (this.isClosed() || this.renewing) return;
    this.renewing = true;
    for (const state of this.states) {
      if (state.switch !== null) this.scheduleRenewal(state, state.switch);
    }
  }

  private scheduleRenewal(state: VenueState, settings: SwitchSettings): void {
    state.renewTimer = this.deps.clock.setTimeout(() => {
      state.renewTimer = undefined;
      if (this.isClosed()) return;
      this.renew(state);
      this.scheduleRenewal(state, settings);
    }, settings.renewEveryMs);
  }

  /** One renewal of one venue: a switch found lapsed is a shutdown; else it is renewed. */
  private renew(state: VenueState): void {
    if (this.isClosed() || state.switch === null) return;
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
  async arm(state: VenueState): Promise<boolean> {
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
    if (this.isClosed()) return false;
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

  /** Stops every renewal timer (its actor's stop, and close); `startRenewing` starts them again. */
  stopRenewing(): void {
    this.renewing = false;
    for (const state of this.states) {
      this.deps.clock.clearTimeout(state.renewTimer);
      state.renewTimer = undefined;
    }
  }

  /** A planned stop outside SHUTDOWN: disarms the venue's switch when it is armed. */
  disarm(state: VenueState): void {
    if (state.armedAtMs === undefined) return;
    const disarm = state.venue.disarmDeadMansSwitch;
    if (disarm === undefined) return;
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

  private persist(what: string, write: () => void): void {
    persistVenueRecord(this.deps, what, write);
  }
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
