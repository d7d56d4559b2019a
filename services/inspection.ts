/** TEMPORARY stub until the inspection module lands. */
import type { InspectionEvent } from 'xstate';
import type { Logger } from './logger.js';
export function transitionLogger(logger: Logger): (event: InspectionEvent) => void {
  return (event) => {
    if (event.type === '@xstate.snapshot') logger.debug({ event: event.event.type }, 'snapshot');
  };
}
