/**
 * Goal: the timers the authority statechart invokes (services/governor/timers.ts) run on the
 * injected clock: a SimulatedClock drives each one deadline by deadline, with no real time
 * passing (a heartbeat loss, a fail-safe trip, an integrity check, a scrub slice); they start
 * with the first lifecycle, keep their period through SHUTDOWN and an operator's restart, and
 * stop with the authority actor, leaving no timer behind.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { operatorRestart, operatorShutdown } from '../../../services/governor/operator-actions.js';
import { runStartupChecks } from '../../../services/governor/startup.js';
import { rawDb, settle } from '../../support/harness.js';
import { openRuntime, type RuntimeFixture } from './fixtures/runtime.js';

const SECOND_MS = 1_000;
const MINUTE_MS = 60 * SECOND_MS;
const HEARTBEAT_INTERVAL_MS = 30 * SECOND_MS;
const ALICE = { operator: 'alice', reason: 'timers test' };

let fixture: RuntimeFixture | undefined;
afterEach(() => {
  fixture?.cleanup();
  fixture = undefined;
});

/** Advances the clock `ms`, with market data every 10 s (as a running engine would give it). */
function advanceFed(current: RuntimeFixture, ms: number): void {
  let left = ms;
  while (left > 0) {
    const step = Math.min(left, 10 * SECOND_MS);
    current.clock.advance(step);
    current.runtime.health.updateMarketDataTimestamp();
    left -= step;
  }
}

/** The monotonic instants of the heartbeats written from now on. */
function heartbeatTimes(current: RuntimeFixture): number[] {
  const times: number[] = [];
  const journal = current.runtime.journal;
  const write = journal.recordHeartbeat.bind(journal);
  journal.recordHeartbeat = (...args: Parameters<typeof write>) => {
    times.push(current.clock.monotonicNow());
    write(...args);
  };
  return times;
}

/** Counts the periodic integrity checks' verifications from now on. */
function verifications(current: RuntimeFixture): { count: number } {
  const counted = { count: 0 };
  const verifier = current.runtime.verifier;
  const verify = verifier.verify.bind(verifier);
  verifier.verify = (...args: Parameters<typeof verify>) => {
    counted.count += 1;
    return verify(...args);
  };
  return counted;
}

