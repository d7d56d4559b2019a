/**
 * Property tests of the running statechart (fast-check `fc.commands`): random events, startup
 * reports (passing, failing, stale, foreign, late), actor errors and time steps on a
 * SimulatedClock, checked against a small model after every command.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Actor, createActor, fromPromise } from 'xstate';
import {
  type GovernorEvent,
  governorMachine,
  type LifecycleState,
  type Mode,
  type ObserveCause,
  SHUTDOWN_TRIGGERS,
  type StartupChecksInput,
  type StartupReport,
} from '../../machines/index.js';
import { SimulatedClock } from '../../services/clock.js';
import { brokenInvariant } from './governor-invariants.js';

const LIFECYCLE_ID = 'lifecycle-property';
const STARTUP_CHECKS_TIMEOUT_MS = 30_000;

/** The small model: what the transition table says the machine must be doing. */
interface Model {
  state: LifecycleState;
  configuredMode: Mode;
  desiredMode: Mode;
  /** A failure held (OBSERVE_ONLY until an operator resumes). */
  held: boolean;
  visit: number;
  observeCause: ObserveCause | null;
  nowMs: number;
  /** When the current CHECKING visit started (monotonic ms), or null outside CHECKING. */
  checkingSinceMs: number | null;
  /** The cause of the failure held, while one is. */
  firstHeldCause: ObserveCause | null;
}

interface PendingCheck {
  readonly input: StartupChecksInput;
  readonly resolve: (report: StartupReport) => void;
  readonly reject: (error: Error) => void;
}

/** The system under test: the real machine, on a simulated clock, with controllable checks. */
interface Real {
  readonly actor: Actor<typeof governorMachine>;
  readonly clock: SimulatedClock;
  readonly checks: PendingCheck[];
}

type Command = fc.AsyncCommand<Model, Real>;
type GovernorLogic = typeof governorMachine;

/** Lets promise callbacks (the startup checks actor) run to completion. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function enterChecking(model: Model): void {
  model.state = 'CHECKING';
  model.visit += 1;
  model.observeCause = null;
  model.checkingSinceMs = model.nowMs;
}

function enterObserve(model: Model, cause: ObserveCause): void {
  model.state = 'OBSERVE_ONLY';
  model.observeCause = cause;
  model.checkingSinceMs = null;
}

/** OBSERVE_ONLY for a failure: held until an operator resumes (the first failure stays). */
function enterFailure(model: Model, cause: ObserveCause): void {
  enterObserve(model, cause);
  model.held = true;
}

/** Passing checks of the current visit: AGGRESSIVE only when nothing caps or holds it. */
function passChecks(model: Model): void {
  if (model.held) {
    model.state = 'OBSERVE_ONLY';
    model.checkingSinceMs = null;
    // The cause is the held one (the model keeps the first failure's cause).
    model.observeCause = model.firstHeldCause;
    return;
  }
  if (model.configuredMode === 'AGGRESSIVE' && model.desiredMode === 'AGGRESSIVE') {
    model.state = 'AGGRESSIVE';
    model.checkingSinceMs = null;
    return;
  }
  enterObserve(model, model.configuredMode === 'OBSERVE_ONLY' ? 'CONFIGURED' : 'OPERATOR');
}

function enterShutdown(model: Model): void {
  model.state = 'SHUTDOWN';
  model.observeCause = null;
  model.checkingSinceMs = null;
}

/** The transition table (DESIGN.md) for external events, applied to the model. */
function applyEvent(model: Model, event: GovernorEvent): void {
  if (model.state === 'SHUTDOWN') return;
  const failure = (cause: ObserveCause): void => {
    if (model.state !== 'AGGRESSIVE' && model.state !== 'CHECKING') return;
    if (!model.held) model.firstHeldCause = cause;
    enterFailure(model, cause);
  };
  switch (event.type) {
    case 'failsafe.triggered':
    case 'operator.shutdown':
      enterShutdown(model);
      return;
    case 'lifecycle.start':
      if (model.state === 'STARTING') enterChecking(model);
      return;
    case 'heartbeat.lost':
      failure('HEARTBEAT_LOST');
      return;
    case 'integrity.violated':
      failure('INTEGRITY_VIOLATION');
      return;
    case 'operator.observe':
      if (model.state === 'STARTING') model.desiredMode = 'OBSERVE_ONLY';
      if (model.state === 'AGGRESSIVE' || model.state === 'CHECKING') {
        model.desiredMode = 'OBSERVE_ONLY';
        enterObserve(model, 'OPERATOR');
      }
      return;
    case 'operator.resume':
      if (model.state === 'OBSERVE_ONLY') {
        model.desiredMode = 'AGGRESSIVE';
        model.held = false;
        model.firstHeldCause = null;
        enterChecking(model);
      }
      return;
  }
}

/**
 * Checks the real machine against the model and the state invariants: after every command.
 * It runs after each of some 100,000 commands, and each `expect` call costs microseconds of
 * bookkeeping: the fields are compared plainly, and `expect` reports (and throws) only when
 * one differs.
 */
