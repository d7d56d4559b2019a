/**
 * Goal: the timers statechart (machines/timers-machine.ts) and where the authority statechart
 * invokes it. Explored over every event the authority statechart knows: the only edge that
 * changes anything is idle --timers.start--> ticking (no event stops or restarts a timer),
 * ticking invokes every timer, and the authority statechart invokes the timers and the request
 * watcher at its root, so no lifecycle state bounds their lives.
 */

import { describe, expect, it } from 'vitest';
import type { AnyEventObject, AnyMachineSnapshot, AnyStateMachine } from 'xstate';
import { getAdjacencyMap } from 'xstate/graph';
import {
  authorityMachine,
  REQUEST_WATCHER_ACTOR_ID,
  TIMER_ACTOR_IDS,
  TIMERS_ACTOR_ID,
  timersMachine,
} from '../../machines/index.js';
import { authorityAlphabet } from './authority-model-check.js';

describe('the timers statechart', () => {
  it('leaves idle only on timers.start, and no event leaves ticking', () => {
    const alphabet = authorityAlphabet().map((entry) => entry.event);
    // Every event the authority statechart knows, not only the timers' own.
    const machine: AnyStateMachine = timersMachine;
    const adjacency = getAdjacencyMap(machine, {
      events: alphabet,
      serializeEvent: (event: AnyEventObject) => JSON.stringify(event),
    });
    const changes: string[] = [];
    for (const { state, transitions } of Object.values(adjacency)) {
      for (const { event, state: next } of Object.values<{
        event: AnyEventObject;
        state: AnyMachineSnapshot;
      }>(transitions)) {
        if (state.value !== next.value)
          changes.push(`${state.value} --${event.type}--> ${next.value}`);
      }
    }
    expect(changes).toEqual(['idle --timers.start--> ticking']);
  });

  it('ticking invokes every timer, each by its own id', () => {
    const ticking = timersMachine.root.states.ticking;
    expect(ticking?.invoke.map((invoke) => invoke.id)).toEqual([...TIMER_ACTOR_IDS]);
  });

  it('the authority statechart invokes the timers and the request watcher at its root', () => {
    expect(authorityMachine.root.invoke.map((invoke) => invoke.id)).toEqual([
      TIMERS_ACTOR_ID,
      REQUEST_WATCHER_ACTOR_ID,
    ]);
    for (const node of Object.values(authorityMachine.root.states)) {
      const ids = node.invoke.map((invoke) => invoke.id);
      expect(ids).not.toContain(TIMERS_ACTOR_ID);
      expect(ids).not.toContain(REQUEST_WATCHER_ACTOR_ID);
    }
  });
});
