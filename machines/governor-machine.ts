/**
 * The lifecycle statechart (DESIGN.md, "The lifecycle statechart"): STARTING → CHECKING →
 * AGGRESSIVE | OBSERVE_ONLY → SHUTDOWN. Every guard, action, actor and delay is named in
 * `setup()`; the shell gives the effects (entry actions, the gate, the startup checks) with
 * `provide()`. It is the only state governor keeps: the shell reads mode, cause, latch and
 * report from its snapshot, and opens the gate only in AGGRESSIVE's entry.
 */
import { and, assign, fromPromise, setup } from 'xstate';
import {
  capitalMismatchOf,
  reportFailure,
  reportIsThisVisit,
  reportOf,
  STARTUP_CHECKS_ACTOR_ID,
  type StartupChecksInput,
} from './startup-report.js';
import type {
  GovernorContext,
  GovernorEvent,
  GovernorInput,
  HeldCause,
  Mode,
  ObserveCause,
  ShutdownTrigger,
  StartupReport,
} from './types.js';

export {
  STARTUP_CHECKS_ACTOR_ID,
  STARTUP_CHECKS_DONE_EVENT,
  type StartupChecksInput,
} from './startup-report.js';

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function operatorReason(event: { readonly operator: string; readonly reason: string }): string {
  return `operator ${event.operator}: ${event.reason}`;
}

/** The reason an event gives for a failure (heartbeat lost, integrity violated, authority lost). */
function failureReason({ event }: { event: GovernorEvent }): string {
  return event.type === 'heartbeat.lost' ||
    event.type === 'integrity.violated' ||
    event.type === 'authority.lost'
    ? event.reason
    : `unexpected ${event.type}`;
}

/** OBSERVE_ONLY for a failure: the cause is recorded and held until an operator resumes. */
function failure(cause: HeldCause) {
  return {
    target: '#governor.OBSERVE_ONLY',
    actions: {
      type: 'recordFailure',
      params: (args: { event: GovernorEvent }) => ({ cause, reason: failureReason(args) }),
    },
  } as const;
}

/** The state a failure's alert names as where it was found. */
type AlertState = 'STARTING' | 'CHECKING' | 'AGGRESSIVE' | 'OBSERVE_ONLY';

/** The effect that raises a loss's incident (heartbeat or fleet authority), found in `state`. */
function alertFailure(state: AlertState) {
  return { type: 'alertFailure', params: { state } } as const;
}

/**
 * A loss while not trading (STARTING, OBSERVE_ONLY): the mode stays and the shell raises its
 * incident; a fleet authority loss already held was alerted when it was held, and is not again.
 */
function lossesInPlace(state: 'STARTING' | 'OBSERVE_ONLY') {
  return {
    'heartbeat.lost': { actions: alertFailure(state) },
    'authority.lost': [
      { guard: 'authorityLossHeld', actions: 'noteLossHeld' },
      { actions: alertFailure(state) },
    ],
  } as const;
}

/** A fleet authority loss while CHECKING or trading: OBSERVE_ONLY, alerted unless already held. */
function authorityLost(state: 'CHECKING' | 'AGGRESSIVE') {
  const held = failure('AUTHORITY_LOST');
  return [
    { guard: 'authorityLossHeld', target: held.target, actions: ['noteLossHeld', held.actions] },
    { target: held.target, actions: [alertFailure(state), held.actions] },
  ] as const;
}

/** An operator's observe (from CHECKING or AGGRESSIVE): OBSERVE_ONLY, and it stays desired. */
const operatorObserve = {
  target: '#governor.OBSERVE_ONLY',
  actions: [
    { type: 'recordDesiredMode', params: { mode: 'OBSERVE_ONLY' as const } },
    {
      type: 'recordObserveCause',
      params: ({ event }: { event: GovernorEvent }) => ({
        cause: 'OPERATOR' as const,
        reason:
          event.type === 'operator.observe' ? operatorReason(event) : `unexpected ${event.type}`,
      }),
    },
  ],
} as const;

/** The transitions every non-final state has: the fail-safe and the kill switch. */
const killSwitches = {
  'failsafe.triggered': {
    target: '#governor.SHUTDOWN',
    actions: {
      type: 'recordShutdown',
      params: ({ event }: { event: GovernorEvent }) =>
        event.type === 'failsafe.triggered'
          ? { trigger: event.trigger, reason: event.reason, at: event.at }
          : {
              trigger: 'UNRECOVERABLE_EXCEPTION' as const,
              reason: `unexpected ${event.type}`,
              at: event.at,
            },
    },
  },
  'operator.shutdown': {
    target: '#governor.SHUTDOWN',
    actions: {
      type: 'recordShutdown',
      params: ({ event }: { event: GovernorEvent }) => ({
        trigger: 'OPERATOR_KILL' as const,
        reason: event.type === 'operator.shutdown' ? operatorReason(event) : 'kill switch',
        at: event.at,
      }),
    },
  },
} as const;