describe('the timers, invoked actors of the authority statechart', () => {
  it('none runs before the first lifecycle start; all stop when the authority actor stops', async () => {
    // Goal: stopping the machine is what stops every timer (no timer left: a process exits).
    fixture = openRuntime();
    const { runtime, clock } = fixture;
    expect(clock.pendingCount()).toBe(0);
    expect(await runStartupChecks(runtime)).toBe(true);
    expect(clock.pendingCount()).toBeGreaterThan(0);
    runtime.lifecycle.stop();
    expect(clock.pendingCount()).toBe(0);
  });

  it('a closed governor leaves no timer on its clock', async () => {
    fixture = openRuntime();
    const { runtime, clock } = fixture;
    await runStartupChecks(runtime);
    runtime.close();
    expect(clock.pendingCount()).toBe(0);
  });

  it('the heartbeat is lost at its deadline (heartbeatLossMs past the last success)', async () => {
    // Goal: the heartbeat actor's loss timer fires on the simulated clock, to the millisecond.
    fixture = openRuntime();
    const { runtime } = fixture;
    await runStartupChecks(runtime);
    const lossMs = runtime.thresholds.heartbeatLossMs;
    runtime.journal.recordHeartbeat = () => {
      throw new Error('disk gone');
    };
    advanceFed(fixture, lossMs);
    expect(runtime.lifecycle.state).toBe('AGGRESSIVE');
    fixture.clock.advance(1);
    expect(runtime.lifecycle.state).toBe('OBSERVE_ONLY');
    expect(runtime.lifecycle.context.observeCause).toBe('HEARTBEAT_LOST');
  });

  it('the fail-safe trips at the instant market data goes stale', async () => {
    // Goal: the fail-safe actor's deadline timer fires on the simulated clock.
    fixture = openRuntime();
    const { runtime, clock } = fixture;
    await runStartupChecks(runtime);
    const staleAfterMs = runtime.thresholds.marketDataUnhealthyAfterMs;
    runtime.health.updateMarketDataTimestamp();
    clock.advance(staleAfterMs);
    expect(runtime.lifecycle.state).toBe('AGGRESSIVE');
    clock.advance(1);
    expect(runtime.lifecycle.state).toBe('SHUTDOWN');
    expect(runtime.lifecycle.latch?.reason).toMatch(/market data/);
  });

  it('the integrity check verifies once per interval, on the clock', async () => {
    fixture = openRuntime({ thresholds: { integrityCheckIntervalMs: 2 * MINUTE_MS } });
    const { runtime } = fixture;
    await runStartupChecks(runtime);
    const counted = verifications(fixture);
    advanceFed(fixture, 2 * MINUTE_MS - 1);
    expect(counted.count).toBe(0);
    fixture.clock.advance(1);
    expect(counted.count).toBe(1);
    advanceFed(fixture, 2 * MINUTE_MS);
    expect(counted.count).toBe(2);
  });

  it('a scrub slice finds an edited event within its pass, and the chart holds OBSERVE_ONLY', async () => {
    // Goal: the scrub actor's slices run on the simulated clock and their findings reach the chart.
    fixture = openRuntime({ thresholds: { integrityScrubPassMs: MINUTE_MS } });
    const { runtime } = fixture;
    await runStartupChecks(runtime);
    rawDb(runtime.store).prepare("UPDATE events SET reason = 'rewritten' WHERE seq = 2").run();
    expect(runtime.lifecycle.state).toBe('AGGRESSIVE');
    advanceFed(fixture, MINUTE_MS / 2);
    expect(runtime.lifecycle.state).toBe('OBSERVE_ONLY');
    expect(runtime.lifecycle.context.observeCause).toBe('INTEGRITY_VIOLATION');
    expect(runtime.lifecycle.context.causeReason).toMatch(/hash mismatch at seq 2/);
  });

  it('keep their period through SHUTDOWN and an operator restart', async () => {
    // Goal: a restart does not restart a timer: the heartbeat keeps its beat and the integrity
    // check its due time (a timer invoked by a lifecycle state would begin again at the restart).
    const intervalMs = 4 * MINUTE_MS;
    fixture = openRuntime({ thresholds: { integrityCheckIntervalMs: intervalMs } });
    const { runtime, clock } = fixture;
    const startedMs = clock.monotonicNow();
    await runStartupChecks(runtime);
    const beats = heartbeatTimes(fixture);
    advanceFed(fixture, 45 * SECOND_MS);
    operatorShutdown(runtime, ALICE);
    expect(runtime.lifecycle.halted).toBe(true);
    advanceFed(fixture, 10 * SECOND_MS);
    operatorRestart(runtime, ALICE);
    expect(await runStartupChecks(runtime)).toBe(true);
    const counted = verifications(fixture);
    // The restart came 55 s after the start: a restarted check would be due at 55 s + interval.
    advanceFed(fixture, startedMs + intervalMs - 1 - clock.monotonicNow());
    expect(counted.count).toBe(0);
    clock.advance(1);
    expect(counted.count).toBe(1);
    expect(beats.length).toBeGreaterThan(4);
    for (const beat of beats) expect((beat - startedMs) % HEARTBEAT_INTERVAL_MS).toBe(0);
  });

  it('run again in the new authority actor after the machine fails, and none is left twice', async () => {
    // Goal: a machine failure stops the failed actor's timers; the actor begun after it (in
    // SHUTDOWN) runs them again: the heartbeat goes on beating, and close leaves none.
    fixture = openRuntime();
    const { runtime, clock } = fixture;
    const setOpen = runtime.gate.setOpen.bind(runtime.gate);
    runtime.gate.setOpen = (open: boolean) => {
      if (open) throw new Error('a bug in an action');
      setOpen(open);
    };
    await runStartupChecks(runtime);
    await settle();
    expect(runtime.lifecycle.latch?.reason).toMatch(/lifecycle machine failed/);
    const beats = heartbeatTimes(fixture);
    advanceFed(fixture, HEARTBEAT_INTERVAL_MS);
    expect(beats).toHaveLength(1);
    runtime.close();
    expect(clock.pendingCount()).toBe(0);
  });
});
