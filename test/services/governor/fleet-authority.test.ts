/**
 * A governor with the `authority` option, in simulated time against an in-memory authority: the
 * gate closes at the lease's end with no message (heartbeat still fine), a fleet kill becomes an
 * OPERATOR_KILL shutdown through the machine (local latch, confirmation written), a loss past
 * authorityLossMs is OBSERVE_ONLY (AUTHORITY_LOST) with its alert, a start without the authority
 * or in a killed scope stays closed, and a fenced host is not reopened by the release alone.
 * AUTHORITY_LOST is held: it survives a close and a crash, the next start stays OBSERVE_ONLY
 * (AUTHORITY_LOST) until an operator resumes, and its alert is raised once per incident. At the
 * lease's end governor cancels at every venue without a dead man's switch (fake venues). The
 * epochs a host established are remembered in its database (table and event log), so neither a
 * deleted side file nor deleted rows make a restarted host forget a kill it never saw.
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { GovernanceSystem } from '../../../services/governor/governance-system.js';
import { simulateCrash } from '../../../testing.js';
import { FakeVenue } from '../../support/fake-venue.js';
import { advanceBy, FakeAuthority, settleOn } from '../../support/fleet-fake.js';
import { eventsOf, type Harness, makeHarness, settle } from '../../support/harness.js';

const LEASE_MS = 900;
let h: Harness;
afterEach(() => h?.cleanup());

interface FleetOptions {
  authorityLossMs?: number;
  venues?: FakeVenue[];
}

function fleetGovernor(options: FleetOptions = {}): {
  gov: GovernanceSystem;
  authority: FakeAuthority;
} {
  h = makeHarness();
  h.gov.close();
  const authority = new FakeAuthority(h.clock);
  const gov = reopenUnder(authority, options);
  return { gov, authority };
}

/** The next process on the same database and the same authority. */
function reopenUnder(authority: FakeAuthority, options: FleetOptions = {}): GovernanceSystem {
  return h.reopen({
    ...(options.venues === undefined ? {} : { venues: options.venues }),
    authority: {
      host: 'host-1',
      scopes: ['firm/desk-a/strategy-x'],
      leaseMs: LEASE_MS,
      authorityLossMs: options.authorityLossMs ?? 5_000,
      transport: authority,
    },
  });
}

/** AUTHORITY_LOSS alerts delivered, and those stored unacknowledged and unresolved. */
function authorityLossAlerts(gov: GovernanceSystem): { delivered: number; open: number } {
  return {
    delivered: h.delivered.filter((a) => a.kind === 'AUTHORITY_LOSS').length,
    open: gov.alertManager
      .getUnacknowledgedAlerts()
      .filter((a) => a.kind === 'AUTHORITY_LOSS' && a.resolvedAt === null).length,
  };
}

async function start(gov: GovernanceSystem): Promise<boolean> {
  return settleOn(h.clock, gov.runStartupChecks());
}

