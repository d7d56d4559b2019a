/**
 * The lifecycle statechart (DESIGN.md, "The lifecycle statechart"): STARTING → CHECKING →
 * AGGRESSIVE | OBSERVE_ONLY → SHUTDOWN. Every guard, action, actor and delay is named in
 * `setup()`; the shell gives the effects (entry actions, the startup checks) with `provide()`.
 */
import { and, assign, type EventObject, fromPromise, setup } from 'xstate';
import type {
  GovernorContext,
  GovernorEvent,
  GovernorInput,
  Mode,
  ObserveCause,
  ShutdownTrigger,
  StartupReport,
} from './types.js';

/** The id of the invoked startup-checks actor: its events are `xstate.done.actor.startupChecks` etc. */
export const STARTUP_CHECKS_ACTOR_ID = 'startupChecks';

/** What the `startupChecks` actor receives: the visit it reports on. */
export interface StartupChecksInput {
  readonly lifecycleId: string;
  readonly visit: number;
}

/** Renders an actor error (unknown by nature) as one line of text. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Summarises why a report does not allow trading in this visit, for `causeReason`. */
export function describeReportFailure(
  report: StartupReport | null,
  context: Pick<GovernorContext, 'lifecycleId' | 'visit'>,
): string {
  if (report === null) return 'startup checks returned a malformed report';
  if (report.lifecycleId !== context.lifecycleId) {
    return `startup report belongs to lifecycle ${report.lifecycleId}, not ${context.lifecycleId}`;
  }
  if (report.visit !== context.visit) {
    return `stale startup report from visit ${report.visit} (current visit ${context.visit})`;
  }
  if (report.passed) return 'startup checks passed';
  const failed = report.results.filter((result) => !result.passed).map((result) => result.name);
  return failed.length > 0
    ? `startup checks failed: ${failed.join(', ')}`
    : 'startup checks failed';
}

function operatorReason(event: { readonly operator: string; readonly reason: string }): string {
  return `operator ${event.operator}: ${event.reason}`;
}

/** The type of the event that carries the startup report of the current visit. */
export const STARTUP_CHECKS_DONE_EVENT = `xstate.done.actor.${STARTUP_CHECKS_ACTOR_ID}`;

function isCheckResult(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate.name === 'string' && typeof candidate.passed === 'boolean';
}

function isStartupReport(value: unknown): value is StartupReport {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return (
    typeof candidate.lifecycleId === 'string' &&
    typeof candidate.visit === 'number' &&
    typeof candidate.passed === 'boolean' &&
    Array.isArray(candidate.results) &&
    candidate.results.every(isCheckResult)
  );
}

/** The report an event carries, or null when it is not a well-formed startup-checks report. */
export function reportOf(event: EventObject): StartupReport | null {
  if (event.type !== STARTUP_CHECKS_DONE_EVENT || !('output' in event)) return null;
  return isStartupReport(event.output) ? event.output : null;
}

