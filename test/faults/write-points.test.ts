/**
 * Goal: at every write point (heartbeat, mode change, shutdown, alert raise, operator audit,
 * startup report) a full disk, a read-only file or a database locked by another connection ends
 * fail-safe: SHUTDOWN with its final state persisted (in the fallback file when the database
 * cannot be written), exactly one CRITICAL shutdown alert and at most one alert per incident,
 * no crash loop (reopening stays in SHUTDOWN and raises nothing new), no unhandled rejection.
 */
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FaultMode } from '../../persistence/faults.js';
import { isGovernorError } from '../../services/errors.js';
import { settle } from '../support/harness.js';
import { type FaultRig, makeFaultRig } from './support.js';

const OPERATOR = { operator: 'ops', reason: 'fault test' };
const MINUTE_MS = 60_000;
const MODES: readonly FaultMode[] = ['SQLITE_FULL', 'READONLY', 'LOCKED'];

/** Each write point: how to reach it with the fault standing (the rig is AGGRESSIVE unless said). */
const WRITE_POINTS: ReadonlyArray<{
  name: string;
  startFaulted?: boolean;
  hit: (rig: FaultRig) => Promise<void> | void;
}> = [
  { name: 'heartbeat', hit: (rig) => rig.runEngine(30_000) },
  { name: 'mode change', hit: (rig) => rig.gov.operatorObserve(OPERATOR) },
  { name: 'shutdown', hit: (rig) => rig.gov.operatorShutdown(OPERATOR) },
  {
    name: 'alert raise',
    hit: (rig) => {
      rig.clock.skip(3 * MINUTE_MS); // a stall: heartbeat loss, whose alert must be inserted
      rig.clock.runDue();
    },
  },
  {
    name: 'operator audit',
    hit: async (rig) => {
      rig.faults.setMode(null);
      rig.gov.operatorObserve(OPERATOR);
      rig.faults.setMode(currentMode);
      const refused = await rig.gov.operatorResume(OPERATOR).catch((error: unknown) => error);
      expect(isGovernorError(refused) && refused.code).toBe('GOV_STORAGE_FAILURE');
    },
  },
  { name: 'startup report', startFaulted: true, hit: () => undefined },
];

let currentMode: FaultMode = 'SQLITE_FULL';
let rig: FaultRig;
let unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
  rig?.cleanup();
});

function shutdownAlerts(r: FaultRig) {
  return r.alerts.filter((a) => a.kind === 'SHUTDOWN');
}

describe.each(MODES)('with the database %s', (mode) => {
  it.each(WRITE_POINTS)(
    'at the $name write point: fail-safe, one alert, no crash loop',
    async (point) => {
      currentMode = mode;
      rig = makeFaultRig();
      if (point.startFaulted === true) rig.faults.setMode(mode);
      const passed = await rig.gov.runStartupChecks();
      expect(passed).toBe(point.startFaulted !== true);
      rig.faults.setMode(mode);
      await point.hit(rig);
      rig.runEngine(20 * MINUTE_MS); // inputs fresh: only the unwritable database can shut it down

      expect(rig.gov.getState()).toBe('SHUTDOWN');
      expect(rig.gov.canDeployCapital()).toBe(false);
      expect(rig.gov.failSafeManager.getFailSafeState().persistedTo).toBe('fallback-file');
      expect(existsSync(rig.fallbackPath)).toBe(true);
      const record = JSON.parse(readFileSync(rig.fallbackPath, 'utf8')) as {
        latch: { trigger: string };
      };
      expect(record.latch.trigger).toBe(rig.gov.getCause().trigger);
      await settle();
      expect(shutdownAlerts(rig)).toHaveLength(1);
      expect(shutdownAlerts(rig)[0]?.severity).toBe('CRITICAL');
      const keys = rig.alerts.map((a) => a.dedupKey);
      expect(new Set(keys).size).toBe(keys.length);

      const alertsBefore = rig.alerts.length;
      await rig.crashAndReopen().runStartupChecks(); // the disk is still broken
      expect(rig.gov.getState()).toBe('SHUTDOWN');
      rig.faults.setMode(null);
      await rig.crashAndReopen().runStartupChecks(); // repaired, but no operator restart yet
      expect(rig.gov.getState()).toBe('SHUTDOWN');
      await settle();
      expect(rig.alerts.slice(alertsBefore).map((a) => a.kind)).toEqual([]);
      expect(unhandled).toEqual([]);
    },
  );
});