describe('a governor under the fleet authority', () => {
  it('opens only with a lease, and the gate closes by itself when the lease ends', async () => {
    const { gov, authority } = fleetGovernor();
    expect(await start(gov)).toBe(true);
    expect(gov.canDeployCapital()).toBe(true);
    expect(gov.authorityLease()?.status).toBe('held');
    authority.unreachable = true;
    const leaseEnd = gov.authorityLease()?.leaseEndsAtMs ?? 0;
    // No timer runs (a frozen event loop): the gate closes at the lease's end all the same.
    h.clock.skip(leaseEnd - h.clock.monotonicNow() - 1);
    expect(gov.canDeployCapital()).toBe(true);
    h.clock.skip(1);
    expect(gov.canDeployCapital()).toBe(false);
    expect(gov.getState()).toBe('AGGRESSIVE');
    expect(gov.authorize().reason).toMatch(/fleet authority lease ended/);
  });

  it('a kill of a wider scope shuts down through the machine (OPERATOR_KILL naming scope and epoch) and is confirmed', async () => {
    const { gov, authority } = fleetGovernor();
    await start(gov);
    const epoch = authority.kill('firm/desk-a', 'alice', 'INC-7 drill');
    await advanceBy(h.clock, 20, 1);
    expect(gov.canDeployCapital()).toBe(false);
    expect(gov.getState()).toBe('SHUTDOWN');
    expect(gov.getLatch()).toMatchObject({ trigger: 'OPERATOR_KILL' });
    expect(gov.getLatch()?.reason).toMatch(
      new RegExp(`alice: fleet kill of scope firm/desk-a \\(epoch ${epoch}\\): INC-7 drill`),
    );
    expect(authority.confirmations).toEqual([{ scope: 'firm/desk-a', epoch, state: 'SHUTDOWN' }]);
    // The local chain records it: the latch holds for the next start too.
    const shutdowns = eventsOf(h.reader()).filter((e) => e.eventType === 'SYSTEM_SHUTDOWN');
    expect(shutdowns).toHaveLength(1);
    // A release alone reopens nothing.
    authority.release('firm/desk-a');
    await advanceBy(h.clock, 2_000);
    expect(gov.getState()).toBe('SHUTDOWN');
    expect(gov.canDeployCapital()).toBe(false);
    // The host reports what its local restart would do.
    expect(authority.reports.at(-1)?.restartCheck).toBe('ready');
  });

  it('lost past authorityLossMs: OBSERVE_ONLY (AUTHORITY_LOST) with its alert, once', async () => {
    const { gov, authority } = fleetGovernor({ authorityLossMs: 3_000 });
    await start(gov);
    authority.unreachable = true;
    await advanceBy(h.clock, 2_500, 50);
    expect(gov.canDeployCapital()).toBe(false);
    expect(gov.getState()).toBe('AGGRESSIVE');
    await advanceBy(h.clock, 1_000, 50);
    expect(gov.getState()).toBe('OBSERVE_ONLY');
    expect(gov.getCause().cause).toBe('AUTHORITY_LOST');
    const alerts = gov.alertManager
      .getUnacknowledgedAlerts()
      .filter((a) => a.kind === 'AUTHORITY_LOSS');
    expect(alerts).toHaveLength(1);
    // Back: nothing reopens by itself; an operator's resume runs the checks (and the lease) again.
    authority.unreachable = false;
    await advanceBy(h.clock, 2_000, 50);
    expect(gov.getState()).toBe('OBSERVE_ONLY');
    expect(
      await settleOn(h.clock, gov.operatorResume({ operator: 'bob', reason: 'PG back' })),
    ).toBe(true);
    expect(gov.canDeployCapital()).toBe(true);
  });

  it('a start without the authority stays closed (its startup check fails)', async () => {
    const { gov, authority } = fleetGovernor({ authorityLossMs: 60_000 });
    authority.unreachable = true;
    expect(await start(gov)).toBe(false);
    expect(gov.getState()).toBe('OBSERVE_ONLY');
    expect(
      gov.getLastStartupReport()?.results.find((r) => r.name === 'adapters_reachable'),
    ).toMatchObject({ passed: false });
    expect(gov.canDeployCapital()).toBe(false);
  });

  it('a start inside a killed scope obeys the kill: SHUTDOWN, named, confirmed', async () => {
    const { gov, authority } = fleetGovernor();
    authority.kill('firm', 'carol', 'desk-wide incident');
    expect(await start(gov)).toBe(false);
    expect(gov.getState()).toBe('SHUTDOWN');
    expect(gov.getLatch()?.reason).toMatch(/fleet kill of scope firm \(epoch 1\)/);
    expect(gov.canDeployCapital()).toBe(false);
    await advanceBy(h.clock, 20, 1);
    expect(authority.confirmations).toEqual([{ scope: 'firm', epoch: 1, state: 'SHUTDOWN' }]);
  });

  it('a process started again after a kill and a release it never saw obeys the kill (remembered epochs)', async () => {
    const { gov, authority } = fleetGovernor();
    await start(gov);
    gov.close();
    authority.kill('firm/desk-a');
    authority.release('firm/desk-a');
    const again = h.reopen({
      authority: {
        host: 'host-1',
        scopes: ['firm/desk-a/strategy-x'],
        leaseMs: LEASE_MS,
        transport: authority,
      },
    });
    expect(await start(again)).toBe(false);
    expect(again.getState()).toBe('SHUTDOWN');
    expect(again.getLatch()?.reason).toMatch(/rose from 0 to 2/);
    expect(again.canDeployCapital()).toBe(false);
  });

  it('regression: deleting the remembered-epochs side file made a restarted host forget a kill and a release it never saw (its gate opened)', async () => {
    const { gov, authority } = fleetGovernor();
    await start(gov);
    gov.close();
    // What a local process could do to the side file earlier versions kept.
    rmSync(`${h.dbPath}.fleet-epochs.json`, { force: true });
    authority.kill('firm/desk-a');
    authority.release('firm/desk-a');
    const again = reopenUnder(authority);
    expect(await start(again)).toBe(false);
    expect(again.getState()).toBe('SHUTDOWN');
    expect(again.getLatch()?.reason).toMatch(/rose from 0 to 2/);
    expect(again.canDeployCapital()).toBe(false);
  });

  it('rows deleted from fleet_epochs outside governor forget nothing: the event log still holds the epochs, and they are written back', async () => {
    const { gov, authority } = fleetGovernor();
    await start(gov);
    gov.close();
    const tamper = h.tamper();
    expect(tamper.prepare('DELETE FROM fleet_epochs').run().changes).toBe(3);
    tamper.close();
    authority.kill('firm/desk-a');
    authority.release('firm/desk-a');
    const again = reopenUnder(authority);
    expect(await start(again)).toBe(false);
    expect(again.getLatch()?.reason).toMatch(/rose from 0 to 2/);
    // The local restart's checks establish the new epochs: the table holds them again.
    again.operatorRestart({ operator: 'dave', reason: 'released' });
    expect(await start(again)).toBe(true);
    const rows = h
      .reader()
      .query<{ scope: string; epoch: number }>(
        'test',
        'SELECT scope, epoch FROM fleet_epochs ORDER BY scope',
      );
    expect(rows).toEqual([
      { scope: 'firm', epoch: 0 },
      { scope: 'firm/desk-a', epoch: 2 },
      { scope: 'firm/desk-a/strategy-x', epoch: 0 },
    ]);
  });

  it('the side file of an earlier version is imported into the database at the first start, then removed', async () => {
    h = makeHarness();
    h.gov.close();
    const sideFile = `${h.dbPath}.fleet-epochs.json`;
    writeFileSync(
      sideFile,
      `${JSON.stringify({ epochs: { firm: 0, 'firm/desk-a': 0, 'firm/desk-a/strategy-x': 0 }, at: '2026-12-01T00:00:00.000Z' })}\n`,
    );
    const authority = new FakeAuthority(h.clock);
    authority.kill('firm/desk-a');
    authority.release('firm/desk-a');
    const gov = reopenUnder(authority);
    expect(existsSync(sideFile)).toBe(false);
    expect(await start(gov)).toBe(false);
    expect(gov.getLatch()?.reason).toMatch(/rose from 0 to 2/);
    const imported = eventsOf(h.reader()).filter((e) => e.eventType === 'FLEET_EPOCHS_ESTABLISHED');
    expect(imported[0]?.metadata).toMatchObject({
      epochs: { firm: 0, 'firm/desk-a': 0, 'firm/desk-a/strategy-x': 0 },
    });
  });

  it('regression: a new process after an obeyed kill and its release took the release for a kill it had missed (refused its restart)', async () => {
    const { gov, authority } = fleetGovernor();
    await start(gov);
    authority.kill('firm/desk-a');
    await advanceBy(h.clock, 20, 1);
    expect(gov.getState()).toBe('SHUTDOWN');
    authority.release('firm/desk-a');
    // The fenced host reads the release at its next renewal.
    await advanceBy(h.clock, LEASE_MS);
    gov.close();
    const again = reopenUnder(authority);
    again.operatorRestart({ operator: 'dave', reason: 'released' });
    expect(await start(again)).toBe(true);
    expect(again.getState()).toBe('AGGRESSIVE');
    expect(again.canDeployCapital()).toBe(true);
  });

  it('after a release, only a local restart (pre-flight and checks) opens the gate again', async () => {
    const { gov, authority } = fleetGovernor();
    await start(gov);
    authority.kill('firm/desk-a');
    await advanceBy(h.clock, 20, 1);
    expect(gov.getState()).toBe('SHUTDOWN');
    authority.release('firm/desk-a');
    gov.operatorRestart({ operator: 'dave', reason: 'released' });
    expect(await start(gov)).toBe(true);
    expect(gov.canDeployCapital()).toBe(true);
    await advanceBy(h.clock, 2_000);
    expect(gov.canDeployCapital()).toBe(true);
  });

  it('regression: AUTHORITY_LOST was forgotten by a process restart (AGGRESSIVE again with no operator)', async () => {
    const { gov, authority } = fleetGovernor({ authorityLossMs: 3_000 });
    expect(await start(gov)).toBe(true);
    authority.unreachable = true;
    await advanceBy(h.clock, 3_500, 50);
    expect(gov.getCause().cause).toBe('AUTHORITY_LOST');
    expect(gov.getHold()?.cause).toBe('AUTHORITY_LOST');
    // The authority is back: a new process's lease is granted, only the hold keeps it closed.
    authority.unreachable = false;
    let current = gov;
    for (const end of ['close', 'crash'] as const) {
      if (end === 'close') current.close();
      else simulateCrash(current);
      current = reopenUnder(authority, { authorityLossMs: 3_000 });
      expect(await start(current)).toBe(false);
      expect(current.getState()).toBe('OBSERVE_ONLY');
      expect(current.getCause()).toMatchObject({ cause: 'AUTHORITY_LOST' });
      expect(current.getHold()?.cause).toBe('AUTHORITY_LOST');
      expect(current.authorityLease()?.status).toBe('held');
      expect(current.canDeployCapital()).toBe(false);
      await advanceBy(h.clock, 1_000, 50);
      expect(current.getState()).toBe('OBSERVE_ONLY');
    }
    await settle();
    // One incident, one alert: the restarts did not raise it again.
    expect(authorityLossAlerts(current)).toEqual({ delivered: 1, open: 1 });
    expect(
      await settleOn(h.clock, current.operatorResume({ operator: 'bob', reason: 'PG back' })),
    ).toBe(true);
    expect(current.getState()).toBe('AGGRESSIVE');
    expect(current.canDeployCapital()).toBe(true);
    expect(authorityLossAlerts(current).open).toBe(0);
    // The resume cleared the hold for good: the next process trades after its checks.
    current.close();
    const after = reopenUnder(authority);
    expect(await start(after)).toBe(true);
    expect(after.getHold()).toBeNull();
  });

  it('a restart while the authority is still lost keeps the hold and raises its loss alert no second time', async () => {
    const { gov, authority } = fleetGovernor({ authorityLossMs: 3_000 });
    await start(gov);
    authority.unreachable = true;
    await advanceBy(h.clock, 3_500, 50);
    expect(gov.getHold()?.cause).toBe('AUTHORITY_LOST');
    simulateCrash(gov);
    const again = reopenUnder(authority, { authorityLossMs: 3_000 });
    // Its startup check fails (no authority), and past authorityLossMs the lease is lost again.
    expect(await start(again)).toBe(false);
    await advanceBy(h.clock, 4_000, 50);
    expect(again.authorityLease()?.status).toBe('lost');
    expect(again.getState()).toBe('OBSERVE_ONLY');
    expect(again.getHold()?.cause).toBe('AUTHORITY_LOST');
    await settle();
    expect(authorityLossAlerts(again)).toEqual({ delivered: 1, open: 1 });
  });
});

