/**
 * Goal: the command line's "confirmed ... N ms after the request" is measured on the command's
 * own monotonic clock, from just before the request is committed to when it sees the
 * confirmation, whatever clock the owner runs on.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SimulatedClock } from '../../../services/clock.js';
import { runCliInProcess } from '../../support/cli-in-process.js';
import { type Harness, makeHarness } from '../../support/harness.js';

let h: Harness | undefined;
afterEach(() => {
  vi.restoreAllMocks();
  h?.cleanup();
  h = undefined;
});

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

describe('the confirmation latency the command prints', () => {
  it('regression: an owner on a simulated clock far from wall time printed -29420647484 ms', async () => {
    h = makeHarness();
    // The harness's owner runs on a SimulatedClock at 2026-01-01: months from the wall clock.
    const ownerClock: SimulatedClock = h.clock;
    expect(Math.abs(ownerClock.wallNow() - Date.now())).toBeGreaterThan(24 * 3_600_000);
    expect(await h.gov.runStartupChecks()).toBe(true);
    const gov = h.gov;
    const before = performance.now();
    let done = false;
    const command = runCliInProcess([
      'shutdown',
      '--db',
      h.dbPath,
      '--operator',
      'olga',
      '--reason',
      'latency on two clocks',
    ]).finally(() => {
      done = true;
    });
    // The owner polls for requests on its own (simulated) time: here, as the test drives it.
    while (!done) {
      await tick();
      await gov.pollOperatorRequests();
    }
    const run = await command;
    const elapsedMs = performance.now() - before;
    expect(run.code).toBe(0);
    const match = /confirmed by .+, (-?\d+) ms after the request\)/.exec(run.stdout);
    expect(match, run.stdout + run.stderr).not.toBeNull();
    const latencyMs = Number(match?.[1]);
    expect(latencyMs).toBeGreaterThanOrEqual(0);
    // Within the interval this test saw the command run: the command's clock, not the owner's.
    expect(latencyMs).toBeLessThanOrEqual(Math.ceil(elapsedMs));
    expect(gov.getState()).toBe('SHUTDOWN');
  });
});
