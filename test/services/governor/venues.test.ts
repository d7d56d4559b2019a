/**
 * Goal: the venues an engine registers are flattened on every SHUTDOWN (cancels out before the
 * latch is written, confirmed by counts, events, one alert per venue not flat, retries until
 * flat or acknowledged), their dead man's switches are renewed only while the gate may open
 * and a lapse is a SHUTDOWN of its own, the startup checks ask them, and risk-reducing orders
 * pass in OBSERVE_ONLY only. In simulated time, with in-memory fake venues.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../../services/clock.js';
import { DEFAULT_THRESHOLDS } from '../../../services/config.js';
import { isGovernorError } from '../../../services/errors.js';
import type { GovernanceSystemOptions } from '../../../services/governor/governance-system.js';
import { applyRealFault } from '../../../testing.js';
import { FakeVenue } from '../../support/fake-venue.js';
import { eventsOf, type Harness, makeHarness, settle } from '../../support/harness.js';

const OPERATOR = { operator: 'alice', reason: 'kill drill' };
let h: Harness;
afterEach(() => h?.cleanup());

function withVenues(
  venues: (clock: SimulatedClock) => FakeVenue[],
  system: Partial<GovernanceSystemOptions> = {},
  thresholds: Partial<typeof DEFAULT_THRESHOLDS> = {},
): { h: Harness; venues: FakeVenue[] } {
  const clock = new SimulatedClock();
  const list = venues(clock);
  const harness = makeHarness({ clock, thresholds, system: { venues: list, ...system } });
  return { h: harness, venues: list };
}

function venueEvents(harness: Harness): Array<{ type: string; metadata: Record<string, unknown> }> {
  const store = harness.reader();
  return eventsOf(store)
    .filter((event) => event.eventType.startsWith('VENUE_'))
    .map((event) => ({
      type: event.eventType,
      metadata: event.metadata as Record<string, unknown>,
    }));
}

/** Advances in steps, letting promises settle, until `done` or `limitMs`. */
async function runUntil(
  clock: SimulatedClock,
  done: () => boolean,
  stepMs = 50,
  limitMs = 120_000,
) {
  await settle();
  for (let elapsed = 0; !done() && elapsed < limitMs; elapsed += stepMs) {
    clock.advance(stepMs);
    await settle();
  }
}

