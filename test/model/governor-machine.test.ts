/**
 * Example tests of the lifecycle statechart, one per row of the DESIGN.md transition table,
 * using XState's pure `initialTransition`/`transition` and, for time, a SimulatedClock.
 */

import { describe, expect, it } from 'vitest';
import { createActor, fromPromise, initialTransition, transition } from 'xstate';
import {
  type GovernorEvent,
  type GovernorInput,
  governorMachine,
  STARTUP_CHECKS_DONE_EVENT,
  type StartupReport,
} from '../../machines/index.js';
import { SimulatedClock } from '../../services/clock.js';

const input: GovernorInput = {
  lifecycleId: 'lifecycle-1',
  desiredMode: 'AGGRESSIVE',
  latch: null,
  startupChecksTimeoutMs: 30_000,
};
const operator = { operator: 'alice', reason: 'maintenance' };

function report(overrides: Partial<StartupReport> = {}): StartupReport {
  return { lifecycleId: 'lifecycle-1', visit: 1, passed: true, results: [], ...overrides };
}

/** Runs the pure machine from its initial snapshot through `events`, returning the snapshot. */
function run(events: readonly GovernorEvent[], start = input) {
  let [snapshot] = initialTransition(governorMachine, start);
  for (const event of events) [snapshot] = transition(governorMachine, snapshot, event);
  return snapshot;
}

/** The done event XState delivers from the invoked checks (internal, so not a GovernorEvent). */
const done = (output: unknown): GovernorEvent =>
  ({ type: STARTUP_CHECKS_DONE_EVENT, output }) as unknown as GovernorEvent;

