/**
 * Goal: by default a GovernanceSystem latches UNRECOVERABLE_EXCEPTION on an uncaught exception,
 * in the `uncaughtExceptionMonitor` call itself (the latch is in SQLite when it returns), through
 * one process listener however many systems are open, removed when the last one closes;
 * `latchUncaughtExceptions: false` opts out, and contradicting `handleProcessErrors: true` is
 * refused. (test/e2e/uncaught-exception.test.ts kills a real engine this way.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isGovernorError } from '../../../services/errors.js';
import { GovernanceSystem } from '../../../services/governor/governance-system.js';
import { type Harness, makeHarness } from '../../support/harness.js';

let h: Harness | undefined;
afterEach(() => {
  h?.cleanup();
  h = undefined;
});

const monitors = (): number => process.listenerCount('uncaughtExceptionMonitor');

/** What Node does first for an uncaught exception, without the crash that follows. */
function raiseMonitor(error: unknown, origin = 'uncaughtException'): void {
  for (const listener of process.listeners('uncaughtExceptionMonitor')) {
    listener(error as Error, origin as NodeJS.UncaughtExceptionOrigin);
  }
}

describe('the default latch on an uncaught exception', () => {
  it('latches SHUTDOWN (UNRECOVERABLE_EXCEPTION naming the error) in SQLite within the monitor call', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    expect(h.gov.getState()).toBe('AGGRESSIVE');
    raiseMonitor(new Error('order book exploded'));
    // No await: the latch is written by the time the monitor call returns.
    expect(h.gov.canDeployCapital()).toBe(false);
    expect(h.reader().systemState.get().latch).toMatchObject({
      trigger: 'UNRECOVERABLE_EXCEPTION',
      reason: 'uncaught exception: order book exploded',
    });
  });

  it('names an unhandled rejection as one', async () => {
    h = makeHarness();
    raiseMonitor('venue gone', 'unhandledRejection');
    expect(h.gov.getLatch()).toMatchObject({
      trigger: 'UNRECOVERABLE_EXCEPTION',
      reason: 'unhandled rejection: venue gone',
    });
  });

  it('uses one process listener for every open system, and removes it when the last closes', () => {
    const before = monitors();
    h = makeHarness();
    const second = h.reopen({ dbPath: ':memory:' });
    expect(monitors()).toBe(before === 0 ? 1 : before);
    second.close();
    h.gov.close();
    expect(monitors()).toBe(before);
  });

  it('is off with latchUncaughtExceptions: false', async () => {
    const before = monitors();
    h = makeHarness();
    h.gov.close();
    const optedOut = h.reopen({ latchUncaughtExceptions: false });
    expect(monitors()).toBe(before);
    await optedOut.runStartupChecks();
    raiseMonitor(new Error('not latched'));
    expect(optedOut.getState()).toBe('AGGRESSIVE');
    expect(optedOut.getLatch()).toBeNull();
  });

  it('refuses latchUncaughtExceptions: false with handleProcessErrors: true, and a value not boolean', () => {
    for (const options of [
      { handleProcessErrors: true, latchUncaughtExceptions: false },
      { latchUncaughtExceptions: 'no' as unknown as boolean },
    ]) {
      let thrown: unknown;
      try {
        new GovernanceSystem({ dbPath: ':memory:', ...options });
      } catch (error) {
        thrown = error;
      }
      expect(isGovernorError(thrown, 'GOV_INVALID_CONFIG')).toBe(true);
    }
  });
});
