/**
 * Proves the model checker can fail: each mutant of the statechart breaks one rule of the
 * transition table, and the checker must catch it and name the offending edge. Mutants of the
 * safety rules outside the statechart (the engine port, adapter pings, the uncaught-exception
 * latch) are source mutants: test/services/safety-mutants.test.ts. The authority statechart's
 * mutants leave the latch (halted) another way than a passed or forced restart.
 */

import { describe, expect, it } from 'vitest';
import { type AnyStateMachine, StateMachine } from 'xstate';
import { authorityMachine, governorMachine } from '../../machines/index.js';
import { type AuthorityPropertyName, checkAuthorityModel } from './authority-model-check.js';
import { checkGovernorModel, type PropertyName } from './governor-model-check.js';

type States = NonNullable<typeof governorMachine.config.states>;
type StateConfig = NonNullable<States[string]>;

/** The machine's own config with some top-level states replaced, and the same implementations. */
function mutate(edit: (states: States) => States): AnyStateMachine {
  const config = governorMachine.config;
  return new StateMachine(
    { ...config, states: edit({ ...config.states }) },
    governorMachine.implementations,
  );
}

function stateConfig(states: States, name: string): StateConfig {
  const state = states[name];
  if (state === undefined) throw new Error(`no state ${name}`);
  return { ...state };
}

interface Mutant {
  readonly name: string;
  readonly machine: AnyStateMachine;
  readonly property: PropertyName;
  /** A fragment of the offending edge that the report must name. */
  readonly edge: RegExp;
}