export const governorMachine = setup({
  types: {
    context: {} as GovernorContext,
    events: {} as GovernorEvent,
    input: {} as GovernorInput,
  },
  guards: {
    /** A SHUTDOWN latch survived the restart: go straight back to SHUTDOWN. */
    latchRecorded: ({ context }) => context.latch !== null,
    /** The report passed, and it is the report of this lifecycle's current CHECKING visit. */
    reportPassedThisVisit: ({ context, event }) => {
      const report = reportOf(event);
      return report?.passed === true && reportIsThisVisit(report, context);
    },
    /** This visit's capital reconciliation ran and found a mismatch (precedence: shut down). */
    capitalInconsistent: ({ context, event }) =>
      capitalMismatchOf(reportOf(event), context) !== null,
    /** Configured and desired AGGRESSIVE, with no failure held: trading may begin. */
    mayTrade: ({ context }) =>
      context.configuredMode === 'AGGRESSIVE' &&
      context.desiredMode === 'AGGRESSIVE' &&
      context.hold === null,
    /** OBSERVE_ONLY entered for a failure is held until an operator resumes. */
    failureHeld: ({ context }) => context.hold !== null,
    /** A fleet authority loss is held already: it was alerted when it was held. */
    authorityLossHeld: ({ context }) => context.hold?.cause === 'AUTHORITY_LOST',
  },
  actions: {
    /** CHECKING entry: a new visit, no report yet, no observe cause. */
    beginVisit: assign(({ context }) => ({
      visit: context.visit + 1,
      report: null,
      observeCause: null,
      causeReason: null,
      causeHeld: false,
    })),
    /** Keeps the report of this visit; a malformed output is kept as null. */
    recordReport: assign(({ event }) => ({ report: reportOf(event) })),
    recordDesiredMode: assign((_, params: { mode: Mode }) => ({ desiredMode: params.mode })),
    recordObserveCause: assign((_, params: { cause: ObserveCause; reason: string }) => ({
      observeCause: params.cause,
      causeReason: params.reason,
      causeHeld: false,
    })),
    /** OBSERVE_ONLY for a failure: the cause, and the hold (the first unresolved failure). */
    recordFailure: assign(({ context }, params: { cause: HeldCause; reason: string }) => ({
      observeCause: params.cause,
      causeReason: params.reason,
      causeHeld: false,
      hold: context.hold ?? { cause: params.cause, reason: params.reason },
    })),
    /** Passing checks while a failure is held: OBSERVE_ONLY for the held cause. */
    recordHeldCause: assign(({ context }) =>
      context.hold === null
        ? {}
        : {
            observeCause: context.hold.cause,
            causeReason: `${context.hold.reason} (held until an operator resumes)`,
            causeHeld: true,
          },
    ),
    /** Passing checks with OBSERVE_ONLY configured or desired by an operator. */
    recordObserveMode: assign(({ context }) =>
      context.configuredMode === 'OBSERVE_ONLY'
        ? {
            observeCause: 'CONFIGURED' as const,
            causeReason: 'startup checks passed; configured mode OBSERVE_ONLY',
            causeHeld: false,
          }
        : {
            observeCause: 'OPERATOR' as const,
            causeReason: 'startup checks passed; an operator chose OBSERVE_ONLY',
            causeHeld: false,
          },
    ),
    /** An operator's resume: the held failure is cleared, AGGRESSIVE is desired again. */
    clearHold: assign({ hold: null }),
    recordShutdown: assign(
      (_, params: { trigger: ShutdownTrigger; reason: string; at: string }) => ({
        shutdown: { trigger: params.trigger, reason: params.reason, at: params.at },
        observeCause: null,
        causeReason: params.reason,
      }),
    ),
    /** The capital mismatch of this visit's report shuts down (DESIGN: precedence). */
    recordCapitalShutdown: assign(({ context, event }) => {
      const report = reportOf(event);
      const reason = capitalMismatchOf(report, context) ?? 'capital reconciliation failed';
      return {
        shutdown: {
          trigger: 'CAPITAL_INCONSISTENT' as const,
          reason,
          at: report?.completedAt ?? '1970-01-01T00:00:00.000Z',
        },
        observeCause: null,
        causeReason: reason,
      };
    }),
    /** STARTING with a latch: SHUTDOWN again, for the latch's trigger and reason. */
    recordLatchedShutdown: assign(({ context }) =>
      context.latch === null
        ? {}
        : {
            shutdown: context.latch,
            observeCause: null,
            causeReason: `shutdown latch still set: ${context.latch.reason}`,
          },
    ),
    // Effects: no-ops here; the shell provides them (persist, alert, open and close the gate).
    onEnterChecking: () => {},
    onEnterAggressive: () => {},
    onEnterObserveOnly: () => {},
    onEnterShutdown: () => {},
    openGate: () => {},
    closeGate: () => {},
    /** Effect: raise the incident of a heartbeat or fleet authority loss found in `state`. */
    alertFailure: (_, _params: { state: AlertState }) => {},
    /** Effect: a loss held already (no new incident), for the log. */
    noteLossHeld: () => {},
  },
  actors: {
    /** Placeholder: fails, so an unprovided machine never trades. The shell provides the real one. */
    startupChecks: fromPromise<StartupReport, StartupChecksInput>(async () => {
      throw new Error('startupChecks is not provided: the shell must provide() it');
    }),
  },
  delays: {
    startupChecksTimeout: ({ context }) => context.startupChecksTimeoutMs,
  },
}).createMachine({
  id: 'governor',
  initial: 'STARTING',
  // Its end (SHUTDOWN) hands the last context to the authority statechart that invoked it.
  output: ({ context }) => context,
  context: ({ input }) => ({
    lifecycleId: input.lifecycleId,
    configuredMode: input.configuredMode,
    desiredMode: input.desiredMode,
    latch: input.latch,
    hold: input.hold === null ? null : { cause: input.hold.cause, reason: input.hold.reason },
    startupChecksTimeoutMs: input.startupChecksTimeoutMs,
    visit: 0,
    report: null,
    observeCause: null,
    causeReason: null,
    causeHeld: false,
    shutdown: null,
  }),
  states: {
    STARTING: {
      always: { guard: 'latchRecorded', target: 'SHUTDOWN', actions: 'recordLatchedShutdown' },
      on: {
        'lifecycle.start': 'CHECKING',
        ...lossesInPlace('STARTING'),
        // Before a lifecycle runs, an operator's observe only records the mode to reach.
        'operator.observe': {
          actions: { type: 'recordDesiredMode', params: { mode: 'OBSERVE_ONLY' as const } },
        },
        ...killSwitches,
      },
    },
    CHECKING: {
      entry: ['beginVisit', 'onEnterChecking'],
      invoke: {
        id: STARTUP_CHECKS_ACTOR_ID,
        src: 'startupChecks',
        input: ({ context }) => ({ lifecycleId: context.lifecycleId, visit: context.visit }),
        onDone: [
          {
            guard: 'capitalInconsistent',
            target: 'SHUTDOWN',
            actions: ['recordReport', 'recordCapitalShutdown'],
          },
          {
            guard: and(['reportPassedThisVisit', 'mayTrade']),
            target: 'AGGRESSIVE',
            actions: 'recordReport',
          },
          {
            guard: and(['reportPassedThisVisit', 'failureHeld']),
            target: 'OBSERVE_ONLY',
            actions: ['recordReport', 'recordHeldCause'],
          },
          {
            guard: 'reportPassedThisVisit',
            target: 'OBSERVE_ONLY',
            actions: ['recordReport', 'recordObserveMode'],
          },
          {
            target: 'OBSERVE_ONLY',
            actions: [
              'recordReport',
              {
                type: 'recordFailure',
                params: ({ context, event }) => ({
                  cause: 'STARTUP_CHECKS_FAILED',
                  reason: reportFailure(reportOf(event), context),
                }),
              },
            ],
          },
        ],
        onError: {
          target: 'OBSERVE_ONLY',
          actions: {
            type: 'recordFailure',
            params: ({ event }) => ({
              cause: 'STARTUP_CHECKS_FAILED',
              reason: `startup checks errored: ${errorText(event.error)}`,
            }),
          },
        },
      },
      after: {
        startupChecksTimeout: {
          target: 'OBSERVE_ONLY',
          actions: {
            type: 'recordFailure',
            params: ({ context }) => ({
              cause: 'STARTUP_CHECKS_FAILED',
              reason: `startup checks timed out after ${context.startupChecksTimeoutMs} ms`,
            }),
          },
        },
      },
      on: {
        'heartbeat.lost': failure('HEARTBEAT_LOST'),
        'integrity.violated': failure('INTEGRITY_VIOLATION'),
        'authority.lost': authorityLost('CHECKING'),
        'operator.observe': operatorObserve,
        ...killSwitches,
      },
    },
    AGGRESSIVE: {
      entry: ['onEnterAggressive', 'openGate'],
      exit: 'closeGate',
      on: {
        'heartbeat.lost': failure('HEARTBEAT_LOST'),
        'integrity.violated': failure('INTEGRITY_VIOLATION'),
        'authority.lost': authorityLost('AGGRESSIVE'),
        'operator.observe': operatorObserve,
        ...killSwitches,
      },
    },
    OBSERVE_ONLY: {
      entry: 'onEnterObserveOnly',
      on: {
        ...lossesInPlace('OBSERVE_ONLY'),
        'operator.resume': {
          target: 'CHECKING',
          actions: ['clearHold', { type: 'recordDesiredMode', params: { mode: 'AGGRESSIVE' } }],
        },
        ...killSwitches,
      },
    },
    SHUTDOWN: {
      type: 'final',
      entry: 'onEnterShutdown',
    },
  },
});

export type GovernorMachine = typeof governorMachine;
