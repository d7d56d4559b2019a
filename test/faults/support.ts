/**
 * Test support for disk and process faults: a GovernanceSystem on a shared SimulatedClock whose
 * store consults a FaultInjector, "processes" that can be abandoned (a crash) and reopened on the
 * same file, and a record of every alert delivered to a sink, persisted or not (delivery is
 * asynchronous: let it settle before reading them).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultInjector } from '../../persistence/faults.js';
import type { GovernorAlert } from '../../services/alerts/types.js';
import { SimulatedClock } from '../../services/clock.js';
import { GovernanceSystem } from '../../services/governor/governance-system.js';
import { simulateCrash } from '../../testing.js';
import { ProcessClock } from '../sim/process-clock.js';
import { recordingSink } from '../support/harness.js';

export interface FaultRig {
  readonly clock: SimulatedClock;
  readonly faults: FaultInjector;
  readonly dbPath: string;
  readonly fallbackPath: string;
  /** Every alert raised by any process of this rig, in order. */
  readonly alerts: GovernorAlert[];
  gov: GovernanceSystem;
  /** Abandons the current process (no close: a crash) and starts a new one on the same file. */
  crashAndReopen(): GovernanceSystem;
  /** Keeps market data and snapshots fresh every 10 s while `totalMs` passes. */
  runEngine(totalMs: number): void;
  cleanup(): void;
}

export function makeFaultRig(): FaultRig {
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const dir = mkdtempSync(join(base, 'governor-faults-'));
  const dbPath = join(dir, 'governor.db');
  const clock = new SimulatedClock();
  const faults = new FaultInjector();
  const alerts: GovernorAlert[] = [];
  const processes: Array<{ clock: ProcessClock; gov: GovernanceSystem }> = [];
  const open = (): GovernanceSystem => {
    const processClock = new ProcessClock(clock);
    const gov = new GovernanceSystem({
      dbPath,
      clock: processClock,
      faults,
      alertSinks: [recordingSink(alerts)],
      operatorRequestPollMs: null,
    });
    processes.push({ clock: processClock, gov });
    return gov;
  };
  const rig: FaultRig = {
    clock,
    faults,
    dbPath,
    fallbackPath: `${dbPath}.shutdown.json`,
    alerts,
    gov: open(),
    crashAndReopen() {
      const current = processes[processes.length - 1];
      current?.clock.kill();
      if (current !== undefined) simulateCrash(current.gov);
      rig.gov = open();
      return rig.gov;
    },
    runEngine(totalMs) {
      for (let elapsedMs = 0; elapsedMs < totalMs; elapsedMs += 10_000) {
        rig.gov.healthMonitor.updateMarketDataTimestamp();
        rig.gov.healthMonitor.updateSnapshotWriteTimestamp();
        clock.advance(Math.min(10_000, totalMs - elapsedMs));
      }
    },
    cleanup() {
      for (const p of processes) p.clock.kill();
      const last = processes[processes.length - 1];
      try {
        if (last !== undefined && existsSync(dbPath)) last.gov.close();
      } catch {
        // a process broken on purpose
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return rig;
}
