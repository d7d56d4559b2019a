/**
 * Model checks the lifecycle statechart: every edge of the reachable (state, abstract context)
 * space, under the full event alphabet, must satisfy S1–S10 and the state invariants.
 */
import { describe, expect, it } from 'vitest';
import { governorMachine } from '../../machines/index.js';
import {
  alphabetFor,
  checkGovernorModel,
  handledEventTypes,
  PROPERTIES,
  summarise,
} from './governor-model-check.js';

describe('governor statechart model check', () => {
  const result = checkGovernorModel(governorMachine);

  it('holds S1–S6 and the state invariants on every reachable edge', () => {
    // Goal: no property is broken anywhere in the explored space; the summary goes to the log.
    console.log(summarise(result));
    expect(result.violations).toEqual([]);
  });

  it('explores every lifecycle state and a non-trivial space', () => {
    // Goal: the exploration did not silently stop early (a vacuous check would pass anything).
    const states = new Set(result.vertices.map((vertex) => vertex.view.value));
    expect([...states].sort()).toEqual(
      ['AGGRESSIVE', 'CHECKING', 'OBSERVE_ONLY', 'SHUTDOWN', 'STARTING'].sort(),
    );
    expect(result.edges.length).toBeGreaterThan(result.vertices.length * 10);
    expect(Object.keys(PROPERTIES)).toEqual([
      'S1',
      'S2',
      'S3',
      'S4',
      'S5',
      'S6',
      'S7',
      'S8',
      'S9',
      'S10',
      'INV',
    ]);
  });

  it('uses an alphabet that covers every event type the machine handles', () => {
    // Goal: a new event or delay added to the machine cannot escape the model check.
    const context = result.vertices[0]?.view.context;
    expect(context).toBeDefined();
    if (context === undefined) return;
    const alphabetTypes = new Set(alphabetFor(governorMachine, context).map((e) => e.event.type));
    for (const type of handledEventTypes(governorMachine)) {
      expect(alphabetTypes, `event type ${type} missing from the alphabet`).toContain(type);
    }
    expect(alphabetTypes).toContain('xstate.after.startupChecksTimeout.governor.CHECKING');
    expect(alphabetTypes).toContain('xstate.done.actor.startupChecks');
    expect(alphabetTypes).toContain('xstate.error.actor.startupChecks');
  });

  it('makes SHUTDOWN a top-level final state', () => {
    // Goal: "never leaves SHUTDOWN" holds by construction, not only by the edges explored.
    expect(governorMachine.root.states.SHUTDOWN?.type).toBe('final');
  });
});