describe('venues registered', () => {
  it('refuses two venues of one name, and copies the list once', async () => {
    const clock = new SimulatedClock();
    const a = new FakeVenue({ name: 'kraken', clock });
    expect(() =>
      makeHarness({ clock, system: { venues: [a, new FakeVenue({ name: 'kraken', clock })] } }),
    ).toThrow(/GOV_INVALID_CONFIG.*two venues are named kraken/);
    const list = [a];
    h = makeHarness({ clock, system: { venues: list } });
    list.push(new FakeVenue({ name: 'late', clock }));
    expect(h.gov.venueStatus().map((v) => v.name)).toEqual(['kraken']);
  });

  it('refuses a venue whose name holds a control character (names reach terminals and alerts)', () => {
    const clock = new SimulatedClock();
    expect(() =>
      makeHarness({
        clock,
        system: { venues: [new FakeVenue({ name: 'kra\u001b[2Jken', clock })] },
      }),
    ).toThrow(/GOV_INVALID_CONFIG.*control, format/);
  });

  it('refuses a venue without cancelAllOrders', () => {
    const clock = new SimulatedClock();
    try {
      makeHarness({
        clock,
        system: { venues: [{ name: 'x', countOpenOrders: async () => 0 } as never] },
      });
      expect.unreachable();
    } catch (error) {
      expect(isGovernorError(error, 'GOV_INVALID_CONFIG')).toBe(true);
    }
  });

  it('refuses an inProcess that is not true or false, naming the venue', () => {
    const clock = new SimulatedClock();
    const venue = Object.assign(new FakeVenue({ name: 'paper', clock }), { inProcess: 'yes' });
    expect(() => makeHarness({ clock, system: { venues: [venue as never] } })).toThrow(
      /GOV_INVALID_CONFIG.*venues\[0\]\.inProcess: expected true or false/,
    );
  });

  it('records and shows whether each venue is in-process; a live owner cancels there as anywhere', async () => {
    let fakes: FakeVenue[];
    ({ h, venues: fakes } = withVenues((clock) => [
      new FakeVenue({ name: 'paper', clock, openOrders: 4, inProcess: true }),
      new FakeVenue({ name: 'kraken', clock, openOrders: 2 }),
    ]));
    expect(h.gov.venueStatus().map((v) => [v.name, v.inProcess])).toEqual([
      ['paper', true],
      ['kraken', false],
    ]);
    const reader = h.reader();
    expect(reader.venues.list().map((v) => [v.name, v.inProcess])).toEqual([
      ['kraken', false],
      ['paper', true],
    ]);
    await h.gov.runStartupChecks();
    h.gov.operatorShutdown(OPERATOR);
    await runUntil(h.clock, () => h.gov.venueStatus().every((v) => v.flat === true));
    expect(fakes.map((venue) => venue.openOrders)).toEqual([0, 0]);
    expect(h.gov.venueStatus()[0]).toMatchObject({ name: 'paper', flat: true, inProcess: true });
  });

  it('a later owner without the in-process venue drops it from the record, so a kill does not wait for word on it', () => {
    const clock = new SimulatedClock();
    h = makeHarness({
      clock,
      system: {
        venues: [
          new FakeVenue({ name: 'paper', clock, openOrders: 4, inProcess: true }),
          new FakeVenue({ name: 'kraken', clock, openOrders: 2 }),
        ],
      },
    });
    h.gov.close();
    // The next owner (a daemon started without the demo) registers no venue at all.
    h.reopen({ venues: [] });
    expect(
      h
        .reader()
        .venues.list()
        .map((v) => [v.name, v.inProcess]),
    ).toEqual([['kraken', false]]);
  });
});

