/**
 * Goal: the same faults produced by real SQLite, not the injector, end the same way: a full
 * disk (`PRAGMA max_page_count` at the current size, free space used up), a read-only
 * connection (`PRAGMA query_only`) and a second connection holding `BEGIN EXCLUSIVE` (writes
 * wait out the 250 ms busy timeout, then fail): SHUTDOWN, final state persisted (the fallback
 * file where the database refuses it),
 * one CRITICAL alert, and a reopen that stays in SHUTDOWN without a new alert.
 */
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { FaultMode } from '../../persistence/faults.js';
import { isGovernorError } from '../../services/errors.js';
import { applyRealFault } from '../../testing.js';
import { settle } from '../support/harness.js';
import { type FaultRig, makeFaultRig } from './support.js';

const OPERATOR = { operator: 'ops', reason: 'real fault test' };
const FILL_APPENDS_MAX = 10_000;
let rig: FaultRig;
let undo: (() => void) | null = null;
afterEach(() => {
  undo?.();
  undo = null;
  rig?.cleanup();
});

/** Uses up the free space left under max_page_count, so the next write needs a new page. */
function fillToTheBrim(r: FaultRig): void {
  const padding = 'x'.repeat(2_000);
  for (let i = 0; i < FILL_APPENDS_MAX; i++) {
    try {
      r.gov.engine.events.append({ eventType: 'PADDING', reason: 'fill', metadata: { padding } });
    } catch (error) {
      if (isGovernorError(error) && error.details?.sqliteCode === 'SQLITE_FULL') return;
      throw error;
    }
  }
  throw new Error('the database never filled up');
}

async function breakDatabase(mode: FaultMode): Promise<void> {
  rig = makeFaultRig();
  expect(await rig.gov.runStartupChecks()).toBe(true);
  undo = applyRealFault(rig.gov, mode);
  if (mode === 'SQLITE_FULL') fillToTheBrim(rig);
}

async function expectFailSafeAndNoCrashLoop(): Promise<void> {
  expect(rig.gov.getState()).toBe('SHUTDOWN');
  // A full disk may still take a small transaction in a page's free space: either is persisted.
  const persistedTo = rig.gov.failSafeManager.getFailSafeState().persistedTo;
  expect(persistedTo).not.toBeNull();
  if (persistedTo === 'fallback-file') expect(existsSync(rig.fallbackPath)).toBe(true);
  await settle();
  expect(rig.alerts.filter((a) => a.kind === 'SHUTDOWN')).toHaveLength(1);
  undo?.();
  undo = null;
  const before = rig.alerts.length;
  await rig.crashAndReopen().runStartupChecks();
  expect(rig.gov.getState()).toBe('SHUTDOWN');
  await settle();
  expect(rig.alerts.slice(before).map((a) => `${a.kind} ${a.message}`)).toEqual([]);
}

describe.each<FaultMode>(['SQLITE_FULL', 'READONLY'])('real SQLite: %s', (mode) => {
  it('heartbeats fail, the fail-safe shuts down into the fallback file', async () => {
    await breakDatabase(mode);
    rig.runEngine(20 * 60_000);
    expect(rig.gov.getCause().trigger).toBe('HEALTH_CHECK_FAILED');
    await expectFailSafeAndNoCrashLoop();
  });

  it('the kill switch persists its final state to the fallback file', async () => {
    await breakDatabase(mode);
    rig.gov.operatorShutdown(OPERATOR);
    await expectFailSafeAndNoCrashLoop();
  });
});

describe('real SQLite: locked by another connection', () => {
  it('the kill switch waits out the busy timeout, then persists to the fallback file', async () => {
    await breakDatabase('LOCKED');
    rig.gov.operatorShutdown(OPERATOR);
    expect(rig.gov.canDeployCapital()).toBe(false);
    await expectFailSafeAndNoCrashLoop();
  });
});
