/**
 * Goal: the simulator's checker is not vacuous: deliberately broken governors are caught, with
 * their seed and a shrunk, replayable trace (`npm run test:slow`, in CI).
 */
import Sqlite from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import {
  GovernanceSystem,
  type GovernanceSystemOptions,
} from '../../services/governor/governance-system.js';
import { SIM_DAYS } from './seeds.js';
import { describeFailure, shrink } from './shrink.js';
import { type GovernorFactory, runSeed } from './simulator.js';

/** A gate that forgets the heartbeat lease: open whenever the machine says AGGRESSIVE. */
class LeaseIgnoringGovernor extends GovernanceSystem {
  override canDeployCapital(): boolean {
    return this.getState() === 'AGGRESSIVE';
  }
}

/**
 * A governor that never raises the CRITICAL alert of a shutdown: silent failure. (Seen from
 * outside, through the alert listener, as an observer of the real one would see it.)
 */
class SilentShutdownsGovernor extends GovernanceSystem {
  override onAlert(listener: Parameters<GovernanceSystem['onAlert']>[0]): () => void {
    return super.onAlert((alert) => {
      if (alert.kind !== 'SHUTDOWN') listener(alert);
    });
  }
}
const silentShutdowns = (options: GovernanceSystemOptions): GovernanceSystem =>
  new SilentShutdownsGovernor(options);

/**
 * A second path into SHUTDOWN that skips the machine (the flaw the one-authority design
 * removed): the kill switch writes the latch straight into the database, as the old offline
 * command did, and the running machine never hears of it.
 */
class SecondPathGovernor extends GovernanceSystem {
  override operatorShutdown(request: { operator: string; reason: string }): void {
    const db = new Sqlite(this.dbPath, { timeout: 1_000 });
    try {
      db.prepare(
        "UPDATE system_state SET latch_trigger = 'OPERATOR_KILL', latch_reason = ?, latch_at = ?",
      ).run(`operator ${request.operator}: ${request.reason}`, new Date().toISOString());
    } finally {
      db.close();
    }
  }
}

async function firstCaught(createGovernor: GovernorFactory, invariant: string) {
  for (let seed = 1; seed <= 20; seed++) {
    const result = await runSeed({ seed, days: SIM_DAYS, createGovernor });
    if (result.violations[0]?.invariant === invariant) return result;
  }
  throw new Error(`no seed in 1..20 caught ${invariant}`);
}

describe('the checker can fail', () => {
  it('catches a gate that ignores the heartbeat lease, and shrinks the trace', async () => {
    const createGovernor: GovernorFactory = (options) => new LeaseIgnoringGovernor(options);
    const caught = await firstCaught(createGovernor, 'gate-open-only-with-fresh-lease');
    const shrunk = await shrink(caught, { createGovernor });
    expect(shrunk.result.violations[0]?.invariant).toBe('gate-open-only-with-fresh-lease');
    expect(shrunk.schedule.length).toBeLessThanOrEqual(caught.schedule.length);
    expect(shrunk.schedule.length).toBeLessThanOrEqual(5);
    const printed = describeFailure(shrunk.result);
    expect(printed).toContain(`FAILED seed ${caught.seed}`);
    expect(printed).toContain('gate-open-only-with-fresh-lease');
    console.log(printed);
  });

  it('catches a shutdown without its CRITICAL alert', async () => {
    const caught = await firstCaught(silentShutdowns, 'alert-for-every-critical-incident');
    expect(describeFailure(caught)).toContain(`FAILED seed ${caught.seed}`);
  });

  it('catches a second path into SHUTDOWN that skips the machine', async () => {
    const caught = await firstCaught(
      (options) => new SecondPathGovernor(options),
      'kill-switch-lands',
    );
    expect(describeFailure(caught)).toContain('kill-switch-lands');
  });
});