function assertMatches(model: Model, real: Real): void {
  const snapshot = real.actor.getSnapshot();
  const view = {
    value: String(snapshot.value),
    status: snapshot.status,
    context: snapshot.context,
  };
  const actual = {
    state: view.value,
    brokenInvariant: brokenInvariant(view),
    desiredMode: snapshot.context.desiredMode,
    held: snapshot.context.hold !== null,
    visit: snapshot.context.visit,
    observeCause: snapshot.context.observeCause,
    status: snapshot.status,
    nowMs: real.clock.monotonicNow(),
  };
  const expected: typeof actual = {
    state: model.state,
    brokenInvariant: null,
    desiredMode: model.desiredMode,
    held: model.held,
    visit: model.visit,
    observeCause: model.observeCause,
    status: model.state === 'SHUTDOWN' ? 'done' : 'active',
    nowMs: model.nowMs,
  };
  if (isDeepStrictEqual(actual, expected)) return;
  expect(actual).toStrictEqual(expected);
  throw new Error('the machine and the model differ, and expect saw no difference');
}

class SendEvent implements Command {
  constructor(readonly event: GovernorEvent) {}
  check(): boolean {
    return true;
  }
  async run(model: Model, real: Real): Promise<void> {
    if (real.actor.getSnapshot().status === 'active') real.actor.send(this.event);
    applyEvent(model, this.event);
    await settle();
    assertMatches(model, real);
  }
  toString(): string {
    const { type, ...payload } = this.event;
    const detail = 'trigger' in payload ? `(${payload.trigger})` : '';
    return `send ${type}${detail}`;
  }
}

type ReportKind = 'pass' | 'fail' | 'capital mismatch' | 'stale visit' | 'other lifecycle';

/** The startup checks of the current visit answer (or, with `late`, an earlier visit's do). */
class AnswerChecks implements Command {
  constructor(
    readonly kind: ReportKind | 'error',
    readonly late: boolean,
  ) {}
  check(): boolean {
    return true;
  }
  async run(model: Model, real: Real): Promise<void> {
    const current = real.checks.find((check) => check.input.visit === model.visit);
    const target = this.late
      ? real.checks.find((check) => check.input.visit < model.visit)
      : current;
    if (target !== undefined) {
      real.checks.splice(real.checks.indexOf(target), 1);
      this.answer(target);
      const isLive = !this.late && model.state === 'CHECKING';
      if (isLive && this.kind === 'pass') {
        passChecks(model);
      } else if (isLive && this.kind === 'capital mismatch') {
        enterShutdown(model);
      } else if (isLive) {
        if (!model.held) model.firstHeldCause = 'STARTUP_CHECKS_FAILED';
        enterFailure(model, 'STARTUP_CHECKS_FAILED');
      }
    }
    await settle();
    assertMatches(model, real);
  }
  private answer(check: PendingCheck): void {
    if (this.kind === 'error') {
      check.reject(new Error('adapter unreachable'));
      return;
    }
    const { lifecycleId, visit } = check.input;
    const mismatch = this.kind === 'capital mismatch';
    check.resolve({
      lifecycleId: this.kind === 'other lifecycle' ? 'lifecycle-other' : lifecycleId,
      visit: this.kind === 'stale visit' ? visit - 1 : visit,
      passed: this.kind !== 'fail' && !mismatch,
      results: mismatch
        ? [
            {
              name: 'capital_reconciliation',
              outcome: 'failed',
              passed: false,
              details: 'pool p: 100 != 99',
              rootCause: 'mismatch',
              recommendedAction: 'reconcile',
            },
          ]
        : [],
      completedAt: '2026-01-01T00:00:00.000Z',
    });
  }
  toString(): string {
    return `${this.late ? 'late ' : ''}startup checks answer: ${this.kind}`;
  }
}

/** Time passes: `advance` fires timers on the way; `stall` is a frozen event loop that resumes. */
class PassTime implements Command {
  constructor(
    readonly ms: number,
    readonly stalled: boolean,
  ) {}
  check(): boolean {
    return true;
  }
  async run(model: Model, real: Real): Promise<void> {
    if (this.stalled) {
      real.clock.skip(this.ms);
      real.clock.runDue();
    } else {
      real.clock.advance(this.ms);
    }
    model.nowMs += this.ms;
    const since = model.checkingSinceMs;
    if (
      model.state === 'CHECKING' &&
      since !== null &&
      model.nowMs >= since + STARTUP_CHECKS_TIMEOUT_MS
    ) {
      if (!model.held) model.firstHeldCause = 'STARTUP_CHECKS_FAILED';
      enterFailure(model, 'STARTUP_CHECKS_FAILED');
    }
    await settle();
    assertMatches(model, real);
  }
  toString(): string {
    return `${this.stalled ? 'stall' : 'advance'} ${this.ms} ms`;
  }
}