/** An operator's observe (from CHECKING or AGGRESSIVE): OBSERVE_ONLY, and it stays desired. */
const operatorObserve = {
  target: 'OBSERVE_ONLY',
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
          ? { trigger: event.trigger, reason: event.reason }
          : { trigger: 'UNRECOVERABLE_EXCEPTION' as const, reason: `unexpected ${event.type}` },
    },
  },
  'operator.shutdown': {
    target: '#governor.SHUTDOWN',
    actions: {
      type: 'recordShutdown',
      params: ({ event }: { event: GovernorEvent }) => ({
        trigger: 'OPERATOR_KILL' as const,
        reason: event.type === 'operator.shutdown' ? operatorReason(event) : `kill switch`,
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
      return (
        report?.passed === true &&
        report.visit === context.visit &&
        report.lifecycleId === context.lifecycleId
      );
    },
    desiredAggressive: ({ context }) => context.desiredMode === 'AGGRESSIVE',
    desiredObserveOnly: ({ context }) => context.desiredMode === 'OBSERVE_ONLY',
  },
  actions: {
    /** CHECKING entry: a new visit, no report yet, no observe cause. */
    beginVisit: assign(({ context }) => ({
      visit: context.visit + 1,
      report: null,
      observeCause: null,
      causeReason: null,
    })),
    /** Keeps the report of this visit; a malformed output is kept as null. */
    recordReport: assign((_, params: { report: StartupReport | null }) => ({
      report: params.report,
    })),
    recordDesiredMode: assign((_, params: { mode: Mode }) => ({ desiredMode: params.mode })),
    recordObserveCause: assign((_, params: { cause: ObserveCause; reason: string }) => ({
      observeCause: params.cause,
      causeReason: params.reason,
    })),
    recordShutdown: assign((_, params: { trigger: ShutdownTrigger; reason: string }) => ({
      shutdown: { trigger: params.trigger, reason: params.reason },
      observeCause: null,
      causeReason: params.reason,
    })),
    /** STARTING with a latch: SHUTDOWN again, for the latch's trigger and reason. */
    recordLatchedShutdown: assign(({ context }) =>
      context.latch === null
        ? {}
        : {
            shutdown: { trigger: context.latch.trigger, reason: context.latch.reason },
            observeCause: null,
            causeReason: `shutdown latch still set: ${context.latch.reason}`,
          },
    ),
    // Effects: no-ops here; the shell provides them (persist, alert, audit, open/close the gate).
    onEnterChecking: () => {},
    onEnterAggressive: () => {},
    onEnterObserveOnly: () => {},
    onEnterShutdown: () => {},
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
  context: ({ input }) => ({
    lifecycleId: input.lifecycleId,
    desiredMode: input.desiredMode,
    latch: input.latch,
    startupChecksTimeoutMs: input.startupChecksTimeoutMs,
    visit: 0,
    report: null,
    observeCause: null,
    causeReason: null,
    shutdown: null,
  }),
  states: {
    STARTING: {
      always: [
        { guard: 'latchRecorded', target: 'SHUTDOWN', actions: 'recordLatchedShutdown' },
        { target: 'CHECKING' },
      ],
      // Transient: events cannot arrive here, but if one did, the kill switches still hold.
      on: killSwitches,
    },
    CHECKING: {
      entry: ['beginVisit', 'onEnterChecking'],
      invoke: {
        id: STARTUP_CHECKS_ACTOR_ID,
        src: 'startupChecks',
        input: ({ context }) => ({ lifecycleId: context.lifecycleId, visit: context.visit }),
        onDone: [
          {
            guard: and(['reportPassedThisVisit', 'desiredAggressive']),
            target: 'AGGRESSIVE',
            actions: { type: 'recordReport', params: ({ event }) => ({ report: reportOf(event) }) },
          },
          {
            guard: and(['reportPassedThisVisit', 'desiredObserveOnly']),
            target: 'OBSERVE_ONLY',
            actions: [
              { type: 'recordReport', params: ({ event }) => ({ report: reportOf(event) }) },
              {
                type: 'recordObserveCause',
                params: {
                  cause: 'CONFIGURED',
                  reason: 'startup checks passed; desired mode OBSERVE_ONLY',
                },
              },
            ],
          },
          {
            target: 'OBSERVE_ONLY',
            actions: [
              { type: 'recordReport', params: ({ event }) => ({ report: reportOf(event) }) },
              {
                type: 'recordObserveCause',
                params: ({ context, event }) => ({
                  cause: 'STARTUP_CHECKS_FAILED',
                  reason: describeReportFailure(reportOf(event), context),
                }),
              },
            ],
          },
        ],
        onError: {
          target: 'OBSERVE_ONLY',
          actions: {
            type: 'recordObserveCause',
            params: ({ event }) => ({
              cause: 'STARTUP_CHECKS_FAILED',
              reason: `startup checks errored: ${describeError(event.error)}`,
            }),
          },
        },
      },
      after: {
        startupChecksTimeout: {
          target: 'OBSERVE_ONLY',
          actions: {
            type: 'recordObserveCause',
            params: ({ context }) => ({
              cause: 'STARTUP_CHECKS_FAILED',
              reason: `startup checks timed out after ${context.startupChecksTimeoutMs} ms`,
            }),
          },
        },
      },
      on: {
        'operator.observe': operatorObserve,
        ...killSwitches,
      },
    },
    AGGRESSIVE: {
      entry: 'onEnterAggressive',
      on: {
        'heartbeat.lost': {
          target: 'OBSERVE_ONLY',
          actions: {
            type: 'recordObserveCause',
            params: ({ event }) => ({ cause: 'HEARTBEAT_LOST', reason: event.reason }),
          },
        },
        'integrity.violated': {
          target: 'OBSERVE_ONLY',
          actions: {
            type: 'recordObserveCause',
            params: ({ event }) => ({ cause: 'INTEGRITY_VIOLATION', reason: event.reason }),
          },
        },
        'operator.observe': operatorObserve,
        ...killSwitches,
      },
    },
    OBSERVE_ONLY: {
      entry: 'onEnterObserveOnly',
      on: {
        'operator.resume': {
          target: 'CHECKING',
          actions: { type: 'recordDesiredMode', params: { mode: 'AGGRESSIVE' } },
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
