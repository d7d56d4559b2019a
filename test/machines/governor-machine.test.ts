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
  type StartupCheckResult,
  type StartupReport,
} from '../../machines/index.js';
import { SimulatedClock } from '../../services/clock.js';

const AT = '2026-01-01T00:00:00.000Z';
const input: GovernorInput = {
  lifecycleId: 'lifecycle-1',
  configuredMode: 'AGGRESSIVE',
  desiredMode: 'AGGRESSIVE',
  latch: null,
  hold: null,
  startupChecksTimeoutMs: 30_000,
};
const operator = { operator: 'alice', reason: 'maintenance', at: AT };
const start: GovernorEvent = { type: 'lifecycle.start', at: AT };

function check(
  name: StartupCheckResult['name'],
  outcome: StartupCheckResult['outcome'],
  details = '',
): StartupCheckResult {
  return {
    name,
    outcome,
    passed: outcome === 'passed',
    details,
    rootCause: '',
    recommendedAction: '',
  };
}

function report(overrides: Partial<StartupReport> = {}): StartupReport {
  return {
    lifecycleId: 'lifecycle-1',
    visit: 1,
    passed: true,
    results: [],
    completedAt: AT,
    ...overrides,
  };
}

/** Runs the pure machine from its initial snapshot through `events`, returning the snapshot. */
function run(events: readonly GovernorEvent[], from = input) {
  let [snapshot] = initialTransition(governorMachine, from);
  for (const event of events) [snapshot] = transition(governorMachine, snapshot, event);
  return snapshot;
}

/** The done event XState delivers from the invoked checks (internal, so not a GovernorEvent). */
const done = (output: unknown): GovernorEvent =>
  ({ type: STARTUP_CHECKS_DONE_EVENT, output }) as unknown as GovernorEvent;