const mutants: Mutant[] = [
  {
    name: 'an escape from SHUTDOWN (not final, operator.resume → CHECKING)',
    machine: mutate((states) => {
      const { type: _final, ...shutdown } = stateConfig(states, 'SHUTDOWN');
      return { ...states, SHUTDOWN: { ...shutdown, on: { 'operator.resume': 'CHECKING' } } };
    }),
    property: 'S1',
    edge: /^SHUTDOWN\(.*\) --operator\.resume--> CHECKING\(/,
  },
  {
    name: 'OBSERVE_ONLY straight to AGGRESSIVE on operator.resume',
    machine: mutate((states) => {
      const observe = stateConfig(states, 'OBSERVE_ONLY');
      const on = { ...observe.on, 'operator.resume': 'AGGRESSIVE' };
      return { ...states, OBSERVE_ONLY: { ...observe, on } };
    }),
    property: 'S5',
    edge: /^OBSERVE_ONLY\(.*\) --operator\.resume--> AGGRESSIVE\(/,
  },
  {
    name: 'AGGRESSIVE on a failed report (the guard ignores `passed`)',
    machine: governorMachine.provide({
      guards: {
        reportPassedThisVisit: ({ context, event }) =>
          'output' in event &&
          typeof event.output === 'object' &&
          event.output !== null &&
          (event.output as { visit?: unknown }).visit === context.visit,
      },
    }),
    property: 'S2',
    edge: /^CHECKING\(.*\) --done\.startupChecks\(failed this visit\)--> AGGRESSIVE\(/,
  },
  {
    name: 'AGGRESSIVE on a stale report (the guard ignores the visit)',
    machine: governorMachine.provide({
      guards: {
        reportPassedThisVisit: ({ event }) =>
          'output' in event &&
          typeof event.output === 'object' &&
          event.output !== null &&
          (event.output as { passed?: unknown }).passed === true,
      },
    }),
    property: 'S2',
    edge: /^CHECKING\(.*\) --done\.startupChecks\(passed, stale visit\)--> AGGRESSIVE\(/,
  },
  {
    name: 'a fail-safe ignored in CHECKING',
    machine: mutate((states) => {
      const checking = stateConfig(states, 'CHECKING');
      const { 'failsafe.triggered': _ignored, ...on } = checking.on ?? {};
      return { ...states, CHECKING: { ...checking, on } };
    }),
    property: 'S3',
    edge: /^CHECKING\(.*\) --failsafe\.triggered\(\w+\)--> CHECKING\(/,
  },
  {
    name: 'heartbeat loss ignored in AGGRESSIVE',
    machine: mutate((states) => {
      const aggressive = stateConfig(states, 'AGGRESSIVE');
      const { 'heartbeat.lost': _ignored, ...on } = aggressive.on ?? {};
      return { ...states, AGGRESSIVE: { ...aggressive, on } };
    }),
    property: 'S4',
    edge: /^AGGRESSIVE\(.*\) --heartbeat\.lost--> AGGRESSIVE\(/,
  },
  {
    name: 'AGGRESSIVE unreachable (mayTrade never holds)',
    machine: governorMachine.provide({ guards: { mayTrade: () => false } }),
    property: 'S6',
    edge: /^AGGRESSIVE$/,
  },
  {
    name: 'a held failure forgotten (mayTrade ignores the hold)',
    machine: governorMachine.provide({
      guards: {
        mayTrade: ({ context }) =>
          context.configuredMode === 'AGGRESSIVE' && context.desiredMode === 'AGGRESSIVE',
      },
    }),
    property: 'S9',
    edge: /^CHECKING\(.*held HEARTBEAT_LOST.*\) --done\.startupChecks\(passed this visit\)--> AGGRESSIVE\(/,
  },
  {
    name: 'a configured OBSERVE_ONLY exceeded (mayTrade ignores the configured mode)',
    machine: governorMachine.provide({
      guards: {
        mayTrade: ({ context }) => context.desiredMode === 'AGGRESSIVE' && context.hold === null,
      },
    }),
    property: 'S9',
    edge: /^CHECKING\(configured OBSERVE_ONLY.*\) --done\.startupChecks\(passed this visit\)--> AGGRESSIVE\(/,
  },
  {
    name: 'a heartbeat loss in AGGRESSIVE that holds nothing (no restart remembers it)',
    machine: mutate((states) => {
      const aggressive = stateConfig(states, 'AGGRESSIVE');
      const on = {
        ...aggressive.on,
        'heartbeat.lost': {
          target: 'OBSERVE_ONLY',
          actions: {
            type: 'recordObserveCause',
            params: { cause: 'HEARTBEAT_LOST', reason: 'no heartbeat' },
          },
        },
      };
      return { ...states, AGGRESSIVE: { ...aggressive, on } } as States;
    }),
    property: 'S7',
    edge: /^AGGRESSIVE\(.*\) --heartbeat\.lost--> OBSERVE_ONLY\(/,
  },
  {
    name: 'an authority loss in AGGRESSIVE that holds nothing (a restart forgot it and traded)',
    machine: mutate((states) => {
      const aggressive = stateConfig(states, 'AGGRESSIVE');
      const on = {
        ...aggressive.on,
        'authority.lost': {
          target: 'OBSERVE_ONLY',
          actions: {
            type: 'recordObserveCause',
            params: { cause: 'AUTHORITY_LOST', reason: 'no lease renewal for 120 s' },
          },
        },
      };
      return { ...states, AGGRESSIVE: { ...aggressive, on } } as States;
    }),
    property: 'S7',
    edge: /^AGGRESSIVE\(.*\) --authority\.lost--> OBSERVE_ONLY\(/,
  },
  {
    name: 'a capital mismatch at startup only observed (no precedence)',
    machine: governorMachine.provide({ guards: { capitalInconsistent: () => false } }),
    property: 'S8',
    edge: /^CHECKING\(.*\) --done\.startupChecks\(capital mismatch this visit\)--> OBSERVE_ONLY\(/,
  },
  {
    name: 'a heartbeat loss before the start begins CHECKING',
    machine: mutate((states) => {
      const starting = stateConfig(states, 'STARTING');
      const on = { ...starting.on, 'heartbeat.lost': 'CHECKING' };
      return { ...states, STARTING: { ...starting, on } };
    }),
    property: 'S10',
    edge: /^STARTING\(.*\) --heartbeat\.lost--> CHECKING\(/,
  },
  {
    name: 'an authority loss in OBSERVE_ONLY held as a new failure (context changed)',
    machine: mutate((states) => {
      const observe = stateConfig(states, 'OBSERVE_ONLY');
      const on = {
        ...observe.on,
        'authority.lost': {
          actions: {
            type: 'recordFailure',
            params: { cause: 'AUTHORITY_LOST', reason: 'mutant' },
          },
        },
      };
      return { ...states, OBSERVE_ONLY: { ...observe, on } };
    }),
    property: 'S10',
    edge: /^OBSERVE_ONLY\(.*\) --authority\.lost--> OBSERVE_ONLY\(/,
  },
  {
    name: 'OBSERVE_ONLY a dead end (no transitions at all)',
    machine: mutate((states) => ({
      ...states,
      OBSERVE_ONLY: { ...stateConfig(states, 'OBSERVE_ONLY'), on: {} },
    })),
    property: 'S6',
    edge: /^OBSERVE_ONLY\(/,
  },
];

describe('the model checker catches mutant statecharts', () => {
  for (const mutant of mutants) {
    it(`catches ${mutant.name} as ${mutant.property}, naming the edge`, () => {
      // Goal: the property fails, and the report names the edge (source, event, target).
      const result = checkGovernorModel(mutant.machine);
      const caught = result.violations.filter((v) => v.property === mutant.property);
      const first = caught[0];
      console.log(
        `mutant "${mutant.name}": ${caught.length} ${mutant.property} violation(s), e.g. ${first?.where} (${first?.detail})`,
      );
      expect(caught.length).toBeGreaterThan(0);
      expect(caught.some((violation) => mutant.edge.test(violation.where))).toBe(true);
    });
  }
});

type AuthorityStates = NonNullable<typeof authorityMachine.config.states>;

/** The authority statechart's own config with some states replaced, and the same implementations. */
function mutateAuthority(edit: (states: AuthorityStates) => AuthorityStates): AnyStateMachine {
  const config = authorityMachine.config;
  return new StateMachine(
    { ...config, states: edit({ ...config.states }) },
    authorityMachine.implementations,
  );
}

const authorityMutants: Array<{
  name: string;
  machine: AnyStateMachine;
  property: AuthorityPropertyName;
}> = [
  {
    name: 'operator.resume leaves halted',
    machine: mutateAuthority((states) => ({
      ...states,
      halted: {
        ...states.halted,
        on: { ...states.halted?.on, 'operator.resume': 'running' },
      },
    })),
    property: 'A1',
  },
  {
    name: "the timers' start leaves halted",
    machine: mutateAuthority((states) => ({
      ...states,
      halted: {
        ...states.halted,
        on: { ...states.halted?.on, 'timers.start': 'running' },
      },
    })),
    property: 'A1',
  },
  {
    name: 'a restart whose pre-flight failed, not forced, leaves halted',
    machine: authorityMachine.provide({ guards: { preflightPassedOrForced: () => true } }),
    property: 'A1',
  },
  {
    name: 'a restart while a lifecycle runs begins a new one',
    machine: mutateAuthority((states) => ({
      ...states,
      running: {
        ...states.running,
        on: {
          ...states.running?.on,
          'operator.restart': {
            target: 'running',
            reenter: true,
            actions: 'recordNextLifecycle',
          },
        },
      },
    })),
    property: 'A3',
  },
  {
    name: 'a fail-safe halts without the lifecycle ending',
    machine: mutateAuthority((states) => ({
      ...states,
      running: {
        ...states.running,
        on: { ...states.running?.on, 'failsafe.triggered': 'halted' },
      },
    })),
    property: 'A2',
  },
];

describe('the authority model checker catches mutants that leave the latch another way', () => {
  for (const mutant of authorityMutants) {
    it(`catches ${mutant.name} as ${mutant.property}`, () => {
      const caught = checkAuthorityModel(mutant.machine).violations.filter(
        (violation) => violation.property === mutant.property,
      );
      console.log(`mutant "${mutant.name}": ${caught[0]?.where ?? 'not caught'}`);
      expect(caught.length).toBeGreaterThan(0);
    });
  }
});
