/**
 * Model checks the authority statechart: the only way out of a latch (halted, after the
 * lifecycle's final SHUTDOWN) is an operator's restart whose pre-flight passed or was forced;
 * with the lifecycle model check (S1: no edge leaves SHUTDOWN) this covers the whole latch.
 * Its mutants (leaving the latch another way) are in mutants.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { authorityMachine, governorMachine } from '../../machines/index.js';
import { authorityAlphabet, checkAuthorityModel } from './authority-model-check.js';

describe('authority statechart model check', () => {
  const result = checkAuthorityModel(authorityMachine);

  it('proves operator.restart with a passed or forced pre-flight is the only way out of halted', () => {
    // Goal: A1–A4 hold on every reachable edge under the whole alphabet.
    console.log(
      `authority model check: ${result.edges.length} edges over ${authorityAlphabet().length} events`,
    );
    expect(result.violations).toEqual([]);
    const restarts = result.edges.filter((edge) => edge.from === 'halted' && edge.to === 'running');
    expect([...new Set(restarts.map((edge) => edge.label))].sort()).toEqual([
      'operator.restart(failed, forced)',
      'operator.restart(passed)',
      'operator.restart(passed, forced)',
    ]);
  });

  it('keeps the lifecycle SHUTDOWN the only final state (the child ends only there)', () => {
    // Goal: done.lifecycle means SHUTDOWN, so A2 and the lifecycle's S1 cover the whole latch.
    const finals = Object.entries(governorMachine.root.states)
      .filter(([, node]) => node.type === 'final')
      .map(([name]) => name);
    expect(finals).toEqual(['SHUTDOWN']);
  });
});