describe('governorMachine', () => {
  it('waits in STARTING until the lifecycle starts; then CHECKING, visit 1, no report', () => {
    // Goal: constructing governor starts nothing; `runStartupChecks` sends lifecycle.start.
    expect(run([]).value).toBe('STARTING');
    const snapshot = run([start]);
    expect(snapshot.value).toBe('CHECKING');
    expect(snapshot.context).toMatchObject({ visit: 1, report: null, observeCause: null });
  });

  it('returns to SHUTDOWN at once when a latch survived the restart', () => {
    // Goal: a SHUTDOWN not cleared by an operator survives process restarts.
    const latch = { trigger: 'CAPITAL_INCONSISTENT', reason: 'pools differ', at: AT } as const;
    const snapshot = run([], { ...input, latch });
    expect(snapshot.value).toBe('SHUTDOWN');
    expect(snapshot.status).toBe('done');
    expect(snapshot.context.shutdown).toEqual(latch);
  });

  it('goes AGGRESSIVE only on a passing report of this visit, when AGGRESSIVE is desired', () => {
    // Goal: the checks of *this* visit; never a stale or foreign report.
    expect(run([start, done(report())]).value).toBe('AGGRESSIVE');
    const stale = run([start, done(report({ visit: 0 }))]);
    expect(stale.value).toBe('OBSERVE_ONLY');
    expect(stale.context.observeCause).toBe('STARTUP_CHECKS_FAILED');
    expect(stale.context.causeReason).toContain('stale startup report');
    expect(run([start, done(report({ lifecycleId: 'other' }))]).context.observeCause).toBe(
      'STARTUP_CHECKS_FAILED',
    );
    expect(run([start, done({ passed: true })]).context.causeReason).toBe(
      'startup checks returned a malformed report',
    );
  });

  it('goes OBSERVE_ONLY on passing checks when OBSERVE_ONLY is configured (CONFIGURED) or desired (OPERATOR)', () => {
    // Goal: the configured mode is a ceiling; an operator's observe is remembered.
    const configured = run([start, done(report())], { ...input, configuredMode: 'OBSERVE_ONLY' });
    expect(configured.value).toBe('OBSERVE_ONLY');
    expect(configured.context.observeCause).toBe('CONFIGURED');
    const desired = run([start, done(report())], { ...input, desiredMode: 'OBSERVE_ONLY' });
    expect(desired.context.observeCause).toBe('OPERATOR');
  });

  it('regression: a configured OBSERVE_ONLY is a ceiling that resume cannot exceed', () => {
    // Goal (issue: operatorResume took a configured OBSERVE_ONLY to AGGRESSIVE).
    const ceiling = { ...input, configuredMode: 'OBSERVE_ONLY' as const };
    const resumed = run(
      [start, done(report()), { type: 'operator.resume', ...operator }, done(report({ visit: 2 }))],
      ceiling,
    );
    expect(resumed.value).toBe('OBSERVE_ONLY');
    expect(resumed.context.observeCause).toBe('CONFIGURED');
  });

  it('regression: OBSERVE_ONLY entered for a failure is held, and a new lifecycle honours the hold', () => {
    // Goal (issue: a restart forgot a failure's OBSERVE_ONLY and went AGGRESSIVE with no operator).
    const lost = run([
      start,
      done(report()),
      { type: 'heartbeat.lost', reason: 'no beat', at: AT },
    ]);
    expect(lost.context.hold).toEqual({ cause: 'HEARTBEAT_LOST', reason: 'no beat' });
    const held = {
      ...input,
      hold: { cause: 'HEARTBEAT_LOST' as const, reason: 'no beat', at: AT },
    };
    const restarted = run([start, done(report())], held);
    expect(restarted.value).toBe('OBSERVE_ONLY');
    expect(restarted.context).toMatchObject({ observeCause: 'HEARTBEAT_LOST', causeHeld: true });
    const resumed = run(
      [start, done(report()), { type: 'operator.resume', ...operator }, done(report({ visit: 2 }))],
      held,
    );
    expect(resumed.value).toBe('AGGRESSIVE');
    expect(resumed.context.hold).toBeNull();
  });

  it('names the failed checks in the cause reason', () => {
    // Goal: "clear failure reasons" (spec): the operator reads which checks failed.
    const failed = report({
      passed: false,
      results: [check('event_log_integrity', 'passed'), check('adapters_reachable', 'failed', 'x')],
    });
    const snapshot = run([start, done(failed)]);
    expect(snapshot.value).toBe('OBSERVE_ONLY');
    expect(snapshot.context.causeReason).toBe('startup checks failed: adapters_reachable');
  });

  it('a capital mismatch found by the checks shuts down; an unreadable capital check only observes', () => {
    // Goal (DESIGN precedence), decided on the typed outcome, not on the text of the details.
    const mismatch = report({
      passed: false,
      results: [check('capital_reconciliation', 'failed', 'pool p: 100 != 99')],
    });
    const shut = run([start, done(mismatch)]);
    expect(shut.value).toBe('SHUTDOWN');
    expect(shut.context.shutdown).toEqual({
      trigger: 'CAPITAL_INCONSISTENT',
      reason: 'pool p: 100 != 99',
      at: AT,
    });
    const unreadable = report({
      passed: false,
      results: [check('capital_reconciliation', 'unreadable', 'check could not run: damaged')],
    });
    expect(run([start, done(unreadable)]).value).toBe('OBSERVE_ONLY');
  });

  it('leaves CHECKING and AGGRESSIVE on heartbeat loss and integrity violation, holding the failure', () => {
    // Goal: each failure row of the table records its cause; a loss in CHECKING is in the machine.
    for (const before of [[start], [start, done(report())]]) {
      const lost = run([...before, { type: 'heartbeat.lost', reason: 'r', at: AT }]);
      expect(lost.value).toBe('OBSERVE_ONLY');
      expect(lost.context.observeCause).toBe('HEARTBEAT_LOST');
      const violated = run([...before, { type: 'integrity.violated', reason: 'r', at: AT }]);
      expect(violated.context.observeCause).toBe('INTEGRITY_VIOLATION');
      expect(violated.context.hold?.cause).toBe('INTEGRITY_VIOLATION');
    }
    const observed = run([start, done(report()), { type: 'operator.observe', ...operator }]);
    expect(observed.context).toMatchObject({
      observeCause: 'OPERATOR',
      desiredMode: 'OBSERVE_ONLY',
      hold: null,
    });
    expect(observed.context.causeReason).toBe('operator alice: maintenance');
  });

  it('an observe before the lifecycle starts records the mode to reach', () => {
    // Goal: an operator's observe with no lifecycle running (the command line, no owner) lands.
    const snapshot = run([{ type: 'operator.observe', ...operator }, start, done(report())]);
    expect(snapshot.value).toBe('OBSERVE_ONLY');
    expect(snapshot.context.observeCause).toBe('OPERATOR');
  });

  it('resumes only through CHECKING, with a new visit, desiring AGGRESSIVE again', () => {
    // Goal: operator.resume is the only way back toward AGGRESSIVE, and it re-runs the checks.
    const resumed = run([
      start,
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
    // Goal: the kill switches work everywhere (STARTING too) and record trigger, reason and time.
    const states = [
      run([]),
      run([start]),
      run([start, done(report())]),
      run([start, done({ passed: false })]),
    ];
    for (const snapshot of states) {
      const [failsafe] = transition(governorMachine, snapshot, {
        type: 'failsafe.triggered',
        trigger: 'MARKET_DATA_STALL',
        reason: 'no data for 10 min',
        at: AT,
      });
      expect(failsafe.value).toBe('SHUTDOWN');
      expect(failsafe.context.shutdown).toEqual({
        trigger: 'MARKET_DATA_STALL',
        reason: 'no data for 10 min',
        at: AT,
      });
      const [killed] = transition(governorMachine, snapshot, {
        type: 'operator.shutdown',
        ...operator,
      });
      expect(killed.context.shutdown).toEqual({
        trigger: 'OPERATOR_KILL',
        reason: 'operator alice: maintenance',
        at: AT,
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
    timedOut.send(start);
    clock.advance(29_999);
    expect(timedOut.getSnapshot().value).toBe('CHECKING');
    clock.advance(1);
    expect(timedOut.getSnapshot().context.causeReason).toBe(
      'startup checks timed out after 30000 ms',
    );

    const unprovided = createActor(governorMachine, { input, clock: new SimulatedClock() }).start();
    unprovided.send(start);
    await new Promise((resolve) => setImmediate(resolve));
    expect(unprovided.getSnapshot().value).toBe('OBSERVE_ONLY');
    expect(unprovided.getSnapshot().context.causeReason).toContain('startupChecks is not provided');
  });

  it('calls the provided entry actions, and opens the gate only in AGGRESSIVE', () => {
    // Goal: the shell's effects run on entry, after the context is recorded; the gate flag is
    // set only by AGGRESSIVE's entry and exit actions.
    const entered: string[] = [];
    const machine = governorMachine.provide({
      actions: {
        onEnterChecking: ({ context }) => entered.push(`CHECKING visit ${context.visit}`),
        onEnterAggressive: () => entered.push('AGGRESSIVE'),
        onEnterObserveOnly: ({ context }) => entered.push(`OBSERVE_ONLY ${context.observeCause}`),
        onEnterShutdown: ({ context }) => entered.push(`SHUTDOWN ${context.shutdown?.trigger}`),
        openGate: () => entered.push('gate open'),
        closeGate: () => entered.push('gate closed'),
      },
    });
    const actor = createActor(machine, { input, clock: new SimulatedClock() }).start();
    actor.send(start);
    actor.send(done(report()));
    actor.send({ type: 'heartbeat.lost', reason: 'r', at: AT });
    actor.send({ type: 'operator.shutdown', ...operator });
    expect(entered).toEqual([
      'CHECKING visit 1',
      'AGGRESSIVE',
      'gate open',
      'gate closed',
      'OBSERVE_ONLY HEARTBEAT_LOST',
      'SHUTDOWN OPERATOR_KILL',
    ]);
  });
});

describe('a loss outside CHECKING and AGGRESSIVE: the chart decides, not the shell', () => {
  /** The effects (type and params) a transition asks the shell to run. */
  function effectsOf(events: readonly GovernorEvent[], last: GovernorEvent, from = input) {
    const before = run(events, from);
    const [after, actions] = transition(governorMachine, before, last);
    return {
      before,
      after,
      effects: actions.map((action) => ({ type: action.type, params: action.params })),
    };
  }
  const failedChecks = done(report({ passed: false }));

  it('alerts a heartbeat or authority loss in STARTING and OBSERVE_ONLY and changes nothing', () => {
    for (const type of ['heartbeat.lost', 'authority.lost'] as const) {
      const loss: GovernorEvent = { type, reason: 'gone', at: AT };
      const starting = effectsOf([], loss);
      expect(starting.after.value).toBe('STARTING');
      expect(starting.after.context).toEqual(starting.before.context);
      expect(starting.effects).toEqual([{ type: 'alertFailure', params: { state: 'STARTING' } }]);

      const observing = effectsOf([start, failedChecks], loss);
      expect(observing.before.value).toBe('OBSERVE_ONLY');
      expect(observing.after.value).toBe('OBSERVE_ONLY');
      expect(observing.after.context).toEqual(observing.before.context);
      expect(observing.effects).toEqual([
        { type: 'alertFailure', params: { state: 'OBSERVE_ONLY' } },
      ]);
    }
  });

  it('does not alert a fleet authority loss again while it is held, and holds it when trading', () => {
    const held: GovernorInput = {
      ...input,
      hold: { cause: 'AUTHORITY_LOST', reason: 'lost before', at: AT },
    };
    const loss: GovernorEvent = { type: 'authority.lost', reason: 'still gone', at: AT };
    expect(effectsOf([], loss, held).effects).toEqual([
      { type: 'noteLossHeld', params: undefined },
    ]);
    // CHECKING with the loss held: OBSERVE_ONLY, no second alert.
    const checking = effectsOf([start], loss, held);
    expect(checking.after.value).toBe('OBSERVE_ONLY');
    expect(checking.effects.map((effect) => effect.type)).not.toContain('alertFailure');
    // AGGRESSIVE (nothing held): OBSERVE_ONLY, held, alerted with where it was found.
    const trading = effectsOf([start, done(report())], loss);
    expect(trading.before.value).toBe('AGGRESSIVE');
    expect(trading.after.value).toBe('OBSERVE_ONLY');
    expect(trading.after.context.hold?.cause).toBe('AUTHORITY_LOST');
    expect(trading.effects).toContainEqual({
      type: 'alertFailure',
      params: { state: 'AGGRESSIVE' },
    });
  });

  it('ignores every loss in SHUTDOWN', () => {
    for (const type of ['heartbeat.lost', 'authority.lost', 'integrity.violated'] as const) {
      const shut = effectsOf([{ type: 'operator.shutdown', ...operator }], {
        type,
        reason: 'late',
        at: AT,
      });
      expect(shut.after.value).toBe('SHUTDOWN');
      expect(shut.effects).toEqual([]);
    }
  });
});