describe('governorMachine', () => {
  it('starts in CHECKING, visit 1, with no report', () => {
    // Goal: STARTING is transient; without a latch it goes straight to CHECKING.
    const snapshot = run([]);
    expect(snapshot.value).toBe('CHECKING');
    expect(snapshot.context).toMatchObject({ visit: 1, report: null, observeCause: null });
  });

  it('returns to SHUTDOWN when a latch survived the restart', () => {
    // Goal: a SHUTDOWN not cleared by an operator survives process restarts.
    const latch = {
      trigger: 'CAPITAL_INCONSISTENT',
      reason: 'pools differ',
      at: '2026-01-01T00:00:00Z',
    } as const;
    const snapshot = run([], { ...input, latch });
    expect(snapshot.value).toBe('SHUTDOWN');
    expect(snapshot.status).toBe('done');
    expect(snapshot.context.shutdown).toEqual({
      trigger: 'CAPITAL_INCONSISTENT',
      reason: 'pools differ',
    });
  });

  it('goes AGGRESSIVE only on a passing report of this visit, when AGGRESSIVE is desired', () => {
    // Goal: the checks of *this* visit; never a stale or foreign report.
    expect(run([done(report())]).value).toBe('AGGRESSIVE');
    const stale = run([done(report({ visit: 0 }))]);
    expect(stale.value).toBe('OBSERVE_ONLY');
    expect(stale.context.observeCause).toBe('STARTUP_CHECKS_FAILED');
    expect(stale.context.causeReason).toContain('stale startup report');
    expect(run([done(report({ lifecycleId: 'other' }))]).context.observeCause).toBe(
      'STARTUP_CHECKS_FAILED',
    );
    expect(run([done({ passed: true })]).context.causeReason).toBe(
      'startup checks returned a malformed report',
    );
  });

  it('goes OBSERVE_ONLY (CONFIGURED) on passing checks when OBSERVE_ONLY is desired', () => {
    // Goal: desired mode OBSERVE_ONLY is honoured, with cause CONFIGURED.
    const snapshot = run([done(report())], { ...input, desiredMode: 'OBSERVE_ONLY' });
    expect(snapshot.value).toBe('OBSERVE_ONLY');
    expect(snapshot.context.observeCause).toBe('CONFIGURED');
  });

  it('names the failed checks in the cause reason', () => {
    // Goal: "clear failure reasons" (spec): the operator reads which checks failed.
    const failed = report({
      passed: false,
      results: [
        { name: 'eventLog', passed: true, details: '', rootCause: '', recommendedAction: '' },
        { name: 'capital', passed: false, details: 'x', rootCause: 'y', recommendedAction: 'z' },
      ],
    });
    const snapshot = run([done(failed)]);
    expect(snapshot.value).toBe('OBSERVE_ONLY');
    expect(snapshot.context.causeReason).toBe('startup checks failed: capital');
  });

  it('leaves AGGRESSIVE on heartbeat loss, integrity violation and operator.observe, with causes', () => {
    // Goal: each AGGRESSIVE → OBSERVE_ONLY row of the table records its cause.
    expect(
      run([done(report()), { type: 'heartbeat.lost', reason: 'r' }]).context.observeCause,
    ).toBe('HEARTBEAT_LOST');
    expect(
      run([done(report()), { type: 'integrity.violated', reason: 'r' }]).context.observeCause,
    ).toBe('INTEGRITY_VIOLATION');
    const observed = run([done(report()), { type: 'operator.observe', ...operator }]);
    expect(observed.context).toMatchObject({
      observeCause: 'OPERATOR',
      desiredMode: 'OBSERVE_ONLY',
    });
    expect(observed.context.causeReason).toBe('operator alice: maintenance');
  });

  it('resumes only through CHECKING, with a new visit, desiring AGGRESSIVE again', () => {
    // Goal: operator.resume is the only way back toward AGGRESSIVE, and it re-runs the checks.
    const resumed = run([
      done(report()),
      { type: 'operator.observe', ...operator },
      { type: 'operator.resume', ...operator },
    ]);
    expect(resumed.value).toBe('CHECKING');
    expect(resumed.context).toMatchObject({ visit: 2, report: null, desiredMode: 'AGGRESSIVE' });
    expect(transition(governorMachine, resumed, done(report({ visit: 1 })))[0].value).toBe(
      'OBSERVE_ONLY',
    );
  });

  it('shuts down from every non-final state on failsafe.triggered and operator.shutdown', () => {
    // Goal: the kill switches work everywhere and record trigger and reason.
    const states = [run([]), run([done(report())]), run([done({ passed: false })])];
    for (const snapshot of states) {
      const [failsafe] = transition(governorMachine, snapshot, {
        type: 'failsafe.triggered',
        trigger: 'MARKET_DATA_STALL',
        reason: 'no data for 10 min',
      });
      expect(failsafe.value).toBe('SHUTDOWN');
      expect(failsafe.context.shutdown).toEqual({
        trigger: 'MARKET_DATA_STALL',
        reason: 'no data for 10 min',
      });
      const [killed] = transition(governorMachine, snapshot, {
        type: 'operator.shutdown',
        ...operator,
      });
      expect(killed.context.shutdown).toEqual({
        trigger: 'OPERATOR_KILL',
        reason: 'operator alice: maintenance',
      });
    }
  });

  it('fails safe when the startup checks time out, error, or are not provided', async () => {
    // Goal: no report in time, an actor error, or a forgotten provide() all mean OBSERVE_ONLY.
    const clock = new SimulatedClock();
    const hanging = governorMachine.provide({
      actors: {
        startupChecks: fromPromise<StartupReport, { lifecycleId: string; visit: number }>(
          () => new Promise(() => {}),
        ),
      },
    });
    const timedOut = createActor(hanging, { input, clock }).start();
    clock.advance(29_999);
    expect(timedOut.getSnapshot().value).toBe('CHECKING');
    clock.advance(1);
    expect(timedOut.getSnapshot().context.causeReason).toBe(
      'startup checks timed out after 30000 ms',
    );

    const unprovided = createActor(governorMachine, { input, clock: new SimulatedClock() }).start();
    await new Promise((resolve) => setImmediate(resolve));
    expect(unprovided.getSnapshot().value).toBe('OBSERVE_ONLY');
    expect(unprovided.getSnapshot().context.causeReason).toContain('startupChecks is not provided');
  });

  it('calls the provided entry actions with the updated context', () => {
    // Goal: the shell's effects run on entry, after the context is recorded.
    const entered: string[] = [];
    const machine = governorMachine.provide({
      actions: {
        onEnterChecking: ({ context }) => entered.push(`CHECKING visit ${context.visit}`),
        onEnterAggressive: () => entered.push('AGGRESSIVE'),
        onEnterObserveOnly: ({ context }) => entered.push(`OBSERVE_ONLY ${context.observeCause}`),
        onEnterShutdown: ({ context }) => entered.push(`SHUTDOWN ${context.shutdown?.trigger}`),
      },
    });
    const actor = createActor(machine, { input, clock: new SimulatedClock() }).start();
    actor.send(done(report()));
    actor.send({ type: 'heartbeat.lost', reason: 'r' });
    actor.send({ type: 'operator.shutdown', ...operator });
    expect(entered).toEqual([
      'CHECKING visit 1',
      'AGGRESSIVE',
      'OBSERVE_ONLY HEARTBEAT_LOST',
      'SHUTDOWN OPERATOR_KILL',
    ]);
  });
});
