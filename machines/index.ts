/**
 * The public face of `machines/`: the lifecycle statechart and its vocabulary. Pure: it
 * imports only xstate and local types.
 */

export {
  type AuthorityMachine,
  authorityMachine,
  LIFECYCLE_ACTOR_ID,
  REQUEST_WATCHER_ACTOR_ID,
} from './authority-machine.js';
export {
  type GovernorMachine,
  governorMachine,
  STARTUP_CHECKS_ACTOR_ID,
  STARTUP_CHECKS_DONE_EVENT,
  type StartupChecksInput,
} from './governor-machine.js';
export {
  TIMER_ACTOR_IDS,
  TIMERS_ACTOR_ID,
  type TimerActorId,
  type TimersMachine,
  timersMachine,
} from './timers-machine.js';
export * from './types.js';