/** The VENUE_* events on record, with their metadata. */
function venueEvents(): Array<{ type: string; reason: string; metadata: Record<string, unknown> }> {
  return eventsOf(h.reader())
    .filter((event) => event.eventType.startsWith('VENUE_'))
    .map((event) => ({
      type: event.eventType,
      reason: event.reason,
      metadata: event.metadata as Record<string, unknown>,
    }));
}

/** A venue without a dead man's switch and one with (governor's thresholds), orders resting. */
function twoVenues(): { bare: FakeVenue; guarded: FakeVenue; venues: FakeVenue[] } {
  const clock = h.clock;
  const bare = new FakeVenue({ name: 'bare', clock, openOrders: 5, withoutDeadMansSwitch: true });
  const guarded = new FakeVenue({ name: 'guarded', clock, openOrders: 3 });
  return { bare, guarded, venues: [bare, guarded] };
}

describe('orders follow the fleet lease: a venue without a switch is cancelled at its end', () => {
  /** A governor under the authority with the two venues (the harness is made first). */
  function fleetWithVenues(authorityLossMs: number) {
    h = makeHarness();
    h.gov.close();
    const authority = new FakeAuthority(h.clock);
    const venues = twoVenues();
    const gov = reopenUnder(authority, { authorityLossMs, venues: venues.venues });
    return { gov, authority, ...venues };
  }

  it("regression: a venue without a dead man's switch kept its orders after the fleet lease ended", async () => {
    const { gov, authority, bare, guarded } = fleetWithVenues(60_000);
    expect(await start(gov)).toBe(true);
    expect(guarded.switchExpiresAtMs).toBeDefined();
    authority.unreachable = true;
    const leaseEnd = gov.authorityLease()?.leaseEndsAtMs ?? 0;
    // Up to the lease's end: nothing cancelled, the gate open.
    await advanceBy(h.clock, leaseEnd - h.clock.monotonicNow() - 1, 1);
    expect(bare.callsOf('cancelAllOrders')).toHaveLength(0);
    expect(gov.canDeployCapital()).toBe(true);
    // At its end: the gate closes, and the cancel goes out at the venue without a switch.
    await advanceBy(h.clock, 1, 1);
    expect(gov.canDeployCapital()).toBe(false);
    expect(bare.callsOf('cancelAllOrders').map((call) => call.atMs)).toEqual([leaseEnd]);
    await advanceBy(h.clock, 100, 10);
    expect(bare.openOrders).toBe(0);
    // The venue with a switch is left to its countdown: no cancel, and no renewal any more.
    expect(guarded.callsOf('cancelAllOrders')).toHaveLength(0);
    const armsAtEnd = guarded.callsOf('armDeadMansSwitch').length;
    await advanceBy(h.clock, 61_000, 500);
    expect(guarded.callsOf('armDeadMansSwitch')).toHaveLength(armsAtEnd);
    guarded.fireSwitchIfDue();
    expect(guarded.openOrders).toBe(0);
    const events = venueEvents().filter((e) => e.metadata.venue === 'bare');
    expect(events.map((e) => e.type).slice(0, 2)).toEqual(['VENUE_CANCEL_ALL', 'VENUE_FLAT']);
    expect(events[0]?.metadata).toMatchObject({
      cause: 'FLEET_LEASE_ENDED',
      trigger: null,
      outcome: 'ok',
      cancelledCount: 5,
    });
    expect(events[1]?.reason).toMatch(/^bare: flat \d+ ms after the fleet lease ended$/);
    expect(gov.venueStatus().find((v) => v.name === 'bare')).toMatchObject({
      flat: true,
      openOrders: 0,
    });
  });

  it('a venue not flat after the lease ended raises VENUE_NOT_FLAT; a lease granted again ends the cancels', async () => {
    const { gov, authority, bare } = fleetWithVenues(60_000);
    await start(gov);
    bare.cancelsIgnored = 1_000_000;
    authority.unreachable = true;
    await advanceBy(h.clock, 7_000, 50);
    const notFlat = gov.alertManager.getAlerts().filter((a) => a.kind === 'VENUE_NOT_FLAT');
    expect(notFlat).toHaveLength(1);
    expect(notFlat[0]?.severity).toBe('CRITICAL');
    expect(notFlat[0]?.title).toBe('Venue not flat after the fleet lease ended: bare');
    expect(notFlat[0]?.message).toMatch(
      /^bare: not flat \d+ ms after the fleet lease ended \(fleet authority lease ended: no renewal granted within leaseMs \(900 ms\)\), 5 orders open/,
    );
    expect(gov.venueStatus().find((v) => v.name === 'bare')?.cancelling).toBe(true);
    // The authority answers again (before authorityLossMs): the lease is granted, the gate reopens,
    // and governor stops cancelling what the engine may now place.
    authority.unreachable = false;
    await advanceBy(h.clock, 1_000, 10);
    expect(gov.authorityLease()?.status).toBe('held');
    expect(gov.canDeployCapital()).toBe(true);
    expect(gov.venueStatus().find((v) => v.name === 'bare')?.cancelling).toBe(false);
    const cancels = bare.callsOf('cancelAllOrders').length;
    await advanceBy(h.clock, 10_000, 100);
    expect(bare.callsOf('cancelAllOrders')).toHaveLength(cancels);
    const final = venueEvents().filter(
      (e) => e.type === 'VENUE_NOT_FLAT' && e.metadata.final === true,
    );
    expect(final).toHaveLength(1);
    expect(final[0]?.reason).toMatch(/\(the fleet lease was granted again\)/);
    expect(final[0]?.metadata.cause).toBe('FLEET_LEASE_ENDED');
  });

  it("fenced by a kill: the lease ends at once, the venue without a switch is cancelled, then the kill's SHUTDOWN cancels everywhere", async () => {
    const { gov, authority, bare, guarded } = fleetWithVenues(60_000);
    await start(gov);
    authority.kill('firm/desk-a', 'alice', 'INC-9');
    await advanceBy(h.clock, 20, 1);
    expect(gov.getState()).toBe('SHUTDOWN');
    await advanceBy(h.clock, 200, 10);
    const cancels = venueEvents().filter((e) => e.type === 'VENUE_CANCEL_ALL');
    expect(cancels.map((e) => [e.metadata.venue, e.metadata.cause ?? e.metadata.trigger])).toEqual([
      ['bare', 'FLEET_LEASE_ENDED'],
      ['bare', 'OPERATOR_KILL'],
      ['guarded', 'OPERATOR_KILL'],
    ]);
    expect([bare.openOrders, guarded.openOrders]).toEqual([0, 0]);
    expect(gov.venueStatus().every((v) => v.flat === true)).toBe(true);
  });

  it('no cancel when the lease was never held (a start without the authority), nor after close()', async () => {
    const first = fleetWithVenues(60_000);
    first.authority.unreachable = true;
    expect(await start(first.gov)).toBe(false);
    await advanceBy(h.clock, 3_000, 50);
    expect(first.bare.callsOf('cancelAllOrders')).toHaveLength(0);
    h.cleanup();
    const second = fleetWithVenues(60_000);
    await start(second.gov);
    second.gov.close();
    second.authority.unreachable = true;
    await advanceBy(h.clock, 3_000, 50);
    expect(second.bare.callsOf('cancelAllOrders')).toHaveLength(0);
  });
});
