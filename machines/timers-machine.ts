/**
 * The timers statechart: the authority statechart invokes it at its root, so it lives as long as
 * the authority actor, across every lifecycle and `halted`. It waits (`idle`) until the first
 * lifecycle starts (`timers.start`), then invokes one actor per timer until the authority actor
 * stops. Here each is a placeholder without effect; the shell provides the real ones.
 */
import { fromCallback, setup } from 'xstate';
import type { TimersStartEvent } from './types.js';

/** The invoked timers, in the order they start, each named after what it protects. */
export const TIMER_ACTOR_IDS = [
  'heartbeat',
  'fleetLease',
  'failSafe',
  'integrityCheck',
  'integrityScrub',
  'venueSwitches',
] as const;
export type TimerActorId = (typeof TIMER_ACTOR_IDS)[number];

/** The id of the invoked timers statechart in the authority statechart. */
export const TIMERS_ACTOR_ID = 'timers';

/** A timer as the pure machine knows it: started on invoke, stopped on exit; no effect here. */
const placeholder = fromCallback(() => () => {});

export const timersMachine = setup({
  types: {
    events: {} as TimersStartEvent,
  },
  actors: {
    heartbeat: placeholder,
    fleetLease: placeholder,
    failSafe: placeholder,
    integrityCheck: placeholder,
    integrityScrub: placeholder,
    venueSwitches: placeholder,
  },
}).createMachine({
  id: 'timers',
  initial: 'idle',
  states: {
    idle: {
      on: { 'timers.start': 'ticking' },
    },
    // No event leaves it: a second start changes nothing, so no period restarts.
    ticking: {
      invoke: [
        { id: 'heartbeat', src: 'heartbeat' },
        { id: 'fleetLease', src: 'fleetLease' },
        { id: 'failSafe', src: 'failSafe' },
        { id: 'integrityCheck', src: 'integrityCheck' },
        { id: 'integrityScrub', src: 'integrityScrub' },
        { id: 'venueSwitches', src: 'venueSwitches' },
      ],
    },
  },
});

export type TimersMachine = typeof timersMachine;
