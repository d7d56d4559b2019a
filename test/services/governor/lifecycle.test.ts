/**
 * Goal: the Lifecycle (services/governor/lifecycle.ts), driven directly with a recording host
 * on a SimulatedClock: it tells the host every entry with the right `from`, opens the gate only
 * on AGGRESSIVE and closes it on leaving, halts on a latch and leaves it only on a restart whose
 * pre-flight passed or was forced (into a new lifecycle whose first `from` is STARTING), times
 * the startup checks out exactly at their limit, and answers state, latch and `accepts` from
 * the snapshots.
 */
import { describe, expect, it } from 'vitest';
import type { StartupChecksInput } from '../../../machines/governor-machine.js';
import { TIMER_ACTOR_IDS } from '../../../machines/timers-machine.js';
import type {
  GovernorInput,
  LifecycleState,
  OperatorRestartEvent,
  ShutdownLatch,
  StartupReport,
} from '../../../machines/types.js';
import { SimulatedClock } from '../../../services/clock.js';
import {
  Lifecycle,
  type LifecycleHost,
  type TimerWorks,
} from '../../../services/governor/lifecycle.js';
import { settle } from '../../support/harness.js';

const AT = '2026-01-01T00:00:00.000Z';
const LATCH: ShutdownLatch = { trigger: 'MARKET_DATA_STALL', reason: 'stale', at: AT };

interface Recorder {
  readonly calls: string[];
  readonly checks: StartupChecksInput[];
  readonly restarts: OperatorRestartEvent[];
  readonly failures: unknown[];
  /** How the next startup checks end: a report, an error, or never. */
  next: 'pass' | 'fail' | 'throw' | 'hang';
}

function recordingHost(): { host: LifecycleHost; rec: Recorder } {
  const rec: Recorder = { calls: [], checks: [], restarts: [], failures: [], next: 'pass' };
  const host: LifecycleHost = {
    enter: (from: LifecycleState, to: LifecycleState) => void rec.calls.push(`${from}->${to}`),
    settled: () => {},
    restarted: (event) => void rec.restarts.push(event),
    openGate: () => void rec.calls.push('open'),
    closeGate: () => void rec.calls.push('close'),
    alertFailure: (event, state) => void rec.calls.push(`alert ${event.type} in ${state}`),
    lossHeld: (event) => void rec.calls.push(`held ${event.type}`),
    startupChecks: (input): Promise<StartupReport> => {
      rec.checks.push(input);
      if (rec.next === 'hang') return new Promise(() => {});
      if (rec.next === 'throw') return Promise.reject(new Error('checks exploded'));
      return Promise.resolve({
        lifecycleId: input.lifecycleId,
        visit: input.visit,
        passed: rec.next === 'pass',
        results: [],
        completedAt: AT,
      });
    },
    failed: (error) => void rec.failures.push(error),
  };
  return { host, rec };
}

function input(overrides: Partial<GovernorInput> = {}): GovernorInput {
  return {
    lifecycleId: 'lc-1',
    configuredMode: 'AGGRESSIVE',
    desiredMode: 'AGGRESSIVE',
    latch: null,
    hold: null,
    startupChecksTimeoutMs: 60_000,
    ...overrides,
  };
}

function restart(passed: boolean, force: boolean): OperatorRestartEvent {
  return {
    type: 'operator.restart',
    operator: 'alice',
    reason: 'fixed',
    at: AT,
    lifecycleId: 'lc-2',
    preflight: { passed },
    force,
    authority: { desiredMode: 'AGGRESSIVE', latch: null, hold: null },
  };
}

/** Begins a lifecycle and, when it waits in STARTING, starts it (as the shell does). */
function start(lifecycle: Lifecycle, given: GovernorInput = input()): void {
  lifecycle.begin(given);
  if (lifecycle.state === 'STARTING') lifecycle.send({ type: 'lifecycle.start', at: AT });
}

/** Timer works that record each start and stop, as `start heartbeat`, `stop heartbeat`. */
function recordingTimers(): { works: TimerWorks; log: string[] } {
  const log: string[] = [];
  const work = (id: string) => ({
    start: () => void log.push(`start ${id}`),
    stop: () => void log.push(`stop ${id}`),
  });
  const works = Object.fromEntries(
    [...TIMER_ACTOR_IDS, 'requestWatcher'].map((id) => [id, work(id)]),
  ) as unknown as TimerWorks;
  return { works, log };
}