describe('kill → flat', () => {
  it('sends cancel-all to every venue before the latch is written, then confirms each flat', async () => {
    let fakes: FakeVenue[];
    ({ h, venues: fakes } = withVenues((clock) => [
      new FakeVenue({ name: 'kraken', clock, openOrders: 12 }),
      new FakeVenue({ name: 'binance', clock, openOrders: 3 }),
    ]));
    await h.gov.runStartupChecks();
    const reader = h.reader();
    const shutdownsAtCancel: number[] = [];
    for (const venue of fakes) {
      venue.onCall = (method) => {
        if (method !== 'cancelAllOrders') return;
        shutdownsAtCancel.push(
          eventsOf(reader).filter((e) => e.eventType === 'SYSTEM_SHUTDOWN').length,
        );
      };
    }
    h.gov.operatorShutdown(OPERATOR);
    // Both cancels went out inside the SHUTDOWN entry, before SYSTEM_SHUTDOWN was written.
    expect(shutdownsAtCancel).toEqual([0, 0]);
    expect(h.gov.getState()).toBe('SHUTDOWN');
    await runUntil(h.clock, () => h.gov.venueStatus().every((v) => v.flat === true));
    const events = venueEvents(h);
    expect(
      events.filter((e) => e.type === 'VENUE_CANCEL_ALL').map((e) => e.metadata.venue),
    ).toEqual(['kraken', 'binance']);
    const flat = events.filter((e) => e.type === 'VENUE_FLAT');
    expect(flat.map((e) => [e.metadata.venue, e.metadata.cancelledCount])).toEqual([
      ['kraken', 12],
      ['binance', 3],
    ]);
    expect(h.gov.status().venues.map((v) => [v.name, v.flat, v.openOrders])).toEqual([
      ['kraken', true, 0],
      ['binance', true, 0],
    ]);
    // And on record, for a reader with no owner.
    expect(
      reader.venues
        .list()
        .map((v) => [v.name, v.flat, v.openOrders, v.lastCancelLatencyMs !== null]),
    ).toEqual([
      ['binance', true, 0, true],
      ['kraken', true, 0, true],
    ]);
    expect(h.delivered.map((a) => a.kind)).toEqual(['SHUTDOWN']);
  });

  it('a venue that hangs blocks neither the gate nor the machine nor the other venues', async () => {
    let hanging!: FakeVenue;
    ({ h } = withVenues((clock) => {
      hanging = new FakeVenue({ name: 'hanging', clock, openOrders: 4 });
      return [hanging, new FakeVenue({ name: 'healthy', clock, openOrders: 1 })];
    }));
    await h.gov.runStartupChecks();
    hanging.cancelBehaviour = 'hang';
    hanging.countBehaviour = 'hang';
    h.gov.operatorShutdown(OPERATOR);
    expect(h.gov.getState()).toBe('SHUTDOWN');
    expect(h.gov.canDeployCapital()).toBe(false);
    expect(h.gov.getLatch()?.trigger).toBe('OPERATOR_KILL');
    await settle();
    expect(h.gov.venueStatus().find((v) => v.name === 'healthy')?.flat).toBe(true);
    expect(h.gov.venueStatus().find((v) => v.name === 'hanging')?.flat).toBe(false);
  });

  it('a venue not flat within venueFlatWithinMs raises one CRITICAL alert; retries go on until acknowledged', async () => {
    let stubborn!: FakeVenue;
    ({ h } = withVenues((clock) => {
      stubborn = new FakeVenue({ name: 'kraken', clock, openOrders: 3 });
      return [stubborn];
    }));
    await h.gov.runStartupChecks();
    stubborn.cancelsIgnored = 1_000_000;
    h.gov.operatorShutdown(OPERATOR);
    await runUntil(h.clock, () => false, 100, 30_000);
    const notFlat = h.delivered.filter((a) => a.kind === 'VENUE_NOT_FLAT');
    expect(notFlat).toHaveLength(1);
    expect(notFlat[0]?.severity).toBe('CRITICAL');
    expect(notFlat[0]?.message).toMatch(
      /kraken: not flat \d+ ms after the SHUTDOWN.*3 orders open/,
    );
    const events = venueEvents(h);
    const firstNotFlat = events.find((e) => e.type === 'VENUE_NOT_FLAT');
    expect(firstNotFlat?.metadata.afterMs).toBeGreaterThanOrEqual(
      DEFAULT_THRESHOLDS.venueFlatWithinMs,
    );
    expect(firstNotFlat?.metadata.openOrders).toBe(3);
    // Still trying: more cancel-alls after the alert, and flat once the venue honours them.
    const cancelsBefore = stubborn.callsOf('cancelAllOrders').length;
    await runUntil(h.clock, () => false, 100, 10_000);
    expect(stubborn.callsOf('cancelAllOrders').length).toBeGreaterThan(cancelsBefore);
    expect(h.gov.venueStatus()[0]).toMatchObject({ flat: false, openOrders: 3, cancelling: true });
    // The operator acknowledges: governor stops cancelling there.
    h.gov.acknowledgeAlert(notFlat[0]?.alertId ?? '', 'bob');
    await settle();
    const cancelsAtAck = stubborn.callsOf('cancelAllOrders').length;
    await runUntil(h.clock, () => false, 1_000, 60_000);
    expect(stubborn.callsOf('cancelAllOrders').length).toBe(cancelsAtAck);
    expect(h.gov.venueStatus()[0]?.cancelling).toBe(false);
    const final = venueEvents(h).filter(
      (e) => e.type === 'VENUE_NOT_FLAT' && e.metadata.final === true,
    );
    expect(final).toHaveLength(1);
  });

  it('a venue flat after its alert resolves the alert', async () => {
    let slow!: FakeVenue;
    ({ h } = withVenues((clock) => {
      slow = new FakeVenue({ name: 'kraken', clock, openOrders: 2 });
      return [slow];
    }));
    await h.gov.runStartupChecks();
    slow.cancelsIgnored = 1_000_000;
    h.gov.operatorShutdown(OPERATOR);
    await runUntil(h.clock, () => h.delivered.some((a) => a.kind === 'VENUE_NOT_FLAT'), 100);
    slow.cancelsIgnored = 0;
    await runUntil(h.clock, () => h.gov.venueStatus()[0]?.flat === true, 100);
    const alert = h.gov.alertManager.getAlerts().find((a) => a.kind === 'VENUE_NOT_FLAT');
    expect(alert?.resolvedAt).not.toBeNull();
  });

  it('close() ends the retries', async () => {
    let stubborn!: FakeVenue;
    ({ h } = withVenues((clock) => {
      stubborn = new FakeVenue({ name: 'kraken', clock, openOrders: 3 });
      return [stubborn];
    }));
    await h.gov.runStartupChecks();
    stubborn.cancelsIgnored = 1_000_000;
    h.gov.operatorShutdown(OPERATOR);
    await runUntil(h.clock, () => false, 100, 2_000);
    h.gov.close();
    const calls = stubborn.calls.length;
    await runUntil(h.clock, () => false, 1_000, 30_000);
    expect(stubborn.calls.length).toBe(calls);
  });
});

