/**
 * Goal: services/governor/status.ts projects what an operator must see, live and recorded: live,
 * the gate's answer and the latch with where it was kept, on the injected clock's time; recorded,
 * a database nobody owns is never shown as trading (state null, or SHUTDOWN when latched, and
 * `canDeployCapital` false always), an owner's recorded state is named as such; alerts counted
 * whole but at most STATUS_ALERTS_MAX carried, their texts clipped; venues in a gone owner's
 * process shown flat. Driven on a real GovernanceSystem (test/support/harness.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../../persistence/index.js';
import type { OwnerInfo } from '../../../persistence/owner-lock.js';
import {
  liveStatus,
  recordedStatus,
  recordedVenues,
  STATUS_ALERT_TEXT_CHARS_MAX,
} from '../../../services/governor/status.js';
import { type Harness, makeHarness } from '../../support/harness.js';

let h: Harness | undefined;
afterEach(() => {
  h?.cleanup();
  h = undefined;
});

const OWNER: OwnerInfo = {
  pid: 4242,
  host: 'box-1',
  since: '2026-01-01T00:00:00.000Z',
  lockPath: '/nonexistent.lock',
  lockInode: 1,
  processStart: null,
};

describe('liveStatus', () => {
  it('AGGRESSIVE: open gate, this process, the injected clock, no latch', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    h.clock.skip(1_000);
    const status = liveStatus(h.gov);
    expect(status).toMatchObject({
      running: true,
      source: 'live',
      pid: process.pid,
      db: h.dbPath,
      time: new Date(h.clock.wallNow()).toISOString(),
      state: 'AGGRESSIVE',
      recordedState: 'AGGRESSIVE',
      canDeployCapital: true,
      latch: null,
      latchSource: null,
      heartbeatLossMs: h.gov.thresholds.heartbeatLossMs,
      unacknowledgedAlerts: 0,
    });
    expect(status.startupChecks).toEqual({ passed: true, failed: [] });
    expect(status.health?.healthy).toBe(true);
  });

  it("after an operator's shutdown: closed, latched OPERATOR_KILL in the database, its alert counted and clipped", async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    const reason = 'r'.repeat(STATUS_ALERT_TEXT_CHARS_MAX.message + 100);
    h.gov.operatorShutdown({ operator: 'alice', reason });
    const status = liveStatus(h.gov);
    expect(status.state).toBe('SHUTDOWN');
    expect(status.canDeployCapital).toBe(false);
    expect(status.trigger).toBe('OPERATOR_KILL');
    expect(status.latch?.trigger).toBe('OPERATOR_KILL');
    expect(status.latchSource).toBe('database');
    expect(status.unacknowledgedAlertsBySeverity.CRITICAL).toBeGreaterThanOrEqual(1);
    const alert = status.alerts.find((a) => a.kind === 'SHUTDOWN');
    expect(alert?.message).toHaveLength(STATUS_ALERT_TEXT_CHARS_MAX.message);
    expect(alert?.message.endsWith('…')).toBe(true);
    expect(
      h.gov.alertManager.getAlerts().find((a) => a.kind === 'SHUTDOWN')?.message.length,
    ).toBeGreaterThan(STATUS_ALERT_TEXT_CHARS_MAX.message);
  });
});

describe('recordedStatus', () => {
  it('a closed, unlatched database with no owner: not running, no state to act on, closed', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    h.gov.close();
    const status = recordedStatus(h.reader(), h.dbPath, null, Date.UTC(2026, 5, 1));
    expect(status).toMatchObject({
      running: false,
      source: 'recorded',
      owner: null,
      pid: null,
      time: '2026-06-01T00:00:00.000Z',
      state: null,
      canDeployCapital: false,
      reason: 'no owner is running: nothing may deploy capital',
      latch: null,
      health: null,
    });
    // What it last recorded stays visible beside the headline.
    expect(status.recordedState).not.toBeNull();
  });

  it('with an owner known from its lock: its recorded state, named as such, and still closed', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    const status = recordedStatus(h.reader(), h.dbPath, OWNER, 0);
    expect(status.running).toBe(true);
    expect(status.state).toBe('AGGRESSIVE');
    expect(status.canDeployCapital).toBe(false);
    expect(status.owner).toEqual({ pid: 4242, host: 'box-1', since: OWNER.since });
    expect(status.reason).toMatch(/^owner pid 4242 was not asked over a control socket/);
  });

  it('a latched database is SHUTDOWN whoever runs, with the latch, its source and reason', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    h.gov.operatorShutdown({ operator: 'bob', reason: 'halt now' });
    h.gov.close();
    for (const owner of [null, OWNER]) {
      const status = recordedStatus(h.reader(), h.dbPath, owner, 0);
      expect(status.state).toBe('SHUTDOWN');
      expect(status.canDeployCapital).toBe(false);
      expect(status.latchSource).toBe('database');
      expect(status.trigger).toBe('OPERATOR_KILL');
      expect(status.reason).toMatch(/^SHUTDOWN latched \(OPERATOR_KILL\): /);
      expect(status.unacknowledgedAlerts).toBeGreaterThanOrEqual(1);
    }
  });
});

describe('recordedVenues', () => {
  it("a venue whose orders lived in a gone owner's process is flat with none open; others as recorded", () => {
    h = makeHarness();
    h.gov.close();
    const store = Store.open(h.dbPath);
    try {
      store.venues.register(['remote', { name: 'local', inProcess: true }]);
      store.venues.recordCount('remote', 3, false);
      store.venues.recordCount('local', 2, false);
      store.venues.recordCancel('remote', 12.6, Date.UTC(2026, 0, 1));
      const gone = new Map(recordedVenues(store, false).map((v) => [v.name, v]));
      expect(gone.get('local')).toMatchObject({ flat: true, openOrders: 0, inProcess: true });
      expect(gone.get('remote')).toMatchObject({
        flat: false,
        openOrders: 3,
        lastCancelLatencyMs: 13,
        cancelling: false,
        deadMansSwitch: false,
      });
      const running = new Map(recordedVenues(store, true).map((v) => [v.name, v]));
      expect(running.get('local')).toMatchObject({ flat: false, openOrders: 2 });
    } finally {
      store.close();
    }
  });
});
