/**
 * Goal: services/governor/startup.ts runs a lifecycle from STARTING only (a running one is
 * refused with GOV_LIFECYCLE_RUNNING; a latched one answers false at once and keeps the adapters
 * for a restart from outside), adds the fleet authority as a startup check, fails a report it
 * cannot persist (nothing unrecorded opens the gate), and verifies integrity on its timer only
 * while no latch is in force.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { StartupReport } from '../../../machines/types.js';
import { isGovernorError } from '../../../services/errors.js';
import { requestShutdown } from '../../../services/governor/dispatcher.js';
import {
  checkDataIntegrity,
  persistReport,
  runStartupChecks,
} from '../../../services/governor/startup.js';
import { openRuntime, type RuntimeFixture } from './fixtures/runtime.js';

let fixture: RuntimeFixture | undefined;
afterEach(() => {
  fixture?.cleanup();
  fixture = undefined;
});

const report: StartupReport = {
  lifecycleId: 'lifecycle-x',
  visit: 1,
  passed: true,
  results: [],
  completedAt: '2026-01-01T00:00:00.000Z',
};

describe('runStartupChecks', () => {
  it('reaches AGGRESSIVE once, and refuses a second run while the lifecycle runs', async () => {
    fixture = openRuntime();
    const { runtime } = fixture;
    const pinged: string[] = [];
    const adapters = [
      {
        name: 'exchange',
        ping: async () => {
          pinged.push('exchange');
          return true;
        },
      },
    ];
    expect(await runStartupChecks(runtime, adapters)).toBe(true);
    expect(pinged).toEqual(['exchange']);
    await expect(runStartupChecks(runtime)).rejects.toSatisfy((error) =>
      isGovernorError(error, 'GOV_LIFECYCLE_RUNNING'),
    );
  });

  it('answers false at once when latched, keeping the adapters for a restart', async () => {
    fixture = openRuntime();
    const { runtime } = fixture;
    requestShutdown(runtime, { trigger: 'OPERATOR_KILL', reason: 'before start' });
    const adapters = [{ name: 'exchange', ping: async () => true }];
    expect(await runStartupChecks(runtime, adapters)).toBe(false);
    expect(runtime.flags.adapters?.map((adapter) => adapter.name)).toEqual(['exchange']);
    expect(runtime.flags.monitorsStarted).toBe(false);
  });

  it('ends in OBSERVE_ONLY (false) when a check fails', async () => {
    fixture = openRuntime();
    const adapters = [
      {
        name: 'exchange',
        ping: async () => {
          throw new Error('unreachable');
        },
      },
    ];
    expect(await runStartupChecks(fixture.runtime, adapters)).toBe(false);
    expect(fixture.runtime.lifecycle.context.observeCause).toBe('STARTUP_CHECKS_FAILED');
  });
});

describe('persistReport', () => {
  it('records a report with its event, and fails one it cannot record', () => {
    fixture = openRuntime();
    const { runtime } = fixture;
    expect(persistReport(runtime, report)).toBe(report);
    runtime.store.rawHandleForFaultInjection().exec('DROP TABLE startup_reports');
    const failed = persistReport(runtime, report);
    expect(failed.passed).toBe(false);
    expect(failed.results.at(-1)).toMatchObject({ name: 'report_persisted', outcome: 'failed' });
  });
});

describe('integrity', () => {
  it('finds nothing on a clean file, and verifies on its timer only while no latch is in force', async () => {
    fixture = openRuntime();
    const { runtime, clock } = fixture;
    expect(checkDataIntegrity(runtime)).toBe(true);
    await runStartupChecks(runtime);
    let verified = 0;
    const verify = runtime.verifier.verify.bind(runtime.verifier);
    runtime.verifier.verify = (...args: Parameters<typeof verify>) => {
      verified += 1;
      return verify(...args);
    };
    clock.advance(runtime.thresholds.integrityCheckIntervalMs);
    expect(verified).toBeGreaterThanOrEqual(1);
    requestShutdown(runtime, { trigger: 'OPERATOR_KILL', reason: 'stop' });
    const afterLatch = verified;
    clock.advance(runtime.thresholds.integrityCheckIntervalMs * 2);
    expect(verified).toBe(afterLatch);
  });
});