describe("dead man's switch", () => {
  it('is armed by the startup checks and renewed every deadMansSwitchRenewEveryMs, the expiry on record', async () => {
    let venue!: FakeVenue;
    ({ h } = withVenues((clock) => {
      venue = new FakeVenue({ name: 'kraken', clock });
      return [venue];
    }));
    expect(await h.gov.runStartupChecks()).toBe(true);
    expect(venue.callsOf('armDeadMansSwitch').map((c) => c.timeoutMs)).toEqual([60_000]);
    for (let i = 0; i < 6; i++) {
      h.gov.healthMonitor.updateMarketDataTimestamp();
      h.clock.advance(10_000);
      await settle();
    }
    expect(venue.callsOf('armDeadMansSwitch').length).toBe(4);
    const expiresAt = h.gov.venueStatus()[0]?.deadMansSwitchExpiresAt;
    expect(Date.parse(expiresAt ?? '')).toBe(h.clock.wallNow() + 60_000);
    expect(h.reader().venues.list()[0]?.switchExpiresAt).toBe(expiresAt);
    expect(venue.switchFiredCount).toBe(0);
  });

  it('a frozen engine: the gate closes at the switch deadline, and the lapse is a SHUTDOWN naming the venue', async () => {
    let venue!: FakeVenue;
    ({ h } = withVenues((clock) => {
      venue = new FakeVenue({ name: 'kraken', clock, openOrders: 2 });
      return [venue];
    }));
    await h.gov.runStartupChecks();
    expect(h.gov.canDeployCapital()).toBe(true);
    h.clock.skip(60_001); // the event loop froze: no timer ran
    expect(h.gov.canDeployCapital()).toBe(false);
    expect(h.gov.authorize().reason).toMatch(/kraken: dead man's switch not renewed/);
    h.clock.advance(0);
    await settle();
    expect(h.gov.getState()).toBe('SHUTDOWN');
    expect(h.gov.getLatch()?.trigger).toBe('VENUE_DEAD_MANS_SWITCH_FIRED');
    expect(h.gov.getLatch()?.reason).toMatch(/^kraken: dead man's switch not renewed/);
    // The venue's own countdown had cancelled the orders.
    venue.fireSwitchIfDue();
    expect(venue.switchFiredCount).toBe(1);
  });

  it('is not renewed while the heartbeat is lost', async () => {
    let venue!: FakeVenue;
    ({ h } = withVenues(
      (clock) => {
        venue = new FakeVenue({ name: 'kraken', clock });
        return [venue];
      },
      {},
      { heartbeatIntervalMs: 5_000, heartbeatLossMs: 15_000 },
    ));
    await h.gov.runStartupChecks();
    const arms = venue.callsOf('armDeadMansSwitch').length;
    applyRealFault(h.gov, 'READONLY'); // heartbeats fail from now on
    h.gov.healthMonitor.updateMarketDataTimestamp();
    // Lost at 15 s; the renewals due at 20 s and 40 s do not go out.
    await runUntil(h.clock, () => h.clock.monotonicNow() >= 45_000, 1_000);
    expect(venue.callsOf('armDeadMansSwitch').length).toBe(arms);
    expect(h.gov.getLatch()?.trigger ?? h.gov.getCause().cause).toMatch(
      /HEARTBEAT_LOST|HEALTH_CHECK_FAILED|EVENT_LOG_WRITE_FAILURE/,
    );
  });

  it('a planned stop disarms; a stop in SHUTDOWN leaves the switch to run out', async () => {
    let venue!: FakeVenue;
    ({ h } = withVenues((clock) => {
      venue = new FakeVenue({ name: 'kraken', clock });
      return [venue];
    }));
    await h.gov.runStartupChecks();
    h.gov.close();
    expect(venue.callsOf('disarmDeadMansSwitch')).toHaveLength(1);
    const second = h.reopen();
    await second.runStartupChecks();
    second.operatorShutdown(OPERATOR);
    second.close();
    expect(venue.callsOf('disarmDeadMansSwitch')).toHaveLength(1);
  });

  it('after a fired switch, a restart re-arms before the gate may open; a switch that cannot be armed keeps it shut', async () => {
    let venue!: FakeVenue;
    ({ h } = withVenues((clock) => {
      venue = new FakeVenue({ name: 'kraken', clock });
      return [venue];
    }));
    await h.gov.runStartupChecks();
    h.clock.skip(61_000);
    h.clock.advance(0);
    await settle();
    expect(h.gov.getLatch()?.trigger).toBe('VENUE_DEAD_MANS_SWITCH_FIRED');
    venue.armBehaviour = 'refuse';
    h.gov.healthMonitor.updateMarketDataTimestamp();
    h.gov.operatorRestart(OPERATOR);
    expect(await h.gov.runStartupChecks()).toBe(false);
    expect(h.gov.getState()).toBe('OBSERVE_ONLY');
    const failed = h.gov.getLastStartupReport()?.results.find((r) => !r.passed);
    expect(failed?.name).toBe('adapters_reachable');
    expect(failed?.details).toMatch(/venue kraken/);
  });
});

describe("a venue's own dead man's switch settings", () => {
  it('a venue with its own 3 s / 1 s switch is armed with 3 s and renewed every 1 s; another uses the thresholds', async () => {
    let own!: FakeVenue;
    let global!: FakeVenue;
    ({ h } = withVenues((clock) => {
      own = new FakeVenue({
        name: 'kraken',
        clock,
        deadMansSwitch: { timeoutMs: 3_000, renewEveryMs: 1_000 },
      });
      global = new FakeVenue({ name: 'bitmex', clock });
      return [own, global];
    }));
    expect(await h.gov.runStartupChecks()).toBe(true);
    for (let i = 0; i < 20; i++) {
      h.gov.healthMonitor.updateMarketDataTimestamp();
      h.clock.advance(1_000);
      await settle();
    }
    const ownArms = own.callsOf('armDeadMansSwitch');
    expect(ownArms.every((call) => call.timeoutMs === 3_000)).toBe(true);
    expect(ownArms).toHaveLength(21);
    const globalArms = global.callsOf('armDeadMansSwitch');
    expect(globalArms.every((call) => call.timeoutMs === 60_000)).toBe(true);
    expect(globalArms).toHaveLength(2);
    const [kraken, bitmex] = h.gov.venueStatus();
    expect(Date.parse(kraken?.deadMansSwitchExpiresAt ?? '')).toBe(h.clock.wallNow() + 3_000);
    expect(Date.parse(bitmex?.deadMansSwitchExpiresAt ?? '')).toBe(h.clock.wallNow() + 60_000);
    expect(own.switchFiredCount).toBe(0);
  });

  it('false: the switch is never armed, nor disarmed', async () => {
    let venue!: FakeVenue;
    ({ h } = withVenues((clock) => {
      venue = new FakeVenue({ name: 'kraken', clock, deadMansSwitch: false });
      return [venue];
    }));
    expect(await h.gov.runStartupChecks()).toBe(true);
    h.gov.healthMonitor.updateMarketDataTimestamp();
    h.clock.advance(100_000);
    await settle();
    expect(venue.callsOf('armDeadMansSwitch')).toHaveLength(0);
    expect(h.gov.venueStatus()[0]?.deadMansSwitch).toBe(false);
    h.gov.close();
    expect(venue.callsOf('disarmDeadMansSwitch')).toHaveLength(0);
  });

  it("the gate's deadline is each venue's own timeout", async () => {
    ({ h } = withVenues((clock) => [
      new FakeVenue({
        name: 'kraken',
        clock,
        deadMansSwitch: { timeoutMs: 3_000, renewEveryMs: 1_000 },
      }),
      new FakeVenue({ name: 'bitmex', clock }),
    ]));
    await h.gov.runStartupChecks();
    h.clock.skip(2_999); // the event loop froze: no timer ran
    expect(h.gov.canDeployCapital()).toBe(true);
    h.clock.skip(2);
    expect(h.gov.canDeployCapital()).toBe(false);
    expect(h.gov.authorize().reason).toMatch(/^kraken: dead man's switch not renewed within 3/);
  });

  it('refuses settings the switch cannot keep, naming the venue', () => {
    const clock = new SimulatedClock();
    const venueWith = (deadMansSwitch: unknown) =>
      Object.assign(new FakeVenue({ name: 'kraken', clock }), { deadMansSwitch }) as FakeVenue;
    for (const [settings, why] of [
      [{ timeoutMs: 1_000, renewEveryMs: 1_000 }, /renewEveryMs \(1000\) must be shorter/],
      [{ timeoutMs: 0, renewEveryMs: 1_000 }, /timeoutMs: expected a positive whole/],
      [{ timeoutMs: 3_000, renewEveryMs: 0.5 }, /renewEveryMs: expected a positive whole/],
      [{ timeoutMs: '3000', renewEveryMs: 1_000 }, /timeoutMs: expected a positive whole/],
      [true, /expected \{ timeoutMs, renewEveryMs \} or false/],
    ] as const) {
      expect(() => makeHarness({ clock, system: { venues: [venueWith(settings)] } })).toThrow(
        new RegExp(`GOV_INVALID_CONFIG.*venue kraken.*${why.source}`),
      );
    }
    const withoutSwitch = Object.assign(
      new FakeVenue({ name: 'kraken', clock, withoutDeadMansSwitch: true }),
      { deadMansSwitch: { timeoutMs: 3_000, renewEveryMs: 1_000 } },
    );
    expect(() => makeHarness({ clock, system: { venues: [withoutSwitch] } })).toThrow(
      /GOV_INVALID_CONFIG.*venue kraken.*no armDeadMansSwitch/,
    );
  });
});

describe('the startup check asks the venues', () => {
  it('a venue that does not answer keeps the gate shut, named in the report', async () => {
    ({ h } = withVenues((clock) => {
      const silent = new FakeVenue({ name: 'silent', clock });
      silent.countBehaviour = 'hang';
      return [silent];
    }));
    const passed = h.gov.runStartupChecks();
    let result: boolean | undefined;
    void passed.then((value) => {
      result = value;
    });
    await runUntil(h.clock, () => result !== undefined, 100);
    expect(result).toBe(false);
    expect(h.gov.canDeployCapital()).toBe(false);
    const failed = h.gov.getLastStartupReport()?.results.find((r) => !r.passed);
    expect(failed?.details).toMatch(/venue silent: no answer within/);
  });
});

describe('risk-reducing orders', () => {
  it('are allowed in OBSERVE_ONLY, never in SHUTDOWN unless configured', async () => {
    ({ h } = withVenues(() => []));
    await h.gov.runStartupChecks();
    h.gov.operatorObserve(OPERATOR);
    expect(h.gov.canDeployCapital()).toBe(false);
    expect(h.gov.authorize().allowed).toBe(false);
    expect(h.gov.authorize({ reducesExposure: true }).allowed).toBe(true);
    h.gov.operatorShutdown(OPERATOR);
    expect(h.gov.authorize({ reducesExposure: true }).allowed).toBe(false);
    h.gov.close();
    const allowing = h.reopen({ allowRiskReducingInShutdown: true });
    expect(allowing.getState()).toBe('SHUTDOWN');
    expect(allowing.authorize({ reducesExposure: true })).toMatchObject({ allowed: true });
    expect(allowing.authorize().allowed).toBe(false);
    expect(allowing.canDeployCapital()).toBe(false);
  });
});
