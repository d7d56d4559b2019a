/**
 * The event types governor itself writes (the one catalogue, persistence/event-types.ts), for
 * the command line, which reaches persistence only through the governor.
 */
export { GOVERNOR_EVENT_TYPES, isGovernorEventType } from '../../persistence/event-types.js';
