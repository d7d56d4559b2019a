/**
 * Goal: DeadMansSwitches (venue-switches.ts) on its own, in simulated time with fake venues:
 * each switch renewed every its renewEveryMs while the host may renew, each arm bounded by
 * adapterPingTimeoutMs and recorded; the earliest instant one may fire; a switch not renewed
 * within its timeout reported to the host as fired (also when its renewal answers too late); an
 * arm answered after a SHUTDOWN not recorded; a planned stop disarms; stopped renewals and a
 * closed guard arm nothing.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../../services/clock.js';
import { checkVenues, type SwitchSettings } from '../../../services/governor/venue-checks.js';
import { newVenueState, type VenueState } from '../../../services/governor/venue-state.js';
import { DeadMansSwitches } from '../../../services/governor/venue-switches.js';
import { FakeVenue } from '../../support/fake-venue.js';
import { runFor, type VenueGuardFakes, venueGuardFakes } from '../../support/venue-guard-fakes.js';

const GLOBAL: SwitchSettings = { timeoutMs: 60_000, renewEveryMs: 20_000 };

interface Setup {
  readonly clock: SimulatedClock;
  readonly venues: FakeVenue[];
  readonly states: VenueState[];
  readonly fakes: VenueGuardFakes;
  readonly switches: DeadMansSwitches;
  closed: boolean;
}

function setup(make: (clock: SimulatedClock) => FakeVenue[]): Setup {
  const clock = new SimulatedClock();
  const venues = make(clock);
  const states = checkVenues(venues).map((venue) => newVenueState(venue, GLOBAL));
  const fakes = venueGuardFakes(clock);
  const result: Setup = {
    clock,
    venues,
    states,
    fakes,
    closed: false,
    switches: new DeadMansSwitches(states, fakes.deps, () => result.closed),
  };
  return result;
}

function state(rig: Setup, index: number): VenueState {
  const found = rig.states[index];
  if (found === undefined) throw new Error(`no venue ${index}`);
  return found;
}

const armInstants = (venue: FakeVenue | undefined): number[] =>
  venue?.callsOf('armDeadMansSwitch').map((call) => call.atMs) ?? [];

describe('DeadMansSwitches', () => {
  it('arms with the timeout, records the expiry and tells the host the deadline moved', async () => {
    const rig = setup((clock) => [new FakeVenue({ name: 'kraken', clock })]);
    rig.clock.advance(1_000);
    const armed = rig.switches.arm(state(rig, 0));
    await runFor(rig.clock, 0);
    expect(await armed).toBe(true);
    const wallMs = Date.UTC(2026, 0, 1) + 1_000;
    expect(rig.venues[0]?.callsOf('armDeadMansSwitch')).toEqual([
      { method: 'armDeadMansSwitch', atMs: 1_000, timeoutMs: 60_000 },
    ]);
    expect(state(rig, 0)).toMatchObject({
      armedAtMs: 1_000,
      expiresAtWallMs: wallMs + 60_000,
      armInFlight: false,
    });
    expect(rig.fakes.writes).toEqual([
      { method: 'recordSwitchArmed', args: ['kraken', 60_000, wallMs, wallMs + 60_000] },
    ]);
    expect(rig.fakes.deadlineChanges).toBe(1);
  });

  it('the earliest fire instant: +Infinity with none armed, else the soonest armedAt + timeout', async () => {
    const rig = setup((clock) => [
      new FakeVenue({ name: 'slow', clock }),
      new FakeVenue({
        name: 'fast',
        clock,
        deadMansSwitch: { timeoutMs: 9_000, renewEveryMs: 3_000 },
      }),
      new FakeVenue({ name: 'none', clock, withoutDeadMansSwitch: true }),
    ]);
    expect(rig.switches.switchDeadlineMs()).toBe(Number.POSITIVE_INFINITY);
    void rig.switches.arm(state(rig, 0));
    await runFor(rig.clock, 0);
    expect(rig.switches.switchDeadlineMs()).toBe(60_000);
    rig.clock.advance(5_000);
    void rig.switches.arm(state(rig, 1));
    void rig.switches.arm(state(rig, 2));
    await runFor(rig.clock, 0);
    expect(rig.switches.switchDeadlineMs()).toBe(14_000);
    expect(rig.venues[2]?.calls).toEqual([]);
  });

  it('lapsedSwitch names the venue from the instant its timeout has run', async () => {
    const rig = setup((clock) => [new FakeVenue({ name: 'kraken', clock })]);
    void rig.switches.arm(state(rig, 0));
    await runFor(rig.clock, 0);
    rig.clock.skip(59_999);
    expect(rig.switches.lapsedSwitch()).toBeNull();
    rig.clock.skip(1);
    expect(rig.switches.lapsedSwitch()).toEqual({ venue: 'kraken', timeoutMs: 60_000 });
  });

  it('renews each switch every its renewEveryMs while the host may renew; twice started is once', async () => {
    const rig = setup((clock) => [
      new FakeVenue({ name: 'kraken', clock }),
      new FakeVenue({
        name: 'fast',
        clock,
        deadMansSwitch: { timeoutMs: 9_000, renewEveryMs: 3_000 },
      }),
      new FakeVenue({ name: 'none', clock, withoutDeadMansSwitch: true }),
    ]);
    rig.switches.startRenewing();
    rig.switches.startRenewing();
    // One renewal timer for each venue with a switch.
    expect(rig.clock.pendingCount()).toBe(2);
    await runFor(rig.clock, 60_000);
    expect(armInstants(rig.venues[0])).toEqual([20_000, 40_000, 60_000]);
    expect(armInstants(rig.venues[1])).toEqual(
      Array.from({ length: 20 }, (_, index) => (index + 1) * 3_000),
    );
    expect(rig.venues[2]?.calls).toEqual([]);
    expect(rig.fakes.fired).toEqual([]);
    expect(rig.switches.switchDeadlineMs()).toBe(60_000 + 9_000);
  });

  it('a switch not renewed within its timeout is reported to the host as fired, once', async () => {
    const rig = setup((clock) => [new FakeVenue({ name: 'kraken', clock })]);
    void rig.switches.arm(state(rig, 0));
    await runFor(rig.clock, 0);
    rig.fakes.mayRenew = false;
    rig.switches.startRenewing();
    await runFor(rig.clock, 60_000);
    // At 60 000 ms the timeout has just run: not yet past it.
    expect(rig.fakes.fired).toEqual([]);
    await runFor(rig.clock, 20_000);
    expect(rig.fakes.fired).toEqual([
      {
        venue: 'kraken',
        reason:
          "kraken: dead man's switch not renewed for 80000 ms (timeout 60000 ms): the venue may have cancelled every order",
      },
    ]);
    expect(armInstants(rig.venues[0])).toEqual([0]);
    expect(state(rig, 0).armedAtMs).toBeUndefined();
    await runFor(rig.clock, 60_000);
    expect(rig.fakes.fired).toHaveLength(1);
  });

  it('a renewal answered after the timeout has run counts as fired, not as armed', async () => {
    const rig = setup((clock) => [
      new FakeVenue({
        name: 'kraken',
        clock,
        deadMansSwitch: { timeoutMs: 600, renewEveryMs: 500 },
      }),
    ]);
    void rig.switches.arm(state(rig, 0));
    await runFor(rig.clock, 0);
    const venue = rig.venues[0];
    if (venue === undefined) throw new Error('no venue');
    // The renewal sent at 500 ms answers at 800 ms: within adapterPingTimeoutMs (1 000 ms), but
    // after the switch armed at 0 ran out (600 ms), and before the next renewal could notice.
    venue.latencyMs = 300;
    rig.switches.startRenewing();
    await runFor(rig.clock, 900);
    expect(armInstants(venue)).toEqual([0, 500]);
    expect(rig.fakes.fired).toHaveLength(1);
    expect(rig.fakes.fired[0]?.reason).toMatch(/^kraken: dead man's switch not renewed for 800 ms/);
    expect(state(rig, 0).armedAtMs).toBeUndefined();
    expect(rig.fakes.writes.filter((write) => write.method === 'recordSwitchArmed')).toHaveLength(
      1,
    );
  });

  it('an arm is bounded by adapterPingTimeoutMs: a venue that hangs is not armed, and logged', async () => {
    const rig = setup((clock) => [new FakeVenue({ name: 'kraken', clock })]);
    const venue = rig.venues[0];
    if (venue === undefined) throw new Error('no venue');
    venue.armBehaviour = 'hang';
    let outcome: boolean | undefined;
    void rig.switches.arm(state(rig, 0)).then((armed) => {
      outcome = armed;
    });
    await runFor(rig.clock, 999);
    expect(outcome).toBeUndefined();
    expect(state(rig, 0).armInFlight).toBe(true);
    await runFor(rig.clock, 1);
    expect(outcome).toBe(false);
    expect(state(rig, 0)).toMatchObject({ armInFlight: false, armedAtMs: undefined });
    expect(rig.fakes.writes).toEqual([]);
    expect(rig.fakes.logged).toEqual([
      {
        level: 'warn',
        fields: { venue: 'kraken', error: 'no answer within 1000 ms' },
        message: "dead man's switch not renewed",
      },
    ]);
    expect(rig.clock.pendingCount()).toBe(0);
  });

  it('a renewal is not sent while the last arm is still in flight', async () => {
    const rig = setup((clock) => [
      new FakeVenue({
        name: 'kraken',
        clock,
        deadMansSwitch: { timeoutMs: 3_000, renewEveryMs: 300 },
      }),
    ]);
    const venue = rig.venues[0];
    if (venue === undefined) throw new Error('no venue');
    venue.armBehaviour = 'hang';
    rig.switches.startRenewing();
    await runFor(rig.clock, 1_300);
    // Renewals at 300 (hangs until 1 300), 600, 900, 1 200 skipped; 1 500 is the next.
    expect(armInstants(venue)).toEqual([300]);
    await runFor(rig.clock, 200);
    expect(armInstants(venue)).toEqual([300, 1_500]);
  });

  it('an arm answered after a SHUTDOWN is not recorded as armed', async () => {
    const rig = setup((clock) => [new FakeVenue({ name: 'kraken', clock, latencyMs: 100 })]);
    const armed = rig.switches.arm(state(rig, 0));
    await runFor(rig.clock, 50);
    rig.switches.shutdownEntered();
    await runFor(rig.clock, 100);
    expect(await armed).toBe(false);
    expect(state(rig, 0).armedAtMs).toBeUndefined();
    expect(rig.fakes.writes).toEqual([]);
    expect(rig.switches.switchDeadlineMs()).toBe(Number.POSITIVE_INFINITY);
  });

  it('a planned stop disarms an armed switch and records it; an unarmed one is left alone', async () => {
    const rig = setup((clock) => [
      new FakeVenue({ name: 'armed', clock }),
      new FakeVenue({ name: 'idle', clock }),
    ]);
    void rig.switches.arm(state(rig, 0));
    await runFor(rig.clock, 0);
    rig.switches.disarm(state(rig, 0));
    rig.switches.disarm(state(rig, 1));
    await runFor(rig.clock, 0);
    expect(rig.venues[0]?.callsOf('disarmDeadMansSwitch')).toHaveLength(1);
    expect(rig.venues[0]?.switchExpiresAtMs).toBeUndefined();
    expect(rig.venues[1]?.calls).toEqual([]);
    expect(state(rig, 0)).toMatchObject({ armedAtMs: undefined, expiresAtWallMs: null });
    expect(rig.fakes.writes.map((write) => [write.method, write.args[0]])).toEqual([
      ['recordSwitchArmed', 'armed'],
      ['recordSwitchDisarmed', 'armed'],
    ]);
    expect(rig.switches.switchDeadlineMs()).toBe(Number.POSITIVE_INFINITY);
  });

  it('a disarm the venue refuses is logged, not thrown', async () => {
    const rig = setup((clock) => [new FakeVenue({ name: 'kraken', clock })]);
    void rig.switches.arm(state(rig, 0));
    await runFor(rig.clock, 0);
    const venue = rig.venues[0];
    if (venue === undefined) throw new Error('no venue');
    venue.armBehaviour = 'refuse';
    rig.switches.disarm(state(rig, 0));
    await runFor(rig.clock, 0);
    expect(rig.fakes.logged).toEqual([
      {
        level: 'warn',
        fields: { venue: 'kraken', error: expect.stringContaining('kraken refused') },
        message: "dead man's switch not disarmed",
      },
    ]);
  });

  it('stopped renewals and a closed guard arm nothing', async () => {
    const rig = setup((clock) => [new FakeVenue({ name: 'kraken', clock })]);
    rig.switches.startRenewing();
    await runFor(rig.clock, 20_000);
    expect(armInstants(rig.venues[0])).toEqual([20_000]);
    rig.switches.stopRenewing();
    expect(rig.clock.pendingCount()).toBe(0);
    await runFor(rig.clock, 60_000);
    expect(armInstants(rig.venues[0])).toEqual([20_000]);
    rig.closed = true;
    rig.switches.startRenewing();
    expect(rig.clock.pendingCount()).toBe(0);
  });
});