const AT = '2026-01-01T00:00:00.000Z';
const operator = { operator: 'alice', reason: 'property test', at: AT };
const eventArbitrary: fc.Arbitrary<GovernorEvent> = fc.oneof(
  fc.constant<GovernorEvent>({ type: 'lifecycle.start', at: AT }),
  fc.constant<GovernorEvent>({ type: 'heartbeat.lost', reason: 'no heartbeat', at: AT }),
  fc.constant<GovernorEvent>({ type: 'integrity.violated', reason: 'gap in event log', at: AT }),
  fc.constant<GovernorEvent>({ type: 'operator.observe', ...operator }),
  fc.constant<GovernorEvent>({ type: 'operator.resume', ...operator }),
  fc.constant<GovernorEvent>({ type: 'operator.resume', ...operator }),
  fc.constant<GovernorEvent>({ type: 'operator.shutdown', ...operator }),
  fc
    .constantFrom(...SHUTDOWN_TRIGGERS)
    .map(
      (trigger): GovernorEvent => ({ type: 'failsafe.triggered', trigger, reason: 'test', at: AT }),
    ),
);

const commandArbitraries = [
  eventArbitrary.map((event) => new SendEvent(event)),
  fc
    .tuple(
      fc.constantFrom<ReportKind | 'error'>(
        'pass',
        'pass',
        'fail',
        'capital mismatch',
        'stale visit',
        'other lifecycle',
        'error',
      ),
      fc.boolean(),
    )
    .map(([kind, late]) => new AnswerChecks(kind, late)),
  fc
    .tuple(fc.integer({ min: 0, max: 2 * STARTUP_CHECKS_TIMEOUT_MS }), fc.boolean())
    .map(([ms, stalled]) => new PassTime(ms, stalled)),
];

function setup(
  modes: { configuredMode: Mode; desiredMode: Mode; held: boolean },
  logic: GovernorLogic = governorMachine,
): { model: Model; real: Real } {
  const { configuredMode, desiredMode, held } = modes;
  const clock = new SimulatedClock();
  const checks: PendingCheck[] = [];
  const machine = logic.provide({
    actors: {
      startupChecks: fromPromise<StartupReport, StartupChecksInput>(
        ({ input }) =>
          new Promise<StartupReport>((resolve, reject) => checks.push({ input, resolve, reject })),
      ),
    },
  });
  const actor = createActor(machine, {
    input: {
      lifecycleId: LIFECYCLE_ID,
      configuredMode,
      desiredMode,
      latch: null,
      hold: held ? { cause: 'HEARTBEAT_LOST', reason: 'held from before', at: AT } : null,
      startupChecksTimeoutMs: STARTUP_CHECKS_TIMEOUT_MS,
    },
    clock,
  });
  actor.start();
  const model: Model = {
    state: 'STARTING',
    configuredMode,
    desiredMode,
    held,
    visit: 0,
    observeCause: null,
    nowMs: 0,
    checkingSinceMs: null,
    firstHeldCause: held ? 'HEARTBEAT_LOST' : null,
  };
  return { model, real: { actor, clock, checks } };
}

/** The property itself, for any variant of the machine (the real one, or a mutant). */
function matchesModel(logic: GovernorLogic = governorMachine) {
  return fc.asyncProperty(
    fc.record({
      configuredMode: fc.constantFrom<Mode>('AGGRESSIVE', 'OBSERVE_ONLY'),
      desiredMode: fc.constantFrom<Mode>('AGGRESSIVE', 'OBSERVE_ONLY'),
      held: fc.boolean(),
    }),
    fc.commands(commandArbitraries, { size: 'large' }),
    async (modes, commands) => {
      const { model, real } = setup(modes, logic);
      try {
        assertMatches(model, real);
        await fc.asyncModelRun(() => ({ model, real }), commands);
      } finally {
        real.actor.stop();
      }
    },
  );
}

describe('governor statechart under random commands', () => {
  it('matches the model and keeps every invariant after every command', async () => {
    // Invariant held: after every command, the machine is in the state the transition table
    // predicts (same visit, cause, desired mode), AGGRESSIVE only on a report that passed in
    // this visit, OBSERVE_ONLY always with a cause, SHUTDOWN final and never left.
    const result = await fc.check(matchesModel(), { numRuns: 250 });
    console.log(`property: ${result.numRuns} runs; invariants held after every command`);
    expect(result.failed, fc.defaultReportMessage(result)).toBe(false);
    expect(result.numRuns).toBeGreaterThanOrEqual(250);
  });

  it('shrinks a failure to a short, readable trace', async () => {
    // Goal: the property can fail, and the trace it reports is a few readable commands. The
    // mutant accepts a passing report from any visit (the stale-report bug S2 forbids).
    const mutant = governorMachine.provide({
      guards: {
        reportPassedThisVisit: ({ event }) =>
          'output' in event &&
          typeof event.output === 'object' &&
          event.output !== null &&
          (event.output as { passed?: unknown }).passed === true,
      },
    });
    const result = await fc.check(matchesModel(mutant), { numRuns: 250, seed: 42 });
    expect(result.failed).toBe(true);
    const trace = String(result.counterexample?.[1] ?? '');
    console.log(`shrunk counterexample for the stale-report mutant: ${trace}`);
    expect(trace).toMatch(/startup checks answer: (stale visit|other lifecycle)/);
    expect(trace.split(',').length).toBeLessThanOrEqual(5);
  });
});
