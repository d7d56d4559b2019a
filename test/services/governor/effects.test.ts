/**
 * Goal: the machine's entry actions (services/governor/effects.ts), driven directly over a real
 * ModeJournal on a temporary database, a recording Incidents and a SimulatedClock: a fresh
 * failure's OBSERVE_ONLY writes its hold and raises its incident once (a held one neither);
 * SHUTDOWN tells the venues to cancel before the latch is written, then writes the latch with
 * its staged alert and anchors the head; when the database refuses, the latch goes to the
 * fallback file with its alert raised from memory; an effect never throws into the machine; and
 * listeners hear of a change only when told, each once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GovernorContext, ShutdownLatch } from '../../../machines/types.js';
import { Store } from '../../../persistence/index.js';
import { ModeJournal } from '../../../persistence/mode-journal.js';
import { SimulatedClock } from '../../../services/clock.js';
import { DEFAULT_THRESHOLDS } from '../../../services/config.js';
import { fallbackPathFor, readFallbackRecord } from '../../../services/fallback-file.js';
import { Effects, type ModeChange } from '../../../services/governor/effects.js';
import type { Incidents } from '../../../services/governor/incidents.js';
import { HealthMonitor } from '../../../services/health/health-monitor.js';
import { silentLogger } from '../../../services/logger.js';

const LATCH: ShutdownLatch = {
  trigger: 'MARKET_DATA_STALL',
  reason: 'no market data for 10m',
  at: '2026-01-01T00:10:00.000Z',
};

function context(overrides: Partial<GovernorContext> = {}): GovernorContext {
  return {
    lifecycleId: 'lc-1',
    configuredMode: 'AGGRESSIVE',
    desiredMode: 'AGGRESSIVE',
    latch: null,
    hold: null,
    startupChecksTimeoutMs: 60_000,
    visit: 1,
    report: null,
    observeCause: null,
    causeReason: null,
    causeHeld: false,
    shutdown: null,
    ...overrides,
  };
}

let dir: string;
let dbPath: string;
let store: Store;
let clock: SimulatedClock;
let health: HealthMonitor;
let calls: string[];
let released: number;
let effects: Effects;

function recordingIncidents(): Incidents {
  const open = new Set<string>();
  const fake = {
    startupFailure: (_r: unknown, reason: string) => void calls.push(`incident startup: ${reason}`),
    heartbeatLoss: (reason: string, _l: string, details: Record<string, unknown>) =>
      void calls.push(`incident heartbeat: ${reason} from ${String(details.state)}`),
    stageShutdown: (latch: ShutdownLatch) => {
      calls.push(`stage ${latch.trigger}`);
      open.add(latch.at);
      return { alert: {}, release: () => void released++ };
    },
    shutdown: (latch: ShutdownLatch, details: { persistedTo: string | null }) => {
      calls.push(`raise ${latch.trigger} persistedTo=${details.persistedTo}`);
      return true;
    },
    shutdownAlertOpen: (latch: ShutdownLatch) => open.has(latch.at),
  };
  return fake as unknown as Incidents;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'governor-effects-'));
  dbPath = join(dir, 'governor.db');
  store = Store.open(dbPath);
  clock = new SimulatedClock();
  health = new HealthMonitor(clock, DEFAULT_THRESHOLDS);
  calls = [];
  released = 0;
  const journal = new ModeJournal(store);
  effects = new Effects({
    journal,
    incidents: recordingIncidents(),
    health,
    heartbeatAgeMs: () => 0,
    clock,
    logger: silentLogger(),
    fallbackPath: fallbackPathFor(dbPath),
    anchorHead: () => void calls.push('anchor'),
    shutdownEntered: (latch) => {
      calls.push(
        `cancel venues (${latch.trigger}); latch on record: ${journal.readLatch() !== null}`,
      );
    },
  });
});
afterEach(() => {
  try {
    store.close();
  } catch {
    // closed by the test
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('Effects: OBSERVE_ONLY', () => {
  it('a fresh failure writes its hold and raises its incident; the listeners hear once, when told', () => {
    const heard: ModeChange[] = [];
    effects.addListener((change) => void heard.push(change));
    effects.enter(
      'AGGRESSIVE',
      'OBSERVE_ONLY',
      context({ observeCause: 'HEARTBEAT_LOST', causeReason: 'no heartbeat for 2m' }),
    );
    expect(calls).toEqual(['incident heartbeat: no heartbeat for 2m from AGGRESSIVE']);
    expect(new ModeJournal(store).read().hold).toMatchObject({
      cause: 'HEARTBEAT_LOST',
      reason: 'no heartbeat for 2m',
      at: new Date(clock.wallNow()).toISOString(),
    });
    expect(heard).toEqual([]);
    effects.tellListeners();
    effects.tellListeners();
    expect(heard).toHaveLength(1);
    expect(heard[0]).toMatchObject({
      from: 'AGGRESSIVE',
      to: 'OBSERVE_ONLY',
      cause: 'HEARTBEAT_LOST',
      causeHeld: false,
      trigger: null,
      reason: 'no heartbeat for 2m',
    });
  });

  it('a failure held from earlier raises no new incident and writes no new hold', () => {
    effects.enter(
      'CHECKING',
      'OBSERVE_ONLY',
      context({ observeCause: 'HEARTBEAT_LOST', causeReason: 'held', causeHeld: true }),
    );
    expect(calls).toEqual([]);
    expect(new ModeJournal(store).read().hold).toBeNull();
  });

  it('failed startup checks raise the startup incident', () => {
    effects.enter(
      'CHECKING',
      'OBSERVE_ONLY',
      context({ observeCause: 'STARTUP_CHECKS_FAILED', causeReason: 'capital mismatch' }),
    );
    expect(calls).toEqual(['incident startup: capital mismatch']);
  });

  it('a hold the database cannot take goes to the fallback file; nothing throws', () => {
    store.close();
    const errorsBefore = health.errorRatePerMinute();
    expect(() =>
      effects.enter(
        'AGGRESSIVE',
        'OBSERVE_ONLY',
        context({ observeCause: 'HEARTBEAT_LOST', causeReason: 'lost' }),
      ),
    ).not.toThrow();
    expect(readFallbackRecord(fallbackPathFor(dbPath))?.hold).toMatchObject({
      cause: 'HEARTBEAT_LOST',
      reason: 'lost',
    });
    expect(health.errorRatePerMinute()).toBeGreaterThan(errorsBefore);
  });
});

describe('Effects: SHUTDOWN', () => {
  it('cancels first, then writes the latch with its staged alert, releases it, anchors the head', () => {
    effects.enter('AGGRESSIVE', 'SHUTDOWN', context({ shutdown: LATCH }));
    expect(calls).toEqual([
      'cancel venues (MARKET_DATA_STALL); latch on record: false',
      'stage MARKET_DATA_STALL',
      'anchor',
    ]);
    expect(released).toBe(1);
    expect(new ModeJournal(store).readLatch()).toEqual(LATCH);
    expect(effects.persistedTo).toBe('database');
    expect(readFallbackRecord(fallbackPathFor(dbPath))).toBeNull();
  });

  it('a SHUTDOWN without a recorded cause latches UNRECOVERABLE_EXCEPTION on the clock', () => {
    effects.enter('AGGRESSIVE', 'SHUTDOWN', context());
    expect(new ModeJournal(store).readLatch()).toEqual({
      trigger: 'UNRECOVERABLE_EXCEPTION',
      reason: 'SHUTDOWN without a recorded cause',
      at: new Date(clock.wallNow()).toISOString(),
    });
  });

  it('a database that refuses: the latch goes to the fallback file, the alert is raised from memory, no anchor', () => {
    store.close();
    expect(() =>
      effects.enter('AGGRESSIVE', 'SHUTDOWN', context({ shutdown: LATCH })),
    ).not.toThrow();
    expect(effects.persistedTo).toBe('fallback-file');
    const record = readFallbackRecord(fallbackPathFor(dbPath));
    expect(record?.latch).toEqual(LATCH);
    expect(record?.finalState).toMatchObject({
      from: 'AGGRESSIVE',
      to: 'SHUTDOWN',
      alertRaised: true,
    });
    expect(calls).toContain('raise MARKET_DATA_STALL persistedTo=fallback-file');
    expect(calls).not.toContain('anchor');
    expect(released).toBe(0);
  });

  it('a listener that throws does not stop the others', () => {
    const heard: string[] = [];
    effects.addListener(() => {
      throw new Error('bad listener');
    });
    effects.addListener((change) => void heard.push(`${change.from}->${change.to}`));
    effects.enter('AGGRESSIVE', 'SHUTDOWN', context({ shutdown: LATCH }));
    effects.tellListeners();
    expect(heard).toEqual(['AGGRESSIVE->SHUTDOWN']);
  });

  it('announceRestart tells the listeners SHUTDOWN -> STARTING at once', () => {
    const heard: ModeChange[] = [];
    effects.addListener((change) => void heard.push(change));
    effects.announceRestart('lc-2', 'operator alice: fixed');
    expect(heard).toEqual([
      {
        from: 'SHUTDOWN',
        to: 'STARTING',
        cause: null,
        causeHeld: false,
        trigger: null,
        reason: 'operator alice: fixed',
        lifecycleId: 'lc-2',
        at: new Date(clock.wallNow()),
      },
    ]);
  });
});