function make(): {
  lifecycle: Lifecycle;
  rec: Recorder;
  clock: SimulatedClock;
  timers: string[];
} {
  const { host, rec } = recordingHost();
  const clock = new SimulatedClock();
  const { works, log } = recordingTimers();
  return { lifecycle: new Lifecycle(host, clock, () => {}, works), rec, clock, timers: log };
}

describe('Lifecycle', () => {
  it('begun without a latch, it waits in STARTING for the start and runs no checks before it', async () => {
    const { lifecycle, rec } = make();
    lifecycle.begin(input());
    expect(lifecycle.state).toBe('STARTING');
    expect(rec.checks).toEqual([]);
    expect(rec.calls).toEqual([]);
  });

  it('before begin: no state to read, accepts nothing, settled() answers STARTING', async () => {
    const { lifecycle } = make();
    expect(() => lifecycle.state).toThrow('no lifecycle has begun');
    expect(lifecycle.accepts(restart(true, false))).toBe(false);
    await expect(lifecycle.settled()).resolves.toBe('STARTING');
  });

  it('checks that pass lead to AGGRESSIVE, the gate opened once, entries told with their from', async () => {
    const { lifecycle, rec } = make();
    start(lifecycle);
    await expect(lifecycle.settled()).resolves.toBe('AGGRESSIVE');
    expect(rec.checks).toEqual([{ lifecycleId: 'lc-1', visit: 1 }]);
    expect(rec.calls).toEqual(['STARTING->CHECKING', 'CHECKING->AGGRESSIVE', 'open']);
    expect(lifecycle.latch).toBeNull();
    expect(lifecycle.halted).toBe(false);
  });

  it("an operator's shutdown from AGGRESSIVE closes the gate, latches OPERATOR_KILL and halts", async () => {
    const { lifecycle, rec } = make();
    start(lifecycle);
    await lifecycle.settled();
    lifecycle.send({ type: 'operator.shutdown', operator: 'bob', reason: 'panic', at: AT });
    expect(lifecycle.state).toBe('SHUTDOWN');
    expect(lifecycle.halted).toBe(true);
    expect(lifecycle.latch?.trigger).toBe('OPERATOR_KILL');
    expect(rec.calls.slice(-2)).toEqual(['close', 'AGGRESSIVE->SHUTDOWN']);
  });

  it('failed checks lead to OBSERVE_ONLY without opening the gate', async () => {
    const { lifecycle, rec } = make();
    rec.next = 'fail';
    start(lifecycle);
    await expect(lifecycle.settled()).resolves.toBe('OBSERVE_ONLY');
    expect(lifecycle.context.observeCause).toBe('STARTUP_CHECKS_FAILED');
    expect(rec.calls).not.toContain('open');
  });

  it('checks that throw lead to OBSERVE_ONLY naming the error', async () => {
    const { lifecycle, rec } = make();
    rec.next = 'throw';
    start(lifecycle);
    await expect(lifecycle.settled()).resolves.toBe('OBSERVE_ONLY');
    expect(lifecycle.context.causeReason).toMatch(/startup checks errored: checks exploded/);
  });

  it('checks that never answer time out exactly at their limit, on the clock', async () => {
    const { lifecycle, rec, clock } = make();
    rec.next = 'hang';
    start(lifecycle, input({ startupChecksTimeoutMs: 1_000 }));
    clock.advance(999);
    await settle();
    expect(lifecycle.state).toBe('CHECKING');
    clock.advance(1);
    await settle();
    expect(lifecycle.state).toBe('OBSERVE_ONLY');
    expect(lifecycle.context.causeReason).toBe('startup checks timed out after 1000 ms');
  });

  it('a latch in the input halts at once in SHUTDOWN without running the checks', async () => {
    const { lifecycle, rec } = make();
    lifecycle.begin(input({ latch: LATCH }));
    await expect(lifecycle.settled()).resolves.toBe('SHUTDOWN');
    expect(lifecycle.halted).toBe(true);
    expect(lifecycle.latch).toEqual(LATCH);
    expect(rec.checks).toEqual([]);
    expect(rec.calls).not.toContain('open');
  });

  it('a halted lifecycle refuses a restart whose pre-flight failed unforced, and stays latched', async () => {
    const { lifecycle, rec } = make();
    lifecycle.begin(input({ latch: LATCH }));
    await lifecycle.settled();
    const refused = restart(false, false);
    expect(lifecycle.accepts(refused)).toBe(false);
    lifecycle.send(refused);
    expect(lifecycle.halted).toBe(true);
    expect(lifecycle.latch).toEqual(LATCH);
    expect(rec.restarts).toEqual([]);
  });

  it('a forced restart (or a passed pre-flight) begins a new lifecycle whose first from is STARTING', async () => {
    for (const [passed, force] of [
      [false, true],
      [true, false],
    ] as const) {
      const { lifecycle, rec } = make();
      lifecycle.begin(input({ latch: LATCH }));
      await lifecycle.settled();
      const event = restart(passed, force);
      expect(lifecycle.accepts(event)).toBe(true);
      rec.calls.length = 0;
      lifecycle.send(event);
      // The new lifecycle waits in STARTING for the shell's start, as the first one did.
      expect(lifecycle.state).toBe('STARTING');
      lifecycle.send({ type: 'lifecycle.start', at: AT });
      await expect(lifecycle.settled()).resolves.toBe('AGGRESSIVE');
      expect(rec.restarts).toEqual([event]);
      expect(rec.checks.at(-1)).toEqual({ lifecycleId: 'lc-2', visit: 1 });
      expect(rec.calls).toEqual(['STARTING->CHECKING', 'CHECKING->AGGRESSIVE', 'open']);
      expect(lifecycle.halted).toBe(false);
      expect(lifecycle.context.lifecycleId).toBe('lc-2');
    }
  });

  it('a running lifecycle does not accept a restart', async () => {
    const { lifecycle } = make();
    start(lifecycle);
    await lifecycle.settled();
    expect(lifecycle.accepts(restart(true, true))).toBe(false);
  });

  it('after stop, the last snapshot still answers', async () => {
    const { lifecycle } = make();
    start(lifecycle);
    await lifecycle.settled();
    lifecycle.stop();
    expect(lifecycle.state).toBe('AGGRESSIVE');
    await expect(lifecycle.settled()).resolves.toBe('AGGRESSIVE');
  });
});

