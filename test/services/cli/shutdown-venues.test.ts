/**
 * Goal: `governor shutdown` reports flatness. With an owner running (here an engine in this
 * process with fake venues), it prints per venue the orders cancelled and when it was flat,
 * from the owner's events after the request, or NOT FLAT with the orders left (exit 9). With no
 * owner, it says when each venue's dead man's switch cancels (exit 9 when none is armed); a venue
 * whose orders lived in the stopped owner's process (`inProcess`) is flat then, and says why.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Store } from '../../../persistence/index.js';
import { SystemClock } from '../../../services/clock.js';
import { GovernanceSystem } from '../../../services/governor/governance-system.js';
import { runCliInProcess } from '../../support/cli-in-process.js';
import { FakeVenue } from '../../support/fake-venue.js';

const directories: string[] = [];
const systems: GovernanceSystem[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const system of systems.splice(0)) system.close();
  for (const directory of directories.splice(0))
    rmSync(directory, { recursive: true, force: true });
});

function databasePath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'governor-shutdown-venues-'));
  directories.push(dir);
  return join(dir, 'governor.db');
}

const WHO = ['--operator', 'olga', '--reason', 'kill drill'];

describe('governor shutdown with venues', () => {
  it('prints the orders cancelled and when each venue was flat, measured from the request', async () => {
    const db = databasePath();
    const clock = new SystemClock();
    const kraken = new FakeVenue({ name: 'kraken', clock, openOrders: 12 });
    const binance = new FakeVenue({ name: 'binance', clock, openOrders: 3 });
    const owner = new GovernanceSystem({ dbPath: db, venues: [kraken, binance] });
    systems.push(owner);
    expect(await owner.runStartupChecks()).toBe(true);
    const result = await runCliInProcess(['shutdown', '--db', db, ...WHO]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/governor is now SHUTDOWN/);
    expect(result.stdout).toMatch(/^kraken: 12 orders cancelled, flat \d+ ms after the request$/m);
    expect(result.stdout).toMatch(/^binance: 3 orders cancelled, flat \d+ ms after the request$/m);
    expect(kraken.openOrders).toBe(0);
    // A second kill starts no new cancel: the venues as recorded, at once.
    const again = await runCliInProcess(['shutdown', '--db', db, ...WHO]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^kraken: already SHUTDOWN before this request: flat on record$/m);
  });

  it('a venue not flat in time: NOT FLAT with the orders left, exit 9', async () => {
    const db = databasePath();
    const clock = new SystemClock();
    const stubborn = new FakeVenue({ name: 'kraken', clock, openOrders: 3 });
    const owner = new GovernanceSystem({
      dbPath: db,
      venues: [stubborn],
      thresholds: { venueFlatWithinMs: 300 },
    });
    systems.push(owner);
    expect(await owner.runStartupChecks()).toBe(true);
    stubborn.cancelsIgnored = 1_000_000;
    const result = await runCliInProcess(['shutdown', '--db', db, ...WHO, '--json']);
    expect(result.code).toBe(9);
    const printed = JSON.parse(result.stdout) as { venues: Array<Record<string, unknown>> };
    expect(printed.venues).toEqual([
      expect.objectContaining({ venue: 'kraken', kind: 'not-flat', openOrders: 3 }),
    ]);
    const text = await runCliInProcess(['status', '--db', db, '--json']);
    const status = JSON.parse(text.stdout) as { venues: Array<Record<string, unknown>> };
    expect(status.venues[0]).toMatchObject({ name: 'kraken', flat: false, openOrders: 3 });
  });

  it('with no owner running, says when each venue dead man switch cancels; exit 9 when none is armed', async () => {
    const db = databasePath();
    const store = Store.open(db);
    store.venues.register(['kraken', 'binance']);
    const now = Date.now();
    store.venues.recordSwitchArmed('kraken', 60_000, now - 10_000, now + 50_000);
    store.close();
    const result = await runCliInProcess(['shutdown', '--db', db, ...WHO]);
    expect(result.code).toBe(9);
    expect(result.stderr).toMatch(
      /^kraken: no owner running to cancel; the venue's dead man's switch cancels every order at \S+ \(in \d+s\), unless renewed$/m,
    );
    expect(result.stderr).toMatch(/^binance: NOT CONFIRMED FLAT: no owner running to cancel/m);
  });

  it('an in-process venue: a live owner cancels there as anywhere', async () => {
    const db = databasePath();
    const clock = new SystemClock();
    const paper = new FakeVenue({
      name: 'paper-exchange',
      clock,
      openOrders: 7,
      inProcess: true,
      withoutDeadMansSwitch: true,
    });
    const owner = new GovernanceSystem({ dbPath: db, venues: [paper] });
    systems.push(owner);
    expect(await owner.runStartupChecks()).toBe(true);
    expect(owner.venueStatus()[0]).toMatchObject({ name: 'paper-exchange', inProcess: true });
    const result = await runCliInProcess(['shutdown', '--db', db, ...WHO]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^paper-exchange: 7 orders cancelled, flat \d+ ms after the request$/m,
    );
    expect(paper.openOrders).toBe(0);
  });

  it('regression: an in-process venue on record named NOT CONFIRMED FLAT by an offline kill (exit 9); with no owner running it is flat, its orders gone with the process', async () => {
    const db = databasePath();
    const clock = new SystemClock();
    const paper = new FakeVenue({
      name: 'paper-exchange',
      clock,
      openOrders: 5,
      inProcess: true,
      withoutDeadMansSwitch: true,
    });
    const owner = new GovernanceSystem({ dbPath: db, venues: [paper] });
    expect(await owner.runStartupChecks()).toBe(true);
    owner.close();
    const result = await runCliInProcess(['shutdown', '--db', db, ...WHO]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/governor is now SHUTDOWN \(no owner running/);
    expect(result.stdout).toMatch(
      /^paper-exchange: its orders lived in the stopped process; nothing rests there$/m,
    );
    const json = await runCliInProcess(['status', '--db', db, '--json']);
    const status = JSON.parse(json.stdout) as { venues: Array<Record<string, unknown>> };
    expect(status.venues).toEqual([
      expect.objectContaining({
        name: 'paper-exchange',
        flat: true,
        openOrders: 0,
        inProcess: true,
      }),
    ]);
    const text = await runCliInProcess(['status', '--db', db]);
    expect(text.stdout).toMatch(
      /paper-exchange: flat: its orders lived in the stopped process; nothing rests there/,
    );
  });

  it('with no owner running, an in-process venue does not hide another venue left unconfirmed (exit 9)', async () => {
    const db = databasePath();
    const store = Store.open(db);
    store.venues.register([{ name: 'paper-exchange', inProcess: true }, 'binance']);
    store.close();
    const result = await runCliInProcess(['shutdown', '--db', db, ...WHO, '--json']);
    expect(result.code).toBe(9);
    const printed = JSON.parse(result.stdout) as { venues: Array<Record<string, unknown>> };
    expect(printed.venues).toEqual([
      { venue: 'binance', kind: 'no-switch' },
      { venue: 'paper-exchange', kind: 'process-gone' },
    ]);
  });
});
