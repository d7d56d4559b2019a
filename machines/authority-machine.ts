/**
 * The authority statechart: the lifecycle statechart as its invoked child, and what happens after
 * a lifecycle's SHUTDOWN (a final state). `running` holds one lifecycle and forwards every
 * lifecycle event to it; the lifecycle's end (SHUTDOWN) moves to `halted`, the latch; `halted`
 * leaves only on `operator.restart` whose pre-flight passed or was forced, into a new lifecycle.
 * Its root invokes what must outlive a lifecycle: the timers statechart and the request watcher.
 */
import { assign, forwardTo, fromCallback, setup } from 'xstate';
import { governorMachine } from './governor-machine.js';
import { TIMERS_ACTOR_ID, timersMachine } from './timers-machine.js';
import type {
  AuthorityContext,
  AuthorityEvent,
  GovernorContext,
  GovernorInput,
  OperatorRestartEvent,
} from './types.js';
import { GOVERNOR_EVENT_TYPES } from './types.js';

/** The id of the invoked lifecycle: its end is `xstate.done.actor.lifecycle`. */
export const LIFECYCLE_ACTOR_ID = 'lifecycle';

/** The id of the invoked request watcher (the operator requests other processes record). */
export const REQUEST_WATCHER_ACTOR_ID = 'requestWatcher';

const forwardEachToLifecycle = Object.fromEntries(
  GOVERNOR_EVENT_TYPES.map((type) => [type, { actions: 'forwardToLifecycle' as const }]),
);

function isGovernorContext(value: unknown): value is GovernorContext {
  return typeof value === 'object' && value !== null && 'lifecycleId' in value;
}

export const authorityMachine = setup({
  types: {
    context: {} as AuthorityContext,
    events: {} as AuthorityEvent,
    input: {} as GovernorInput,
  },
  guards: {
    /** The restart's pre-flight found nothing that would shut down again at once, or was forced. */
    preflightPassedOrForced: ({ event }) =>
      event.type === 'operator.restart' && (event.preflight.passed || event.force),
  },
  actions: {
    /** Keeps the ended lifecycle's last context: `halted` still answers for its SHUTDOWN. */
    recordEndedLifecycle: assign(({ event }) =>
      'output' in event && isGovernorContext(event.output) ? { ended: event.output } : {},
    ),
    /** The next lifecycle: a new id, and the authority as the durable record holds it now. */
    recordNextLifecycle: assign(({ context, event }) => {
      if (event.type !== 'operator.restart') return {};
      const restart: OperatorRestartEvent = event;
      return {
        lifecycle: {
          ...context.lifecycle,
          lifecycleId: restart.lifecycleId,
          desiredMode: restart.authority.desiredMode,
          latch: restart.authority.latch,
          hold: restart.authority.hold,
        },
        ended: null,
      };
    }),
    /** Hands a lifecycle event to the running lifecycle (the only dispatcher's one route). */
    forwardToLifecycle: forwardTo(LIFECYCLE_ACTOR_ID),
    /** Hands `timers.start` to the timers statechart. */
    forwardToTimers: forwardTo(TIMERS_ACTOR_ID),
    // Effect: a no-op here; the shell provides it (tells the listeners of the restart).
    onRestart: () => {},
  },
  actors: {
    lifecycle: governorMachine,
    timers: timersMachine,
    // Effect: a placeholder here; the shell provides the watcher (started and stopped with it).
    requestWatcher: fromCallback(() => () => {}),
  },
}).createMachine({
  id: 'authority',
  initial: 'running',
  context: ({ input }) => ({ lifecycle: input, ended: null }),
  // As long as the authority actor: across lifecycles and `halted`, so no restart resets a period.
  invoke: [
    { id: TIMERS_ACTOR_ID, src: 'timers' },
    { id: REQUEST_WATCHER_ACTOR_ID, src: 'requestWatcher' },
  ],
  on: {
    'timers.start': { actions: 'forwardToTimers' },
  },
  states: {
    running: {
      invoke: {
        id: LIFECYCLE_ACTOR_ID,
        src: 'lifecycle',
        input: ({ context }) => context.lifecycle,
        onDone: { target: 'halted', actions: 'recordEndedLifecycle' },
      },
      on: forwardEachToLifecycle,
    },
    halted: {
      on: {
        'operator.restart': {
          guard: 'preflightPassedOrForced',
          target: 'running',
          actions: ['recordNextLifecycle', 'onRestart'],
        },
      },
    },
  },
});

export type AuthorityMachine = typeof authorityMachine;