describe('the timers, invoked actors of the authority statechart', () => {
  const started = TIMER_ACTOR_IDS.map((id) => `start ${id}`);
  const stopped = [...TIMER_ACTOR_IDS, 'requestWatcher'].map((id) => `stop ${id}`);

  it('the request watcher starts with the authority actor; the other timers only on timers.start', async () => {
    // Goal: no heartbeat, fail-safe or scrub runs before the first lifecycle starts.
    const { lifecycle, timers } = make();
    lifecycle.begin(input());
    expect(timers).toEqual(['start requestWatcher']);
    lifecycle.send({ type: 'timers.start', at: AT });
    expect(timers).toEqual(['start requestWatcher', ...started]);
  });

  it('keep running through SHUTDOWN, halted and a restart, without starting again', async () => {
    // Goal: a restart does not reset a timer's period (its actor is not restarted).
    const { lifecycle, timers } = make();
    start(lifecycle);
    lifecycle.send({ type: 'timers.start', at: AT });
    await lifecycle.settled();
    const before = [...timers];
    lifecycle.send({ type: 'operator.shutdown', operator: 'bob', reason: 'panic', at: AT });
    expect(lifecycle.halted).toBe(true);
    lifecycle.send(restart(true, false));
    lifecycle.send({ type: 'lifecycle.start', at: AT });
    lifecycle.send({ type: 'timers.start', at: AT });
    await expect(lifecycle.settled()).resolves.toBe('AGGRESSIVE');
    expect(timers).toEqual(before);
  });

  it('stop with the authority actor: no timer is left', async () => {
    // Goal: closing the governor stops every timer through the machine.
    const { lifecycle, timers } = make();
    start(lifecycle);
    lifecycle.send({ type: 'timers.start', at: AT });
    await lifecycle.settled();
    timers.length = 0;
    lifecycle.stop();
    expect([...timers].sort()).toEqual([...stopped].sort());
  });
});
